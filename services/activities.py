"""活动 — the activities engine: everything deputies attend, with check-in. One machine, with kinds:
接待选民日 (a station's reception day, bookable), 视察, 调研, 执法检查, 列席常委会, 联系组活动, 培训, 问政, 座谈.
Also what hangs on it: the stations' repeating reception rules, bookings (预约/约见), the reports received at
a reception day, 代表联系组 and 双联系 contacts. The rules live here and nowhere else:

- Reception calendar: a rule ("每月15日", "每周三", "每月第一个周一"; an RFC 5545 RRULE read by python-dateutil)
  with a time and the deputies on duty is planned as Activity rows PLAN_DAYS ahead (the plan_receptions job
  keeps the horizon); one-off days are Activities too. A planned day is never deleted: cancelled is a state.
- Check-in: a deputy signed in by their bound WeChat scans the station's code (/s/<code> → /m/checkin/<code>)
  or an activity's own code (/m/checkin/<activity code>) from CHECKIN_EARLY_MINUTES before the start to the
  end; the time, and the place where the phone gives it, are kept. Not on the list: recorded as joined.
- Booking: a reception day with slots; a deputy on duty; a topic and a phone (sealed at rest, shown masked);
  one live booking per person and day; cancelling before the start; reminders the day before to both.
"""
import datetime as dt
import secrets

from dateutil.rrule import rrulestr
from flask import current_app
from peewee import JOIN, IntegrityError, fn

from models import (Account, Activity, ActivityCase, Attendance, Booking, Contact, Deputy, DeputyGroup,
                    GroupMember, ReceptionRule, Station, utcnow)
from services import audit, calendar, notify
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.workflow import (as_actor, in_scope, mask_phone, phone, require_scope, retried, submit_case, text,
                               write_transaction)

KINDS = {"reception": "接待选民日", "inspection": "视察", "research": "调研", "enforcement": "执法检查",
         "attend": "列席常委会", "group": "代表小组/联系组活动", "training": "培训", "inquiry": "问政", "forum": "座谈"}
ROLES = {"duty": "值班", "invited": "受邀", "joined": "到场签到"}
WAYS = {"visit": "走访", "phone": "电话", "meeting": "座谈会", "online": "网络"}
WEEKDAYS = "一二三四五六日"
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PLAN_DAYS = 120             # how far ahead a rule's reception days are planned
CHECKIN_EARLY_MINUTES = 60  # a check-in opens this long before the start


def _staff(actor):
    if as_actor(actor).role not in ("staff", "admin", "system"):
        raise Forbidden("not_permitted", "只有人大工作人员可以安排活动")


def _code(prefix):
    return prefix + "".join(secrets.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(7))


def _clock(value, label):
    try:
        return dt.time.fromisoformat(str(value or "").strip()[:5]).strftime("%H:%M")
    except ValueError:
        raise InvalidInput("bad_time", f"请填写正确的{label}（如 09:00）")


def _utc(day, clock):
    local = dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=calendar.tz())
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _moment(value, label):
    try:
        local = dt.datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput("bad_time", f"请填写正确的{label}")
    return local.replace(tzinfo=calendar.tz()).astimezone(dt.timezone.utc).replace(tzinfo=None, second=0)


def _deputies(codes):
    codes = [c.strip().upper() for c in codes or [] if c and c.strip()]
    found = list(Deputy.select().where(Deputy.code.in_(codes))) if codes else []
    if len(found) != len(set(codes)):
        raise InvalidInput("bad_deputy", "有代表码不存在，请核对")
    return found


def _id(value, code, message):
    """A row id from a form's select ('' for none); anything but digits is refused."""
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(code, message)
    return int(text)


def station_of(code):
    station = Station.get_or_none(Station.code == str(code or "").strip().upper()[:16])
    if station is None:
        raise NotFound("station_not_found", "未找到该联络站")
    return station


def get(code):
    activity = Activity.get_or_none(Activity.code == str(code or "").strip().upper()[:16])
    if activity is None:
        raise NotFound("no_activity", "没有找到这项活动")
    return activity


# --- reception rules and the calendar -----------------------------------------------------------

def parse_rule(form):
    """A rule from the form: repeat = monthly (day 1–31) | weekly (weekday 1–7) | nth (nth weekday of the month).
    Returns (rrule text, Chinese label)."""
    repeat = form.get("repeat")
    try:
        if repeat == "monthly":
            day = int(form.get("monthday") or 0)
            if 1 <= day <= 31:
                return f"FREQ=MONTHLY;BYMONTHDAY={day}", f"每月{day}日"
        elif repeat in ("weekly", "nth"):
            weekday = int(form.get("weekday") or 0)
            if 1 <= weekday <= 7:
                name = RRULE_DAYS[weekday - 1]
                if repeat == "weekly":
                    return f"FREQ=WEEKLY;BYDAY={name}", f"每周{WEEKDAYS[weekday - 1]}"
                nth = int(form.get("nth") or 0)
                if nth in (1, 2, 3, 4, -1):
                    which = "最后一个" if nth == -1 else f"第{'一二三四'[nth - 1]}个"
                    return f"FREQ=MONTHLY;BYDAY={nth}{name}", f"每月{which}周{WEEKDAYS[weekday - 1]}"
    except ValueError:
        pass
    raise InvalidInput("bad_rule", "请选择接待日的重复方式和日期（如每月15日、每周三、每月第一个周一）")


def dates_of(rule_text, start, end):
    """The local dates a rule yields in [start, end]."""
    first = dt.datetime.combine(start, dt.time())
    return [moment.date() for moment in rrulestr(rule_text, dtstart=first).between(
        first, dt.datetime.combine(end, dt.time()), inc=True)]


@retried
def add_rule(actor, station, form):
    """A station's repeating reception day, planned PLAN_DAYS ahead at once."""
    _staff(actor)
    require_scope(actor, station, "联络站")
    rule_text, label = parse_rule(form)
    start, end = _clock(form.get("start_time"), "开始时间"), _clock(form.get("end_time"), "结束时间")
    if end <= start:
        raise InvalidInput("bad_time", "结束时间须晚于开始时间")
    deputies = _deputies(form.get("deputies"))
    if not deputies:
        raise InvalidInput("bad_deputy", "请选择值班代表")
    with write_transaction():
        rule = ReceptionRule.create(station=station, rrule=rule_text, label=label, start_time=start, end_time=end,
                                    deputies=[d.id for d in deputies])
        planned = plan(rule, slots=_slots(form))
        audit.record(as_actor(actor).account, "reception.rule", ("station", station.code),
                     {"rule": label, "planned": planned})
    return rule


def _slots(form):
    try:
        slots = int(form.get("slots") or current_app.config.get("RECEPTION_SLOTS", 10))
    except ValueError:
        raise InvalidInput("bad_slots", "请填写可预约人数（0到200）")
    if not 0 <= slots <= 200:
        raise InvalidInput("bad_slots", "请填写可预约人数（0到200）")
    return slots


def plan(rule, today=None, slots=None):
    """Plan a rule's reception days from today to PLAN_DAYS ahead; days planned before are left as they are.
    Returns how many were added."""
    today = today or calendar.today()
    planned = {a.starts_at for a in Activity.select(Activity.starts_at).where(Activity.rule == rule)}
    last = Activity.select(Activity.slots).where(Activity.rule == rule).order_by(Activity.starts_at.desc()).first()
    slots = slots if slots is not None else (last.slots if last else current_app.config.get("RECEPTION_SLOTS", 10))
    added = 0
    for day in dates_of(rule.rrule, today, today + dt.timedelta(days=PLAN_DAYS)):
        starts_at = _utc(day, rule.start_time)
        if starts_at in planned:
            continue
        activity = Activity.create(code=_code("A"), kind="reception", title=f"{rule.station.name}接待选民日",
                                   station=rule.station, rule=rule, starts_at=starts_at,
                                   ends_at=_utc(day, rule.end_time), slots=slots, place=rule.station.address)
        for deputy_id in rule.deputies:
            Attendance.create(activity=activity, deputy=deputy_id, role="duty")
        added += 1
    return added


@retried
def plan_all(today=None):
    """The plan_receptions job: every active rule planned PLAN_DAYS ahead."""
    added = 0
    for rule in ReceptionRule.select().where(ReceptionRule.active == True):  # noqa: E712
        with write_transaction():
            added += plan(rule, today)
    return {"planned": added}


def add_day(actor, station, form):
    """A one-off reception day (a visit by a higher-level deputy, a themed day)."""
    form = {**form, "kind": "reception", "station": station.code,
            "title": form.get("title") or f"{station.name}接待选民日"}
    return create(actor, form)


def upcoming(station=None, deputy=None, limit=3, kind="reception"):
    """The next planned days (reception days by default) of a station or on which a deputy is on duty."""
    query = Activity.select().where(Activity.state == "planned", Activity.ends_at > utcnow())
    if kind:
        query = query.where(Activity.kind == kind)
    if station is not None:
        query = query.where(Activity.station == station)
    if deputy is not None:
        query = query.where(Activity.id.in_(Attendance.select(Attendance.activity).where(Attendance.deputy == deputy)))
    return list(query.order_by(Activity.starts_at).limit(limit))


def on_duty(activity):
    return list(Deputy.select().join(Attendance).where(Attendance.activity == activity, Attendance.role == "duty")
                .order_by(Deputy.code))


def booked_count(activity):
    return activity.bookings.where(Booking.state == "booked").count()


def calendar_of(station, days=62):
    """A station's reception days from today on, with the deputies on duty and the bookings taken."""
    rows = (Activity.select().where(Activity.station == station, Activity.kind == "reception",
                                    Activity.starts_at >= calendar.utc_start(calendar.today()),
                                    Activity.starts_at < calendar.utc_start(calendar.today() + dt.timedelta(days=days)))
            .order_by(Activity.starts_at))
    return [{"activity": a, "duty": on_duty(a), "booked": booked_count(a)} for a in rows]


# --- activities the office plans -------------------------------------------------------------------

@retried
def create(actor, form):
    """An activity: kind, title, theme, period, start and end, place, station or group, deputies invited (codes,
    and/or every member of the group). Every invited deputy is told by push."""
    _staff(actor)
    kind = form.get("kind")
    if kind not in KINDS:
        raise InvalidInput("bad_kind", "请选择活动类型")
    title = str(form.get("title") or "").strip()
    if not 2 <= len(title) <= 120:
        raise InvalidInput("bad_title", "请填写活动名称（2到120个字）")
    starts_at, ends_at = _moment(form.get("starts_at"), "开始时间"), _moment(form.get("ends_at"), "结束时间")
    if ends_at <= starts_at:
        raise InvalidInput("bad_window", "结束时间须晚于开始时间")
    station = station_of(form["station"]) if form.get("station") else None
    require_scope(actor, station, "联络站")
    group_id = _id(form.get("group"), "bad_group", "没有这个代表联系组")
    group = DeputyGroup.get_or_none(DeputyGroup.id == group_id) if group_id else None
    if group_id and group is None:
        raise InvalidInput("bad_group", "没有这个代表联系组")
    deputies = {d.id: d for d in _deputies(form.get("deputies"))}
    if group is not None:
        deputies.update({d.id: d for d in group_deputies(group)})
    if not deputies:
        raise InvalidInput("bad_deputy", "请选择参加活动的代表（或代表联系组）")
    role = "duty" if kind == "reception" else "invited"
    with write_transaction():
        activity = Activity.create(
            code=_code("A"), kind=kind, title=title, theme=str(form.get("theme") or "").strip()[:200],
            period=str(form.get("period") or "").strip()[:8], station=station, group=group,
            place=str(form.get("place") or (station.address if station else "")).strip()[:200],
            starts_at=starts_at, ends_at=ends_at, slots=_slots(form) if kind == "reception" else 0,
            created_by=as_actor(actor).account)
        for deputy in deputies.values():
            Attendance.create(activity=activity, deputy=deputy, role=role)
        values = {"title": title[:40], "kind": KINDS[kind], "code": activity.code,
                  "when_text": notify.local_stamp(starts_at), "place": activity.place[:40]}
        for account in deputy_accounts(deputies):
            notify.write(account, "activity_invite", f"activity{activity.id}:{account.id}", values)
        audit.record(as_actor(actor).account, "activity.create", ("activity", activity.code), {"kind": kind})
    return activity


def deputy_accounts(deputy_ids):
    ids = list(deputy_ids)
    return list(Account.select().where(Account.deputy.in_(ids), Account.role == "deputy",
                                       Account.active == True)) if ids else []  # noqa: E712


@retried
def cancel(actor, activity, reason=""):
    """Cancel a planned activity; the deputies and whoever booked are told."""
    _staff(actor)
    require_scope(actor, activity.station, "联络站")
    with write_transaction():
        if not Activity.update(state="cancelled").where(Activity.id == activity.id,
                                                       Activity.state == "planned").execute():
            raise Conflict("state_changed", "活动已取消")
        values = {"title": activity.title[:40], "when_text": notify.local_stamp(activity.starts_at),
                  "reason": str(reason or "").strip()[:60] or "另行通知", "code": activity.code}
        for account in deputy_accounts(a.deputy_id for a in activity.attendance):
            notify.write(account, "activity_cancelled", f"activity-cancel{activity.id}:{account.id}", values)
        for booking in activity.bookings.where(Booking.state == "booked"):
            if booking.account_id:
                notify.write(booking.account, "booking_dropped", f"booking-drop{booking.id}", values)
        audit.record(as_actor(actor).account, "activity.cancel", ("activity", activity.code), {})
    activity.state = "cancelled"
    return activity


@retried
def write_record(actor, activity, record, photos):
    """The short record afterwards (纪要) and its photos, added to what was written before."""
    _staff(actor)
    require_scope(actor, activity.station, "联络站")
    record = str(record or "").strip()
    if not record and not photos:
        raise InvalidInput("missing_field", "请填写活动纪要或上传照片")
    if len(record) > 5000:
        raise InvalidInput("too_long", "活动纪要请不超过5000字")
    with write_transaction():
        current = Activity.get_by_id(activity.id)
        current.record = record or current.record
        current.photos = (current.photos or []) + list(photos)
        current.save()
        audit.record(as_actor(actor).account, "activity.record", ("activity", activity.code), {})
    return current


def group_deputies(group):
    """A group's members, its sub-groups' members included."""
    ids, todo = set(), [group]
    while todo:
        current = todo.pop()
        ids |= {m.deputy_id for m in current.members}
        todo += list(current.children)
    return list(Deputy.select().where(Deputy.id.in_(list(ids)))) if ids else []


# --- check-in ---------------------------------------------------------------------------------------

def checkin_choices(deputy, code, now=None):
    """The activities a deputy can check in to by the code they scanned: an activity's code, or a station's
    (then the activities at that station open for check-in now)."""
    now = now or utcnow()
    early = now + dt.timedelta(minutes=CHECKIN_EARLY_MINUTES)
    query = Activity.select().where(Activity.state == "planned", Activity.starts_at <= early, Activity.ends_at > now)
    code = str(code or "").strip().upper()[:16]
    if Station.select().where(Station.code == code).exists():
        return list(query.where(Activity.station == station_of(code)).order_by(Activity.starts_at))
    return list(query.where(Activity.code == code))


def attendance_of(activity, deputy):
    return Attendance.get_or_none(Attendance.activity == activity, Attendance.deputy == deputy)


def _place(value, bound):
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_location", "位置坐标有误")
    if not -bound <= number <= bound:
        raise InvalidInput("invalid_location", "位置坐标有误")
    return number


@retried
def check_in(account, activity, latitude=None, longitude=None, now=None):
    """签到: the deputy of this account is at the activity now. A second check-in keeps the first time."""
    now = now or utcnow()
    deputy = account.deputy if account is not None and account.role == "deputy" and account.deputy_id else None
    if deputy is None:
        raise Forbidden("not_deputy", "请用已绑定代表身份的微信扫码签到")
    if activity.state != "planned":
        raise Conflict("cancelled", "该活动已取消")
    if now < activity.starts_at - dt.timedelta(minutes=CHECKIN_EARLY_MINUTES):
        raise Conflict("too_early", f"签到在活动开始前{CHECKIN_EARLY_MINUTES}分钟开放")
    if now >= activity.ends_at:
        raise Conflict("too_late", "活动已结束，不能再签到")
    lat, lng = _place(latitude, 90), _place(longitude, 180)
    with write_transaction():
        row = attendance_of(activity, deputy)
        if row is None:
            try:
                with write_transaction():
                    row = Attendance.create(activity=activity, deputy=deputy, role="joined")
            except IntegrityError:
                row = attendance_of(activity, deputy)
        if row.checked_in_at is None:
            Attendance.update(checked_in_at=now, latitude=lat, longitude=lng).where(
                Attendance.id == row.id, Attendance.checked_in_at.is_null()).execute()
            audit.record(account, "activity.checkin", ("activity", activity.code), {"deputy": deputy.code})
    return attendance_of(activity, deputy)


# --- bookings -----------------------------------------------------------------------------------------

def bookable(activity, now=None):
    """Why this day cannot be booked now (Chinese), or None."""
    if activity.kind != "reception" or activity.slots <= 0:
        return "该活动不接受预约"
    if activity.state != "planned":
        return "该接待日已取消"
    if (now or utcnow()) >= activity.starts_at:
        return "该接待日已开始或已结束，不能再预约"
    if booked_count(activity) >= activity.slots:
        return "该接待日的预约已满，请选择其他日期"
    return None


@retried
def book(account, activity, form):
    """A citizen books a slot with a deputy on duty: topic, name, phone. The citizen and the deputy are told."""
    if account is None:
        raise Forbidden("no_identity", "请在微信中打开本页预约")
    refusal = bookable(activity)
    if refusal:
        raise Conflict("not_bookable", refusal)
    duty = {d.code: d for d in on_duty(activity)}
    deputy = duty.get(str(form.get("deputy") or "").strip().upper())
    if deputy is None:
        raise InvalidInput("bad_deputy", "请选择要约见的值班代表", field="deputy")
    topic = text(form, "topic", "约见事由", limit=200, minimum=4)
    name = text(form, "name", "姓名", limit=50)
    number = phone(form, "phone")
    if not number:
        raise InvalidInput("missing_field", "请填写联系电话", field="phone")
    with write_transaction():
        if Booking.select().where(Booking.activity == activity, Booking.account == account,
                                  Booking.state == "booked").exists():
            raise Conflict("already_booked", "您已预约了这个接待日，可在预约详情中取消后重新预约")
        if booked_count(activity) >= activity.slots:  # checked again inside the transaction
            raise Conflict("not_bookable", "该接待日的预约已满，请选择其他日期")
        booking = Booking.create(code=_code("Y"), activity=activity, deputy=deputy, account=account, name=name,
                                 phone=number, topic=topic)
        values = _booking_values(booking)
        notify.write(account, "booking_made", f"booking{booking.id}:made", values)
        for deputy_account in deputy_accounts([deputy.id]):
            notify.write(deputy_account, "booking_new", f"booking{booking.id}:new:{deputy_account.id}", values)
    return booking


def _booking_values(booking):
    activity = booking.activity
    return {"code": booking.code, "topic": booking.topic[:40],
            "deputy": booking.deputy.name if booking.deputy_id else "",
            "station": activity.station.name[:30] if activity.station_id else "", "name": booking.name[:20],
            "when_text": notify.local_stamp(activity.starts_at), "place": activity.place[:40],
            "phone": mask_phone(booking.phone)}


def reveal_booking_phone(actor, booking):
    """The booker's full phone, to call them: for the office in the station's scope and the deputy booked; every
    view is in the audit log."""
    actor = as_actor(actor)
    station_id = booking.activity.station_id
    allowed = (actor.role in ("staff", "admin") and in_scope(actor, station_id)) or (
        actor.role == "deputy" and actor.account.deputy_id == booking.deputy_id)
    if not allowed:
        raise Forbidden("not_permitted", "您无权查看预约人的完整电话")
    audit.record(actor, "view_phone", ("booking", booking.code), {"purpose": "预约联系"})
    return booking.phone


def booking_of(code):
    booking = Booking.get_or_none(Booking.code == str(code or "").strip().upper()[:16])
    if booking is None:
        raise NotFound("no_booking", "没有找到这个预约")
    return booking


@retried
def cancel_booking(account, booking):
    """The citizen cancels before the day starts; the deputy is told."""
    if account is None or booking.account_id != account.id:
        raise Forbidden("not_yours", "只能取消自己的预约")
    if utcnow() >= booking.activity.starts_at:
        raise Conflict("started", "接待日已开始，不能取消")
    with write_transaction():
        if not Booking.update(state="cancelled", cancelled_at=utcnow()).where(
                Booking.id == booking.id, Booking.state == "booked").execute():
            raise Conflict("cancelled", "该预约已取消")
        values = _booking_values(booking)
        for deputy_account in deputy_accounts([booking.deputy_id]):
            notify.write(deputy_account, "booking_cancelled", f"booking{booking.id}:cancel:{deputy_account.id}",
                         values)
    booking.state = "cancelled"
    return booking


def bookings_of(account):
    if account is None:
        return []
    return list(Booking.select().where(Booking.account == account).order_by(Booking.created_at.desc()).limit(20))


def bookings_for_deputy(deputy, days=31):
    """The deputy's bookings of the coming days (their phone workbench)."""
    return list(Booking.select().join(Activity).where(
        Booking.deputy == deputy, Booking.state == "booked", Activity.ends_at > utcnow(),
        Activity.starts_at < utcnow() + dt.timedelta(days=days)).order_by(Activity.starts_at))


@retried
def remind_bookings(now=None):
    """The remind_bookings job: a reminder to the citizen and to the deputy for each booking whose day starts
    within 24 hours (once each, by its dedupe key)."""
    now = now or utcnow()
    written = 0
    rows = Booking.select().join(Activity).where(Booking.state == "booked", Activity.state == "planned",
                                                 Activity.starts_at > now,
                                                 Activity.starts_at <= now + dt.timedelta(hours=24))
    for booking in rows:
        values = _booking_values(booking)
        with write_transaction():
            if booking.account_id:
                written += notify.write(booking.account, "booking_reminder", f"booking{booking.id}:remind", values)
            for deputy_account in deputy_accounts([booking.deputy_id]):
                written += notify.write(deputy_account, "booking_reminder_deputy",
                                        f"booking{booking.id}:remind:{deputy_account.id}", values)
    return {"reminded": written}


# --- what was received at a reception day -----------------------------------------------------------

@retried
def enter_report(actor, activity, data):
    """Staff enter what a citizen said at the reception day as a report (代录, source 接待日来访), linked to the day
    (and to the booking it came from)."""
    _staff(actor)
    booking = None
    if data.get("booking"):
        booking = booking_of(data["booking"])
        if booking.activity_id != activity.id:
            raise InvalidInput("bad_booking", "该预约不属于这个接待日")
    deputies = {a.deputy.code for a in activity.attendance}
    if data.get("deputy") and str(data["deputy"]).upper() not in deputies:
        raise InvalidInput("bad_deputy", "请选择参加本次活动的代表", field="deputy")
    data = {**data, "intake": "visit"}
    if not data.get("deputy"):
        data["station"] = activity.station.code if activity.station_id else data.get("station")
    with write_transaction():
        case = submit_case(actor, data)
        ActivityCase.insert(activity=activity, case=case, booking=booking).on_conflict_ignore().execute()
    return case


def received(activity):
    from models import Case
    return list(Case.select().join(ActivityCase).where(ActivityCase.activity == activity).order_by(Case.id))


# --- 代表联系组 -----------------------------------------------------------------------------------------

@retried
def save_group(actor, form, group=None):
    """A group (name, parent group, leader, members by 代表码); a leader is always a member."""
    _staff(actor)
    name = str(form.get("name") or "").strip()
    if not 2 <= len(name) <= 100:
        raise InvalidInput("bad_name", "请填写联系组名称（2到100个字）")
    parent_id = _id(form.get("parent"), "bad_parent", "上级联系组有误")
    parent = DeputyGroup.get_or_none(DeputyGroup.id == parent_id) if parent_id else None
    if parent_id and (parent is None or (group is not None and parent.id == group.id)):
        raise InvalidInput("bad_parent", "上级联系组有误")
    leader = _deputies([form["leader"]])[0] if form.get("leader") else None
    members = {d.id: d for d in _deputies(form.get("members"))}
    if leader is not None:
        members[leader.id] = leader
    with write_transaction():
        if DeputyGroup.select().where(DeputyGroup.name == name,
                                      DeputyGroup.id != (group.id if group else 0)).exists():
            raise Conflict("name_taken", "已有同名的联系组")
        if group is None:
            group = DeputyGroup.create(name=name, parent=parent, leader=leader)
        else:
            group.name, group.parent, group.leader = name, parent, leader
            group.save()
            GroupMember.delete().where(GroupMember.group == group).execute()
        for deputy_id in members:
            GroupMember.create(group=group, deputy=deputy_id)
        audit.record(as_actor(actor).account, "group.save", ("group", str(group.id)), {"members": len(members)})
    return group


def groups():
    """Every group with its leader and member count, parents before their sub-groups."""
    rows = list(DeputyGroup.select(DeputyGroup, fn.COUNT(GroupMember.id).alias("size"))
                .join(GroupMember, JOIN.LEFT_OUTER).group_by(DeputyGroup).order_by(DeputyGroup.name))
    by_parent = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    ordered = []

    def walk(parent_id, depth):
        for row in by_parent.get(parent_id, []):
            row.depth = depth
            ordered.append(row)
            walk(row.id, depth + 1)
    walk(None, 0)
    return ordered


# --- 双联系: 常委会组成人员 contacting deputies ------------------------------------------------------------

@retried
def log_contact(actor, form):
    """A 常委会组成人员 (a staff account) records a contact with a deputy: day, way, what was said."""
    _staff(actor)
    deputy = _deputies([form.get("deputy")])[0] if form.get("deputy") else None
    if deputy is None:
        raise InvalidInput("bad_deputy", "请选择联系的代表")
    day = calendar.parse_day(form.get("day"))
    if day is None or day > calendar.today():
        raise InvalidInput("bad_day", "请填写联系日期（不晚于今天）")
    if form.get("way") not in WAYS:
        raise InvalidInput("bad_way", "请选择联系方式")
    note = text(form, "note", "联系内容", limit=2000)
    with write_transaction():
        return Contact.create(member=as_actor(actor).account, deputy=deputy, day=day, way=form["way"], note=note)


def quarter_bounds(year, quarter):
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, end


def contact_report(year, quarter):
    """The quarterly 通报: per member, contacts and deputies contacted; the deputies nobody contacted."""
    start, end = quarter_bounds(year, quarter)
    rows = list(Contact.select().where(Contact.day >= start, Contact.day < end).order_by(Contact.day))
    members = {}
    for row in rows:
        entry = members.setdefault(row.member_id, {"member": row.member.display_name or row.member.username,
                                                   "contacts": 0, "deputies": set(), "ways": {}})
        entry["contacts"] += 1
        entry["deputies"].add(row.deputy_id)
        entry["ways"][WAYS[row.way]] = entry["ways"].get(WAYS[row.way], 0) + 1
    contacted = {row.deputy_id for row in rows}
    from services.directory import serving
    missed = list(Deputy.select().where(serving(), Deputy.id.not_in(list(contacted)) if contacted else True)
                  .order_by(Deputy.code))
    return {"year": year, "quarter": quarter, "start": start, "end": end - dt.timedelta(days=1),
            "members": sorted(({**m, "deputies": len(m["deputies"])} for m in members.values()),
                              key=lambda m: -m["contacts"]),
            "contacts": len(rows), "contacted": len(contacted), "missed": missed, "rows": rows}


def contact_report_xlsx(report):
    from services.exports import table_xlsx
    head = [("通报期间", f"{report['year']}年第{report['quarter']}季度"), ("联系次数", report["contacts"]),
            ("联系代表人数", report["contacted"]), ("未被联系的代表", len(report["missed"]))]
    members = [[m["member"], m["contacts"], m["deputies"], "、".join(f"{k}{v}次" for k, v in m["ways"].items())]
               for m in report["members"]]
    rows = [[r.day.isoformat(), r.member.display_name or r.member.username, r.deputy.name, WAYS[r.way], r.note]
            for r in report["rows"]]
    return table_xlsx([("通报概况", ["项目", "内容"], [20, 40], head),
                       ("组成人员联系情况", ["组成人员", "联系次数", "联系代表数", "方式"], [20, 10, 12, 30], members),
                       ("联系明细", ["日期", "组成人员", "代表", "方式", "内容"], [12, 14, 12, 10, 60], rows),
                       ("未被联系的代表", ["代表码", "姓名"], [12, 14], [[d.code, d.name] for d in report["missed"]])])
