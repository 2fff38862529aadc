"""Sandbox mode at the platform level: made-up credentials pointed at the stand-in (wechat/standin.py), what
the stand-in must know of the sandbox's apps, and a way to tell it what a phone's WeChat app would tell WeChat.
The /dev/wechat page that plays a WeChat user is a door: handlers/oa/sandbox.py.
"""
import json
from pathlib import Path

import requests
from flask import current_app

# The mapping `flask wechat templates --write` makes of the stand-in's templates (tests keep it so).
TEMPLATES_FILE = Path(__file__).with_name("sandbox_templates.json")


def configure(cfg):
    """Switch the app to the stand-in with made-up credentials; refuse when real ones are configured."""
    real = [k for k in ("WECHAT_OA_APP_SECRET", "WECHAT_MP_APP_SECRET") if cfg.get(k)]
    if real:
        raise RuntimeError(f"沙箱模式（WECHAT_SANDBOX）不能与真实的微信凭据同时开启：请删除 {'、'.join(real)}，或关闭沙箱模式")
    if "weixin.qq.com" in (cfg.get("WECHAT_API_BASE") or "weixin.qq.com"):
        raise RuntimeError("沙箱模式须把 WECHAT_API_BASE 指向微信接口替身（make run 会自动启动它）")
    mapping = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    cfg.update(WECHAT_OA_APP_ID=cfg.get("WECHAT_OA_APP_ID") or "wxsandbox0fficial1",
               WECHAT_MP_APP_ID=cfg.get("WECHAT_MP_APP_ID") or "wxsandbox0mini0001",
               WECHAT_OA_APP_SECRET="sandbox-secret", WECHAT_MP_APP_SECRET="sandbox-secret",
               WECHAT_OA_TOKEN=cfg.get("WECHAT_OA_TOKEN") or "sandbox",
               WECHAT_MP_TEMPLATES=cfg.get("WECHAT_MP_TEMPLATES") or mapping["mp"],
               WECHAT_OA_TEMPLATES=cfg.get("WECHAT_OA_TEMPLATES") or mapping["oa"])
    if "weixin.qq.com" in (cfg.get("WECHAT_OPEN_BASE") or "weixin.qq.com"):
        cfg["WECHAT_OPEN_BASE"] = cfg["WECHAT_API_BASE"]  # web OAuth's authorize page: the stand-in's



def standin_setup(cfg):
    """What the stand-in must know of the sandbox's apps: their secrets, and that the mini-program is
    linked to the official account."""
    return {"apps": {cfg["WECHAT_OA_APP_ID"]: cfg["WECHAT_OA_APP_SECRET"],
                     cfg["WECHAT_MP_APP_ID"]: cfg["WECHAT_MP_APP_SECRET"]},
            "links": {cfg["WECHAT_OA_APP_ID"]: [cfg["WECHAT_MP_APP_ID"]]}}



def tell_standin(what, **body):
    """Tell the stand-in what a phone's WeChat app would tell WeChat's servers: a consent ("consent":
    openid, template_ids) or a message to the official account ("wrote": openid)."""
    try:
        requests.post(current_app.config["WECHAT_API_BASE"].rstrip("/") + f"/_standin/{what}", json=body, timeout=3)
    except requests.RequestException as err:
        current_app.logger.warning("sandbox: the stand-in did not hear of %s (%s)", what, err)
