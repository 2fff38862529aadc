"""Activities, reception days, 代表联系组, 双联系, 履职档案 and 述职 in the console (rules: services/activities.py,
services/dutyrecord.py). Staff plan and record; the figures and the league table read the record."""
from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from models import Booking, Deputy, DeputyGroup, Station
from qr import codes
from services import activities, calendar, dutyrecord, workflow
from services.directory import DEPUTY_LEVELS
from services.errors import NotFound, ServiceError
from services.uploads import save_image

from . import STAFF, actor, bp, fail, roles


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    for many in ("deputies", "members"):
        data[many] = request.form.getlist(many)
    return data


def _year():
    return request.args.get("year", type=int) or calendar.today().year


def _choices():
    return {"deputies": list(Deputy.select().order_by(Deputy.code)),
            "stations": list(Station.select().order_by(Station.path)), "groups": activities.groups()}


# --- activities --------------------------------------------------------------------------------------

@bp.get("/activities")
@roles(*STAFF)
def activities_list():
    kind = request.args.get("kind") if request.args.get("kind") in activities.KINDS else None
    query = activities.Activity.select().order_by(activities.Activity.starts_at.desc())
    if kind:
        query = query.where(activities.Activity.kind == kind)
    return render_template("console/activities.html", rows=list(query.limit(200)), kind=kind, form={},
                           kinds=activities.KINDS, **_choices())


@bp.post("/activities/new")
@roles(*STAFF)
def activity_new():
    try:
        found = activities.create(actor(), _form())
        flash(f"已安排活动 {found.title}，已通知参加的代表", "ok")
        return redirect(url_for("console.activity_page", code=found.code))
    except ServiceError as err:
        fail(err)
    return render_template("console/activities.html", rows=[], kind=None, form=request.form,
                           kinds=activities.KINDS, **_choices()), 400


@bp.get("/activities/<code>")
@roles(*STAFF)
def activity_page(code, revealed=None):
    found = activities.get(code)
    url = f"{current_app.config['PUBLIC_BASE_URL']}{url_for('duty.checkin', code=found.code)}"
    bookings = list(found.bookings.order_by(Booking.id))
    return render_template("console/activity.html", activity=found, kinds=activities.KINDS, roles=activities.ROLES,
                           attendance=list(found.attendance), bookings=bookings, mask=workflow.mask_phone,
                           revealed=revealed or {},
                           cases=activities.received(found), checkin_url=url, qr=codes.svg(url, 200).decode(),
                           categories=workflow.CATEGORIES)


@bp.post("/activities/<code>/<action>")
@roles(*STAFF)
def activity_action(code, action):
    found = activities.get(code)
    try:
        if action == "record":
            photos = [save_image(f, g.account).token for f in request.files.getlist("photos") if f and f.filename]
            activities.write_record(actor(), found, request.form.get("record"), photos[:9])
            flash("活动纪要已保存", "ok")
        elif action == "cancel":
            activities.cancel(actor(), found, request.form.get("reason"))
            flash("活动已取消，已通知代表和预约的群众", "ok")
        elif action == "phone":
            booking = activities.booking_of(request.form.get("booking"))
            if booking.activity_id != found.id:
                raise NotFound("no_booking", "没有找到这个预约")
            return activity_page(code, {booking.code: activities.reveal_booking_phone(actor(), booking)})
        elif action == "report":
            case = activities.enter_report(actor(), found, _form())
            flash(f"已登记群众反映 {case.number}", "ok")
        else:
            flash("不支持的操作", "error")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.activity_page", code=found.code))


@bp.route("/reception", methods=["GET", "POST"])
@roles(*STAFF)
def reception():
    """A station's reception calendar: its repeating rules, one-off days, the coming days."""
    code = request.values.get("station") or ""
    station = Station.get_or_none(Station.code == code.upper()[:16]) if code else None
    status = 200
    if request.method == "POST" and station is not None:
        try:
            if request.form.get("what") == "day":
                activities.add_day(actor(), station, _form())
                flash("已增加接待日", "ok")
            else:
                rule = activities.add_rule(actor(), station, _form())
                flash(f"已设置接待日规则：{rule.label}", "ok")
            return redirect(url_for("console.reception", station=station.code))
        except ServiceError as err:
            fail(err)
            status = err.status
    return render_template("console/reception.html", station=station, **_choices(),
                           rules=list(station.reception_rules) if station else [],
                           days=activities.calendar_of(station) if station else [],
                           weekdays=activities.WEEKDAYS), status


# --- 代表联系组 and 双联系 ---------------------------------------------------------------------------------

@bp.route("/groups", methods=["GET", "POST"])
@roles(*STAFF)
def groups():
    status = 200
    if request.method == "POST":
        group = DeputyGroup.get_or_none(DeputyGroup.id == request.form.get("id", type=int)) \
            if request.form.get("id", type=int) else None
        try:
            activities.save_group(actor(), _form(), group)
            flash("联系组已保存", "ok")
            return redirect(url_for("console.groups"))
        except ServiceError as err:
            fail(err)
            status = err.status
    rows = activities.groups()
    return render_template("console/groups.html", rows=rows, **_choices(),
                           members={r.id: [m.deputy for m in r.members] for r in rows}), status


@bp.route("/contacts", methods=["GET", "POST"])
@roles(*STAFF)
def contacts():
    status = 200
    if request.method == "POST":
        try:
            activities.log_contact(actor(), _form())
            flash("联系记录已保存", "ok")
            return redirect(url_for("console.contacts"))
        except ServiceError as err:
            fail(err)
            status = err.status
    year, quarter = _year(), request.args.get("quarter", type=int) or (calendar.today().month - 1) // 3 + 1
    quarter = quarter if quarter in (1, 2, 3, 4) else 1
    return render_template("console/contacts.html", report=activities.contact_report(year, quarter),
                           ways=activities.WAYS, today=calendar.today(), **_choices()), status


@bp.get("/contacts/<int:year>-<int:quarter>.xlsx")
@roles(*STAFF)
def contacts_xlsx(year, quarter):
    if quarter not in (1, 2, 3, 4):
        return redirect(url_for("console.contacts"))
    body = activities.contact_report_xlsx(activities.contact_report(year, quarter))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f"attachment; filename=contacts-{year}-Q{quarter}.xlsx"})


# --- 履职档案, figures and 述职 -------------------------------------------------------------------------------

@bp.get("/records")
@roles(*STAFF)
def records():
    year = _year()
    level = request.args.get("level") if request.args.get("level") in DEPUTY_LEVELS else None
    return render_template("console/records.html", year=year, level=level, levels=DEPUTY_LEVELS,
                           league=dutyrecord.league(year, level), stations=dutyrecord.station_figures(year),
                           inactive=dutyrecord.inactive(), months=dutyrecord.setting("DUTY_INACTIVE_MONTHS", 3),
                           percent=dutyrecord.stats.percent)


@bp.route("/records/<code>", methods=["GET", "POST"])
@roles(*STAFF)
def record(code):
    deputy = Deputy.get_or_none(Deputy.code == code.upper()[:16])
    if deputy is None:
        return redirect(url_for("console.records"))
    year = _year()
    report = dutyrecord.DutyReport.get_or_none(dutyrecord.DutyReport.deputy == deputy,
                                               dutyrecord.DutyReport.year == year)
    if request.method == "POST":
        try:
            if request.form.get("what") == "schedule":
                dutyrecord.schedule_one(actor(), deputy, year)
                flash(f"已安排{deputy.name}在{year}年述职", "ok")
            elif report is not None:
                dutyrecord.set_words(actor(), report, request.form.get("own_words"))
                flash("述职内容已保存", "ok")
        except ServiceError as err:
            fail(err)
        return redirect(url_for("console.record", code=deputy.code, year=year))
    return render_template("console/record.html", entry=dutyrecord.record(deputy, year), report=report, year=year,
                           kinds=activities.KINDS, percent=dutyrecord.stats.percent, deputy=deputy,
                           sections=dutyrecord.draft_sections(dutyrecord.record(deputy, year)))


@bp.get("/records/<code>/<int:year>.<fmt>")
@roles(*STAFF)
def record_file(code, year, fmt):
    from handlers.activities import draft_response
    deputy = Deputy.get_or_none(Deputy.code == code.upper()[:16])
    if deputy is None or fmt not in ("docx", "pdf"):
        return redirect(url_for("console.records"))
    return draft_response(deputy, year, fmt)


@bp.route("/duty-reports", methods=["GET", "POST"])
@roles(*STAFF)
def duty_reports():
    year = _year()
    if request.method == "POST":
        try:
            if request.form.get("what") == "review":
                report = dutyrecord.DutyReport.get_by_id(request.form.get("report", type=int) or 0)
                ballot = dutyrecord.start_review(actor(), report, _form())
                flash(f"已发起述职评议 {ballot.code}", "ok")
            else:
                rows = dutyrecord.schedule(actor(), year)
                flash(f"已安排{len(rows)}位代表在{year}年述职", "ok")
        except dutyrecord.DutyReport.DoesNotExist:
            flash("没有这条述职安排", "error")
        except ServiceError as err:
            fail(err)
        return redirect(url_for("console.duty_reports", year=year))
    return render_template("console/duty_reports.html", year=year, rows=dutyrecord.scheduled(year),
                           deputies=list(Deputy.select().order_by(Deputy.code)))
