"""Statistics dashboard queries at 10 k, 100 k and 1 M cases on a throwaway MariaDB server.

Cases are generated inside MariaDB from its SEQUENCE engine (seq_1_to_N): each case draws its day (two
years), state, category, department, deputy (and so station) and project independently, from CRC32 hashes
of its number, in the demo county's thirty deputies, ten departments and eight projects; then the tally is
rebuilt from them (services.stats.rebuild, as migration 0002 does). The dashboard's queries are timed as
the console runs them (reading the tally), and at the smaller sizes also counted live from `case`."""
import datetime as dt
import statistics
import time

from app import create_app
from models import Case, Department, Deputy, Project, db
from models.migrate import migrate
from services import seed, stats
from tests.mariadb import MariaDB

SIZES = [10_000, 100_000, 1_000_000]
DASHBOARD = [None, "state", "department", "station", "category", "month", "project"]  # as handlers/console/dashboard.py
LIVE_UP_TO = 100_000  # counting `case` live at 1 M took 127 s (docs/performance.md): not repeated

FILL = """
INSERT INTO `case` (number, deputy_id, station_id, project_id, source, category, title, content, photos,
  location, contact_phone, anonymous, state, version, round, deadline, lead_department_id, urge_level, flagged,
  flag_reason, published, decline_reason, answer_class, answered_on_time, rating, close_reason, submitted_at,
  answered_at, responded_at, updated_at)
SELECT CONCAT('B', LPAD(g.seq + {offset}, 9, '0')), deputy.id, deputy.station_id,
  IF(g.p < 8, {project_lo} + g.p, NULL), 'miniprogram',
  ELT(1 + g.c, 'construction','traffic','environment','education','health','social','agriculture',
      'economy','safety','governance','other'),
  '道路坑洼', '生成的案件内容', '[]', '', '', g.seq %% 5 = 0,
  ELT(1 + g.s, 'submitted','accepted','declined','assigned','in_progress','answered','rated','closed'),
  1, 1, DATE_ADD('2025-01-01', INTERVAL g.t + 20 DAY),
  IF(g.s >= 3, {dept_lo} + g.d, NULL), 0, 0, '', g.seq %% 4 = 0, '',
  IF(g.s >= 5, ELT(1 + g.seq %% 4, 'A','B','C','D'), ''),
  IF(g.s >= 5, g.seq %% 7 <> 0, NULL),
  IF(g.s >= 6, ELT(1 + g.seq %% 3, 'satisfied','basic','unsatisfied'), ''), '',
  DATE_ADD('2025-01-01', INTERVAL g.t * 24 + g.h HOUR), NULL,
  IF(g.s >= 1, DATE_ADD('2025-01-01', INTERVAL g.t * 24 + g.h + g.seq %% 48 HOUR), NULL), NOW()
FROM (SELECT seq, CRC32(CONCAT('t', seq)) %% 700 AS t, CRC32(CONCAT('h', seq)) %% 14 AS h,
             CRC32(CONCAT('p', seq)) %% 80 AS p, CRC32(CONCAT('c', seq)) %% 11 AS c,
             CRC32(CONCAT('s', seq)) %% 8 AS s, CRC32(CONCAT('d', seq)) %% 10 AS d,
             {deputy_lo} + CRC32(CONCAT('r', seq)) %% 30 AS deputy_id
      FROM seq_1_to_{count}) AS g
JOIN deputy ON deputy.id = g.deputy_id
"""

SCOPES = {  # the periods an office asks for, at 1 M (default: everything)
    "this year to date": {"start": dt.date(2026, 1, 1)},
    "2025-03-15 to 2025-09-14 (ragged ends)": {"start": dt.date(2025, 3, 15), "end": dt.date(2025, 9, 15)},
}


def dashboard_ms(live=False, **scope):
    """The console dashboard's statistics: seven figures queries and the deputies' responsiveness."""
    started = time.perf_counter()
    for by in DASHBOARD:
        stats.figures(by=by, live=live, **scope)
    stats.deputy_responsiveness(live=live, **scope)
    return (time.perf_counter() - started) * 1000


def median_ms(live=False, runs=5, **scope):
    dashboard_ms(live, **scope)  # warm the buffer pool
    return statistics.median(dashboard_ms(live, **scope) for _ in range(runs))


def run():
    server = MariaDB().start()
    rows = []
    try:
        app = create_app({"DATABASE_URL": server.url, "SECRET_KEY": "bench"})
        with app.app_context(), db.connection_context():
            migrate()
            seed.seed_demo(log=lambda *_: None)
            lo = lambda model: model.select(model.id).order_by(model.id).first().id  # noqa: E731
            ids = dict(deputy_lo=lo(Deputy), project_lo=lo(Project), dept_lo=lo(Department))
            have = 0
            for size in SIZES:
                started = time.perf_counter()
                db.execute_sql(FILL.format(offset=have, count=size - have, **ids))
                db.execute_sql("ANALYZE TABLE `case`")
                have = size
                fill = time.perf_counter() - started
                started = time.perf_counter()
                tally_rows = stats.rebuild()
                rebuild = time.perf_counter() - started
                label = f"statistics {size:>9,} cases"
                rows.append([label, "dashboard from the tally (median of 5)", f"{median_ms():.0f} ms",
                             "< 300 ms at 1 M", f"{tally_rows:,} tally rows; rebuilt in {rebuild:.1f} s"])
                if size <= LIVE_UP_TO:
                    rows.append([label, "same, counted live from `case`", f"{median_ms(live=True):.0f} ms", "",
                                 f"fill {fill:.0f} s; {Case.select().count():,} cases"])
            for name, scope in SCOPES.items():
                rows.append([label, f"dashboard from the tally, {name}", f"{median_ms(**scope):.0f} ms",
                             "< 300 ms at 1 M", ""])
    finally:
        server.stop()
    return rows
