"""A tiny client for the mini-program API in tests: paths under /api/v1, the bearer token attached."""
import io

from PIL import Image

from services import apiauth


class Api:
    """`account`: the person whose mini-program is calling — open, as WeChat's servers know (the stand-in's
    content checks ask for a user of the mini-program in the last 2 hours)."""

    def __init__(self, client, account=None, token=None):
        self.client = client
        self.token = token or (apiauth.issue_token(account) if account is not None else None)
        if account is not None and account.openid:
            import requests
            from flask import current_app
            base = current_app.config["WECHAT_API_BASE"].rstrip("/")
            requests.post(f"{base}/_standin/opened", json={"openid": account.openid}, timeout=5)

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method, path, **kwargs):
        return self.client.open(f"/api/v1{path}", method=method, headers=self._headers(), **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs) if json is not None else self.call("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.call("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def upload(self, data, filename="photo.jpg", mimetype="image/jpeg"):
        return self.post("/uploads", data={"file": (io.BytesIO(data), filename, mimetype)},
                         content_type="multipart/form-data")


def jpeg(width=64, height=48, color=(200, 80, 40), exif=None):
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def error(response):
    """(status, code) of an error answer, after checking it has the documented shape and a Chinese message."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])
    return response.status_code, body["error"]["code"]
