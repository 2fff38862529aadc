"""Fixtures: the app on SQLite (default) or on a real MariaDB server (TEST_DATABASE=mariadb).

The schema is created once per session; every test starts from empty tables.
"""
import os
import tempfile

import pytest

from app import create_app
from models import ALL_MODELS, db, is_mysql
from models.migrate import SchemaVersion, migrate

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")

TEST_CONFIG = {
    "TESTING": True, "SECRET_KEY": "test-secret", "PUBLIC_BASE_URL": "http://daibiao.test",
    "WECHAT_OA_APP_ID": "wxoatest0000000001", "WECHAT_OA_APP_SECRET": "oa-secret",
    "WECHAT_OA_TOKEN": "testtoken", "WECHAT_MP_APP_ID": "wxmptest0000000001", "WECHAT_MP_APP_SECRET": "mp-secret",
    "WECHAT_TEMPLATES_FILE": "",  # never a developer's instance/wechat_templates.json
    "QUIET_HOURS": "",
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # scrypt at 1/32 of its cost: 200 logins were 30 s of CPU a run  # no test depends on the hour it runs at; quiet-hours tests set their own
}


def _reuse_url_builders():
    """Every test builds its own app (create_app), and 90 % of that is Werkzeug compiling each route's URL builder
    from an AST — the same ~200 rules each time. The builder depends only on the rule's text, its parsed parts and
    its defaults (converters are reached through the bound rule), so the tests compile each one once."""
    from werkzeug.routing.rules import Rule
    compile_builder, cache = Rule._compile_builder, {}

    def cached(self, append_unknown=True):
        key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in cache:
            cache[key] = compile_builder(self, append_unknown)
        return cache[key]
    Rule._compile_builder = cached


_reuse_url_builders()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright")
    config.addinivalue_line("markers", "mariadb_only: needs a MySQL-family server")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "mariadb":
        from tests.mariadb import MariaDB
        server = MariaDB().start()
        yield server.url
        server.stop()
    elif BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"
    else:
        raise RuntimeError(f"unknown TEST_DATABASE={BACKEND!r}: use sqlite or mariadb")


@pytest.fixture(scope="session")
def schema(database_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    with db.connection_context():
        migrate()
    return app


def wipe():
    """Empty every table (foreign-key checks off for the moment)."""
    tables = [m._meta.table_name for m in reversed(ALL_MODELS)]
    if is_mysql():
        db.execute_sql("SET FOREIGN_KEY_CHECKS=0")
        for t in tables:
            db.execute_sql(f"DELETE FROM `{t}`")
        db.execute_sql("SET FOREIGN_KEY_CHECKS=1")
    else:
        db.execute_sql("PRAGMA foreign_keys=OFF")
        with db.atomic():
            for t in tables:
                db.execute_sql(f'DELETE FROM "{t}"')
        db.execute_sql("PRAGMA foreign_keys=ON")


@pytest.fixture(scope="session")
def wechat_standin():
    """WeChat's API stood in by a real HTTP server on 127.0.0.1 (wechat/standin.py), strict in every rule, with
    the test apps' secrets and the mini-program linked to the official account; reset before each test."""
    from wechat.standin import WeChatStandIn
    standin = WeChatStandIn(apps={TEST_CONFIG["WECHAT_OA_APP_ID"]: TEST_CONFIG["WECHAT_OA_APP_SECRET"],
                                  TEST_CONFIG["WECHAT_MP_APP_ID"]: TEST_CONFIG["WECHAT_MP_APP_SECRET"]},
                            links={TEST_CONFIG["WECHAT_OA_APP_ID"]: [TEST_CONFIG["WECHAT_MP_APP_ID"]]})
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def sms_standin():
    """Tencent Cloud SMS stood in by a real HTTP server on 127.0.0.1 (sms/standin.py); reset before each test."""
    from sms.standin import SmsStandIn
    standin = SmsStandIn()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def app(schema, database_url, tmp_path, wechat_standin, sms_standin):
    import sms
    wechat_standin.reset()
    sms_standin.reset()
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "WECHAT_API_BASE": wechat_standin.base_url, "WECHAT_OPEN_BASE": wechat_standin.base_url,
                      "SMS_API_BASE": sms_standin.base_url, **sms.SANDBOX, "SMS_TEMPLATES": dict(sms.SANDBOX_TEMPLATES)})
    db.connect(reuse_if_open=True)
    wipe()
    with app.app_context():
        yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP on 127.0.0.1 (for Playwright); yields its base URL."""
    import threading

    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Fails loudly when Chromium is missing."""
    import shutil

    from playwright.sync_api import sync_playwright
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A 360-px-wide phone screen."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()
