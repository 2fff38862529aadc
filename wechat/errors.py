"""The two ways a WeChat call can fail. Callers decide: an errcode is WeChat's verdict, Unavailable is weather."""


class WeChatError(Exception):
    """Base class of every WeChat failure."""


class WeChatAPIError(WeChatError):
    """WeChat answered with a non-zero errcode (e.g. 43101 no subscription quota, 40003 bad openid)."""

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached: network error, timeout, or an HTTP 5xx."""
