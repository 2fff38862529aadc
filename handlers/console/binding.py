"""Binding WeChat identities from the console: issue a binding code (绑定码) for a deputy or an account, show
it once with its link and printable slip, revoke it, unbind. The rules are services/binding.py."""
from flask import Response, flash, g, redirect, render_template, request, session, url_for

from models import Account, BindCode
from qr import printables
from services import binding
from services.errors import Forbidden, NotFound, ServiceError

from . import STAFF, actor, back, bp, fail, roles

SHOWN = "bind_codes"  # session: {token: typeable code} for the codes this browser issued (shown once)


def _person(account_id):
    found = Account.get_or_none(Account.id == account_id)
    if found is None:
        raise NotFound("account_not_found", "账号不存在")
    if not binding.can_manage(actor(), found):
        raise Forbidden("not_permitted", "您无权管理此人的微信绑定")
    return found


def _code(token):
    row = BindCode.get_or_none(BindCode.token == token)
    if row is None:
        raise NotFound("bind_code_not_found", "绑定码不存在")
    _person(row.account_id)
    return row


@bp.post("/people/<int:account_id>/bind-code")
@roles(*STAFF)
def issue_bind_code(account_id):
    try:
        row, code = binding.issue(_person(account_id), actor())
    except ServiceError as err:
        fail(err)
        return redirect(back(url_for("console.home")))
    session[SHOWN] = {**{k: v for k, v in session.get(SHOWN, {}).items()
                         if BindCode.select().where(BindCode.token == k, BindCode.used_at.is_null()).exists()},
                      row.token: code}
    return redirect(url_for("console.bind_code", token=row.token))


@bp.get("/bind-codes/<token>")
@roles(*STAFF)
def bind_code(token):
    row = _code(token)
    person = Account.get_by_id(row.account_id)
    code = session.get(SHOWN, {}).get(token)
    return render_template("console/bind_code.html", row=row, person=person, who=binding.describe(person),
                           code=binding.pretty(code) if code else "", link=binding.link(row),
                           mini_path=f"pages/bind/index?t={row.token}")


@bp.get("/bind-codes/<token>/slip.<fmt>")
@roles(*STAFF)
def bind_slip(token, fmt):
    row = _code(token)
    code = session.get(SHOWN, {}).get(token)
    if fmt not in ("png", "pdf") or not code:
        raise NotFound("slip_not_found", "绑定码只在生成时显示：请重新生成绑定码后打印")
    sheet = printables.binding_slip(binding.describe(Account.get_by_id(row.account_id)), binding.pretty(code),
                                    binding.qr_target(row), row.expires_at)
    return Response(printables.render(sheet, fmt), mimetype=printables.FORMATS[fmt],
                    headers={"Content-Disposition": f'inline; filename="bind-{row.token[:6]}.{fmt}"',
                             "Cache-Control": "no-store"})


@bp.post("/bind-codes/<token>/revoke")
@roles(*STAFF)
def revoke_bind_code(token):
    row = _code(token)
    binding.revoke(row, actor())
    flash("绑定码已作废", "ok")
    return redirect(back(url_for("console.home")))


@bp.post("/people/<int:account_id>/unbind")
@roles(*STAFF)
def unbind(account_id):
    person = _person(account_id)
    try:
        done = binding.unbind(person, request.form.get("channel") or None, actor())
    except ServiceError as err:
        fail(err)
        return redirect(back(url_for("console.home")))
    labels = "、".join(binding.CHANNELS[c][1] for c in done)
    flash(f"已解除{binding.describe(person)}的{labels}绑定" if done else "没有可解除的绑定", "ok")
    return redirect(back(url_for("console.home")))


def panel(person):
    """What the binding panel of a deputy or account page shows (console/_binding.html)."""
    return {"person": person, "state": binding.state(person), "open_codes": binding.open_codes(person),
            "can_manage": binding.can_manage(g.account, person)}


@bp.get("/people/<int:account_id>")
@roles(*STAFF)
def person(account_id):
    """One person's page for binding: a console account, or a deputy's own account."""
    found = _person(account_id)
    return render_template("console/person.html", person=found, who=binding.describe(found), b=panel(found))
