"""Statistics dashboard queries at 10 k, 100 k and 1 M cases on a throwaway MariaDB server.

Cases are generated inside MariaDB from its SEQUENCE engine (seq_1_to_N), spread over two years, every
state, ten departments, thirty deputies and fourteen stations (the demo county)."""
import statistics
import time

from app import create_app
from models import Case, Department, Deputy, Station, db
from models.migrate import migrate
from services import seed, stats
from tests.mariadb import MariaDB

SIZES = [10_000, 100_000, 1_000_000]
DASHBOARD = [None, "state", "department", "deputy", "station", "category", "month"]

FILL = """
INSERT INTO `case` (number, deputy_id, station_id, source, category, title, content, photos, location,
  contact_phone, anonymous, state, version, round, deadline, lead_department_id, urge_level, flagged, flag_reason,
  published, decline_reason, answer_class, answered_on_time, rating, close_reason, submitted_at, answered_at,
  updated_at)
SELECT CONCAT('B', LPAD(seq + {offset}, 9, '0')),
  {deputy_lo} + seq %% 30, {station_lo} + seq %% 14, 'miniprogram',
  ELT(1 + seq %% 11, 'construction','traffic','environment','education','health','social','agriculture',
      'economy','safety','governance','other'),
  '道路坑洼', '生成的案件内容', '[]', '', '', seq %% 5 = 0,
  ELT(1 + seq %% 8, 'submitted','accepted','declined','assigned','in_progress','answered','rated','closed'),
  1, 1, DATE_ADD('2025-01-01', INTERVAL (seq %% 700) + 20 DAY),
  IF(seq %% 8 >= 3, {dept_lo} + seq %% 10, NULL), 0, 0, '', seq %% 4 = 0, '',
  IF(seq %% 8 >= 5, ELT(1 + seq %% 4, 'A','B','C','D'), ''),
  IF(seq %% 8 >= 5, seq %% 7 <> 0, NULL),
  IF(seq %% 8 >= 6, ELT(1 + seq %% 3, 'satisfied','basic','unsatisfied'), ''), '',
  DATE_ADD('2025-01-01', INTERVAL seq %% 700 DAY), NULL, NOW()
FROM seq_1_to_{count}
"""


def dashboard_ms():
    started = time.perf_counter()
    for by in DASHBOARD:
        stats.figures(by=by)
    return (time.perf_counter() - started) * 1000


def run():
    server = MariaDB().start()
    rows = []
    try:
        app = create_app({"DATABASE_URL": server.url, "SECRET_KEY": "bench"})
        with app.app_context(), db.connection_context():
            migrate()
            seed.seed_demo(log=lambda *_: None)
            lo = lambda model: model.select(model.id).order_by(model.id).first().id  # noqa: E731
            ids = dict(deputy_lo=lo(Deputy), station_lo=lo(Station), dept_lo=lo(Department))
            have = 0
            for size in SIZES:
                started = time.perf_counter()
                db.execute_sql(FILL.format(offset=have, count=size - have, **ids))
                db.execute_sql("ANALYZE TABLE `case`")
                have = size
                fill = time.perf_counter() - started
                dashboard_ms()  # warm the buffer pool
                times = [dashboard_ms() for _ in range(5)]
                rows.append([f"statistics {size:>9,} cases", "dashboard, 7 queries (median of 5)",
                             f"{statistics.median(times):.0f} ms", "< 300 ms at 1 M",
                             f"fill {fill:.0f} s; {Case.select().count():,} rows"])
    finally:
        server.stop()
    return rows
