"""The WeChat platform as a client library: the API clients (wechat.client), tokens and de-duplication in
shared storage (wechat.store), the stand-in for WeChat's API (wechat.standin), sandbox mode
(wechat.sandbox) and `flask --app app wechat …`. It imports nothing from services/ or handlers/; the
official account's webhook, router and sandbox page are doors, in handlers/oa/.

Sandbox mode (WECHAT_SANDBOX=1, set by scripts/run.sh when no WeChat secret is configured): the app talks
to the stand-in at WECHAT_API_BASE with made-up credentials, and /dev/wechat shows what was "sent to
WeChat". It refuses to start when real credentials are set, so a sandbox can never reach real users.
"""


def init_app(app):
    from wechat import cli, sandbox
    if app.config["WECHAT_SANDBOX"]:
        sandbox.configure(app.config)
    cli.register(app)
