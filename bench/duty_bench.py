"""履职档案 at county size on SQLite: 300 deputies (five levels' worth, ten stations) with a year of work — a
weekly reception day per station (every deputy of the station on duty, half checking in), 40 activities with
ten invited each, 3 reports per deputy — then the console's league table (every deputy's record) and one
deputy's record, the public 代表码 summary and the .docx draft, timed."""
import datetime as dt
import os
import tempfile
import time

DEPUTIES, STATIONS, ACTIVITIES = 300, 10, 40


def prepare(url):
    from app import create_app
    from models import Account, Activity, Attendance, Case, Deputy, Station, db, utcnow
    from models.migrate import migrate
    from services import activities
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), db.connection_context():
        migrate()
        staff = Account.create(role="staff", username="bench-staff", display_name="工作人员")
        stations = []
        for i in range(STATIONS):
            station = Station.create(code=f"S{i:03d}", name=f"第{i}联络站", level="town", kind="station")
            station.path = f"/{station.id}/"
            station.save()
            stations.append(station)
        levels = ["county"] * 200 + ["township"] * 97 + ["city"] * 3
        deputies = [Deputy.create(code=f"D{i:04d}", name=f"代表{i}", level=levels[i], station=stations[i % STATIONS])
                    for i in range(DEPUTIES)]
        year = dt.date.today().year
        with db.atomic():
            for station in stations:
                codes = [d.code for d in deputies if d.station_id == station.id]
                rule = activities.add_rule(staff, station, {"repeat": "weekly", "weekday": "3", "start_time": "09:00",
                                                            "end_time": "11:00", "deputies": codes})
                days = list(Activity.select().where(Activity.rule == rule))
                for day in days:  # pretend these days were in the past year: half the deputies checked in
                    Attendance.update(checked_in_at=utcnow()).where(Attendance.activity == day,
                                                                    Attendance.id % 2 == 0).execute()
            for i in range(ACTIVITIES):
                activities.create(staff, {"kind": "inspection", "title": f"视察{i}",
                                          "starts_at": f"{year}-03-{1 + i % 28:02d}T09:00",
                                          "ends_at": f"{year}-03-{1 + i % 28:02d}T12:00",
                                          "deputies": [deputies[(i * 10 + k) % DEPUTIES].code for k in range(10)]})
            for n, deputy in enumerate(deputies * 3):
                Case.create(number=f"{year}-{n + 1:06d}", deputy=deputy, station=deputy.station, category="traffic",
                            title="道路", content="道路坑洼", state="submitted")
    return app, deputies[0]


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run():
    from models import db
    from services import dutyrecord
    path = os.path.join(tempfile.mkdtemp(), "duty.db")
    app, deputy = prepare(f"sqlite:///{path}")
    year = dt.date.today().year
    with app.app_context(), db.connection_context():
        league = timed(lambda: dutyrecord.league(year))
        one = timed(lambda: dutyrecord.record(deputy, year))
        summary = timed(lambda: dutyrecord.public_summary(deputy, year))
        docx = timed(lambda: dutyrecord.draft_docx(deputy, year))
        pdf = timed(lambda: dutyrecord.draft_pdf(deputy, year))
    return [["duty record (SQLite)", f"league table, {DEPUTIES} deputies", f"{league:.2f} s", "< 2 s", "console page"],
            ["duty record (SQLite)", "one deputy's record", f"{one * 1000:.0f} ms", "< 200 ms", "phone page"],
            ["duty record (SQLite)", "代表码 summary", f"{summary * 1000:.0f} ms", "< 200 ms", "public page"],
            ["duty record (SQLite)", "述职报告 .docx", f"{docx * 1000:.0f} ms", "< 2 s", ""],
            ["duty record (SQLite)", "述职报告 PDF", f"{pdf * 1000:.0f} ms", "< 2 s", ""]]


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
