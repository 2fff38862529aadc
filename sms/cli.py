"""`flask --app app sms standin [--port N]` and the sandbox page /dev/sms (what the stand-in "sent")."""
import time

import click
import requests
from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("sms_sandbox", __name__, template_folder="templates")


@bp.get("/dev/sms")
def page():
    if not current_app.config.get("WECHAT_SANDBOX"):
        abort(404)
    try:
        rows = requests.get(current_app.config["SMS_API_BASE"].rstrip("/") + "/_standin/messages", timeout=3).json()
        error = ""
    except (requests.RequestException, ValueError) as err:
        rows, error = [], f"连接不到短信接口替身（{err.__class__.__name__}）"
    for row in rows:
        row["when"] = time.strftime("%m-%d %H:%M:%S", time.localtime(row["at"]))
    return render_template("sms/sandbox.html", rows=rows, error=error)


def register(app):
    group = click.Group("sms", help="短信：本地替身")

    @group.command("standin")
    @click.option("--port", default=5002, show_default=True)
    def standin_command(port):
        """Run the Tencent Cloud SMS stand-in on 127.0.0.1 (sandbox mode)."""
        from sms.standin import SmsStandIn
        standin = SmsStandIn()
        click.echo(f"短信接口替身已启动：{standin.start(port)}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            standin.stop()

    app.cli.add_command(group)
