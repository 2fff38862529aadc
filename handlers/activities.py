"""Reception days and activities on the phone (server-rendered, mobile-first; services/activities.py holds the rules).

- /r/<activity code> — a citizen books a reception day (预约/约见); /r/b/<booking code> — their booking, cancel.
  Inside WeChat the visitor is known by web OAuth (as on the H5 report pages); elsewhere the browser's citizen
  account of the H5 pages (handlers/public.visitor), created at the first booking.
- /m/checkin/<code> — a deputy checks in by scanning the station's code (the station page offers it) or an
  activity's own check-in code; signed in as on the phone workbench (bound WeChat, or password).
- /m/activities/<code> — an invited deputy's view of an activity; /m/record — the deputy's 履职档案, coming
  bookings, their own words for the 述职报告, and the draft as .docx / PDF.
"""
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from handlers import mobile, public, webauth
from handlers.security import csrf_token
from models import Account
from services import activities, binding, calendar, dutyrecord, privacy, ratelimit
from services.errors import NotFound, ServiceError
from services.workflow import mask_phone, retried, write_transaction

citizens = Blueprint("reception", __name__)
deputies = Blueprint("duty", __name__)
webauth.protect(citizens, on_identified=public.remember_citizen)
webauth.protect(deputies)


def page(template, status=200, **context):
    context.setdefault("error", None)
    return render_template(template, csrf=csrf_token(), kinds=activities.KINDS, **context), status


# --- booking (citizens) ------------------------------------------------------------------------------

@citizens.route("/r/<code>", methods=["GET", "POST"])
def book(code):
    try:
        day = activities.get(code)
    except NotFound:
        return public.not_found("这个接待日")
    form, error, status = {}, None, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("deputy", "topic", "name", "phone")}
        try:
            per_ip = current_app.config.get("H5_BOOKINGS_PER_IP_HOUR", 10)
            ratelimit.hit(f"h5-booking:{request.remote_addr}", per_ip, 3600, "预约太频繁，请一小时后再试")
            account, booking = _book(public.visitor(), day, form)
            public.remember(account)
            return redirect(url_for("reception.booking", code=booking.code, new=1), code=303)
        except ServiceError as err:
            error, status = err.message, err.status
    duty = activities.on_duty(day)
    return page("public/reception_book.html", status, day=day, duty=duty, form=form, error=error,
                booking_notice=privacy.booking_notice(),
                left=max(0, day.slots - activities.booked_count(day)), refusal=activities.bookable(day),
                mine=[b for b in activities.bookings_of(public.visitor()) if b.activity_id == day.id
                      and b.state == "booked"])


@retried
def _book(account, day, form):
    """The booking, and for a browser outside WeChat the H5 pages' web citizen it books as (as for a report), in
    one transaction run again whole after a deadlock."""
    with write_transaction():
        if account is None:
            account = Account.create(role="citizen", display_name=form["name"].strip()[:20] or "网页访客")
        return account, activities.book(account, day, form)


def _own_booking(code):
    try:
        booking = activities.booking_of(code)
    except NotFound:
        return None
    account = public.visitor()
    return booking if account is not None and booking.account_id == account.id else None


@citizens.get("/r/b/<code>")
def booking(code):
    found = _own_booking(code)
    if found is None:
        return page("public/notfound.html", 404, what="这个预约")
    return page("public/reception_booking.html", booking=found, phone=mask_phone(found.phone),
                new=bool(request.args.get("new")), done=request.args.get("done"))


@citizens.post("/r/b/<code>/cancel")
def cancel_booking(code):
    found = _own_booking(code)
    if found is None:
        return page("public/notfound.html", 404, what="这个预约")
    try:
        activities.cancel_booking(public.visitor(), found)
    except ServiceError as err:
        return page("public/reception_booking.html", err.status, booking=found, phone=mask_phone(found.phone),
                    new=False, done=None, error=err.message)
    return redirect(url_for("reception.booking", code=found.code, done="cancelled"), code=303)


# --- check-in and the record (deputies) -----------------------------------------------------------------

def deputy_account():
    account = mobile.signed_in()
    return account if account is not None and account.role == "deputy" and account.deputy_id else None


@deputies.route("/m/checkin/<code>", methods=["GET", "POST"])
def checkin(code):
    account = deputy_account()
    if account is None:
        return page("mobile/checkin.html", 403, account=None, choices=[], done=None, code=code,
                    error="请用已绑定代表身份的微信扫码签到（或先登录手机工作台）")
    done, error, status = None, None, 200
    if request.method == "POST":
        try:
            activity = activities.get(request.form.get("activity"))
            if activity.id not in {a.id for a in activities.checkin_choices(account.deputy, code)}:
                raise NotFound("not_open", "这个二维码当前没有可以签到的活动")
            done = activities.check_in(account, activity, request.form.get("latitude"),
                                       request.form.get("longitude"))
        except ServiceError as err:
            error, status = err.message, err.status
    choices = activities.checkin_choices(account.deputy, code)
    return page("mobile/checkin.html", status, account=account, code=code, done=done, error=error,
                choices=[(a, activities.attendance_of(a, account.deputy)) for a in choices])


@deputies.get("/m/activities/<code>")
def activity(code):
    account = deputy_account()
    if account is None:
        return redirect(url_for("mobile.home"))
    try:
        found = activities.get(code)
    except NotFound:
        return page("mobile/activity.html", 404, activity=None, error="没有找到这项活动")
    return page("mobile/activity.html", activity=found, mine=activities.attendance_of(found, account.deputy),
                roles=activities.ROLES)


@deputies.route("/m/record", methods=["GET", "POST"])
def record():
    account = deputy_account()
    if account is None:
        return redirect(url_for("mobile.home"))
    year = request.args.get("year", type=int) or calendar.today().year
    report = dutyrecord.DutyReport.get_or_none(dutyrecord.DutyReport.deputy == account.deputy_id,
                                               dutyrecord.DutyReport.year == year)
    error, saved, revealed = None, False, {}
    if request.method == "POST" and request.form.get("booking"):  # 查看电话: the booked deputy calls the citizen
        try:
            booking = activities.booking_of(request.form.get("booking"))
            revealed[booking.code] = activities.reveal_booking_phone(account, booking)
        except ServiceError as err:
            error = err.message
    elif request.method == "POST" and report is not None:
        try:
            dutyrecord.set_words(account, report, request.form.get("own_words"))
            saved = True
        except ServiceError as err:
            error = err.message
    return page("mobile/record.html", 400 if error else 200, account=account, error=error, saved=saved,
                revealed=revealed, mask=mask_phone,
                entry=dutyrecord.record(account.deputy, year), report=report, year=year,
                bookings=activities.bookings_for_deputy(account.deputy),
                upcoming=activities.upcoming(deputy=account.deputy, kind=None, limit=5),
                percent=dutyrecord.stats.percent)


@deputies.get("/m/record/<int:year>.<fmt>")
def record_file(year, fmt):
    account = deputy_account()
    if account is None or fmt not in ("docx", "pdf"):
        return redirect(url_for("mobile.home"))
    return draft_response(account.deputy, year, fmt)


def draft_response(deputy, year, fmt):
    """The draft 述职报告 as a download (.docx to edit in Word/WPS, or PDF to print)."""
    from urllib.parse import quote
    body = dutyrecord.draft_docx(deputy, year) if fmt == "docx" else dutyrecord.draft_pdf(deputy, year)
    mime = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if fmt == "docx"
            else "application/pdf")
    name = quote(f"{deputy.name}{year}年度述职报告.{fmt}")
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=duty-report-{year}.{fmt}; filename*=UTF-8''{name}"})


# --- what the public pages show (template globals, so handlers/public.py stays as it was) ------------------

def reception_days(station=None, deputy=None):
    """The next reception days of a station, or on which a deputy is on duty, with places left."""
    return [{"activity": a, "duty": activities.on_duty(a), "left": max(0, a.slots - activities.booked_count(a))}
            for a in activities.upcoming(station=station, deputy=deputy)]


def checkin_offer(station):
    """On a station's page: whether the visitor is a deputy (by their bound WeChat) who can check in here now."""
    account = binding.bound_account("official_account", webauth.oa_openid()) if webauth.oa_openid() else None
    if account is None or account.role != "deputy" or not account.deputy_id:
        return False
    return bool(activities.checkin_choices(account.deputy, station.code))


def init_app(app):
    app.register_blueprint(citizens)
    app.register_blueprint(deputies)
    app.add_template_global(reception_days, "reception_days")
    app.add_template_global(checkin_offer, "checkin_offer")
    app.add_template_global(dutyrecord.public_summary, "duty_summary")
    app.add_template_global(dutyrecord.open_review, "duty_review_open")
