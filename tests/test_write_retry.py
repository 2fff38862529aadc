"""Writes on a multi-master cluster: a transaction that MariaDB aborts as a deadlock (how a Galera certification
conflict surfaces, at COMMIT) runs again whole, and leaves exactly one of everything; every table has a primary
key (Galera replicates rows by it). On a real MariaDB server: the suite's own when it runs on MariaDB, else one
this module starts."""
import threading
import time

import pytest
from playhouse.db_url import connect

from models import ALL_MODELS, Case, CaseEvent, Notification, db
from services import stats, workflow
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


def test_a_deadlocked_action_is_run_again_whole_and_leaves_one_event(my_app):
    w = world()
    case = new_case(w)
    tally_before = stats.figures(by="state")
    other = connect(_url(my_app).split("?")[0], charset="utf8mb4")  # another client of the same server
    other.connect()
    deadlocks = _deadlocks(other)
    ready, done = threading.Event(), []

    def rival():
        """Heavier than the action (so InnoDB picks the action as the victim): writes 200 rows, holds every
        tally row, waits until the action waits for one of them, then wants the case row the action holds.
        (Runs in its own thread, so on its own connection of `other`.)"""
        other.execute_sql("begin")
        for i in range(200):
            other.execute_sql("insert into key_value (`key`, value) values (%s, '1')", (f"rival-{i}",))
        other.execute_sql("select * from case_tally for update")
        ready.set()
        deadline = time.time() + 20
        while not other.execute_sql("select count(*) from information_schema.processlist where id != "
                                    "connection_id() and info like '%%case_tally%%'").fetchone()[0]:
            assert time.time() < deadline, "the action never waited for the tally"
            time.sleep(0.02)
        other.execute_sql("update `case` set updated_at = updated_at where id = %s", (case.id,))
        other.execute_sql("rollback")
        other.close()
        done.append(True)

    thread = threading.Thread(target=rival)
    thread.start()
    assert ready.wait(20)
    accepted = workflow.perform(case, "accept", w.deputy_account)   # deadlocks once, then runs again
    thread.join(30)
    assert done == [True]
    assert _deadlocks(other) == deadlocks + 1, "no deadlock happened: the test proved nothing"
    other.close()
    assert accepted.state == "accepted" and Case.get_by_id(case.id).version == case.version + 1
    assert CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action == "accept").count() == 1
    assert Notification.select().where(Notification.kind == "case_accepted").count() == 1
    assert stats.figures(by="state") != tally_before and stats.figures(by="state") == stats.figures(by="state", live=True)


def test_every_table_has_a_primary_key(my_app):
    for model in ALL_MODELS:
        assert model._meta.primary_key is not None, model
    missing = db.execute_sql(
        "select t.table_name from information_schema.tables t where t.table_schema = database() and not exists "
        "(select 1 from information_schema.table_constraints c where c.table_schema = t.table_schema and "
        "c.table_name = t.table_name and c.constraint_type = 'PRIMARY KEY')").fetchall()
    assert list(missing) == []
