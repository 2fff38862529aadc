"""Every setting, read from the environment, with defaults that run with no set-up.

The names are a contract with operators: docs/configuration.md documents each one.
"""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_json(name):
    """A JSON object from the environment ({} when unset); a malformed value stops start-up with its name."""
    import json
    value = os.environ.get(name, "").strip()
    try:
        parsed = json.loads(value) if value else {}
    except ValueError as err:
        raise SystemExit(f"{name} is not valid JSON: {err}") from None
    if not isinstance(parsed, dict):
        raise SystemExit(f"{name} must be a JSON object")
    return parsed


def json_file(path):
    """A JSON object from a file ({} when it does not exist); a malformed one stops start-up with its path."""
    import json
    try:
        parsed = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as err:
        raise SystemExit(f"{path} is not valid JSON: {err}") from None
    if not isinstance(parsed, dict):
        raise SystemExit(f"{path} must hold a JSON object")
    return parsed


def _dev_secret_key():
    """A development key generated once and kept under instance/ so sessions survive restarts."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load():
    """Return the configuration mapping read from the environment (called by create_app, never at import)."""
    cfg = dict(
        DATABASE_URL=env_str("DATABASE_URL", f"sqlite:///{INSTANCE / 'daibiao.db'}"),
        SECRET_KEY=env_str("SECRET_KEY") or None,
        PUBLIC_BASE_URL=env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        TIMEZONE=env_str("TIMEZONE", "Asia/Shanghai"),
        # WeChat: every API call, the token fetch included, goes to WECHAT_API_BASE.
        WECHAT_API_BASE=env_str("WECHAT_API_BASE", "https://api.weixin.qq.com/"),
        # WeChat web OAuth's authorize page (handlers/webauth.py); the sandbox points it at the stand-in.
        WECHAT_OPEN_BASE=env_str("WECHAT_OPEN_BASE", "https://open.weixin.qq.com"),
        WECHAT_OA_APP_ID=env_str("WECHAT_OA_APP_ID"),
        WECHAT_OA_APP_SECRET=env_str("WECHAT_OA_APP_SECRET"),
        WECHAT_OA_TOKEN=env_str("WECHAT_OA_TOKEN"),
        WECHAT_OA_AES_KEY=env_str("WECHAT_OA_AES_KEY"),
        WECHAT_OA_AES_KEY_PREVIOUS=env_str("WECHAT_OA_AES_KEY_PREVIOUS"),
        WECHAT_MP_APP_ID=env_str("WECHAT_MP_APP_ID"),
        WECHAT_MP_APP_SECRET=env_str("WECHAT_MP_APP_SECRET"),
        WECHAT_TIMEOUT=env_int("WECHAT_TIMEOUT", 5),
        # Sandbox: WeChat replaced by the local stand-in (scripts/run.sh turns it on without real credentials).
        WECHAT_SANDBOX=env_bool("WECHAT_SANDBOX"),
        WECHAT_REPLY_BUDGET=float(env_str("WECHAT_REPLY_BUDGET") or 3.5),  # seconds before a holding reply
        WECHAT_MAX_BODY=env_int("WECHAT_MAX_BODY", 64 * 1024),  # larger webhook bodies get 413
        # QR codes and H5 pages (docs/qr.md): WeChat's verification file for "扫普通链接二维码打开小程序"
        # (served at /, /d/, /p/ and /s/ under its own name), the mini-program page that reads wxacode scenes
        # (empty: its home page), and how many H5 reports one IP address may send an hour.
        WECHAT_VERIFY_FILE=env_str("WECHAT_VERIFY_FILE"),
        WECHAT_MP_SCAN_PAGE=env_str("WECHAT_MP_SCAN_PAGE"),
        H5_REPORTS_PER_IP_HOUR=env_int("H5_REPORTS_PER_IP_HOUR", 30),
        H5_PHOTO_MAX_PX=env_int("H5_PHOTO_MAX_PX", 1600),  # the browser shrinks photos to this before upload; 0: off
        COMPRESS_RESPONSES=env_bool("COMPRESS_RESPONSES", True),  # gzip text answers (off when nginx does it)
        H5_BOOKINGS_PER_IP_HOUR=env_int("H5_BOOKINGS_PER_IP_HOUR", 10),
        H5_SIMILAR_PER_IP_HOUR=env_int("H5_SIMILAR_PER_IP_HOUR", 600),  # 附近有相同的反映 look-ups while writing
        REDIS_URL=env_str("REDIS_URL"),
        UPLOAD_FOLDER=env_str("UPLOAD_FOLDER", str(INSTANCE / "uploads")),
        # 民情分析 (docs/analysis.md): when an open report counts as the same problem (cosine similarity of the
        # words, 0–1) and as near (metres, when both have coordinates); map tiles for the dashboard, e.g. 天地图
        # "https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={key}" with its key (empty: a plain
        # longitude/latitude layout).
        DUPLICATE_THRESHOLD=float(env_str("DUPLICATE_THRESHOLD") or 0.25),
        DUPLICATE_NEAR_METRES=env_int("DUPLICATE_NEAR_METRES", 500),
        MAP_TILE_URL=env_str("MAP_TILE_URL"),
        MAP_TILE_KEY=env_str("MAP_TILE_KEY"),
        MAP_TILE_ATTRIBUTION=env_str("MAP_TILE_ATTRIBUTION", "天地图"),
        # Workflow
        DEFAULT_DEADLINE_DAYS=env_int("DEFAULT_DEADLINE_DAYS", 15),
        AUTO_CLOSE_DAYS=env_int("AUTO_CLOSE_DAYS", 7),
        MAX_ROUNDS=env_int("MAX_ROUNDS", 2),
        # Time limits on the steps before the department's (working days): 受理 and 签收 (docs/workflow.md).
        ACCEPT_DAYS=env_int("ACCEPT_DAYS", 3),
        SIGN_DAYS=env_int("SIGN_DAYS", 2),
        RESOLVED_CHECK_DAYS=env_int("RESOLVED_CHECK_DAYS", 15),  # after closing: "问题是否真正解决了？"
        RESPONSE_HOURS=env_int("RESPONSE_HOURS", 24),  # 响应率: a deputy's first answer within this many hours
        RECEPTION_SLOTS=env_int("RECEPTION_SLOTS", 10),  # bookings a reception day takes unless set on the day
        DUTY_LEAGUE_MIN=env_int("DUTY_LEAGUE_MIN", 5),  # 履职 league: fewer deputies of a level than this are not ranked
        DUTY_INACTIVE_MONTHS=env_int("DUTY_INACTIVE_MONTHS", 3),  # no activity this long: a gentle reminder
        # 票决制 and 微实事 (docs/livelihood.md): the call's year (0: next year), who votes, the pass lines, and the
        # defaults of a new micro-project fund (yuan)
        PROJECT_CALL_YEAR=env_int("PROJECT_CALL_YEAR", 0),
        PROJECT_VOTE_LEVEL=env_str("PROJECT_VOTE_LEVEL", "county"),
        PROJECT_VOTE_THRESHOLD=env_float("PROJECT_VOTE_THRESHOLD", 0.5),
        PROJECT_PASS_RATE=env_float("PROJECT_PASS_RATE", 0.8),
        MICRO_FUND_BUDGET=env_int("MICRO_FUND_BUDGET", 2_000_000),
        MICRO_PROJECT_CAP=env_int("MICRO_PROJECT_CAP", 100_000),
        MICRO_VOTE_THRESHOLD=env_float("MICRO_VOTE_THRESHOLD", 0.5),
        # 问政: the 满意率 line under which an object's 整改 goes round again, and that round's working days.
        INQUIRY_PASS_RATE=float(env_str("INQUIRY_PASS_RATE", "0.8")),
        INQUIRY_SECOND_DAYS=env_int("INQUIRY_SECOND_DAYS", 20),
        # The audit log is kept this many days (at least 180; the nightly purge removes older entries).
        AUDIT_RETENTION_DAYS=max(180, env_int("AUDIT_RETENTION_DAYS", 365)),
        # Notifications: quiet hours hold non-urgent pushes (local time, HH:MM).
        QUIET_HOURS=env_str("QUIET_HOURS", "22:00-08:00"),
        # Console passwords: werkzeug's hash method for passwords set from now on (stored hashes name their own).
        PASSWORD_HASH_METHOD=env_str("PASSWORD_HASH_METHOD", "scrypt"),
        # Notifications: WeChat sends in flight at once while draining the outbox (one thread each).
        DELIVERY_CONCURRENCY=env_int("DELIVERY_CONCURRENCY", 32),
        # Mini-program API: bearer-token lifetime (seconds) and reports per person per hour.
        API_TOKEN_MAX_AGE=env_int("API_TOKEN_MAX_AGE", 7 * 24 * 3600),
        REPORT_RATE_LIMIT=(env_int("REPORT_RATE_LIMIT", 10), 3600),
        OPINION_RATE_LIMIT=(env_int("OPINION_RATE_LIMIT", 20), 3600),
        BIND_CODE_TTL=env_int("BIND_CODE_TTL", 72),  # hours a binding code (绑定码) stays valid
        CONSOLE_IDLE_MINUTES=env_int("CONSOLE_IDLE_MINUTES", 60),  # console sessions end after this idle time
        # 扫码确认登录: a console login of an account with a bound WeChat also needs a scan on that phone
        LOGIN_WECHAT_CONFIRM=env_bool("LOGIN_WECHAT_CONFIRM"),
        # Security (docs/security.md): reverse proxies in front (nginx: 1) whose X-Forwarded-For/-Proto count,
        # the largest request body, and the session cookie's flags (Secure follows PUBLIC_BASE_URL's scheme).
        TRUSTED_PROXIES=env_int("TRUSTED_PROXIES", 0),
        MAX_CONTENT_LENGTH=env_int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024),
        API_MAX_JSON=env_int("API_MAX_JSON", 64 * 1024),
        # Personal data: the key phone numbers are encrypted with (128 hex digits; derived from SECRET_KEY
        # when unset), and how long after a case ends its reporter's personal details are kept (0: forever).
        PERSONAL_DATA_KEY=env_str("PERSONAL_DATA_KEY"),
        PERSONAL_DATA_CIPHER=env_str("PERSONAL_DATA_CIPHER", "aes"),  # aes (AES-SIV) or sm4 (国密 SM4 + SM3)
        PERSONAL_DATA_RETENTION_DAYS=env_int("PERSONAL_DATA_RETENTION_DAYS", 3 * 365),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # WeChat templates per message template (services/notify.py TEMPLATES): {"case_progress": {"id": "<id>",
        # "keywords": {"<rule><kid>": "<value>"}, "long_term": false}, ...}. Written by `flask --app app wechat
        # templates --write` into WECHAT_TEMPLATES_FILE ({"mp": {...}, "oa": {...}}); the two variables, when
        # set, take the place of the file's part. A template without an entry is not pushed on that channel.
        WECHAT_TEMPLATES_FILE=env_str("WECHAT_TEMPLATES_FILE", str(INSTANCE / "wechat_templates.json")),
        WECHAT_MP_TEMPLATES=env_json("WECHAT_MP_TEMPLATES"),
        WECHAT_OA_TEMPLATES=env_json("WECHAT_OA_TEMPLATES"),
        # SMS through Tencent Cloud SMS (docs/sms.md): endpoint, API key, SmsSdkAppId, approved signature and
        # template ids ({"case_progress": "<id>", "verify_code": "<id>"}); SMS is off until they are set.
        SMS_API_BASE=env_str("SMS_API_BASE", "https://sms.tencentcloudapi.com"),
        SMS_SECRET_ID=env_str("SMS_SECRET_ID"),
        SMS_SECRET_KEY=env_str("SMS_SECRET_KEY"),
        SMS_SDK_APP_ID=env_str("SMS_SDK_APP_ID"),
        SMS_SIGN_NAME=env_str("SMS_SIGN_NAME"),
        SMS_REGION=env_str("SMS_REGION", "ap-guangzhou"),
        SMS_TEMPLATES=env_json("SMS_TEMPLATES"),
        SMS_TIMEOUT=env_int("SMS_TIMEOUT", 5),
        SMS_DAILY_CAP=env_int("SMS_DAILY_CAP", 10),  # SMS to one number per day (codes and notices together)
        # H5: how long a reporter's browser keeps its signed claim to their cases (days).
        H5_CLAIM_DAYS=env_int("H5_CLAIM_DAYS", 365),
    )
    return cfg


def finish(cfg):
    """Fill in values that depend on others (after test overrides are applied)."""
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _dev_secret_key()
    if not (cfg.get("WECHAT_MP_TEMPLATES") and cfg.get("WECHAT_OA_TEMPLATES")) and cfg.get("WECHAT_TEMPLATES_FILE"):
        saved = json_file(cfg["WECHAT_TEMPLATES_FILE"])
        cfg["WECHAT_MP_TEMPLATES"] = cfg.get("WECHAT_MP_TEMPLATES") or saved.get("mp") or {}
        cfg["WECHAT_OA_TEMPLATES"] = cfg.get("WECHAT_OA_TEMPLATES") or saved.get("oa") or {}
    cfg.setdefault("SESSION_COOKIE_SECURE", str(cfg.get("PUBLIC_BASE_URL", "")).startswith("https://"))
    return cfg
