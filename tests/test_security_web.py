"""The web doors' defences: the lock-out under a parallel burst (real threads, real database), one message for
unknown users and wrong passwords, the password policy, sessions that end for copied cookies, limits keyed on
the real client address behind TRUSTED_PROXIES, cookie and header flags, no inline script, /healthz 503, and
扫码确认登录 (the scan with the bound WeChat)."""
import io
import re
import threading
from pathlib import Path

import pytest
import zxingcpp
from cairosvg import svg2png
from PIL import Image

from app import create_app
from models import Account, open_database
from services import accounts
from services.errors import InvalidInput
from tests.api_client import Api
from tests.conftest import TEST_CONFIG
from tests.factories import csrf_of, world
from tests.wechat_helpers import WECHAT_UA, web_oauth

PASSWORD = "river-gate-17"
ROOT = Path(__file__).resolve().parents[1]


def staff(username="wangmin"):
    account = Account.create(role="staff", username=username, display_name="王敏")
    accounts.set_password(account, PASSWORD)
    account.save()
    return account


def login(client, username, password, address=None):
    page = client.get("/console/login")
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_of(page)}, headers=headers)


def burst(app, attempts):
    """Every (username, password) at once, each from its own browser; returns the status codes in order."""
    results, gate = [None] * len(attempts), threading.Barrier(len(attempts))

    def attempt(i, username, password):
        with app.test_client() as web:
            with web.session_transaction() as sess:
                sess["csrf"] = "burst-token"
            gate.wait()
            results[i] = web.post("/console/login", data={"username": username, "password": password,
                                                          "csrf_token": "burst-token"}).status_code
    threads = [threading.Thread(target=attempt, args=(i, *a)) for i, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


# --- lock-out -------------------------------------------------------------------------------------

def test_a_parallel_burst_of_wrong_passwords_is_checked_only_five_times(app):
    staff()
    codes = burst(app, [("wangmin", f"guess-{i:04d}-x") for i in range(24)])
    assert set(codes) <= {401, 403} and codes.count(403) >= 19
    account = Account.get(Account.username == "wangmin")
    # every password check takes a counted turn first: five turns, so five checks, then the lock
    assert account.failed_logins == 5 and account.locked_until is not None
    assert login(app.test_client(), "wangmin", PASSWORD).status_code == 403   # the lock holds


def test_the_right_password_inside_a_burst_wins_only_within_the_first_five_turns(app):
    staff()
    attempts = [("wangmin", f"guess-{i:04d}-x") for i in range(24)]
    attempts.insert(12, ("wangmin", PASSWORD))
    codes = burst(app, attempts)
    right = codes[12]
    assert right in (302, 403) and set(codes) <= {302, 401, 403}
    account = Account.get(Account.username == "wangmin")
    if right == 403:   # it came after the fifth turn: refused like the guesses, and the lock is in place
        assert account.locked_until is not None and account.failed_logins == 5
    else:              # it was among the first five turns; the guesses after it start a new count
        assert account.failed_logins <= 5


def test_unknown_users_and_wrong_passwords_get_the_same_answer(app, client):
    staff()
    unknown = login(client, "nobody-here", "whatever-1234")
    wrong = login(client, "wangmin", "whatever-1234")
    assert unknown.status_code == wrong.status_code == 401
    text = lambda r: re.findall(r'<p class="flash error"[^>]*>([^<]*)</p>', r.get_data(as_text=True))  # noqa: E731
    assert text(unknown) == text(wrong) == ["用户名或密码错误"]


def test_successful_logins_do_not_count_against_the_address(app):
    staff()
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    for _ in range(35):
        assert login(proxied.test_client(), "wangmin", PASSWORD, address="10.1.1.1").status_code == 302


def test_failed_logins_are_limited_per_real_address_behind_the_proxy(app):
    """Behind nginx (TRUSTED_PROXIES=1) someone failing 30 times from one address is stopped there; the
    account's owner, from another address, still signs in with the right password."""
    staff()
    for i in range(6):
        staff(f"decoy{i}")
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    web = proxied.test_client()
    for i in range(30):
        assert login(web, f"decoy{i % 6}", f"wrong-guess-{i}", address="203.0.113.9").status_code in (401, 403)
    assert login(web, "decoy0", "wrong-guess-x", address="203.0.113.9").status_code == 429
    assert login(proxied.test_client(), "wangmin", PASSWORD, address="198.51.100.7").status_code == 302


def test_without_trusted_proxies_the_forwarded_header_is_ignored(app, client):
    staff()
    from services import ratelimit
    login(client, "wangmin", "wrong-guess-1", address="203.0.113.50")
    assert ratelimit.count("login-failed:203.0.113.50") == 0
    assert ratelimit.count("login-failed:127.0.0.1") == 1


def test_h5_report_limits_are_per_real_address(app):
    world()
    app.config["H5_REPORTS_PER_IP_HOUR"] = 2
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})

    def report(address, n):
        web = proxied.test_client()
        page = web.get("/d/DEP001")
        return web.post("/d/DEP001", headers={"X-Forwarded-For": address}, data={
            "csrf_token": csrf_of(page), "category": "traffic", "content": f"村口道路坑洼严重，第{n}次反映。",
            "client_request_id": f"h5-{address}-{n}"}).status_code
    assert [report("203.0.113.1", n) for n in range(3)] == [303, 303, 429]
    assert report("203.0.113.2", 0) == 303   # an unrelated citizen is not limited by the first one


# --- passwords and sessions -----------------------------------------------------------------------

@pytest.mark.parametrize("password, username", [("short-1", "li"), ("1234567890", "li"), ("password123", "li"),
                                                ("aaaaaaaaaaaa", "li"), ("zhangwei-2026", "zhangwei"),
                                                ("ZhangWei", "zhangwei")])
def test_weak_passwords_are_refused(app, password, username):
    account = Account(role="staff", username=username)
    with pytest.raises(InvalidInput) as refused:
        accounts.set_password(account, password)
    assert refused.value.code == "weak_password" and account.password_hash is None


def test_logout_ends_a_copied_session_cookie(app):
    staff()
    web = app.test_client()
    assert login(web, "wangmin", PASSWORD).status_code == 302
    cookie = web.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/console/cases").status_code == 200
    page = web.get("/console/cases")
    web.post("/console/logout", data={"csrf_token": csrf_of(page)})
    stolen = thief.get("/console/cases")
    assert stolen.status_code == 302 and "/console/login" in stolen.headers["Location"]


def test_api_tokens_end_with_the_sessions_of_their_account(app, client):
    w = world()
    api = Api(client, w.citizen)
    assert api.get("/me").status_code == 200
    accounts.end_sessions(w.citizen)
    assert api.get("/me").status_code == 401
    assert Api(client, Account.get_by_id(w.citizen.id)).get("/me").status_code == 200


# --- cookies, headers, inline script --------------------------------------------------------------

def test_the_session_cookie_is_httponly_lax_and_secure_over_https(app, database_url):
    secure = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": "https://rd.example.cn"})
    for application, https in ((app, False), (secure, True)):
        response = application.test_client().get("/console/login")   # its form's CSRF token starts a session
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is https
        assert ("Strict-Transport-Security" in response.headers) is https


@pytest.mark.parametrize("path", ["/", "/console/login", "/healthz", "/api/v1/deputies", "/public/cases",
                                  "/wechat"])  # the webhook's error page (its XML replies go to WeChat only)
def test_security_headers_on_every_kind_of_page(app, client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in \
        csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_script_the_policy_would_block():
    """CSP allows scripts from static files only: no <script> without src, no on…= handlers, no javascript:."""
    offenders = []
    for path in list(ROOT.glob("templates/**/*.html")) + list(ROOT.glob("handlers/oa/templates/**/*.html")):
        html = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=\s*[\"']", r"javascript:"):
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(pattern, html, re.I)]
    assert offenders == []


def test_max_content_length_is_what_flask_enforces(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 12 * 1024 * 1024
    response = client.post("/d/DEP001", data=b"x" * (13 * 1024 * 1024), content_type="application/octet-stream")
    assert response.status_code == 413


# --- /healthz while the database is down ----------------------------------------------------------

@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/deeper/daibiao.db", "mysql://root@127.0.0.1:1/daibiao"],
                         ids=["sqlite-unopenable", "mysql-unreachable"])
def test_healthz_answers_503_with_the_reason_while_the_database_is_down(app, database_url, url):
    down = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    try:
        response = down.test_client().get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "error" and body["database"]["error"] and body["database"]["reason"]
    finally:
        open_database(database_url)


# --- 扫码确认登录 ---------------------------------------------------------------------------------

def test_a_staff_login_with_a_bound_wechat_waits_for_the_scan_on_that_phone(app, wechat_standin):
    """The password alone does not sign in; the QR code opens /m/confirm/<token> in WeChat (web OAuth through
    the stand-in), only the bound identity can confirm, and the confirmation is used once."""
    app.config["LOGIN_WECHAT_CONFIRM"] = True
    account = staff()
    Account.update(oa_openid="oa-wangmin").where(Account.id == account.id).execute()
    desk = app.test_client()
    assert login(desk, "wangmin", PASSWORD).headers["Location"].endswith("/console/login/confirm")
    assert desk.get("/console/cases").status_code == 302                    # not signed in yet
    page = desk.get("/console/login/confirm").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(svg2png(bytestring=svg.encode(), output_width=480))))
    path = code.text.replace("http://daibiao.test", "")
    assert path.startswith("/m/confirm/")
    early = desk.post("/console/login/confirm", data={"csrf_token": csrf_of(page)})
    assert "还没有收到手机上的确认" in early.get_data(as_text=True)
    stranger = app.test_client()                                            # someone else's WeChat
    shown = web_oauth(stranger, path, "intruder")
    refused = stranger.post(path, data={"csrf_token": csrf_of(shown)}, headers={"User-Agent": WECHAT_UA})
    assert refused.status_code == 403 and "绑定了该账号的微信" in refused.get_data(as_text=True)
    phone = app.test_client()
    shown = web_oauth(phone, path, "wangmin")
    assert "确认登录" in shown.get_data(as_text=True)
    assert "已确认" in phone.post(path, data={"csrf_token": csrf_of(shown)},
                                  headers={"User-Agent": WECHAT_UA}).get_data(as_text=True)
    done = desk.post("/console/login/confirm", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 302 and desk.get("/console/cases").status_code == 200
    again = app.test_client()                                               # the confirmation is spent
    with again.session_transaction() as sess:
        sess.update(login_confirm=path.rsplit("/", 1)[1], csrf="t")
    assert again.post("/console/login/confirm", data={"csrf_token": "t"}).status_code == 200
    assert again.get("/console/cases").status_code == 302


def test_accounts_without_a_bound_wechat_sign_in_with_the_password(app):
    app.config["LOGIN_WECHAT_CONFIRM"] = True
    staff()
    web = app.test_client()
    assert login(web, "wangmin", PASSWORD).headers["Location"].endswith("/console/")


def test_the_phone_workbench_follows_the_same_session_and_second_factor_rules(app):
    account = Account.create(role="department", username="chengban", display_name="承办人",
                             department=world().depts[0])
    accounts.set_password(account, PASSWORD)
    account.save()
    phone = app.test_client()
    form = lambda web: {"username": "chengban", "password": PASSWORD, "csrf_token": csrf_of(web.get("/m/"))}  # noqa
    assert phone.post("/m/login", data=form(phone)).status_code == 303
    copied = app.test_client()
    copied.set_cookie("session", phone.get_cookie("session").value)
    assert "承办人" in copied.get("/m/").get_data(as_text=True)
    desk = app.test_client()
    assert login(desk, "chengban", PASSWORD).status_code == 302
    desk.post("/console/logout", data={"csrf_token": csrf_of(desk.get("/console/cases"))})
    assert "承办人" not in copied.get("/m/").get_data(as_text=True)     # logging out ended it everywhere
    app.config["LOGIN_WECHAT_CONFIRM"] = True
    Account.update(oa_openid="oa-chengban").where(Account.id == account.id).execute()
    refused = app.test_client()
    response = refused.post("/m/login", data=form(refused))
    assert response.status_code == 403 and "请在微信中打开" in response.get_data(as_text=True)
