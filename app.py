"""代表连心 — the Flask application factory and its command line (`flask --app app <command>`)."""
import click
from flask import Flask, jsonify, render_template, request

import config as settings
from models import db, open_database, sealing
from services.errors import ServiceError


def create_app(config=None):
    """Build the app from the environment, then `config` (a mapping) on top. Nothing happens at import."""
    app = Flask(__name__, instance_path=str(settings.INSTANCE))
    cfg = settings.load()
    cfg.update(config or {})
    app.config.from_mapping(settings.finish(cfg))
    open_database(app.config["DATABASE_URL"])
    sealing.configure(app.config.get("PERSONAL_DATA_KEY"), app.config["SECRET_KEY"],
                      app.config.get("PERSONAL_DATA_CIPHER"))

    @app.before_request
    def _connect():
        # Views marked no_request_connection (the WeChat webhook: its workers hold their own) skip it.
        if not getattr(app.view_functions.get(request.endpoint), "no_request_connection", False):
            db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        # ...and keep the connection they open on the request's thread (the webhook's pure answers on SQLite).
        if not db.is_closed() and not db.in_transaction() and not getattr(
                app.view_functions.get(request.endpoint), "no_request_connection", False):
            db.close()

    register_errors(app)
    from handlers import api, console, files, health, mobile, public, publiclist, security  # noqa: E402
    import jobs
    import qr
    import sms
    import wechat
    for part in (security, health, files, api, public, publiclist, mobile, console, wechat, sms, qr, jobs):
        part.init_app(app)
    register_commands(app)
    return app


def wants_json():
    return request.path.startswith(("/api/", "/healthz", "/qr/")) or request.accept_mimetypes.best == "application/json"


def register_errors(app):
    """One renderer for every error: JSON `{"error": {code, message}}` for programs, a Chinese page for people."""
    def render(status, code, message, body=None):
        if wants_json():
            return jsonify(body or {"error": {"code": code, "message": message}}), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(ServiceError)
    def _service_error(err):
        return render(err.status, err.code, err.message, err.to_dict())

    messages = {400: ("bad_request", "请求有误"), 401: ("unauthorized", "请先登录"), 403: ("forbidden", "无权访问"),
                404: ("not_found", "页面不存在"), 405: ("method_not_allowed", "不支持的请求方式"),
                413: ("too_large", "内容太大，请压缩后再试"), 429: ("too_many_requests", "操作太频繁，请稍后再试"),
                500: ("server_error", "服务器开小差了，请稍后再试")}
    for status, (code, message) in messages.items():
        app.register_error_handler(status, lambda err, s=status, c=code, m=message: render(s, c, m))


def register_commands(app):
    from services import accounts, seed
    from models.migrate import migrate

    @app.cli.command("migrate")
    def migrate_command():
        """Create or upgrade the database schema."""
        with db.connection_context():
            applied = migrate(log=click.echo)
        click.echo(f"数据库已是最新（本次执行 {len(applied)} 个迁移）。")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Fill an empty database with the demo county (idempotent)."""
        with db.connection_context():
            migrate()
            seed.seed_demo(log=click.echo)

    @app.cli.command("reseal")
    def reseal_command():
        """Re-encrypt every phone number with PERSONAL_DATA_CIPHER (after switching between aes and sm4)."""
        from models import is_mysql, sealing
        with db.connection_context(), db.atomic():
            click.echo(f"已重新加密 {sealing.reseal(db, is_mysql())} 个号码。")

    @app.cli.command("rebuild-tally")
    def rebuild_tally_command():
        """Recount the statistics tally from the cases (after SQL edits behind the app's back or a restore)."""
        from services import stats
        with db.connection_context():
            click.echo(f"统计汇总已重算：{stats.rebuild()} 行。")

    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice(accounts.WEB_ROLES), required=True)
    @click.option("--username", required=True)
    @click.option("--password", help="Asked for when omitted for a new account.")
    @click.option("--name", "display_name", default="")
    @click.option("--department", help="Department code (role department).")
    @click.option("--station", help="Station code: the staff member's scope.")
    @click.option("--deputy", help="Deputy code (role deputy).")
    def create_user_command(role, username, password, display_name, department, station, deputy):
        """Create or update a console account (idempotent by username)."""
        with db.connection_context():
            if password is None and not db.table_exists("account"):
                raise click.ClickException("数据库未初始化，请先运行 flask --app app migrate")
            from models import Account
            if password is None and Account.get_or_none(Account.username == username) is None:
                password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
            try:
                account, created = accounts.create_user(role, username, password, display_name,
                                                        department, station, deputy)
            except ServiceError as err:
                raise click.ClickException(err.message) from None
        click.echo(f"{'已创建' if created else '已更新'}账号 {account.username}（{role}）。")
