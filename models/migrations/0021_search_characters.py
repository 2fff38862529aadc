"""The console search's single characters (services/search.py SIZES): a one-character search reads the cases
holding it newest first from case_gram instead of LIKE over every text (docs/performance.md, "Console at a million
cases"). Adds each case's characters beside the pairs and triples it has; `flask rebuild-search` stays the repair."""


def up(db, migrator):
    from services import search
    search.add(sizes=(1,))
