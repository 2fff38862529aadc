"""Writes on a multi-master cluster: a transaction that MariaDB aborts as a deadlock (how a Galera certification
conflict surfaces, at COMMIT) runs again whole, and leaves exactly one of everything; every table has a primary
key (Galera replicates rows by it). On a real MariaDB server: the suite's own when it runs on MariaDB, else one
this module starts."""
import contextlib
import threading
import time

import pytest
from playhouse.db_url import parse

from models import ALL_MODELS, Account, Case, CaseEvent, Counter, Notification, db
from models.base import MySQLdbDatabase
from services import analysis, delivery, notify, ratelimit, reports, stats, workflow
from tests.conftest import BACKEND, TEST_CONFIG, wipe
from tests.factories import new_case, world


@pytest.fixture(scope="module")
def mariadb_url():
    if BACKEND == "mariadb":
        yield None
        return
    from tests.mariadb import MariaDB
    server = MariaDB().start()
    yield server.url
    server.stop()


@pytest.fixture
def my_app(request, mariadb_url, wechat_standin, tmp_path):
    if mariadb_url is None:
        yield request.getfixturevalue("app")
        return
    from app import create_app
    from models.migrate import migrate
    app = create_app({**TEST_CONFIG, "DATABASE_URL": mariadb_url, "UPLOAD_FOLDER": str(tmp_path),
                      "WECHAT_API_BASE": wechat_standin.base_url})
    db.connect(reuse_if_open=True)
    migrate()
    wipe()
    with app.app_context():
        yield app
    db.close()


def _url(app):
    return app.config["DATABASE_URL"]


def _deadlocks(conn):
    return int(conn.execute_sql("show global status like 'Innodb_deadlocks'").fetchone()[1])


def _rival(url, wanted_sql, wanted_args):
    """Another client, heavier than our write (so InnoDB picks ours as the victim): writes 200 rows, holds every
    tally row, waits until our write waits for one of them, then wants `wanted_sql`'s row, which ours holds.
    → (its thread, started and holding the tally; a function telling whether a deadlock happened)."""
    other = MySQLdbDatabase(**parse(url))  # another client of the same server
    other.connect()
    deadlocks = _deadlocks(other)
    ready, done = threading.Event(), []

    def run():
        other.execute_sql("begin")
        for i in range(200):
            other.execute_sql("insert into key_value (`key`, value) values (%s, '1')", (f"rival-{i}",))
        other.execute_sql("select * from case_tally for update")
        ready.set()
        deadline = time.time() + 20
        while not other.execute_sql("select count(*) from information_schema.processlist where id != "
                                    "connection_id() and info like '%%case_tally%%'").fetchone()[0]:
            assert time.time() < deadline, "our write never waited for the tally"
            time.sleep(0.02)
        other.execute_sql(wanted_sql, wanted_args)
        other.execute_sql("rollback")
        done.append(_deadlocks(other) - deadlocks)
        other.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert ready.wait(20)

    def deadlocked():
        thread.join(30)
        return done == [1]
    return deadlocked


def test_a_deadlocked_action_is_run_again_whole_and_leaves_one_event(my_app):
    w = world()
    case = new_case(w)
    tally_before = stats.figures(by="state")
    deadlocked = _rival(_url(my_app), "update `case` set updated_at = updated_at where id = %s", (case.id,))
    accepted = workflow.perform(case, "accept", w.deputy_account)   # deadlocks once, then runs again
    assert deadlocked(), "no deadlock happened: the test proved nothing"
    assert accepted.state == "accepted" and Case.get_by_id(case.id).version == case.version + 1
    assert CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action == "accept").count() == 1
    assert Notification.select().where(Notification.kind == "case_accepted").count() == 1
    assert stats.figures(by="state") != tally_before and stats.figures(by="state") == stats.figures(by="state", live=True)


def test_a_deadlocked_report_is_filed_once_and_checked_and_counted_once(my_app, wechat_standin):
    """A citizen's report whose write MariaDB aborts (here: a deadlock on the new case's own row) is written
    again whole — one case, one event, the number it was given before the write — while the content check is
    asked once and the citizen's hourly allowance counts one report, not two."""
    w = world()
    first = new_case(w)  # the year's counter and today's tally rows exist
    wechat_standin.opened(w.citizen.openid)
    checks = len(wechat_standin.sent("msg_sec_check"))
    deadlocked = _rival(_url(my_app), "select id from `case` where client_request_id = %s for update",
                        ("retry-1",))
    case, created = reports.submit(w.citizen, {"deputy": w.deputy.code, "category": "traffic",
                                               "content": "幸福路口的路灯坏了一个多月。", "client_request_id": "retry-1"})
    assert deadlocked(), "no deadlock happened: the test proved nothing"
    assert created and Case.select().where(Case.client_request_id == "retry-1").count() == 1
    assert int(case.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1   # no number skipped
    assert CaseEvent.select().where(CaseEvent.case == case.id).count() == 1
    assert len(wechat_standin.sent("msg_sec_check")) == checks + 1
    assert ratelimit.count(f"report:{w.citizen.id}") == 1
    assert stats.figures(by="state") == stats.figures(by="state", live=True)


def test_a_report_is_not_held_up_by_another_reports_unfinished_write(my_app, monkeypatch):
    """The year's counter is counted before a report's write, so its row is not locked until that write commits:
    a second report goes through while the first is still being written, and each has its own number."""
    w = world()
    new_case(w)
    # numbers no earlier test used: a wiped table keeps its deleted keys until InnoDB purges them, and a new case
    # meeting one of its own number takes a shared lock on the gap after it (cases are never deleted for real)
    Counter.update(value=Counter.value + 100000).where(Counter.name.startswith("case-")).execute()
    inside, release = threading.Event(), threading.Event()
    index = analysis.index

    def held(*args, **kwargs):   # the first report's write stops half-way, inside its transaction
        index(*args, **kwargs)
        if threading.current_thread().name == "held":
            inside.set()
            release.wait(15)
    monkeypatch.setattr(analysis, "index", held)
    filed = {}

    def report(key):
        with my_app.app_context(), db.connection_context():
            filed[key] = new_case(w, client_request_id=key).number
    first, second = threading.Thread(target=report, args=("held",), name="held"), threading.Thread(
        target=report, args=("free",))
    first.start()
    try:
        assert inside.wait(15)
        second.start()
        second.join(5)
        done_meanwhile = not second.is_alive()
    finally:
        release.set()
        first.join(15)
        second.join(15)
    assert done_meanwhile, "the second report waited for the first one's write"
    assert filed["held"] != filed["free"] and Case.select().where(Case.number << list(filed.values())).count() == 2


def test_a_sender_claims_rows_while_another_senders_claim_is_still_open(my_app, monkeypatch):
    """Senders of one drain claim side by side: while one claim's transaction is still open, another sender gets
    other rows instead of finding every row locked and giving up (which left a drain with a handful of senders)."""
    for i in range(10):
        notify.write(Account.create(role="citizen", openid=f"openid-c{i}").id, "case_accepted", f"c{i}",
                     {"number": f"N{i:05d}", "title": "测试"})
    inside, release = threading.Event(), threading.Event()
    exclusive = delivery._exclusive

    @contextlib.contextmanager
    def held():   # the first sender's claim stops just before its COMMIT
        with exclusive():
            yield
            if threading.current_thread().name == "first":
                inside.set()
                release.wait(15)
    monkeypatch.setattr(delivery, "_exclusive", held)
    claimed = {}

    def first():
        with my_app.app_context(), db.connection_context():
            claimed["first"] = delivery.claim("one", limit=2)
    thread = threading.Thread(target=first, name="first")
    thread.start()
    try:
        assert inside.wait(15)
        claimed["second"] = delivery.claim("two", limit=2)
    finally:
        release.set()
        thread.join(15)
    assert len(claimed["first"]) == len(claimed["second"]) == 2
    assert not {n.id for n in claimed["first"]} & {n.id for n in claimed["second"]}


def test_every_table_has_a_primary_key(my_app):
    for model in ALL_MODELS:
        assert model._meta.primary_key is not None, model
    missing = db.execute_sql(
        "select t.table_name from information_schema.tables t where t.table_schema = database() and not exists "
        "(select 1 from information_schema.table_constraints c where c.table_schema = t.table_schema and "
        "c.table_name = t.table_name and c.constraint_type = 'PRIMARY KEY')").fetchall()
    assert list(missing) == []


def test_a_connection_given_back_inside_a_transaction_is_rolled_back_before_it_is_lent_again(my_app):
    """The pool lends a clean connection out again as it is (the same session, no reconnect), and rolls back one
    given back with a transaction still open (a COMMIT that raised, a bare BEGIN): the next borrower neither sees
    nor continues the other's unfinished writes."""
    db.close()
    db.obj.close_idle()
    db.connect()
    session = db.execute_sql("select connection_id()").fetchone()[0]
    db.close()
    db.connect()
    assert db.execute_sql("select connection_id()").fetchone()[0] == session
    db.begin()
    db.execute_sql("insert into key_value (`key`, value) values ('left-open', '1')")
    db.close()
    db.connect()
    assert db.execute_sql("select connection_id()").fetchone()[0] == session
    assert db.execute_sql("select @@in_transaction").fetchone()[0] == 0
    assert db.execute_sql("select count(*) from key_value where `key` = 'left-open'").fetchone()[0] == 0
