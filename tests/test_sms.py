"""SMS as a channel, through the Tencent Cloud SMS stand-in (a real HTTP server checking TC3 signatures,
signature and templates, frequency limits): only for reporters who asked, after WeChat, exactly once,
never in quiet hours, failures recorded with the provider's codes; and the stand-in's own strictness."""
import pytest
from freezegun import freeze_time

import sms
from models import Account, DeliveryAttempt, Notification
from services import delivery, workflow
from services.errors import InvalidInput
from tests.factories import world
from tests.wechat_helpers import wire

PHONE = "13912345678"


@pytest.fixture
def w(app):
    app.config.update(QUIET_HOURS="")
    return world()


def web_case(w, sms_notify=True, phone=PHONE, reporter=None):
    reporter = reporter or Account.create(role="citizen", display_name="王大爷")
    return workflow.submit_case(reporter, {"deputy": w.deputy.code, "category": "traffic",
                                           "content": "村口道路坑洼严重，雨天积水。", "contact_phone": phone,
                                           "sms_notify": sms_notify})


def reporter_rows(case):
    return list(Notification.select().where(Notification.case == case.id, Notification.account == case.reporter_id))


def test_progress_goes_by_sms_exactly_once_to_reporters_who_ticked_it(w, sms_standin):
    ticked, silent = web_case(w), web_case(w, sms_notify=False, phone="13700001111")
    for case in (ticked, silent):
        workflow.perform(case, "accept", w.deputy_account)
    assert delivery.drain().get("sent") == 1
    delivery.drain()
    texts = sms_standin.sent(PHONE)
    assert len(texts) == 1 and sms_standin.sent("13700001111") == []
    assert texts[0]["text"] == f"【代表连心】您反映的问题（{ticked.number}）有新进展：反映已受理。可在网页“查我的反映”凭手机号查看详情。"
    (row,) = reporter_rows(ticked)
    assert (row.state, row.channel, row.wechat_msgid) == ("sent", "sms", texts[0]["serial"])  # provider's SerialNo
    attempt = DeliveryAttempt.get(DeliveryAttempt.notification == row.id)
    assert (attempt.channel, attempt.result) == ("sms", "ok")
    assert [r.state for r in reporter_rows(silent)] == ["inbox"]


def test_the_reporter_of_a_merged_duplicate_hears_the_original_by_sms(w, sms_standin):
    original = web_case(w, sms_notify=False, phone="13700001111")
    duplicate = web_case(w)
    workflow.perform(duplicate, "merge", w.staff, {"original": original.number, "reason": "重复反映"})
    workflow.perform(original, "accept", w.deputy_account)
    delivery.drain()
    texts = [m["text"] for m in sms_standin.sent(PHONE)]
    merged = [t for t in texts if duplicate.number in t]
    followed = [t for t in texts if original.number in t]
    assert len(texts) == 2 and "合并" in merged[0] and "反映已受理" in followed[0]
    assert sms_standin.sent("13700001111") == []


def test_a_reporter_who_follows_the_official_account_gets_the_template_message_not_the_sms(app, w, wechat_standin,
                                                                                              sms_standin):
    wire(app)
    follower = Account.create(role="citizen", oa_openid="oa-wang", oa_followed=True)
    case = web_case(w, reporter=follower)
    workflow.perform(case, "accept", w.deputy_account)
    delivery.drain()
    assert [r.channel for r in reporter_rows(case)] == ["template"]
    assert len(wechat_standin.sent("template")) == 1 and sms_standin.sent() == []


def test_the_outbox_order_is_subscribe_template_sms_inbox(app, w):
    wire(app)
    account = Account.create(role="citizen", openid="openid-li", oa_openid="oa-li", oa_followed=True)
    delivery.add_quota(account, "case_progress")
    case = web_case(w, reporter=account)
    workflow.perform(case, "accept", w.deputy_account)
    (row,) = reporter_rows(case)
    assert delivery.channels(account, "case_progress", row) == ["subscribe", "template", "sms"]
    assert delivery.CHANNELS == ("subscribe", "template", "sms")


@pytest.mark.parametrize("code, state, words", [
    ("FailedOperation.TemplateIncorrectOrUnapproved", "failed", "短信模板未审核通过"),
    ("LimitExceeded.PhoneNumberDailyLimit", "inbox", "该号码今日短信已达运营商上限"),
])
def test_provider_refusals_are_recorded_like_wechats(w, sms_standin, code, state, words):
    case = web_case(w)
    workflow.perform(case, "accept", w.deputy_account)
    sms_standin.inject(code)
    delivery.drain()
    (row,) = reporter_rows(case)
    assert row.state == state and code in row.last_error and words in row.last_error
    attempt = DeliveryAttempt.get(DeliveryAttempt.notification == row.id)
    assert (attempt.channel, attempt.result, attempt.errcode) == ("sms", "failed", None) and code in attempt.detail
    assert sms_standin.sent() == []


def test_a_provider_outage_is_retried_later_and_then_sent_once(w, sms_standin):
    case = web_case(w)
    workflow.perform(case, "accept", w.deputy_account)
    sms_standin.inject("http500")
    assert delivery.drain().get("retry") == 1
    (row,) = reporter_rows(case)
    assert row.state == "pending" and row.next_attempt_at > row.created_at
    Notification.update(next_attempt_at=row.created_at).where(Notification.id == row.id).execute()
    assert delivery.drain() == {"sent": 1} and len(sms_standin.sent(PHONE)) == 1


def test_our_daily_cap_per_number(app, w, sms_standin):
    app.config.update(SMS_DAILY_CAP=1)
    case = web_case(w)
    case = workflow.perform(case, "accept", w.deputy_account)
    workflow.perform(case, "assign", w.staff, {"lead": "D1", "days": 5})
    delivery.drain()
    rows = sorted(reporter_rows(case), key=lambda r: r.state, reverse=True)  # sent, then inbox (any order sent)
    assert [r.state for r in rows] == ["sent", "inbox"] and "DailyCap" in rows[1].last_error
    assert len(sms_standin.sent(PHONE)) == 1


def test_no_sms_in_quiet_hours(app, w, sms_standin):
    app.config.update(QUIET_HOURS="22:00-08:00")
    case = web_case(w)
    workflow.perform(case, "accept", w.deputy_account)
    with freeze_time("2026-03-02 15:30:00"):  # 23:30 in Shanghai
        assert delivery.drain() == {}
    assert sms_standin.sent() == [] and reporter_rows(case)[0].state == "pending"


def test_ticking_sms_needs_a_mobile_number(w):
    with pytest.raises(InvalidInput) as err:
        web_case(w, phone="0731-8888888")
    assert err.value.code == "mobile_required" and "请填写手机号" in err.value.message


def test_the_stand_in_checks_what_the_provider_checks(app, sms_standin):
    assert sms.send(PHONE, "verify_code", ["123456", "5"])
    cases = [({"SMS_SECRET_KEY": "wrong"}, "AuthFailure.SignatureFailure"),
             ({"SMS_SECRET_ID": "unknown"}, "AuthFailure.SecretIdNotFound"),
             ({"SMS_SIGN_NAME": "未审核签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
             ({"SMS_TEMPLATES": {"verify_code": "999999"}}, "FailedOperation.TemplateIncorrectOrUnapproved"),
             ({"SMS_SDK_APP_ID": "1400999999"}, "InvalidParameterValue.SdkAppIdNotExist")]
    for change, code in cases:
        saved = {k: app.config[k] for k in change}
        app.config.update(change)
        with pytest.raises(sms.SmsError) as err:
            sms.send("13700000001", "verify_code", ["123456", "5"])
        assert err.value.errcode == code
        app.config.update(saved)
    for params, code in ((["123456"], "InvalidParameterValue.TemplateParameterFormatError"),
                         (["1" * 21, "5"], "InvalidParameterValue.TemplateParameterLengthLimit")):
        with pytest.raises(sms.SmsError) as err:
            sms.send("13700000002", "verify_code", params)
        assert err.value.errcode == code
    with pytest.raises(sms.SmsError) as err:  # the same text to the same number within 30 seconds
        sms.send(PHONE, "verify_code", ["123456", "5"])
    assert err.value.errcode == "LimitExceeded.PhoneNumberThirtySecondLimit"
    for i in range(4):
        sms.send(PHONE, "verify_code", [f"00000{i}", "5"])
    with pytest.raises(sms.SmsError) as err:  # five an hour to one number
        sms.send(PHONE, "verify_code", ["999999", "5"])
    assert err.value.errcode == "LimitExceeded.PhoneNumberOneHourLimit"
    with pytest.raises(sms.SmsError) as err:
        sms.send("1234", "verify_code", ["123456", "5"])
    assert err.value.errcode == "InvalidParameterValue.IncorrectPhoneNumber"
    assert len(sms_standin.sent(PHONE)) == 5


def test_sandbox_mode_uses_the_stand_in_and_shows_what_it_sent(app, database_url, sms_standin, wechat_standin):
    from app import create_app
    from tests.conftest import TEST_CONFIG
    sandbox = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_OA_APP_SECRET": "",
                          "WECHAT_MP_APP_SECRET": "", "WECHAT_SANDBOX": True, "WECHAT_API_BASE": wechat_standin.base_url,
                          "SMS_API_BASE": sms_standin.base_url, "SMS_SECRET_ID": "", "SMS_TEMPLATES": {}})
    assert sandbox.config["SMS_SECRET_ID"] == sms.SANDBOX["SMS_SECRET_ID"]  # made-up credentials, local only
    with sandbox.app_context():
        sms.send(PHONE, "verify_code", ["246810", "5"])
    page = sandbox.test_client().get("/dev/sms").get_data(as_text=True)
    assert "【代表连心】您的验证码为246810" in page and "+8613912345678" in page
    assert app.test_client().get("/dev/sms").status_code == 404  # not in sandbox mode: no such page
    real = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_SANDBOX": False,
                       "SMS_API_BASE": "https://sms.tencentcloudapi.com", "SMS_SECRET_ID": "", "SMS_TEMPLATES": {}})
    with real.app_context():
        assert not sms.enabled()  # no credentials: SMS is off, never the sandbox's made-up ones
