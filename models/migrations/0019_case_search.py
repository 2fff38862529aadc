"""The console search's bigram index (table case_gram, services/search.py), filled from every case's title and
content (docs/performance.md, "Console at a million cases")."""


def up(db, migrator):
    from models import CaseGram
    from services import search
    db.create_tables([CaseGram])
    search.rebuild()
