"""The console's text search over cases' titles and contents, by an index of their short pieces (table `case_gram`).

MariaDB has no word index for Chinese (its FULLTEXT parser splits on spaces), so `title LIKE '%q%'` read every
case's text: 8 s at a million cases for a text that occurs nowhere. Each case's title and content are cut into
their single characters, pairs and triples of consecutive characters (ASCII letters lower-cased, as SQLite's LIKE
folds them; on MariaDB the column's collation folds the rest as LIKE does), kept with the case's submission
moment, in the case's own transaction (`index`, from workflow.recorded, for every kind and state). A search reads
the cases holding its rarest triple (or the pair or character it is), newest first, checks that they hold the
next rarest triples too, and then applies the very LIKE it replaces — so the results are those of LIKE, found
without reading every text. A piece no case holds answers at once.

The index copies `submitted_at`: a change made behind the workflow's back (SQL, a restore) is followed by
`flask --app app rebuild-search`, as the tally is by rebuild-tally.
"""
import contextlib

from peewee import fn

from models import Case, CaseGram, db, is_mysql
from services import paging

SIZES = (1, 2, 3)  # single characters, pairs and triples
PROBED = 1000  # postings counted per piece to find the rarest (a count above this is "common")
CHECKED = 3  # the rarest pieces a candidate must hold before its text is read
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def grams(*texts, sizes=SIZES):
    """The distinct characters, pairs and triples of consecutive characters of some texts, in order of first
    appearance (never spanning two texts): what the index holds for a case."""
    found = {}
    for text in texts:
        text = (text or "").translate(_ASCII_LOWER)
        for size in sizes:
            for i in range(len(text) - size + 1):
                found[text[i:i + size]] = None
    return list(found)


def looked_up(q):
    """What a search looks up: its triples (a triple is far rarer than either of its pairs: 水道 and 道路 may each
    be in a tenth of all cases, 水道路 in none), or the text itself when it is a pair or one character."""
    text = q.translate(_ASCII_LOWER)
    return [text] if len(text) < 3 else list(dict.fromkeys(text[i:i + 3] for i in range(len(text) - 2)))


def _insert(rows, chunk=5000):
    """INSERT … IGNORE of (gram, moment, case id) rows, at most `chunk` a statement (SQLite's 32,766 parameters)."""
    database = db.obj
    mark = database.param
    verb = "INSERT IGNORE" if is_mysql() else "INSERT OR IGNORE"  # equal pieces under MariaDB's collation: one row
    for at in range(0, len(rows), chunk):
        part = rows[at:at + chunk]
        database.execute_sql(f"{verb} INTO case_gram (gram, submitted_at, case_id) VALUES "
                             + ", ".join([f"({mark}, {mark}, {mark})"] * len(part)), [v for row in part for v in row])


def index(before, case):
    """Keep the case's pieces in step with its title and content (before: the case as it was, None when new)."""
    new = grams(case.title, case.content)
    old = grams(before.title, before.content) if before is not None else []
    moved = before is not None and before.submitted_at != case.submitted_at  # a 代表建议 submitted after its draft
    if before is not None and new == old and not moved:
        return
    moment = CaseGram.submitted_at.db_value(case.submitted_at)
    gone = set(old) if moved else set(old) - set(new)
    if gone:  # and then every pair again: a deleted row may have stood for a pair the collation holds equal
        CaseGram.delete().where(CaseGram.gram.in_(sorted(gone)), CaseGram.submitted_at == before.submitted_at,
                                CaseGram.case_id == case.id).execute()
    kept = set() if gone else set(old)
    _insert([(g, moment, case.id) for g in new if g not in kept])


def rebuild(query=None, batch=1000):
    """The pieces of every case written afresh (or of `query`'s cases, after their submission moments were changed
    behind the workflow's back), a thousand cases a transaction; returns how many cases were indexed."""
    whole = query is None
    if whole:
        CaseGram.delete().execute()
    query = Case.select() if whole else query
    done = 0
    for cases in paging.batches(query.select(Case.id, Case.submitted_at, Case.title, Case.content), batch):
        # a batch a transaction; inside a migration's (whose CREATE TABLE ended any savepoint on MariaDB), none
        with contextlib.nullcontext() if db.in_transaction() else db.atomic():
            for case in cases:
                pieces = grams(case.title, case.content)
                if not whole and pieces:  # its rows under any moment (reads its pieces' postings: for a few cases)
                    CaseGram.delete().where(CaseGram.gram.in_(pieces), CaseGram.case_id == case.id).execute()
                index(None, case)
        done += len(cases)
    return done


def add(sizes, batch=1000):
    """Every case's pieces of `sizes` added to the index, the rows it has left as they are (migration 0021: the
    single characters), a thousand cases a step; returns how many cases were read."""
    done = 0
    for cases in paging.batches(Case.select(Case.id, Case.submitted_at, Case.title, Case.content), batch):
        _insert([(g, CaseGram.submitted_at.db_value(case.submitted_at), case.id) for case in cases
                 for g in grams(case.title, case.content, sizes=sizes)])
        done += len(cases)
    return done


def _rarest(pieces):
    """The pieces ordered by how many cases hold them, counted up to PROBED each in one statement, and the counts."""
    mark = db.obj.param
    sql = " UNION ALL ".join(f"SELECT {i}, COUNT(1) FROM (SELECT 1 AS one FROM case_gram WHERE gram = {mark} "
                             f"LIMIT {PROBED + 1}) AS p{i}" for i in range(len(pieces)))
    counts = {pieces[i]: n for i, n in db.execute_sql(sql, pieces).fetchall()}
    return sorted(pieces, key=lambda g: counts[g]), counts


def matching(query, q):
    """`query` narrowed to the cases whose title or content contains q (literally, as LIKE '%q%')."""
    like = Case.title.contains(q) | Case.content.contains(q)
    if not q:
        return query
    ordered, counts = _rarest(looked_up(q))
    if counts[ordered[0]] == 0:
        return query.where(False)
    query = query.join(CaseGram, on=(CaseGram.case_id == Case.id) & (CaseGram.submitted_at == Case.submitted_at)) \
        .where(CaseGram.gram == ordered[0])
    for gram in ordered[1:CHECKED]:
        other = CaseGram.alias()
        query = query.where(fn.EXISTS(other.select(other.case_id).where(
            other.gram == gram, other.submitted_at == Case.submitted_at, other.case_id == Case.id)))
    return query.where(like)
