"""The official account's doors: the webhook (/wechat) and its message router, and the sandbox page
(/dev/wechat) that lets a newcomer play a WeChat user. The WeChat platform itself (API clients, crypto,
tokens, the stand-in) is the `wechat` package below services."""


def init_app(app):
    from handlers.oa import sandbox, webhook
    app.register_blueprint(webhook.bp)
    app.register_blueprint(sandbox.bp)
