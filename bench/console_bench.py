"""The console at a province's size on a throwaway MariaDB: the case queue (every filter, first / deep / last
page), a case page, the 问题清单 export and the statistics dashboard.

Cases come from bench/stats_bench.py's generator (MariaDB's SEQUENCE engine, a million rows a statement), with a
lead-department assignment for every case that has one; CONSOLE_BENCH_CASES (default 1,000,000) and
CONSOLE_BENCH_DEPUTIES (default the demo county's 30) set the size — the 10 M / 100 k run:

    CONSOLE_BENCH_CASES=10000000 CONSOLE_BENCH_DEPUTIES=100000 .venv/bin/python -m bench console

CONSOLE_BENCH_DATA=dir keeps the server's data there: a first run with CONSOLE_BENCH_FILL_ONLY=1 fills it and stops,
later runs start from it (new migrations applied, the tally rebuilt only if it does not count every case), so code
changed since the fill is measured without filling 10 M cases again. CONSOLE_BENCH_TEXTS=0 leaves the texts and the
search index out (and the text filters: at 10 M the index is ~460 M rows).

The generated cases get varied texts (three of PHRASES each) and their search index (services/search.py) in SQL.
Pages are requested in-process through the Flask client as a signed-in county office, a township office and a
department (median of RUNS after one warm-up); next to each, the queries the old page ran (COUNT(*) of the whole
filter and LIMIT … OFFSET) are timed on the same data, and the changed pages also as they were at PREVIOUS
(`previous()`: LIKE, the count capped at 10,000, a department's cases by IN); a text search's first page is checked
against LIKE's. Every statement the measured pages send is EXPLAINed;
CONSOLE_BENCH_EXPLAIN=path writes the plans there. The export is a year's worth of EXPORT_ROWS cases, timed and
its peak RSS growth sampled, next to the previous export code (commit OLD_EXPORTS) on the same query."""
import contextlib
import datetime as dt
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from unittest import mock

from bench import load, stats_bench
from tests.mariadb import MariaDB

TIMES_ITSELF = True
CASES = int(os.environ.get("CONSOLE_BENCH_CASES", 1_000_000))
DEPUTIES = int(os.environ.get("CONSOLE_BENCH_DEPUTIES", 30))
POOL = os.environ.get("CONSOLE_BENCH_POOL", "2G")  # InnoDB buffer pool: a database server's, not a test's 256M
EXPLAIN = os.environ.get("CONSOLE_BENCH_EXPLAIN")
RUNS = 3
EXPORT_ROWS = 50_000
OLD_EXPORTS = "58ab0c1"  # services/exports.py before the streamed export
PREVIOUS = "c9fdf0c"  # before the search index, the count capped at 1,000, the department's probe and XlsxWriter
KEPT = os.environ.get("CONSOLE_BENCH_DATA")
FILL_ONLY = os.environ.get("CONSOLE_BENCH_FILL_ONLY") == "1"
TEXTS = os.environ.get("CONSOLE_BENCH_TEXTS", "1") == "1"
BASELINE_ALL = CASES <= 2_000_000  # above: the old queries only for the unfiltered queue (COUNT(*) of 10 M takes long)

ASSIGN = """
INSERT INTO assignment (case_id, department_id, role, round, active, deadline, assigned_at, return_reason,
  extension_days, extension_reason, extension_state)
SELECT id, lead_department_id, 'lead', 1, 1, COALESCE(deadline, DATE(submitted_at)), COALESCE(responded_at, submitted_at),
  '', 0, '', ''
FROM `case` WHERE lead_department_id IS NOT NULL AND id BETWEEN {lo} AND {hi}
"""


# what citizens write, so the search has texts to tell apart: each generated case's content is three of these
# (drawn from CRC32 hashes of its id), its title the first six characters; one case in 20,000 mentions 石狮子.
# "水道路坑洼" holds only common pairs (下水道…, 道路坑洼…) yet no case has it: the search's hardest miss
PHRASES = ["道路坑洼不平", "下水道堵塞返臭", "小区路灯不亮", "垃圾清运不及时", "广场舞噪音扰民", "自来水水压太低",
           "学校门口交通拥堵", "农贸市场占道经营", "河道漂浮垃圾多", "电动车充电难", "老旧小区加装电梯", "公交站台缺少遮阳棚",
           "村道桥梁护栏损坏", "餐馆油烟扰民", "停车位不足乱停车", "医院挂号排队久", "田间灌溉渠道淤塞", "养殖场气味难闻",
           "施工工地夜间施工", "人行道地砖松动", "健身器材损坏", "井盖缺失存在隐患", "冬季供暖温度不够", "快递柜设置不合理"]
VARY = """
UPDATE `case` SET content = CONCAT(ELT(1 + CRC32(CONCAT('a', id)) %% {n}, {phrases}), '，',
  ELT(1 + CRC32(CONCAT('b', id)) %% {n}, {phrases}), '，', ELT(1 + CRC32(CONCAT('e', id)) %% {n}, {phrases}),
  IF(CRC32(CONCAT('r', id)) %% 20000 = 0, '，桥头石狮子被撞坏', ''), '。'), title = LEFT(content, 6)
WHERE id BETWEEN {lo} AND {hi} AND number LIKE 'B%%'
"""
# services/search.py's pieces (search.SIZES: characters, pairs, triples) made by MariaDB itself (its collation folds
# letters as the app's lower-casing does)
GRAMS = """
INSERT IGNORE INTO case_gram (gram, submitted_at, case_id)
SELECT SUBSTRING(t.txt, s.seq, w.n), t.submitted_at, t.id
FROM (SELECT id, submitted_at, title AS txt FROM `case` WHERE id BETWEEN {lo} AND {hi} AND number LIKE 'B%%'
      UNION ALL SELECT id, submitted_at, content FROM `case` WHERE id BETWEEN {lo} AND {hi} AND number LIKE 'B%%') AS t
JOIN seq_1_to_{longest} AS s JOIN ({sizes}) AS w ON s.seq + w.n - 1 <= CHAR_LENGTH(t.txt)
"""


def generate_texts(chunk=100_000):
    """Varied texts for the generated cases and their search index (seconds taken)."""
    from models import Case, db
    from services.search import SIZES
    sizes = " UNION ALL ".join(f"SELECT {n} AS n" for n in SIZES)
    started, hi = time.perf_counter(), Case.select(Case.id).order_by(Case.id.desc()).first().id
    phrases = ", ".join(f"'{p}'" for p in PHRASES)
    for lo in range(0, hi + 1, chunk):
        db.execute_sql(VARY.format(n=len(PHRASES), phrases=phrases, lo=lo, hi=lo + chunk - 1))
    longest = db.execute_sql("SELECT MAX(GREATEST(CHAR_LENGTH(title), CHAR_LENGTH(content))) FROM `case` "
                             "WHERE number LIKE 'B%%'").fetchone()[0]
    for lo in range(0, hi + 1, chunk):
        db.execute_sql(GRAMS.format(lo=lo, hi=lo + chunk - 1, longest=longest, sizes=sizes))
    db.execute_sql("ANALYZE TABLE case_gram")
    return time.perf_counter() - started


class Statements:
    """Records what the app sends to the database while on (to EXPLAIN it)."""

    def __init__(self, db):
        self.db, self.on, self.seen = db, False, []
        original = db.execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            if self.on and sql.lstrip().upper().startswith("SELECT"):
                self.seen.append((sql, params))
            return original(sql, params, *args, **kwargs)
        db.obj.execute_sql = execute_sql


def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def peak_rss_growth(work):
    """(result, seconds, peak RSS growth in MB, CPU seconds of this process) of work(), RSS sampled every 10 ms."""
    start, peak, done, cpu = rss_kb(), [0], threading.Event(), time.process_time()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb())
            time.sleep(0.01)
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    return result, seconds, max(0, max(peak[0], rss_kb()) - start) / 1024, time.process_time() - cpu


def old_exports(commit=OLD_EXPORTS):
    """services/exports.py as it was at `commit`, loaded from git as a module of its own."""
    source = subprocess.run(["git", "show", f"{commit}:services/exports.py"], capture_output=True, text=True,
                            cwd=load.ROOT, check=True).stdout
    spec = importlib.util.spec_from_loader(f"exports_{commit}", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, "old_exports.py", "exec"), module.__dict__)
    return module


def median(measure, runs=RUNS):
    measure()  # warm
    return statistics.median(measure_ms(measure) for _ in range(runs))


def measure_ms(measure):
    started = time.perf_counter()
    measure()
    return (time.perf_counter() - started) * 1000


def like(query, q):
    """The console's text search before the index (services/search.py): LIKE over every row."""
    from models import Case
    return query.where(Case.title.contains(q) | Case.content.contains(q))


@contextlib.contextmanager
def previous():
    """The queue as it was at PREVIOUS: LIKE over every row, the count capped at 10,000, a department's cases as
    `id IN (its assignments)`, the drafts' test on every kind."""
    from models import Assignment, Case
    from services import paging, search, todo
    now = todo.visible

    def visible(who, kind=None):
        query = now(who).where(Case.kind == kind) if kind else now(who)
        if who.role != "department":
            return query
        return Case.select().where(~((Case.state == "draft") & (Case.entered_by.is_null() | (
            Case.entered_by != who.id))), Case.kind == kind).where(Case.id.in_(Assignment.select(Assignment.case).where(
                Assignment.department == who.department_id)))
    with mock.patch.object(search, "matching", like), mock.patch.object(paging, "COUNT_CAP", 10_000), \
            mock.patch.object(todo, "visible", visible):
        yield


def run():
    from app import create_app
    from handlers.console import password_mark
    from handlers.console.cases import filtered
    from models import Account, Case, CaseGram, Department, Deputy, Station, db
    from models.migrate import migrate
    from services import calendar, search, seed

    server = MariaDB(f"--innodb-buffer-pool-size={POOL}", kept=KEPT)
    server.options.append(f"--tmpdir={server.dir}")  # its temporary tables in its own directory, not a shared /tmp
    server.start()
    rows = []

    def add(row):  # printed as it comes too: a long run that fails late keeps what it measured
        rows.append(row)
        print(" | ".join(map(str, row)), file=sys.stderr, flush=True)
    try:
        app = create_app({"DATABASE_URL": server.url, "SECRET_KEY": "bench"})
        with app.app_context(), db.connection_context():
            started = time.perf_counter()
            applied = migrate()
            migrated = time.perf_counter() - started
            if Case.select().where(Case.number.startswith("B")).exists():
                add([f"console {Case.select().count():,} cases", "data kept from an earlier run", KEPT, "",
                     f"migrations {applied or 'none'} applied in {migrated:.0f} s"])
            else:
                seed.seed_demo(log=lambda *_: None)
                filled = stats_bench.fill(CASES, deputies=DEPUTIES)
                started, hi = time.perf_counter(), Case.select(Case.id).order_by(Case.id.desc()).first().id
                for lo in range(0, hi + 1, 1_000_000):
                    db.execute_sql(ASSIGN.format(lo=lo, hi=lo + 999_999))
                db.execute_sql("ANALYZE TABLE assignment")
                assigned = time.perf_counter() - started
                texts = generate_texts() if TEXTS else 0
                add([f"console {Case.select().count():,} cases", "data", f"{Deputy.select().count():,} deputies",
                     "", f"fill {filled:.0f} s, assignments {assigned:.0f} s, texts and search index {texts:.0f} s "
                     f"({CaseGram.select().count():,} rows), pool {POOL}"])
            if FILL_ONLY:
                return rows
            total = Case.select().count()
            size = f"console {total:,} cases"

            county = Station.select().where(Station.parent.is_null()).order_by(Station.id).first()
            township = Station.select().where(Station.parent == county).order_by(Station.id).first()
            department = Department.select().order_by(Department.id).first()
            def person(username, **fields):  # kept data has them from the run before
                return Account.get_or_none(Account.username == username) or Account.create(username=username,
                                                                                           **fields)
            people = {"county office": person("bench-county", role="staff", display_name="县"),
                      "township office": person("bench-town", role="staff", station=township, display_name="镇"),
                      "department": person("bench-dept", role="department", department=department,
                                           display_name="局")}
            deputy = Deputy.select().order_by(Deputy.id).first()
            middle = Case.select().order_by(Case.id).offset(total // 2).first()
            month = {"start": "2025-06-01", "end": "2025-06-30"}
            filters = [
                ("no filter", {}), ("state 办理中", {"state": "in_progress"}), ("deputy", {"deputy": deputy.code}),
                ("station (subtree)", {"station": township.code}), ("lead department", {"department": department.code}),
                ("category", {"category": "traffic"}), ("overdue", {"overdue": "1"}),
                ("round 2 (none)", {"round": "2"}),
                ("one month", month), ("number", {"q": middle.number}), ("text 坑洼", {"q": "坑洼"}),
                ("text, no match", {"q": "无此词语"}), ("text, common pieces, no match", {"q": "水道路坑洼"}),
                ("text 石狮子 (1 case in 20,000)", {"q": "石狮子"}), ("text, one character", {"q": "灯"}),
                ("text, one character, no match", {"q": "鑫"}), ("to-do 待受理", {"todo": "new"}), ("to-do 已超期", {"todo": "overdue"}),
                ("figure 按期办结", {"figure": "on_time"}), ("source 公众号 (none)", {"source": "official_account"}),
                ("not yet 交办", {"department": "-"}), ("kind 代表建议 (none)", {"kind": "suggestion"}),
            ]
            if not TEXTS:
                filters = [f for f in filters if not f[0].startswith("text")]
            statements = Statements(db)
        clients = {}
        for who, account in people.items():
            client = app.test_client()
            with client.session_transaction() as sess:
                sess.update(uid=account.id, seen=time.time(), pw=password_mark(account), csrf="bench")
            clients[who] = client

        def get(who, path, **args):
            response = clients[who].get(path, query_string=args)
            assert response.status_code == 200, (path, args, response.status_code)
            return response

        def explain(label, work):
            statements.on, statements.seen = True, []
            work()
            statements.on = False
            with app.app_context():
                for sql, params in statements.seen:
                    if "`case`" in sql:
                        plan = db.execute_sql("EXPLAIN " + sql, params).fetchall()
                        if EXPLAIN:  # as it comes: a long run that fails late keeps its plans
                            lines = "\n".join(" | ".join(str(c) for c in row) for row in plan)
                            with open(EXPLAIN, "a") as out:
                                out.write(f"## {label}\n{sql}\n{params}\n{lines}\n\n")

        def old_queries(who, args, page):
            """The queue's previous queries: COUNT(*) of everything filtered and LIMIT 50 OFFSET (page-1)*50, a text
            searched by LIKE over every row."""
            with app.test_request_context(query_string=args), mock.patch.object(search, "matching", like):
                from flask import g
                g.account = people[who]
                query, _ = filtered(args)
                query = query.order_by(Case.submitted_at.desc(), Case.id.desc())
                return lambda: (query.count(), list(query.paginate(page, 50)))

        with load.timing():
            for label, args in filters:
                for who in (("county office", "township office", "department") if label == "no filter"
                            else ("county office",)):
                    page = lambda: get(who, "/console/cases", **args)  # noqa: E731
                    explain(f"queue {who}, {label}", page)
                    old = "old not timed at this size"
                    if BASELINE_ALL or label == "no filter":
                        with app.app_context():
                            old = f"old count + page 1: {median(old_queries(who, args, 1)):.0f} ms"
                    if label.startswith("text"):  # the index finds what LIKE found
                        with app.app_context():
                            shown = re.findall(r'<td><a href="/console/cases/([^"]+)">', page().get_data(as_text=True))
                            same = shown == [c.number for c in old_queries(who, args, 1)()[1]]
                        old += f"; same page as LIKE: {'yes' if same else 'NO'} ({len(shown)} shown)"
                    if label.startswith("text") or label in ("no filter", "to-do 已超期", "state 办理中", "deputy"):
                        with previous():  # the page as it was before this work, on the same data
                            old = f"{PREVIOUS}: {median(page):.0f} ms; {old}"
                    add([size, f"queue {who}, {label}: first page", f"{median(page):.0f} ms", "< 200 ms", old])
            # deep and last pages, as the county office: the pager's links from a page far in
            for label, args in (("no filter", {}), ("category", {"category": "traffic"})):
                with app.app_context():
                    far = Case.select().where(Case.kind == "report").order_by(
                        Case.submitted_at.desc(), Case.id.desc()).offset(total // 2).first()
                from services.paging import cursor
                deep = lambda: get("county office", "/console/cases", after=cursor(far), **args)  # noqa: E731
                last = lambda: get("county office", "/console/cases", last="1", **args)  # noqa: E731
                explain(f"queue deep, {label}", deep)
                explain(f"queue last, {label}", last)
                with app.app_context():
                    old_deep = median(old_queries("county office", args, total // 100))
                add([size, f"queue {label}: a page half-way down (next/previous)", f"{median(deep):.0f} ms",
                             "< 200 ms", f"old OFFSET page {total // 100:,}: {old_deep:.0f} ms"])
                add([size, f"queue {label}: last page", f"{median(last):.0f} ms", "< 200 ms", ""])

            # the case page: a generated case half-way in, and a demo case with its timeline
            with app.app_context():
                demo = Case.select().where(Case.number.not_in(Case.select(Case.number).where(
                    Case.number.startswith("B")))).order_by(Case.id).first()
            for label, number in (("generated, half-way in", middle.number), ("demo, with its timeline", demo.number)):
                page = lambda: get("county office", f"/console/cases/{number}")  # noqa: E731
                explain(f"case page, {label}", page)
                add([size, f"case page ({label})", f"{median(page):.0f} ms", "< 200 ms", ""])
            with app.app_context():
                today = calendar.today()
                calendar.deadline_table()
                memo = measure_ms(calendar.deadline_table)
                old = measure_ms(lambda: {n: _old_add_working_days(today, n) for n in range(1, 91)})
            add([size, "working-day table of the assign form", f"{memo:.2f} ms", "not per page",
                         f"recomputed as before: {old:.0f} ms"])

            # the 问题清单 export: EXPORT_ROWS cases of one year, newest first
            with app.app_context():
                per_day = total / 700
                days = int(EXPORT_ROWS / per_day) + 1
                span = {"start": "2025-01-01", "end": (dt.date(2025, 1, 1) + dt.timedelta(days=days - 1)).isoformat()}
                with app.test_request_context(query_string=span):
                    from flask import g
                    g.account = people["county office"]
                    listed = filtered(span)[0].count()
            explain("export", lambda: get("county office", "/console/cases/export.csv", **span).get_data())
            for fmt in ("xlsx", "csv"):
                body, seconds, grown, cpu = peak_rss_growth(
                    lambda: get("county office", f"/console/cases/export.{fmt}", **span).get_data())
                add([size, f"问题清单 export .{fmt}, {listed:,} cases", f"{seconds:.1f} s", "< 30 s",
                     f"app CPU {cpu:.1f} s, peak RSS +{grown:.0f} MB, {len(body) / 1e6:.1f} MB file"])
            if BASELINE_ALL:
                old = old_exports()
                with app.test_request_context(query_string=span):
                    from flask import g
                    g.account = people["county office"]
                    query = filtered(span)[0].order_by(Case.submitted_at.desc(), Case.id.desc())
                    _, seconds, grown, cpu = peak_rss_growth(lambda: old.to_xlsx(query, old.list_title()))
                add([size, f"old export .xlsx (commit {OLD_EXPORTS}), {listed:,} cases", f"{seconds:.1f} s",
                     "", f"app CPU {cpu:.1f} s, peak RSS +{grown:.0f} MB"])
            before = old_exports(PREVIOUS)  # openpyxl's write-only mode
            with app.test_request_context(query_string=span):
                from flask import g
                g.account = people["county office"]
                query = filtered(span)[0]
                body, seconds, grown, cpu = peak_rss_growth(lambda: before.to_xlsx(query, before.list_title()).read())
            add([size, f"问题清单 export .xlsx as at {PREVIOUS} (openpyxl write-only), {listed:,} cases",
                 f"{seconds:.1f} s", "", f"app CPU {cpu:.1f} s, peak RSS +{grown:.0f} MB, {len(body) / 1e6:.1f} MB file"])

        with app.app_context():  # the tally the dashboard reads, built outside the timed phases
            from models import CaseTally
            from peewee import fn
            tallied = CaseTally.select(fn.SUM(CaseTally.total)).where(CaseTally.dim == "station",
                                                                      CaseTally.period == "M").scalar()
            if tallied != stats_bench.stats.counted(Case.select()).count():  # a migration may have rebuilt it
                started = time.perf_counter()
                tally_rows = stats_bench.stats.rebuild()
                add([size, "tally rebuilt (services.stats.rebuild)", f"{time.perf_counter() - started:.0f} s", "",
                     f"{tally_rows:,} rows"])
        with load.timing():
            # the statistics dashboard at this size: the page, and bench/stats_bench.py's measure of its queries
            page = lambda: get("county office", "/console/stats")  # noqa: E731
            explain("statistics page", page)
            add([size, "statistics page /console/stats (whole page)", f"{median(page):.0f} ms", "< 300 ms", ""])
            for label, args in (("this year", {"start": "2026-01-01"}), ("a township", {"station": township.code})):
                page = lambda: get("county office", "/console/stats", **args)  # noqa: E731
                add([size, f"statistics page, {label}", f"{median(page):.0f} ms", "< 300 ms", ""])
            export = lambda: get("county office", "/console/stats/export.xlsx").get_data()  # noqa: E731
            _, seconds, grown, cpu = peak_rss_growth(export)
            add([size, f"statistics export .xlsx (every deputy: {DEPUTIES:,})", f"{seconds:.1f} s", "",
                 f"app CPU {cpu:.1f} s, peak RSS +{grown:.0f} MB"])
            with app.app_context():
                add([size, "statistics dashboard from the tally (median of 5)",
                             f"{stats_bench.median_ms():.0f} ms", "< 300 ms", ""])
                for name, scope in stats_bench.SCOPES.items():
                    add([size, f"statistics dashboard, {name}", f"{stats_bench.median_ms(**scope):.0f} ms",
                                 "< 300 ms", ""])
    finally:
        server.stop()
    return rows


def _old_add_working_days(start, days):
    """The deadline table's previous computation: chinesecalendar asked for every day, every time."""
    import chinese_calendar
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        try:
            days -= chinese_calendar.is_workday(day)
        except NotImplementedError:
            days -= day.weekday() < 5
    return day
