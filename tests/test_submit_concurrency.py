"""Many people filing at the same moment, as under gunicorn (several processes, several threads each): every
report is filed once, with its own number, event and notification — none refused with "database is locked"
or a deadlock, none numbered twice (SQLite: writers take turns on a file lock beside the database)."""
import multiprocessing
import threading

from models import Account, Case, CaseEvent, Notification
from services import apiauth
from tests.conftest import TEST_CONFIG
from tests.factories import world

PROCESSES, THREADS = 2, 4


def _file_reports(url, standin, jobs, start, results):
    """One server process: THREADS threads, each filing its reports through the API as soon as all are ready."""
    from app import create_app
    from models import db
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "WECHAT_API_BASE": standin})
    ready = threading.Barrier(len(jobs))
    answers = []

    def post(token, deputy, request_id):
        with app.app_context():
            client = app.test_client()
            ready.wait()
            start.wait()
            resp = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
                "deputy": deputy, "category": "traffic", "content": "村口道路坑洼严重，雨天积水。",
                "client_request_id": request_id})
            body = resp.get_json()
            answers.append((resp.status_code, body.get("case", {}).get("number") or body.get("error")))
            db.close()

    threads = [threading.Thread(target=post, args=job) for job in jobs]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    results.put(answers)


def test_reporters_filing_at_once_from_several_processes_each_get_their_own_case(app, database_url,
                                                                                   wechat_standin):
    w = world()
    citizens = [Account.create(role="citizen", openid=f"openid-rush{i}", display_name=f"群众{i}")
                for i in range(PROCESSES * THREADS)]
    for citizen in citizens:
        wechat_standin.opened(citizen.openid)
    jobs = [(apiauth.issue_token(c), w.deputy.code, f"rush-{i}") for i, c in enumerate(citizens)]
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    procs = [spawn.Process(target=_file_reports, args=(database_url, wechat_standin.base_url,
                                                       jobs[p::PROCESSES], start, results))
             for p in range(PROCESSES)]
    [p.start() for p in procs]
    start.set()
    answers = [a for _ in procs for a in results.get(timeout=120)]
    [p.join(30) for p in procs]

    assert sorted(status for status, _ in answers) == [201] * len(jobs), answers
    numbers = sorted(number for _, number in answers)
    year = numbers[0].split("-")[0]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, len(jobs) + 1)]  # one after another, none twice
    cases = list(Case.select().where(Case.number.in_(numbers)))
    assert sorted(c.reporter_id for c in cases) == sorted(c.id for c in citizens)
    assert CaseEvent.select().where(CaseEvent.action == "submit").count() == len(jobs)
    assert Notification.select().where(Notification.account == w.deputy_account,
                                       Notification.case.in_(cases)).count() == len(jobs)


def test_writes_made_while_a_query_is_still_being_read_all_commit(app):
    """The periodic WAL checkpoint after a write must never fail the write (SQLite refuses to checkpoint while
    the connection has a query open: "table is locked")."""
    from models import Counter, base, write_transaction
    for i in range(3):
        Counter.create(name=f"c{i}", value=0)
    for counter in Counter.select().order_by(Counter.name):  # open on this connection while we write
        for _ in range(base.CHECKPOINT_EVERY + 1):
            with write_transaction():
                Counter.update(value=Counter.value + 1).where(Counter.name == counter.name).execute()
    assert [c.value for c in Counter.select().order_by(Counter.name)] == [base.CHECKPOINT_EVERY + 1] * 3
