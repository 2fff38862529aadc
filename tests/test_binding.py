"""Binding codes (services/binding.py) through every door: the official account's text command and QR
events, the /bind/<token> link in WeChat's browser (stand-in web OAuth), and the mini-program."""
import datetime as dt
import re

import pytest

from jobs import tasks
from models import Account, AuditLog, BindCode, Notification, utcnow
from services import binding, delivery, workflow
from tests.api_client import Api
from tests.factories import new_case, world
from tests.test_foundation import scratch_database_url  # noqa: F401  (fixture)
from tests.wechat_helpers import event_xml, post_plain, read_reply, text_xml, value, web_oauth, wire


@pytest.fixture
def w(app):
    return world()


def say(client, text, openid):
    return read_reply(post_plain(client, text_xml(text, openid=openid)).get_data(as_text=True)).content


def event(client, name, openid, key=None):
    return read_reply(post_plain(client, event_xml(name, openid=openid, key=key)).get_data(as_text=True))


def csrf(response):
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_a_deputy_binds_by_sending_the_code_and_hears_it_confirmed(client, w, wechat_standin):
    code, typed = binding.issue(w.deputy_account, w.staff)
    assert len(typed) == 8 and set(typed) <= set(binding.ALPHABET) and code.token not in typed
    reply = say(client, f"绑定 {typed[:4].lower()}-{typed[4:]}", "oa-zhou")  # case and dashes do not matter
    assert "您已绑定为 周建华 代表" in reply and "/m/" in reply
    person = Account.get_by_id(w.deputy_account.id)
    assert person.oa_openid == "oa-zhou" and person.oa_followed
    assert AuditLog.get(AuditLog.action == "bind").detail["channel"] == "official_account"
    assert BindCode.get_by_id(code.id).used_channel == "official_account"
    # the follower account the first message made is retired, not left holding nothing
    assert Account.select().where(Account.role == "citizen", Account.active == True).count() == 2  # noqa: E712
    wire(client.application)
    assert delivery.drain()["sent"] == 1
    sent = wechat_standin.sent("template")[0]
    assert sent["touser"] == "oa-zhou" and value(sent, "detail") == "您已绑定为周建华 代表"
    # binding twice is harmless; the same code from someone else is refused
    assert "您已绑定为 周建华 代表" in say(client, f"绑定 {typed}", "oa-zhou")
    assert "已经使用过" in say(client, f"绑定 {typed}", "oa-stranger")
    assert AuditLog.select().where(AuditLog.action == "bind").count() == 1


@pytest.mark.parametrize("event_name,key", [("subscribe", "qrscene_bind:{token}"), ("SCAN", "bind:{token}")])
def test_scanning_the_binding_qr_binds_the_official_account(client, w, event_name, key):
    code, _ = binding.issue(w.lead, w.admin)
    reply = event(client, event_name, "oa-lead-phone", key.format(token=code.token))
    assert reply.content.startswith("您已绑定为 县交通运输局 lead")
    assert Account.get_by_id(w.lead.id).oa_openid == "oa-lead-phone"


def test_the_binding_link_binds_through_web_oauth_and_signs_in_the_workbench(client, w, wechat_standin):
    code, _ = binding.issue(w.deputy_account, w.staff)
    page = web_oauth(client, f"/bind/{code.token}", "zhou")
    assert page.status_code == 200 and "周建华 代表" in page.get_data(as_text=True)
    assert Account.get_by_id(w.deputy_account.id).oa_openid is None  # nothing happens before the button
    done = client.post(f"/bind/{code.token}", data={"csrf_token": csrf(page)})
    assert done.status_code == 200 and "您已绑定为 周建华 代表" in done.get_data(as_text=True)
    assert Account.get_by_id(w.deputy_account.id).oa_openid == "oa-zhou"
    home = client.get("/m/").get_data(as_text=True)
    assert "周建华 代表" in home and "待受理" in home


def test_outside_wechat_the_link_explains_how_to_bind(client, w):
    code, _ = binding.issue(w.deputy_account, w.staff)
    page = client.get(f"/bind/{code.token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "请用<strong>微信</strong>扫描" in html and "绑定 绑定码" in html
    with client.session_transaction() as session:
        token = session["csrf"]
    refused = client.post(f"/bind/{code.token}", data={"csrf_token": token})  # a hand-made form
    assert refused.status_code == 400 and "请在微信中打开" in refused.get_data(as_text=True)
    assert client.get("/bind/forged-token-000000000").status_code == 404


def test_the_mini_program_binds_with_a_token_or_a_code(client, w):
    code, typed = binding.issue(w.deputy_account, w.staff)
    citizen = Api(client, token=client.post("/api/v1/auth/login", json={"code": "code-union-zhou"}).get_json()["token"])
    bound = citizen.post("/bind", json={"token": code.token})
    assert bound.status_code == 200 and bound.get_json()["account"]["role"] == "deputy"
    person = Account.get_by_id(w.deputy_account.id)
    assert person.openid == "openid-union-zhou" and person.unionid == "unionid-union-zhou"
    again = client.post("/api/v1/auth/login", json={"code": "code-union-zhou~2"}).get_json()  # a new wx.login
    assert again["account"]["deputy"]["code"] == "DEP001"
    other = Api(client, token=client.post("/api/v1/auth/login", json={"code": "code-li"}).get_json()["token"])
    response = other.post("/bind", json={"code": typed})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "bind_code_used"


def test_bad_codes_are_refused_in_chinese_and_nothing_is_bound(client, w):
    expired, expired_typed = binding.issue(w.deputy_account, w.staff)
    BindCode.update(expires_at=utcnow() - dt.timedelta(minutes=1)).where(BindCode.id == expired.id).execute()
    assert "已过期" in say(client, f"绑定 {expired_typed}", "oa-x1")
    revoked, revoked_typed = binding.issue(w.other_deputy_account, w.staff)
    binding.revoke(revoked, w.staff)
    assert "已作废" in say(client, f"绑定 {revoked_typed}", "oa-x2")
    assert "绑定码不正确" in say(client, "绑定 ABCD2345", "oa-x3")       # forged
    assert "绑定码不正确" in say(client, "绑定 ABCD234", "oa-x3")        # mistyped
    assert "请发送“绑定 绑定码”" in say(client, "绑定", "oa-x3")
    # re-issuing revokes the earlier unused code
    first, first_typed = binding.issue(w.lead, w.admin)
    binding.issue(w.lead, w.admin)
    assert "已作废" in say(client, f"绑定 {first_typed}", "oa-x4")
    assert not Account.select().where(Account.role != "citizen", Account.oa_openid.is_null(False)).exists()
    assert not AuditLog.select().where(AuditLog.action == "bind").exists()


def test_guessing_is_rate_limited_per_identity_and_per_address(client, w):
    for _ in range(binding.TRIES_PER_IDENTITY):
        assert "绑定码不正确" in say(client, "绑定 ABCD2345", "oa-guesser")
    _, typed = binding.issue(w.deputy_account, w.staff)
    assert "尝试次数过多" in say(client, f"绑定 {typed}", "oa-guesser")  # even the right code, for an hour
    assert Account.get_by_id(w.deputy_account.id).oa_openid is None
    logins = [Api(client, token=client.post("/api/v1/auth/login", json={"code": f"code-g{i}"}).get_json()["token"])
              for i in range(4)]
    statuses = [logins[i % 4].post("/bind", json={"code": "ABCD2345"}).status_code
                for i in range(binding.TRIES_PER_ADDRESS + 1)]
    assert statuses[:binding.TRIES_PER_ADDRESS] == [400] * binding.TRIES_PER_ADDRESS and statuses[-1] == 429


def test_an_identity_bound_to_someone_else_is_refused_never_moved(client, w):
    _, typed = binding.issue(w.deputy_account, w.staff)
    say(client, f"绑定 {typed}", "oa-shared")
    _, other = binding.issue(w.lead, w.admin)
    reply = say(client, f"绑定 {other}", "oa-shared")
    assert "已绑定为“周建华 代表”" in reply and "不能再绑定为“县交通运输局 lead”" in reply
    assert Account.get_by_id(w.deputy_account.id).oa_openid == "oa-shared"
    assert Account.get_by_id(w.lead.id).oa_openid is None
    # a citizen who has reported with this WeChat is a person, not an empty shell: refused too
    reporter = Account.create(role="citizen", oa_openid="oa-reporter")
    new_case(w, reporter=reporter)
    _, third = binding.issue(w.assist, w.admin)
    assert "已绑定为“群众" in say(client, f"绑定 {third}", "oa-reporter")


def test_a_bound_deputy_without_a_console_account_receives_every_message_meant_for_them(app, client, w,
                                                                                        wechat_standin):
    from models import Deputy
    from services.accounts import person_account
    deputy = Deputy.create(code="DEP009", name="王建华", level="county", station=w.town_a)
    person = person_account(deputy)
    assert person.username is None
    _, typed = binding.issue(person, w.staff)
    say(client, f"绑定 {typed}", "oa-wang")
    wire(app)
    case = new_case(w, deputy="DEP009")
    case = workflow.perform(case, "accept", person)
    case = workflow.perform(case, "assign", w.staff, {"lead": "D1", "days": 5})
    case = workflow.perform(case, "sign", w.lead)
    case = workflow.perform(case, "answer", w.lead, {"answer_class": "A", "text": "路灯已经修好了。"})
    workflow.perform(case, "rate", w.citizen, {"value": "unsatisfied"})
    new_case(w, deputy="DEP009")
    tasks.daily_digest()
    kinds = [n.kind for n in Notification.select().where(Notification.account == person).order_by(Notification.id)]
    assert kinds == ["bind_confirmed", "case_new", "deputy_answer", "deputy_unsatisfied", "case_new",
                     "digest_deputy"]
    delivery.drain()
    to_wang = [m for m in wechat_standin.sent("template") if m["touser"] == "oa-wang"]
    assert len(to_wang) == 6
    assert to_wang[1]["url"] == f"http://daibiao.test/m/cases/{case.number}"  # the phone workbench
    # unbinding stops them: the next message stays in the inbox
    assert binding.unbind(person, None, w.staff) == ["official_account"]
    assert AuditLog.get(AuditLog.action == "unbind").detail == {"channels": ["official_account"]}
    second = new_case(w, deputy="DEP009")
    delivery.drain()
    row = Notification.get(Notification.account == person, Notification.case == second.id)
    assert row.state == "inbox" and len([m for m in wechat_standin.sent("template") if m["touser"] == "oa-wang"]) == 6


def test_migration_0004_gives_every_deputy_an_account_and_moves_their_openid(scratch_database_url):
    """An existing database (as of 0003, deputy.openid still there) gets bind_code, one account per deputy
    carrying the openid the deputy record had, and loses the deputy.openid column."""
    from peewee import CharField
    from playhouse.migrate import MySQLMigrator, SqliteMigrator
    from playhouse.migrate import migrate as run_ops

    from app import create_app
    from models import Deputy, Station, db, is_mysql
    from models.migrate import SchemaVersion, migrate
    create_app({"DATABASE_URL": scratch_database_url, "SECRET_KEY": "k"})
    with db.connection_context():
        migrate()
        migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
        db.drop_tables([BindCode])
        run_ops(migrator.add_column("deputy", "openid", CharField(max_length=64, null=True, unique=True)))
        SchemaVersion.delete().where(SchemaVersion.version == 4).execute()
        station = Station.create(code="TA", name="城关镇联络站", level="town", kind="station")
        with_login, bound, plain = (Deputy.create(code=f"D{i}", name=n, level="county", station=station)
                                    for i, n in enumerate(["周建华", "吴秀英", "马立新"]))
        console = Account.create(role="deputy", username="zhou", deputy=with_login)
        db.execute_sql(f"UPDATE deputy SET openid = {'%s' if is_mysql() else '?'} WHERE id = "
                       f"{'%s' if is_mysql() else '?'}", ("openid-wu", bound.id))
        assert migrate() == [4]
        assert "openid" not in [c.name for c in db.get_columns("deputy")]
        people = {a.deputy_id: a for a in Account.select().where(Account.role == "deputy")}
        assert len(people) == 3 and people[with_login.id].id == console.id
        assert people[bound.id].openid == "openid-wu" and people[plain.id].display_name == "马立新"
        assert BindCode.select().count() == 0
