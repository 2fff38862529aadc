"""问政 on phones and screens: /w/<code> is the event's public page behind its QR code (the 问题清单 in two lists,
each question's progress, the 测评 results, the public record; follow it), /w/<code>/ask the H5 form for
questions while they are collected, /w/<code>/q/<number> one question's progress, /w/<code>/live the big
screen at a 会议问政. Nothing on these pages names a citizen. Every rule is services/inquiries.py and
services/inquiry_questions.py."""
from flask import Blueprint, redirect, render_template, request, url_for

from handlers import public, webauth
from handlers.security import csrf_token
from services import inquiries
from services.errors import InvalidInput, NotFound
from services.vocab import INQUIRY_FORMS, INQUIRY_SECTIONS, INQUIRY_STAGES

bp = Blueprint("inquiries", __name__)
webauth.protect(bp, "event", "ask", "question", on_identified=public.remember_citizen)


def _found(code):
    try:
        return inquiries.get(code)
    except NotFound:
        return None


def _render(template, inquiry, status=200, **context):
    context.setdefault("error", None)
    return render_template(template, inquiry=inquiry, forms=INQUIRY_FORMS, stages=INQUIRY_STAGES,
                           sections=INQUIRY_SECTIONS, csrf=csrf_token(), **public_context(inquiry),
                           **context), status


def public_context(inquiry):
    """The questions and results the public pages show (services/inquiry_questions.py), when built."""
    return {}


@bp.get("/w/<code>")
def event(code):
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    account = public.visitor()
    return _render("public/inquiry.html", found, objects=inquiries.objects(found),
                   deputies=inquiries.deputies(found), record=inquiries.public_record(found),
                   following=inquiries.is_following(account, found), can_follow=bool(account and account.oa_openid),
                   followers=inquiries.follower_count(found), refusal=inquiries.window_refusal(found))


@bp.post("/w/<code>/follow")
def follow(code):
    """关注 / 取消关注 — for visitors WeChat identified (they can be told of the event's news)."""
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    account = public.visitor()
    if account is None or not account.oa_openid:
        raise InvalidInput("wechat_required", "请在微信中打开本页后再关注")
    (inquiries.unfollow if request.form.get("action") == "unfollow" else inquiries.follow)(account, found)
    return redirect(url_for("inquiries.event", code=found.code) + "#follow", code=303)


@bp.get("/w/<code>/live")
def live(code):
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    return _render("public/inquiry_live.html", found, objects=inquiries.objects(found))


def init_app(app):
    app.register_blueprint(bp)
