"""A stand-in for Tencent Cloud SMS (sms.tencentcloudapi.com, SendSms 2021-01-11) on 127.0.0.1.

Used by the tests and by sandbox mode (`flask --app app sms standin`; /dev/sms shows what it "sent"). It
checks what the provider checks, with its own implementation of the TC3-HMAC-SHA256 signature (so the
SDK's signing is checked, not trusted): the Authorization header, secret id, a timestamp within five
minutes and its credential date, action/version/region headers; the SdkAppId, the approved signature and
templates (the parameter count must match the template's {n} placeholders, each value 1–20 characters);
mainland numbers +861xxxxxxxxxx; and the provider's default frequency limits per number: the same text
once in 30 seconds, 5 an hour, 10 a day. Errors come back the way Tencent answers them: HTTP 200 with
Response.Error.Code for the request, or SendStatusSet[].Code per number. `inject(code, times=1)` makes
the next sends fail with that code ("http500" for a server error).
"""
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
import uuid

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from sms import SANDBOX, SANDBOX_TEMPLATES, TEMPLATES

MESSAGES = {
    "AuthFailure.InvalidAuthorization": "Authorization in the request header is invalid.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found.",
    "AuthFailure.SignatureExpire": "Signature expired.",
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated.",
    "InvalidAction": "The action is not supported.", "NoSuchVersion": "The version is not supported.",
    "MissingParameter": "Missing parameter.", "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId not exist.",
    "FailedOperation.SignatureIncorrectOrUnapproved": "signature format error or signature not approved",
    "FailedOperation.TemplateIncorrectOrUnapproved": "template format error or template not approved",
    "InvalidParameterValue.TemplateParameterFormatError": "template parameter count does not match",
    "InvalidParameterValue.TemplateParameterLengthLimit": "single variable length over limit",
    "InvalidParameterValue.IncorrectPhoneNumber": "invalid mobile number",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "the same content to one number within 30 seconds",
    "LimitExceeded.PhoneNumberOneHourLimit": "over the hourly limit of one number",
    "LimitExceeded.PhoneNumberDailyLimit": "over the daily limit of one number",
    "InternalError.Timeout": "timeout", "FailedOperation.PhoneNumberInBlacklist": "number in blacklist",
}
PHONE = re.compile(r"^\+861\d{10}$")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def tc3_signature(secret_key, method, headers, signed_headers, body, timestamp, scope):
    """Tencent Cloud API 3.0 signing: canonical request → string to sign → HMAC chain over date/service."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    canonical = "\n".join([method, "/", "", canonical_headers, ";".join(signed_headers),
                           hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    date, service, _ = scope.split("/")
    key = hmac.new(("TC3" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    for part in (service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class Refused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class SmsStandIn:
    def __init__(self, secrets=None, app_ids=None, signs=None, templates=None, hourly=5, daily=10):
        self._defaults = dict(secrets=dict(secrets or {SANDBOX["SMS_SECRET_ID"]: SANDBOX["SMS_SECRET_KEY"]}),
                              app_ids=set(app_ids or {SANDBOX["SMS_SDK_APP_ID"]}),
                              signs=set(signs or {SANDBOX["SMS_SIGN_NAME"]}),
                              templates=dict(templates or {SANDBOX_TEMPLATES[k]: TEMPLATES[k] for k in TEMPLATES}),
                              hourly=hourly, daily=daily)
        self._lock = threading.Lock()
        self._server = None
        self.base_url = None
        self.reset()

    def reset(self):
        for name, value in self._defaults.items():
            setattr(self, name, type(value)(value) if isinstance(value, (dict, set)) else value)
        with self._lock:
            self.messages = []     # every accepted message: {at, phone, template, params, text, serial}
            self.calls = []        # every request: {at, code}
            self._injections = []

    def inject(self, code, times=1):
        with self._lock:
            self._injections.extend([code] * times)

    def sent(self, phone=None):
        with self._lock:
            return [m for m in self.messages if phone is None or m["phone"] in (phone, f"+86{phone}")]

    def last_code(self, phone):
        """The last verification code sent to this number (what the citizen reads on their phone)."""
        for message in reversed(self.sent(phone)):
            found = re.search(r"验证码为(\d{6})", message["text"])
            if found:
                return found.group(1)
        return None

    def start(self, port=0):
        self._server = make_server("127.0.0.1", port, self.wsgi_app(), threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="sms-standin").start()
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        return self.base_url

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    # --- the HTTP side ----------------------------------------------------------------------------

    def wsgi_app(self):
        app = Flask("sms_standin")

        @app.get("/_standin/messages")
        def messages():
            with self._lock:
                return jsonify(list(reversed(self.messages[-200:])))

        @app.post("/")
        def api():
            request_id = str(uuid.uuid4())
            with self._lock:
                injected = self._injections.pop(0) if self._injections else None
            if injected == "http500":
                return "internal error", 500
            try:
                body = self._authenticate()
                statuses = self._send(body, injected)
            except Refused as err:
                self._record(err.code)
                return jsonify({"Response": {"Error": {"Code": err.code, "Message": MESSAGES.get(err.code, "")},
                                             "RequestId": request_id}})
            return jsonify({"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

        return app

    def _record(self, code):
        with self._lock:
            self.calls.append({"at": time.time(), "code": code})

    def _authenticate(self):
        auth = request.headers.get("Authorization", "")
        found = re.fullmatch(r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                             r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        if not found:
            raise Refused("AuthFailure.InvalidAuthorization")
        secret_id, date, service, signed, signature = found.groups()
        if secret_id not in self.secrets:
            raise Refused("AuthFailure.SecretIdNotFound")
        try:
            timestamp = int(request.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            raise Refused("MissingParameter") from None
        if abs(time.time() - timestamp) > 300 or date != dt.datetime.utcfromtimestamp(timestamp).strftime("%Y-%m-%d"):
            raise Refused("AuthFailure.SignatureExpire")
        names = signed.split(";")
        if service != "sms" or "host" not in names or "content-type" not in names:
            raise Refused("AuthFailure.InvalidAuthorization")
        headers = {k.lower(): v for k, v in request.headers.items()}
        expected = tc3_signature(self.secrets[secret_id], request.method, headers, names, request.get_data(),
                                 timestamp, f"{date}/{service}/tc3_request")
        if not hmac.compare_digest(expected, signature):
            raise Refused("AuthFailure.SignatureFailure")
        if request.headers.get("X-TC-Action") != "SendSms":
            raise Refused("InvalidAction")
        if request.headers.get("X-TC-Version") != "2021-01-11":
            raise Refused("NoSuchVersion")
        if not request.headers.get("X-TC-Region"):
            raise Refused("MissingParameter")
        try:
            return json.loads(request.get_data() or b"{}")
        except ValueError:
            raise Refused("MissingParameter") from None

    def _send(self, body, injected):
        if body.get("SmsSdkAppId") not in self.app_ids:
            raise Refused("InvalidParameterValue.SdkAppIdNotExist")
        if body.get("SignName") not in self.signs:
            raise Refused("FailedOperation.SignatureIncorrectOrUnapproved")
        template = self.templates.get(str(body.get("TemplateId")))
        if template is None:
            raise Refused("FailedOperation.TemplateIncorrectOrUnapproved")
        params = body.get("TemplateParamSet") or []
        if len(params) != len(re.findall(r"\{\d+\}", template)):
            raise Refused("InvalidParameterValue.TemplateParameterFormatError")
        if not all(isinstance(p, str) and 1 <= len(p) <= 20 for p in params):
            raise Refused("InvalidParameterValue.TemplateParameterLengthLimit")
        text = f"【{body['SignName']}】" + re.sub(r"\{(\d+)\}", lambda m: params[int(m.group(1)) - 1], template)
        phones = body.get("PhoneNumberSet") or []
        if not phones:
            raise Refused("MissingParameter")
        statuses = []
        for phone in phones:
            code = injected or self._limit(phone, text)
            serial = uuid.uuid4().hex
            with self._lock:
                self.calls.append({"at": time.time(), "code": code})
                if code == "Ok":
                    self.messages.append({"at": time.time(), "phone": phone, "template": body["TemplateId"],
                                          "params": params, "text": text, "serial": serial})
            statuses.append({"SerialNo": serial if code == "Ok" else "", "PhoneNumber": phone, "Fee": 1 if code == "Ok"
                             else 0, "SessionContext": body.get("SessionContext", ""), "Code": code,
                             "Message": "send success" if code == "Ok" else MESSAGES.get(code, ""), "IsoCode": "CN"})
        return statuses

    def _limit(self, phone, text):
        if not PHONE.match(str(phone)):
            return "InvalidParameterValue.IncorrectPhoneNumber"
        now = time.time()
        with self._lock:
            mine = [m for m in self.messages if m["phone"] == phone]
        if any(m["text"] == text and now - m["at"] < 30 for m in mine):
            return "LimitExceeded.PhoneNumberThirtySecondLimit"
        if sum(1 for m in mine if now - m["at"] < 3600) >= self.hourly:
            return "LimitExceeded.PhoneNumberOneHourLimit"
        if sum(1 for m in mine if now - m["at"] < 86400) >= self.daily:
            return "LimitExceeded.PhoneNumberDailyLimit"
        return "Ok"
