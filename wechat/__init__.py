"""All that speaks WeChat: the official-account webhook (/wechat), the API clients (wechat.client), the
stand-in for WeChat's API (wechat.standin), the sandbox page (/dev/wechat) and `flask --app app wechat …`.

Sandbox mode (WECHAT_SANDBOX=1, set by scripts/run.sh when no WeChat secret is configured): the app talks
to the stand-in at WECHAT_API_BASE with made-up credentials, and /dev/wechat shows what was "sent to
WeChat". It refuses to start when real credentials are set, so a sandbox can never reach real users.
"""


def init_app(app):
    from wechat import cli, sandbox, webhook
    cfg = app.config
    if cfg["WECHAT_SANDBOX"]:
        sandbox.configure(cfg)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(sandbox.bp)
    cli.register(app)
