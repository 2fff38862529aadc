"""节假日安排: the days the office enters over the installed holiday calendar (services/calendar.py) — the State
Council's arrangement for a year the calendar does not know yet, or a local one. Every deadline counted in
working days from then on follows it, on every node at its next request."""
from flask import flash, g, redirect, render_template, request, url_for

from services import calendar
from services.errors import Forbidden, ServiceError

from . import STAFF, actor, bp, fail, roles


def _top_office():
    if g.account.role != "admin" and g.account.station_id:
        raise Forbidden("forbidden", "节假日安排由县级（最上级）工作人员维护")


@bp.get("/holidays")
@roles(*STAFF)
def holidays():
    return render_template("console/holidays.html", rows=calendar.arrangements(), today=calendar.today())


@bp.post("/holidays")
@roles(*STAFF)
def holiday_set():
    _top_office()
    try:
        if request.form.get("remove"):
            calendar.remove_day(actor(), request.form["remove"])
            flash(f"已删除 {request.form['remove']} 的安排", "ok")
        else:
            calendar.set_day(actor(), request.form.get("day"), request.form.get("workday"), request.form.get("name"))
            flash(f"已保存 {request.form.get('day')} 的安排", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.holidays"))
