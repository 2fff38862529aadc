"""民情分析: duplicate suggestion precision/recall and routing accuracy on the labelled set
(bench/data/minqing_reports.jsonl, made by bench/minqing_data.py), and the similar-reports lookup at 100 k open
reports — on a throwaway SQLite database (`python -m bench minqing`), and on a throwaway MariaDB server with
`python -m bench.minqing_bench mariadb`.

Duplicates: the reports are filed in the set's order through the workflow (each gets its vector as it is
filed); before each one is filed, the lookup the report form makes (`analysis.similar`, same station) is asked
what it would offer. A report "should be offered" when an earlier report of its group (same problem, same
place) is open. Precision@1: the first offered is of its group; precision: share of all offered reports that
are of its group; recall: an earlier report of its group is among those offered.
Routing: every filed report is given its labelled category and department (as the office would have assigned
it), then `analysis.train()` measures top-1/top-3 on the newest fifth, trained on the older four fifths.
Lookup: 100 k open reports (texts drawn from a larger generated set, 20 stations) and the median of 50
look-ups of new texts; also with all 100 k in one station (the worst case)."""
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

from app import create_app
from bench.load import timing
from bench.minqing_data import STATIONS, generate, load
from models import Account, Case, CaseTerms, CaseWord, Department, Station, db
from models.migrate import migrate
from services import analysis, workflow

TIMES_ITSELF = True  # only the look-ups are timed (bench.load.timing); the loading is not
SIZE = int(os.environ.get("MINQING_SIZE", 100_000))  # open reports of the lookup
TOWNS = 20


def _app(url):
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    return app


def _county():
    county = Station.create(code="C", name="县联络总站", level="county", kind="station", path="/")
    county.path = f"/{county.id}/"
    county.save()
    stations = {}
    for i, name in enumerate(STATIONS):
        s = Station.create(code=f"T{i}", name=name, parent=county, level="town", kind="station")
        s.path = f"{county.path}{s.id}/"
        s.save()
        stations[name] = s
    return county, stations


def duplicates_and_routing():
    rows = load()
    _, stations = _county()
    staff = Account.create(role="staff", username="bench", display_name="工作人员")
    departments = {name: Department.create(code=f"D{i}", name=name)
                   for i, name in enumerate(sorted({r["department"] for r in rows}))}
    filed = {}  # case id -> group
    at1 = offered_any = offered_total = offered_right = should = found = 0
    for n, row in enumerate(rows):
        station = stations[row["station"]]
        hits = analysis.similar(row["text"], station=station)
        groups = [filed[c.id] for c, _ in hits]
        has_earlier = row["group"] in filed.values()
        should += has_earlier
        if hits:
            offered_any += 1
            at1 += groups[0] == row["group"]
            offered_total += len(groups)
            offered_right += sum(g == row["group"] for g in groups)
        found += has_earlier and row["group"] in groups
        case = workflow.submit_case(staff, {"station": station.code, "category": "other", "content": row["text"],
                                            "intake": "visit", "citizen_name": f"村民{n}"})
        filed[case.id] = row["group"]
        Case.update(category=row["category"], lead_department=departments[row["department"]]).where(
            Case.id == case.id).execute()
    accuracy = analysis.train()
    dup = {"n": len(rows), "groups": len({r["group"] for r in rows}), "should": should,
           "precision_at_1": at1 / offered_any, "precision": offered_right / offered_total, "recall": found / should,
           "offered_reports": offered_any}
    return dup, accuracy


def offline(bigram_weight):
    """Duplicates on the texts alone (no database: every earlier report of the station is open and compared),
    with a given BIGRAM_WEIGHT — the before/after of a weighting change in one run."""
    rows = load()
    with patched(analysis, "BIGRAM_WEIGHT", bigram_weight):
        vectors = [analysis.vector(r["text"]) for r in rows]
    at1 = offered_any = should = found = 0
    for n, row in enumerate(rows):
        scored = sorted(((analysis.cosine(vectors[n], vectors[m]), m) for m in range(n)
                         if rows[m]["station"] == row["station"]), reverse=True)
        groups = [rows[m]["group"] for score, m in scored[:analysis.OFFERED] if score >= analysis.THRESHOLD]
        earlier = any(rows[m]["group"] == row["group"] for m in range(n))
        should += earlier
        offered_any += bool(groups)
        at1 += bool(groups) and groups[0] == row["group"]
        found += earlier and row["group"] in groups
    return found / should, at1 / offered_any


def lookup(station_count):
    """Median milliseconds of the similar-reports lookup with SIZE open reports over `station_count` stations."""
    county = Station.get(Station.code == "C")
    extra = []
    for i in range(station_count):
        s = Station.create(code=f"L{station_count}-{i}", name=f"乡镇{i}", parent=county, level="town", kind="station")
        s.path = f"{county.path}{s.id}/"
        s.save()
        extra.append(s)
    texts = [r["text"] for r in generate(seed=99, groups=1500)]
    vectors = [analysis.vector(t) for t in texts]
    rng = random.Random(7)
    start = Case.select().count()
    with db.atomic():
        for chunk in range(0, SIZE, 1000):
            cases, terms, words, picked = [], [], [], []
            for k in range(chunk, min(SIZE, chunk + 1000)):
                i = rng.randrange(len(texts))
                picked.append(i)
                cases.append({"number": f"L{station_count}-{k:06d}", "category": "traffic", "title": texts[i][:20],
                              "content": texts[i], "station": extra[k % station_count].id, "state": "submitted",
                              "contact_phone": ""})
            Case.insert_many(cases).execute()
            ids = [c.id for c in Case.select(Case.id).where(Case.number.in_([c["number"] for c in cases]))]
            for case_id, case, i in zip(ids, cases, picked):
                vec = vectors[i]
                terms.append({"case": case_id, "station": case["station"], "vector": vec,
                              "keywords": analysis.keywords(vec)})
                words += analysis.index_rows(case_id, case["station"], vec)
            CaseTerms.insert_many(terms).execute()
            CaseWord.insert_many(words).execute()
    assert Case.select().count() - start == SIZE
    probes = [r["text"] for r in generate(seed=5, groups=60)][:50]
    figures = {}
    with timing():  # both in one hold of the machine-wide lock
        for name, candidates in (("baseline", _grouped_candidates), ("now", analysis._candidates)):
            with patched(analysis, "_candidates", candidates):
                for text in probes[:5]:
                    analysis.similar(text, station=extra[0])  # warm-up
                timings, offered = [], []
                for n, text in enumerate(probes):
                    began = time.perf_counter()
                    found = analysis.similar(text, station=extra[n % station_count])
                    timings.append((time.perf_counter() - began) * 1000)
                    offered.append([score for _, score in found])
            figures[name] = timings, offered
    # as good as the baseline: the best offered scores as high (the texts repeat, so ties make the ids differ)
    same = statistics.mean((b[0] if b else 0) >= (a[0] if a else 0) - 1e-9 for a, b in zip(figures["baseline"][1],
                                                                                         figures["now"][1]))
    # leave them out of the next size's station
    Case.update(state="closed").where(Case.station.in_([s.id for s in extra])).execute()
    return {name: (statistics.median(t), max(t), statistics.mean(len(o) for o in offered))
            for name, (t, offered) in figures.items()}, SIZE // station_count, same


@contextlib.contextmanager
def patched(module, name, value):
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, kept)


def _grouped_candidates(weights, station_id, by_deputy, box, before):
    """The baseline: the previous candidate query — one GROUP BY over every matching index row, joined to
    `case` for its state (the station path; what grows with the station's reports)."""
    from peewee import fn
    from services.vocab import OPEN_STATES
    query = (CaseWord.select(CaseWord.case).join(Case, on=(Case.id == CaseWord.case))
             .where(CaseWord.word.in_(list(weights)), CaseWord.station == station_id, Case.kind == analysis.REPORT,
                    Case.state.in_(OPEN_STATES), Case.review != "withheld"))
    return [row[0] for row in query.group_by(CaseWord.case).order_by(fn.COUNT(CaseWord.id).desc(),
                                                                      CaseWord.case.desc())
            .limit(200).tuples()]  # its 200 candidates


def run(backend="sqlite"):
    rows = []
    if backend == "mariadb":
        from tests.mariadb import MariaDB
        server = MariaDB().start()
        url, stop = server.url, server.stop
    else:
        folder = tempfile.mkdtemp(prefix="minqing-bench-")
        url, stop = f"sqlite:///{folder}/bench.db", (lambda: shutil.rmtree(folder, ignore_errors=True))
    try:
        app = _app(url)
        with app.app_context(), db.connection_context():
            migrate()
            dup, accuracy = duplicates_and_routing()
            rows += [
                ["minqing duplicates", "labelled reports / groups / with an earlier duplicate",
                 f"{dup['n']} / {dup['groups']} / {dup['should']}", "≥ 300", backend],
                ["minqing duplicates", "precision@1 (first offered is the same problem)",
                 f"{dup['precision_at_1']:.1%}", "—", f"offered for {dup['offered_reports']} reports"],
                ["minqing duplicates", "precision (all offered)", f"{dup['precision']:.1%}", "—", "up to 5 offered"],
                ["minqing duplicates", "recall (an earlier duplicate offered)", f"{dup['recall']:.1%}", "—",
                 f"threshold {analysis.THRESHOLD}"],
                ["minqing routing", "category top-1 / top-3", f"{accuracy['category']['top1']:.1%} / "
                 f"{accuracy['category']['top3']:.1%}", "—",
                 f"held out {accuracy['test']}, trained {accuracy['train']}"],
                ["minqing routing", "department top-1 / top-3", f"{accuracy['department']['top1']:.1%} / "
                 f"{accuracy['department']['top3']:.1%}", "—", f"{Department.select().count()} departments"],
            ]
            for weight in (0.35, analysis.BIGRAM_WEIGHT):
                recall, at1 = offline(weight)
                rows.append(["minqing duplicates", f"texts alone, bigram weight {weight}: recall / precision@1",
                             f"{recall:.1%} / {at1:.1%}", "—", "0.35: before" if weight == 0.35 else "now"])
            for stations in (TOWNS, 1):
                figures, per, same = lookup(stations)
                for name, (median, worst, mean_offered) in figures.items():
                    rows.append(["minqing lookup", f"similar reports ({name}), {SIZE:,} open over {stations} "
                                 "station(s)", f"{median:.1f} ms (max {worst:.1f})", "< 100 ms",
                                 f"{per} open in the station; {mean_offered:.1f} offered; {backend}"])
                rows.append(["minqing lookup", "look-ups whose best offer scores as high as the baseline's",
                             f"{same:.1%}", "—", f"{stations} station(s)"])
    finally:
        stop()
    return rows


if __name__ == "__main__":
    for row in run(*(sys.argv[1:2])):
        print(row)
