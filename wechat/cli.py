"""`flask --app app wechat create-menu | qrcode <scene> | standin`."""
import json
import time
from pathlib import Path

import click
from flask import current_app

from wechat import client
from wechat.errors import WeChatAPIError, WeChatError

MENU = Path(__file__).with_name("menu.json")


def load_menu(path=MENU):
    """The menu JSON with {PUBLIC_BASE_URL} and {WECHAT_MP_APP_ID} filled in from configuration."""
    text = Path(path).read_text(encoding="utf-8")
    for key in ("PUBLIC_BASE_URL", "WECHAT_MP_APP_ID"):
        text = text.replace("{" + key + "}", current_app.config.get(key) or "")
    return json.loads(text)


def _fail(err):
    detail = f"微信返回错误 {err.errcode}：{err.errmsg}" if isinstance(err, WeChatAPIError) else f"连接微信失败：{err}"
    raise click.ClickException(detail)


def register(app):
    @app.cli.group("wechat")
    def group():
        """公众号：菜单、带参二维码、微信接口替身。"""

    @group.command("create-menu")
    @click.option("--file", "path", default=str(MENU), show_default=True, help="菜单 JSON 文件")
    def create_menu(path):
        """Publish the official account's custom menu from the JSON file."""
        menu = load_menu(path)
        try:
            client.create_menu(menu)
        except WeChatError as err:
            _fail(err)
        click.echo(f"菜单已发布（{len(menu['button'])} 个一级菜单）。用户重新进入公众号后可见。")

    @group.command("qrcode")
    @click.argument("scene")
    @click.option("--temporary", is_flag=True, help="30 天有效的临时码（默认永久码，每个公众号最多 10 万个）")
    @click.option("--png", "png_path", type=click.Path(dir_okay=False), help="同时把二维码保存为 PNG")
    def qrcode_command(scene, temporary, png_path):
        """An official-account parametric QR code: scene d:<代表码>, p:<项目代码> or s:<联络站代码>."""
        if not 1 <= len(scene) <= 64:
            raise click.ClickException("场景值应为 1–64 个字符，例如 d:DB0001")
        try:
            code = client.create_oa_qrcode(scene, permanent=not temporary)
        except WeChatError as err:
            _fail(err)
        click.echo(code["url"])
        if png_path:
            import qrcode
            qrcode.make(code["url"], box_size=10, border=4).save(png_path)
            click.echo(f"已保存 {png_path}")

    @group.command("standin")
    @click.option("--port", default=5001, show_default=True)
    def standin_command(port):
        """Serve the stand-in for WeChat's API on 127.0.0.1 (sandbox mode; started by make run)."""
        from wechat import sandbox
        from wechat.standin import WeChatStandIn
        cfg = current_app.config
        standin = WeChatStandIn(**sandbox.standin_setup(cfg)) if cfg.get("WECHAT_SANDBOX") else WeChatStandIn()
        click.echo(f"微信接口替身已启动：{standin.start(port)}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            standin.stop()
