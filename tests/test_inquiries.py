"""问政 — the event and its five stages (services/inquiries.py), the console's event pages and the public event
page, on a fresh database with no demo seed."""
import datetime as dt
import re

import pytest

from models import AuditLog, InquiryEvent, utcnow
from services import calendar, inquiries
from services.errors import Conflict, Forbidden, InvalidInput
from tests.factories import world
from tests.test_console import sign_in
from tests.test_foundation import scratch_database_url  # noqa: F401  (the fixture: a second, empty database)


CSRF = "test-csrf-token"  # the session's token as tests.test_console.sign_in leaves it


@pytest.fixture
def w(app):
    return world()


def local(moment):
    return calendar.local(moment).strftime("%Y-%m-%dT%H:%M")


def event_form(w, **extra):
    now = utcnow()
    return {"topic": "城区停车难问题专题问政", "form": "online", "held_at": local(now + dt.timedelta(days=7)),
            "place": "", "collect_opens": local(now - dt.timedelta(hours=1)),
            "collect_closes": local(now + dt.timedelta(days=3)), "departments": [w.depts[0].code, w.depts[1].code],
            "officials": "城关镇人民政府 副镇长 王明", "deputies": [w.deputy.code, w.other_deputy.code], **extra}


def test_an_event_names_its_objects_and_deputies_and_lists_what_preparation_still_needs(w):
    bare = inquiries.save(w.staff, {"topic": "农村饮水安全问政", "form": "meeting"})
    assert bare.stage == "preparation" and not bare.published
    assert inquiries.blockers(bare) == ["请填写问政时间", "请填写问政地点", "请确定被问政对象", "请确定参加问政的代表",
                                        "请设定问题征集的开始和截止时间"]
    with pytest.raises(Conflict) as err:
        inquiries.advance(w.staff, bare, "preparation")
    assert err.value.code == "stage_not_ready" and "请填写问政时间" in err.value.message
    full = inquiries.save(w.staff, event_form(w))
    assert [o.name for o in inquiries.objects(full)] == ["县交通运输局", "县住建局", "城关镇人民政府 副镇长 王明"]
    assert [d.code for d in inquiries.deputies(full)] == ["DEP001", "DEP002"]
    assert inquiries.blockers(full) == []  # 网络问政 needs no place


def test_bad_settings_are_refused_in_chinese_and_nothing_is_written(w):
    cases = [({"form": "tv"}, "invalid_choice"), ({"topic": "问"}, "too_short"),
             ({"departments": ["NOPE"]}, "bad_department"), ({"deputies": ["DEP404"]}, "bad_deputy"),
             ({"officials": "甲镇 镇长\n甲镇 镇长"}, "duplicate_object"), ({"held_at": "明天"}, "bad_time"),
             ({"collect_closes": local(utcnow() - dt.timedelta(days=1))}, "bad_window")]
    for change, code in cases:
        with pytest.raises(InvalidInput) as err:
            inquiries.save(w.staff, event_form(w, **change))
        assert err.value.code == code and re.search(r"[\u4e00-\u9fff]", err.value.message)
    assert inquiries.Inquiry.select().count() == 0
    for outsider in (w.deputy_account, w.lead, w.citizen):
        with pytest.raises(Forbidden):
            inquiries.save(outsider, event_form(w))


def test_moving_to_mobilisation_publishes_the_event_and_settings_then_freeze(w):
    found = inquiries.save(w.staff, event_form(w))
    moved = inquiries.advance(w.staff, found, "preparation")
    assert moved.stage == "mobilisation" and moved.published and inquiries.collecting(moved)
    with pytest.raises(Conflict) as err:
        inquiries.advance(w.staff, found, "preparation")  # a second click on the old page
    assert err.value.code == "stale_state"
    with pytest.raises(Conflict):
        inquiries.save(w.staff, event_form(w, topic="改个主题"), moved)
    # the collection is still open: 问题梳理 has to wait for its end (and for questions)
    assert inquiries.blockers(moved)[0].startswith("问题征集到") and "还没有征集到问题" in inquiries.blockers(moved)
    event = InquiryEvent.get(InquiryEvent.to_stage == "mobilisation")
    assert event.public and event.from_stage == "preparation"
    assert AuditLog.select().where(AuditLog.action == "inquiry.stage").count() == 1


def test_town_staff_organise_only_their_own_subtree(w):
    found = inquiries.save(w.town_staff, event_form(w))
    assert found.station_id == w.town_a.id
    with pytest.raises(Forbidden):
        inquiries.get(found.code, w.other_town_staff)
    assert inquiries.visible(w.other_town_staff) == [] and inquiries.visible(w.staff) == [found]


def test_console_sets_up_an_event_shows_its_blockers_and_moves_it_on(client, w):
    sign_in(client, w.staff)
    page = client.post("/console/inquiries/new", data={"csrf_token": CSRF, **event_form(w, held_at="")},
                       follow_redirects=True).get_data(as_text=True)
    found = inquiries.Inquiry.get()
    assert "已创建问政活动" in page and "请填写问政时间" in page and 'id="advance" disabled' in page
    client.post(f"/console/inquiries/{found.code}/edit", data={"csrf_token": CSRF, **event_form(w)})
    page = client.get(f"/console/inquiries/{found.code}").get_data(as_text=True)
    assert 'id="blockers"' not in page and "县住建局" in page
    page = client.post(f"/console/inquiries/{found.code}/advance", data={"csrf_token": CSRF, "stage": "preparation"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已进入“动员部署”阶段" in page and f"/w/{found.code}" in page
    again = client.post(f"/console/inquiries/{found.code}/advance", data={"csrf_token": CSRF, "stage": "preparation"},
                        follow_redirects=True).get_data(as_text=True)
    assert "阶段已变化" in again
    qr = client.get(f"/console/inquiries/{found.code}/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    assert client.get("/console/inquiries").status_code == 200
    sign_in(client, w.lead)
    assert client.get(f"/console/inquiries/{found.code}").status_code == 403


def test_public_event_page_exists_only_once_published(client, w):
    found = inquiries.save(w.staff, event_form(w))
    assert client.get(f"/w/{found.code}").status_code == 404
    inquiries.advance(w.staff, found, "preparation")
    page = client.get(f"/w/{found.code}").get_data(as_text=True)
    assert "城区停车难问题专题问政" in page and "动员部署" in page and "城关镇人民政府 副镇长 王明" in page
    assert client.get("/w/WNOPE123").status_code == 404


def test_migration_0016_adds_the_inquiry_tables_to_an_existing_database(scratch_database_url):  # noqa: F811
    from app import create_app
    from models import ALL_MODELS, db
    from models.migrate import SchemaVersion, migrate
    create_app({"DATABASE_URL": scratch_database_url, "SECRET_KEY": "k"})
    tables = [m for m in ALL_MODELS if m._meta.table_name.startswith("inquiry")]
    with db.connection_context():
        migrate()
        db.drop_tables(tables)  # the database as it was before 0016
        SchemaVersion.delete().where(SchemaVersion.version == 16).execute()
        assert migrate() == [16]
        assert all(db.table_exists(m._meta.table_name) for m in tables) and len(tables) == 7
        assert migrate() == []
