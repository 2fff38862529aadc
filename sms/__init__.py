"""SMS through Tencent Cloud SMS (API 3.0, SendSms version 2021-01-11), sent with Tencent's own SDK.

One place that speaks to the provider; it imports nothing from services/ or handlers/. The endpoint is
SMS_API_BASE (https://sms.tencentcloudapi.com by default; the stand-in in sms/standin.py in tests and
sandbox). A message is an approved template (SMS_TEMPLATES: {key: template id}) with its parameters,
under the approved signature SMS_SIGN_NAME. The provider's verdict comes back per number in
SendStatusSet[].Code ("Ok" or e.g. "LimitExceeded.PhoneNumberDailyLimit"): anything else raises SmsError
with that code; a network failure or an HTTP 5xx raises SmsUnavailable. docs/sms.md has the details.
"""
import json
from urllib.parse import urlsplit

from flask import current_app

# The templates the app sends (their text must be approved with the provider; ids in SMS_TEMPLATES).
TEMPLATES = {
    "verify_code": "您的验证码为{1}，{2}分钟内有效。如非本人操作，请忽略本短信。",
    "case_progress": "您反映的问题（{1}）有新进展：{2}。可在网页“查我的反映”凭手机号查看详情。",
}
SANDBOX = {"SMS_SECRET_ID": "sandbox-secret-id", "SMS_SECRET_KEY": "sandbox-secret-key",
           "SMS_SDK_APP_ID": "1400000000", "SMS_SIGN_NAME": "代表连心"}
SANDBOX_TEMPLATES = {"verify_code": "100001", "case_progress": "100002"}


class SmsError(Exception):
    """The provider refused: `code` is its error code (request-level Error.Code or per-number Code)."""

    def __init__(self, code, message=""):
        super().__init__(f"{code}: {message}")
        self.errcode = code
        self.errmsg = message


class SmsUnavailable(Exception):
    """The provider could not be reached (network error, timeout, HTTP 5xx)."""


def configure_sandbox(cfg):
    """Sandbox mode without SMS credentials: talk to the local stand-in with its made-up ones."""
    if cfg.get("SMS_SECRET_ID"):
        return
    cfg.update(SANDBOX)
    cfg["SMS_TEMPLATES"] = {**SANDBOX_TEMPLATES, **(cfg.get("SMS_TEMPLATES") or {})}


def init_app(app):
    from sms import cli
    cfg = app.config
    if cfg.get("WECHAT_SANDBOX") and (cfg.get("SMS_API_BASE") or "").startswith(("http://127.0.0.1", "http://localhost")):
        configure_sandbox(cfg)
    app.register_blueprint(cli.bp)
    cli.register(app)


def enabled(key="case_progress"):
    cfg = current_app.config
    return bool(cfg.get("SMS_SECRET_ID") and cfg.get("SMS_SDK_APP_ID") and (cfg.get("SMS_TEMPLATES") or {}).get(key))


def _client():
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client
    cfg = current_app.config
    base = urlsplit(cfg.get("SMS_API_BASE") or "https://sms.tencentcloudapi.com")
    profile = HttpProfile(protocol=base.scheme or "https", endpoint=base.netloc,
                          reqTimeout=cfg.get("SMS_TIMEOUT", 5))
    return sms_client.SmsClient(credential.Credential(cfg["SMS_SECRET_ID"], cfg["SMS_SECRET_KEY"]),
                                cfg.get("SMS_REGION") or "ap-guangzhou", ClientProfile(httpProfile=profile))


def send(phone, key, params):
    """Send template `key` with `params` to a mainland mobile number; returns the provider's SerialNo."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.sms.v20210111 import models
    cfg = current_app.config
    request = models.SendSmsRequest()
    request.from_json_string(json.dumps({
        "PhoneNumberSet": [f"+86{phone}"], "SmsSdkAppId": cfg["SMS_SDK_APP_ID"], "SignName": cfg["SMS_SIGN_NAME"],
        "TemplateId": str(cfg["SMS_TEMPLATES"][key]), "TemplateParamSet": [str(p) for p in params]}))
    try:
        response = _client().SendSms(request)
    except TencentCloudSDKException as err:
        if err.code in ("ClientNetworkError", "ServerNetworkError"):
            raise SmsUnavailable(err.message) from None
        raise SmsError(err.code, err.message) from None
    status = response.SendStatusSet[0]
    if status.Code != "Ok":
        raise SmsError(status.Code, status.Message)
    return status.SerialNo
