"""The console search's index of pieces (table case_gram, services/search.py), filled from every case's title and
content: about half a millisecond a case, a thousand cases a batch (docs/performance.md, "Console at a million
cases")."""


def up(db, migrator):
    from models import CaseGram
    from services import search
    db.create_tables([CaseGram])
    search.rebuild()
