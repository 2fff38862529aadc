"""代表连心 — the Flask application factory and its command line (`flask --app app <command>`)."""
import click
from flask import Flask, jsonify, render_template, request

import config as settings
from models import db, keeps_connection, open_database, sealing
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
        # A SQLite connection stays with its thread (gunicorn's threads live on): opening one costs four
        # PRAGMAs, and closing the last one checkpoints and removes the WAL, milliseconds on every request.
        if not db.is_closed() and not db.in_transaction() and not keeps_connection() and not getattr(
                app.view_functions.get(request.endpoint), "no_request_connection", False):
            db.close()

    register_errors(app)
    from handlers import (activities, api, assets, ballots, console, consultations, files, health,  # noqa: E402
                          inquiries, livelihood, mobile, oa, public, publiclist, security)
    import jobs
    import qr
    import sms
    import wechat
    for part in (security, assets, health, files, api, public, publiclist, livelihood, mobile, activities, ballots,
                 consultations, inquiries, console, wechat, oa, sms, qr, jobs):
        part.init_app(app)
    check_templates(app.config)
    register_commands(app)
    app.warm_up = warm_up  # gunicorn.conf.py calls it in each worker before its first request
    return app


def warm_up():
    """Load now what the first requests would otherwise load on the way (jieba's dictionary: seconds)."""
    from services import analysis
    analysis.tokens("路灯")


def check_templates(cfg):
    """Refuse to start with a WeChat template mapping that would fail at the first push (docs/wechat.md) —
    except for `flask wechat templates`, the command that shows and mends it."""
    import sys

    from services.notify import template_problems
    problems = template_problems(cfg)
    if problems and not {"wechat", "templates"} <= set(sys.argv[1:]):
        raise RuntimeError("微信模板映射有误，应用未启动（请运行 flask --app app wechat templates 查看并改正）：\n"
                           + "\n".join(problems))


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

    @app.cli.commands["wechat"].command("templates")
    @click.option("--write", "write_file", is_flag=True, help="把找到的映射写入 WECHAT_TEMPLATES_FILE")
    @click.option("--check", "check_only", is_flag=True, help="核对当前配置的映射与账号中的模板（不符则退出码 1）")
    @click.option("--pick", multiple=True, metavar="KEY=模板ID", help="指定某个消息模板用账号中的哪个模板")
    @click.option("--library", metavar="TID", help="列出小程序公共模板库中某模板的关键词（kid、规则）")
    def wechat_templates_command(write_file, check_only, pick, library):
        """Read the accounts' templates, show what each message needs, and write or check the mapping."""
        from services import notify, wxtemplates
        from wechat import client
        from wechat.errors import WeChatError
        picks = dict(p.split("=", 1) for p in pick if "=" in p)
        try:
            if library:
                for kw in client.mp_library_keywords(library):
                    click.echo(f"  kid {kw['kid']}：{kw['name']}（{kw['rule']}{kw['kid']}）")
                return
            found, problems, written = {}, [], {}
            for channel, (part, label) in wxtemplates.CHANNELS.items():
                setting = "WECHAT_MP_TEMPLATES" if part == "mp" else "WECHAT_OA_TEMPLATES"
                if not app.config.get(f"WECHAT_{part.upper()}_APP_SECRET"):
                    click.echo(f"【{label}】未配置 WECHAT_{part.upper()}_APP_ID/SECRET，跳过。")
                    continue
                templates = wxtemplates.account_templates(channel)
                click.echo(f"【{label}】账号中有 {len(templates)} 个模板。")
                if check_only:
                    issues = wxtemplates.check(channel, app.config.get(setting), templates)
                    if not app.config.get(setting):
                        issues.append("未配置映射：这个渠道不会推送")
                    problems += [f"{label} {i}" for i in issues]
                    continue
                found[part] = {}
                for key, (template, mapped) in wxtemplates.plan(channel, templates, picks).items():
                    click.echo("  " + wxtemplates.needs(key))
                    if mapped is None:
                        problems.append(f"{label} {key}：账号中没有合适的模板" + (
                            f"（指定的 {picks[key]} 的关键词对不上）" if key in picks else "，请在后台选用一个（见 docs/wechat.md）"))
                        click.echo("    ✗ 没有合适的模板")
                        continue
                    found[part][key] = wxtemplates.entry(template, mapped)
                    click.echo(f"    → {template['id']}「{template['title']}」" + (" 长期订阅" if template.get("long_term") else ""))
                    for keyword, value in mapped.items():
                        click.echo(f"      {keyword}（{template['keywords'][keyword]}）= {value}")
                if len(found[part]) == len(notify.TEMPLATES):
                    written[part] = found[part]
        except WeChatError as err:
            raise click.ClickException(f"读取微信模板失败：{err}") from None
        if write_file and written:
            path = app.config.get("WECHAT_TEMPLATES_FILE")
            if not path:
                raise click.ClickException("未设置 WECHAT_TEMPLATES_FILE，无法写入")
            wxtemplates.write(path, written)
            click.echo(f"已写入 {path}（{'、'.join(written)}），重启应用后生效。")
        for problem in problems:
            click.echo(f"✗ {problem}", err=True)
        if problems:
            raise SystemExit(1)
        click.echo("映射与账号中的模板一致。" if check_only else "每个消息模板都找到了对应的微信模板。")

    @app.cli.command("seed-demo")
    @click.option("--city", is_flag=True, help="演示市：江州市、两个县及其乡镇（市、县、乡镇三级人大）")
    def seed_demo_command(city):
        """Fill an empty database with the demo county, or with --city a demo city (idempotent)."""
        with db.connection_context():
            migrate()
            (seed.seed_city if city else seed.seed_demo)(log=click.echo)

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

    @app.cli.command("rebuild-search")
    def rebuild_search_command():
        """Rebuild the console search's index from the cases (after SQL edits behind the app's back or a restore)."""
        from services import search
        with db.connection_context():
            click.echo(f"检索索引已重建：{search.rebuild()} 件。")

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

    @app.cli.command("bind-code")
    @click.option("--deputy", "deputy_code", help="Deputy code (代表码): a code for that deputy.")
    @click.option("--username", help="Console account: a code for that account.")
    @click.option("--out", type=click.Path(dir_okay=False), help="Where to write the slip (.png or .pdf).")
    def bind_code_command(deputy_code, username, out):
        """Issue a one-time WeChat binding code (绑定码): prints the code, the link and where the slip is."""
        from pathlib import Path

        from models import Account, Deputy
        from qr import printables
        from services import binding
        if bool(deputy_code) == bool(username):
            raise click.UsageError("请指定 --deputy 或 --username 之一")
        with db.connection_context():
            if deputy_code:
                deputy = Deputy.get_or_none(Deputy.code == deputy_code.strip().upper())
                if deputy is None:
                    raise click.ClickException(f"未找到代表：{deputy_code}")
                person = accounts.person_account(deputy)
            else:
                person = Account.get_or_none(Account.username == username.strip())
                if person is None:
                    raise click.ClickException(f"未找到账号：{username}")
            try:
                row, code = binding.issue(person, None)
            except ServiceError as err:
                raise click.ClickException(err.message) from None
            path = Path(out or Path(app.instance_path) / f"bind-{row.token[:6]}.png")
            fmt = "pdf" if path.suffix.lower() == ".pdf" else "png"
            sheet = printables.binding_slip(binding.describe(person), binding.pretty(code), binding.qr_target(row),
                                            row.expires_at)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(printables.render(sheet, fmt))
        click.echo(f"绑定对象：{binding.describe(person)}")
        click.echo(f"绑定码：{binding.pretty(code)}（向公众号发送“绑定 {code}”）")
        click.echo(f"绑定链接：{binding.link(row)}")
        click.echo(f"小程序页面：pages/bind/index?t={row.token}")
        click.echo(f"绑定单：{path}")
        click.echo(f"有效期至：{row.expires_at:%Y-%m-%d %H:%M} UTC")
