"""Reception days, bookings, check-in, activities, 双联系 and the 履职档案 built from them; the 述职 schedule, the
.docx draft read back with python-docx, and a 述职评议 ballot — on a fresh database, through the real services and
pages (no seed)."""
import datetime as dt
import io

import pytest
from docx import Document
from freezegun import freeze_time

from handlers import webauth
from models import Activity, Attendance, Booking, Deputy, DutyReport, Notification, utcnow
from services import activities, ballots, dutyrecord, workflow
from services.errors import ServiceError
from tests.factories import case_in, world


def kinds(account):
    return sorted(n.kind for n in Notification.select().where(Notification.account == account))


def local(text):
    """'2026-03-15 09:10' local (Asia/Shanghai) as the naive UTC the database keeps."""
    return dt.datetime.fromisoformat(text) - dt.timedelta(hours=8)


def monthly_rule(w, day=15):
    return activities.add_rule(w.staff, w.town_a, {"repeat": "monthly", "monthday": str(day), "start_time": "09:00",
                                                    "end_time": "11:30", "slots": "2", "deputies": [w.deputy.code]})


def day_on(rule, date):
    return Activity.get(Activity.rule == rule, Activity.starts_at == local(f"{date} 09:00"))


# --- the reception calendar ---------------------------------------------------------------------------

@freeze_time("2026-03-01 02:00:00")
def test_a_monthly_rule_plans_the_15th_of_each_month_with_the_deputy_on_duty_and_replanning_adds_nothing(app):
    w = world()
    rule = monthly_rule(w)
    assert rule.label == "每月15日"
    days = list(Activity.select().where(Activity.rule == rule).order_by(Activity.starts_at))
    assert [a.starts_at for a in days] == [local(f"2026-{m:02d}-15 09:00") for m in (3, 4, 5, 6)]  # 120 days ahead
    assert all(a.ends_at - a.starts_at == dt.timedelta(hours=2, minutes=30) for a in days)
    assert [activities.on_duty(a) for a in days] == [[w.deputy]] * 4
    assert activities.plan_all()["planned"] == 0
    weekly, label = activities.parse_rule({"repeat": "nth", "nth": "1", "weekday": "1"})
    assert label == "每月第一个周一" and activities.dates_of(weekly, dt.date(2026, 3, 1), dt.date(2026, 4, 30)) == [
        dt.date(2026, 3, 2), dt.date(2026, 4, 6)]
    with pytest.raises(ServiceError) as err:
        activities.parse_rule({"repeat": "monthly", "monthday": "32"})
    assert err.value.code == "bad_rule"
    with pytest.raises(ServiceError):  # station staff may not set another town's calendar
        activities.add_rule(w.other_town_staff, w.town_a, {"repeat": "weekly", "weekday": "3", "start_time": "09:00",
                                                            "end_time": "11:00", "deputies": [w.deputy.code]})


@freeze_time("2026-03-01 02:00:00")
def test_the_station_and_deputy_pages_show_the_next_reception_days(app, client):
    w = world()
    monthly_rule(w)
    for path in ("/s/TA", f"/d/{w.deputy.code}"):
        page = client.get(path).get_data(as_text=True)
        assert "接待选民日" in page and "2026年3月15日 09:00–11:30" in page and "可预约 2 人" in page
    assert "2026年3月15日" not in client.get(f"/d/{w.other_deputy.code}").get_data(as_text=True)


# --- bookings -------------------------------------------------------------------------------------------

@freeze_time("2026-03-10 02:00:00")
def test_booking_tells_both_reminds_both_once_the_day_before_and_refuses_what_it_must(app):
    w = world()
    day = day_on(monthly_rule(w), "2026-03-15")
    form = {"deputy": w.deputy.code, "topic": "小区加装电梯的问题", "name": "张三", "phone": "13800001111"}
    booking = activities.book(w.citizen, day, form)
    assert Booking.get_by_id(booking.id).phone == "13800001111"  # sealed at rest, read back through the field
    assert kinds(w.citizen) == ["booking_made"] and kinds(w.deputy_account) == ["booking_new"]
    told = Notification.get(Notification.kind == "booking_new")
    assert "13800001111" not in told.body + str(told.data) and told.data["phone"] == workflow.mask_phone("13800001111")
    refusals = {
        "already_booked": (w.citizen, form),
        "bad_deputy": (w.other_citizen, {**form, "deputy": w.other_deputy.code}),
        "missing_field": (w.other_citizen, {**form, "phone": ""}),
    }
    for code, (who, data) in refusals.items():
        with pytest.raises(ServiceError) as err:
            activities.book(who, day, data)
        assert err.value.code == code, code
    activities.book(w.other_citizen, day, {**form, "name": "李四"})
    with pytest.raises(ServiceError) as err:  # two slots, both taken
        activities.book(w.admin, day, form)
    assert err.value.code == "not_bookable" and "已满" in err.value.message
    with pytest.raises(ServiceError):
        activities.cancel_booking(w.other_citizen, booking)  # not theirs
    with freeze_time("2026-03-14 02:00:00"):
        assert activities.remind_bookings()["reminded"] == 4  # two bookings × citizen and deputy
        assert activities.remind_bookings()["reminded"] == 0
    assert kinds(w.citizen) == ["booking_made", "booking_reminder"]
    activities.cancel_booking(w.citizen, booking)
    assert "booking_cancelled" in kinds(w.deputy_account)
    assert activities.booked_count(day) == 1


# --- check-in -------------------------------------------------------------------------------------------

@freeze_time("2026-03-15 00:50:00")  # 08:50 local: ten minutes before the reception day
def test_a_deputy_checks_in_by_the_station_code_inside_the_window_and_once(app, client):
    w = world()
    day = day_on(monthly_rule(w), "2026-03-15")
    w.deputy_account.oa_openid = "oa-deputy"
    w.deputy_account.save()
    with client.session_transaction() as s:
        s.update({webauth.SESSION_KEY: "oa-deputy", webauth.TRIED_KEY: True, "csrf": "t"})
    assert "代表签到" in client.get("/s/TA").get_data(as_text=True)  # the station page offers the check-in
    page = client.get("/m/checkin/TA").get_data(as_text=True)
    assert day.title in page
    response = client.post("/m/checkin/TA", data={"csrf_token": "t", "activity": day.code, "latitude": "30.1",
                                                  "longitude": "120.2"})
    assert response.status_code == 200 and "签到成功" in response.get_data(as_text=True)
    row = Attendance.get(Attendance.activity == day, Attendance.deputy == w.deputy)
    assert row.checked_in_at == utcnow() and (row.latitude, row.longitude) == (30.1, 120.2)
    with freeze_time("2026-03-15 01:30:00"):
        again = activities.check_in(w.deputy_account, day)
    assert again.checked_in_at == row.checked_in_at  # the first time stays
    other = client.application.test_client()
    with other.session_transaction() as s:
        s.update({webauth.SESSION_KEY: "oa-stranger", webauth.TRIED_KEY: True, "csrf": "t"})
    refused = other.post("/m/checkin/TA", data={"csrf_token": "t", "activity": day.code})
    assert refused.status_code == 403 and "已绑定代表身份的微信" in refused.get_data(as_text=True)
    assert "代表签到" not in other.get("/s/TA").get_data(as_text=True)
    with freeze_time("2026-03-15 03:30:00"), pytest.raises(ServiceError) as err:  # 11:30: the day has ended
        activities.check_in(w.other_deputy_account, day)
    assert err.value.code == "too_late"
    with freeze_time("2026-03-14 02:00:00"), pytest.raises(ServiceError) as err:
        activities.check_in(w.other_deputy_account, day)
    assert err.value.code == "too_early"


# --- a deputy's year, counted by hand ---------------------------------------------------------------------

def suggestion(w, title, answer_class=""):
    """A 代表建议 led by w.deputy, as the suggestion kind stores it (its drafting pages are issue 17's: until they are
    on main the row is written here; with its `Signer` table the lead is recorded there too)."""
    import models
    case = models.Case.create(number=f"J{models.Case.select().count() + 1:06d}", kind="suggestion", deputy=w.deputy,
                              category="traffic", title=title, content=title, state="answered" if answer_class
                              else "submitted", answer_class=answer_class)
    if hasattr(models, "Signer"):
        models.Signer.create(case=case, deputy=w.deputy, role="lead", confirmed_at=utcnow())
    return case


def _year_of_work(w):
    """A year of real actions for w.deputy (2026): four reception days on duty (two attended), one booking (and
    one cancelled), an inspection attended and a research visit missed, two reports (one entered at the
    reception and declined, one handled to the end with an A answer, rated satisfied), one ballot, one 双联系
    contact, the project the factory made them supervise."""
    with freeze_time("2026-03-01 02:00:00"):
        rule = monthly_rule(w)
        inspection = activities.create(w.staff, {"kind": "inspection", "title": "城区老旧小区改造专题视察",
                                                 "starts_at": "2026-04-20T09:00", "ends_at": "2026-04-20T12:00",
                                                 "deputies": [w.deputy.code, w.other_deputy.code]})
        research = activities.create(w.staff, {"kind": "research", "title": "农村饮水安全调研",
                                               "starts_at": "2026-05-10T14:00", "ends_at": "2026-05-10T17:00",
                                               "deputies": [w.deputy.code]})
        assert kinds(w.deputy_account) == ["activity_invite", "activity_invite"]
    march, april = day_on(rule, "2026-03-15"), day_on(rule, "2026-04-15")
    with freeze_time("2026-03-10 02:00:00"):
        form = {"deputy": w.deputy.code, "topic": "小区加装电梯的问题", "name": "张三", "phone": "13800001111"}
        booking = activities.book(w.citizen, march, form)
        activities.cancel_booking(w.other_citizen, activities.book(w.other_citizen, march, {**form, "name": "李四"}))
    with freeze_time("2026-03-15 01:05:00"):
        activities.check_in(w.deputy_account, march)
        entered = activities.enter_report(w.staff, march, {
            "deputy": w.deputy.code, "booking": booking.code, "category": "traffic", "citizen_name": "张三",
            "contact_phone": "13800001111", "content": "小区加装电梯，低楼层住户有意见，希望协调。"})
        workflow.perform(entered, "decline", w.deputy_account, {"reason": "duplicate"})
    with freeze_time("2026-04-15 01:10:00"):
        activities.check_in(w.deputy_account, april)
    with freeze_time("2026-04-20 01:30:00"):
        activities.check_in(w.deputy_account, inspection)
        activities.check_in(w.other_deputy_account, inspection)
    with freeze_time("2026-05-20 02:00:00"):
        case_in(w, "closed")
        now = utcnow() + dt.timedelta(hours=8)
        ballot = ballots.open_ballot(w.staff, ballots.create(w.staff, {
            "title": "部门工作评议", "kind": "review", "method": "rate", "electorate": "deputies", "items": "县住建局",
            "opens_at": (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "deputies": [w.deputy.code]}))
        ballots.cast(ballot, {str(ballots.items(ballot)[0].id): "good"}, deputy=w.deputy)
        activities.log_contact(w.staff, {"deputy": w.deputy.code, "day": "2026-05-20", "way": "visit",
                                         "note": "走访了解接待日情况"})
        suggestion(w, "关于加快老旧小区加装电梯的建议", "B")
    return {"march": march, "research": research, "entered": entered}


def test_a_deputys_year_built_from_real_actions_is_counted_as_by_hand(app):
    w = world()
    done = _year_of_work(w)
    assert [c.number for c in activities.received(done["march"])] == [done["entered"].number]
    with freeze_time("2026-07-01 02:00:00"):
        entry = dutyrecord.record(w.deputy, 2026)
    assert entry["receptions"] == {"duty": 4, "attended": 2}  # 3/15, 4/15, 5/15, 6/15 on duty; two check-ins
    assert entry["bookings"] == 1                              # the cancelled one does not count
    assert entry["activities"]["inspection"] == {"invited": 1, "attended": 1}
    assert entry["activities"]["research"] == {"invited": 1, "attended": 0}
    assert entry["activities_attended"] == 1
    reports = entry["reports"]
    assert (reports["received"], reports["responded"], reports["concluded"]) == (2, 2, 1)
    assert reports["classes"] == {"A": 1, "B": 0, "C": 0, "D": 0}
    assert (reports["rated"], reports["satisfied"], reports["satisfaction_rate"]) == (1, 1, 1.0)
    assert entry["steps"] == {"accept": 1, "decline": 1, "forward": 0, "reply": 0, "opinion": 0}
    assert entry["ballots"] == 1 and entry["ballots_by_kind"] == {"部门评议": 1}
    assert [p.code for p in entry["projects"]] == ["XM001"] and entry["contacts"] == 1
    assert (entry["suggestions"]["led"], entry["suggestions"]["classes"]["B"]) == (1, 1)
    assert reports["received"] == 2  # the suggestion is not a citizen's report
    assert dutyrecord.total(entry) == 2 + 1 + 2 + 1
    with freeze_time("2026-07-01 02:00:00"):
        other = dutyrecord.record(w.other_deputy, 2026)
    assert other["activities"]["inspection"]["attended"] == 1 and other["reports"]["received"] == 0
    assert dutyrecord.record(w.deputy, 2025)["receptions"] == {"duty": 0, "attended": 0}
    with freeze_time("2026-07-01 02:00:00"):
        figures = {row["station"].code: row for row in dutyrecord.station_figures(2026)}
    assert (figures["TA"]["planned"], figures["TA"]["held"], figures["TA"]["bookings"],
            figures["TA"]["checkins"]) == (4, 2, 1, 2)


def test_the_draft_report_opens_in_python_docx_with_the_records_numbers_and_the_deputys_own_words(app):
    w = world()
    _year_of_work(w)
    with freeze_time("2026-07-01 02:00:00"):
        report = dutyrecord.schedule_one(w.staff, w.deputy, 2026)
        dutyrecord.set_words(w.deputy_account, report, "一年来，我坚持每月到站接待选民。\n今后将继续努力。")
        with pytest.raises(ServiceError):
            dutyrecord.set_words(w.other_deputy_account, report, "不是我的述职")
        document = Document(io.BytesIO(dutyrecord.draft_docx(w.deputy, 2026)))
        pdf = dutyrecord.draft_pdf(w.deputy, 2026)
    text = [p.text for p in document.paragraphs]
    assert text[0] == "周建华代表2026年度述职报告"
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["一、基本情况", "二、接待选民、联系群众", "三、参加视察调研等活动", "四、反映群众意见建议",
                        "五、提出代表建议", "六、参加表决和监督", "七、本人述职"]
    body = "\n".join(text)
    assert "值班4次，到站签到接待2次，接受群众预约约见1人次；常委会组成人员联系本人1次" in body
    assert "全年参加活动1次，其中视察1次" in body
    assert "收到群众反映2件，本人受理1件、转交人大办0件、不予受理并说明理由1件" in body
    assert "已办结1件（A类1件）" in body and "满意率100.0%" in body
    assert "领衔提出代表建议1件，附议0件；已答复的B类1件" in body
    assert "参加各类表决、测评1次（部门评议1次）" in body and "村道提质改造" in body
    assert "一年来，我坚持每月到站接待选民。" in text and "今后将继续努力。" in text
    table = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert table["接待选民日到站（次）"] == "2" and table["收到群众反映（件）"] == "2"
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


# --- 述职: the schedule and the 评议 ---------------------------------------------------------------------

def test_a_third_report_each_year_those_whose_term_ends_first_and_nobody_twice_in_a_term(app):
    w = world()
    for deputy in (w.deputy, w.other_deputy):
        deputy.term_start, deputy.term_end = dt.date(2026, 1, 1), dt.date(2030, 12, 31)
        deputy.save()
    for i in range(4):
        Deputy.create(code=f"DEP10{i}", name=f"代表{i}", level="county", term_start=dt.date(2026, 1, 1),
                      term_end=dt.date(2026 if i == 3 else 2030, 12, 31))
    first = {r.deputy.code for r in dutyrecord.schedule(w.staff, 2026)}
    assert len(first) == 2 and "DEP103" in first  # ceil(6/3); the one whose term ends in 2026 goes first
    assert dutyrecord.schedule(w.staff, 2026) == []  # the year's third is full
    second = {r.deputy.code for r in dutyrecord.schedule(w.staff, 2027)}
    assert len(second) == 2 and not second & first  # DEP103's term has ended: five serve, ceil(5/3) = 2
    third = {r.deputy.code for r in dutyrecord.schedule(w.staff, 2028)}
    assert third and not third & (first | second) and len(first | second | third) == 6
    with pytest.raises(ServiceError):
        dutyrecord.schedule(w.deputy_account, 2029)


def test_a_duty_review_is_a_public_rate_ballot_on_the_deputy_page_one_vote_per_wechat_identity(app, client):
    w = world()
    report = dutyrecord.schedule_one(w.staff, w.deputy, 2026)
    now = utcnow() + dt.timedelta(hours=8)
    ballot = dutyrecord.start_review(w.staff, report, {
        "opens_at": (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    assert (ballot.kind, ballot.method, ballot.electorate, ballot.state) == ("duty_review", "rate", "public", "open")
    assert DutyReport.get_by_id(report.id).ballot_id == ballot.id
    with pytest.raises(ServiceError):
        dutyrecord.start_review(w.staff, DutyReport.get_by_id(report.id), {})
    page = client.get(f"/d/{w.deputy.code}").get_data(as_text=True)
    assert "周建华代表2026年度述职评议" in page and f"/v/{ballot.code}" in page
    item = ballots.items(ballot)[0]
    for voter, mark in (("oa-voter-1", "good"), ("oa-voter-2", "fair"), ("oa-voter-3", "poor")):
        voting = client.application.test_client()
        with voting.session_transaction() as s:
            s.update({webauth.SESSION_KEY: voter, webauth.TRIED_KEY: True, "csrf": "t"})
        assert voting.post(f"/v/{ballot.code}", data={"csrf_token": "t", f"mark_{item.id}": mark}).status_code == 303
    assert voting.post(f"/v/{ballot.code}", data={"csrf_token": "t", f"mark_{item.id}": "good"}).status_code == 409
    ballots.publish(w.staff, ballots.close(w.staff, ballot))
    entry = dutyrecord.record(w.deputy, 2026)
    assert entry["review"]["marked"] == 3 and entry["review"]["rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert "满意率 66.7%" in client.get(f"/d/{w.deputy.code}").get_data(as_text=True)
    assert "八、述职评议结果" in [h for h, _ in dutyrecord.draft_sections(entry)]


# --- the league table, inactivity, 双联系 ---------------------------------------------------------------------

def test_the_league_compares_only_deputies_of_one_level_and_hides_a_level_too_small(app):
    w = world()
    app.config["DUTY_LEAGUE_MIN"] = 2
    Deputy.create(code="DEP003", name="郑明", level="county")
    w.staff.display_name = "staff"
    activities.log_contact(w.staff, {"deputy": "DEP003", "day": "2026-01-05", "way": "visit", "note": "走访"})
    with freeze_time("2026-01-05 02:00:00"):
        workflow.perform(case_in(w, "submitted"), "accept", w.deputy_account)
    league = dutyrecord.league(2026)
    tables = {t["level"]: t for t in league["tables"]}
    assert tables["county"]["hidden"] is False
    assert [(r["deputy"].code, r["total"]) for r in tables["county"]["rows"]] == [("DEP001", 1), ("DEP003", 0)]  # a contact received is on the record, not a deed of the deputy's
    assert tables["township"]["hidden"] is True and tables["township"]["rows"] == []


def test_deputies_with_no_activity_get_one_gentle_reminder_a_month(app):
    w = world()
    with freeze_time("2026-03-01 02:00:00"):
        rule = monthly_rule(w)
    with freeze_time("2026-03-15 01:05:00"):
        activities.check_in(w.deputy_account, day_on(rule, "2026-03-15"))
    with freeze_time("2026-05-01 02:00:00"):
        assert [d.code for d, _ in dutyrecord.inactive(3)] == ["DEP002"]
        assert dutyrecord.remind_inactive()["reminded"] == 1
        assert dutyrecord.remind_inactive()["reminded"] == 0
    with freeze_time("2026-07-01 02:00:00"):  # three months on, the first deputy has gone quiet too
        assert dutyrecord.remind_inactive()["reminded"] == 2
    assert kinds(w.other_deputy_account) == ["duty_inactive", "duty_inactive"]
    assert kinds(w.deputy_account) == ["duty_inactive"]
    with freeze_time("2026-07-20 02:00:00"):  # a step on a case, a 双联系 contact: active again
        workflow.perform(case_in(w, "submitted"), "accept", w.deputy_account)
        activities.log_contact(w.staff, {"deputy": w.other_deputy.code, "day": "2026-07-19", "way": "phone",
                                         "note": "电话了解履职情况"})
    with freeze_time("2026-08-01 02:00:00"):
        assert dutyrecord.inactive(3) == [] and dutyrecord.remind_inactive()["reminded"] == 0


def test_the_quarterly_contact_report_counts_members_and_names_the_deputies_nobody_contacted(app):
    w = world()
    with freeze_time("2026-05-20 02:00:00"):
        activities.log_contact(w.staff, {"deputy": w.deputy.code, "day": "2026-04-02", "way": "visit", "note": "走访"})
        activities.log_contact(w.staff, {"deputy": w.deputy.code, "day": "2026-05-02", "way": "phone", "note": "电话"})
        activities.log_contact(w.town_staff, {"deputy": w.deputy.code, "day": "2026-03-30", "way": "phone",
                                              "note": "上季度"})
        with pytest.raises(ServiceError):
            activities.log_contact(w.staff, {"deputy": w.deputy.code, "day": "2026-06-02", "way": "phone",
                                             "note": "还没到的日子"})
    report = activities.contact_report(2026, 2)
    assert report["contacts"] == 2 and report["contacted"] == 1
    assert report["members"] == [{"member": "staff", "contacts": 2, "deputies": 1, "ways": {"走访": 1, "电话": 1}}]
    assert [d.code for d in report["missed"]] == ["DEP002"]
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(activities.contact_report_xlsx(report)))
    rows = [[c.value for c in row] for row in book["组成人员联系情况"].iter_rows()]
    assert ["staff", 2, 1, "走访1次、电话1次"] in rows


# --- 代表联系组 -----------------------------------------------------------------------------------------------

def test_a_group_activity_invites_every_member_of_the_group_and_its_sub_groups(app):
    w = world()
    extra = Deputy.create(code="DEP003", name="郑明", level="county")
    parent = activities.save_group(w.staff, {"name": "城关片联系组", "leader": w.deputy.code, "members": []})
    activities.save_group(w.staff, {"name": "城关社区小组", "parent": str(parent.id), "members": [extra.code]})
    with pytest.raises(ServiceError):
        activities.save_group(w.staff, {"name": "城关片联系组", "members": []})
    assert [(g.name, g.depth, g.size) for g in activities.groups()] == [("城关片联系组", 0, 1), ("城关社区小组", 1, 1)]
    found = activities.create(w.staff, {"kind": "group", "title": "联系组活动", "group": str(parent.id),
                                        "starts_at": "2030-04-20T09:00", "ends_at": "2030-04-20T12:00"})
    assert sorted(a.deputy.code for a in found.attendance) == ["DEP001", "DEP003"]


@freeze_time("2026-03-10 02:00:00")
def test_a_bookers_name_and_phone_go_when_they_delete_their_account_and_after_the_retention_period(app):
    from services import privacy
    w = world()
    rule = monthly_rule(w)
    form = {"deputy": w.deputy.code, "topic": "小区加装电梯的问题", "name": "张三", "phone": "13800001111"}
    mine = activities.book(w.citizen, day_on(rule, "2026-03-15"), form)
    later = activities.book(w.other_citizen, day_on(rule, "2026-04-15"), {**form, "name": "李四"})
    privacy.delete_account(w.citizen)
    gone = Booking.get_by_id(mine.id)
    assert (gone.name, gone.phone, gone.account_id) == (privacy.DELETED_NAME, "", None)
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 30
    with freeze_time("2026-05-20 02:00:00"):
        privacy.purge_expired()
    assert (Booking.get_by_id(later.id).phone, Booking.get_by_id(later.id).name) == ("", "")
    assert activities.booked_count(day_on(rule, "2026-04-15")) == 1  # still counted for the station


def test_a_bound_deputy_scanning_the_stations_code_in_the_official_account_is_checked_in(app, client):
    from tests.wechat_helpers import event_xml, post_plain, read_reply
    w = world()
    w.deputy_account.oa_openid = "oa-deputy"
    w.deputy_account.save()
    now = utcnow() + dt.timedelta(hours=8)
    day = activities.add_day(w.staff, w.town_a, {
        "starts_at": (now + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "deputies": [w.deputy.code]})

    def scan(openid):
        xml = event_xml("SCAN", openid=openid, key="s:TA", extra="<Ticket>t</Ticket>")
        return read_reply(post_plain(client, xml).get_data(as_text=True))
    reply = scan("oa-deputy")
    assert reply.content.startswith("签到成功") and day.title in reply.content
    assert activities.attendance_of(day, w.deputy).checked_in_at is not None
    assert scan("oa-somebody").articles[0]["url"].endswith("/s/TA")  # anyone else: the station's card
    for bad in ("abc", "1; drop", "9" * 20):
        with pytest.raises(ServiceError) as err:
            activities.create(w.staff, {"kind": "group", "title": "联系组活动", "group": bad,
                                        "starts_at": "2030-04-20T09:00", "ends_at": "2030-04-20T12:00"})
        assert err.value.code == "bad_group"


def test_questions_a_deputy_put_to_a_wenzheng_count_on_their_record(app):
    from tests.test_inquiry_questions import act, ask, close_collection, collecting
    w = world()
    found = collecting(w)
    listed = ask(w, found, "城区老旧小区停车位严重不足，晚上车辆乱停乱放。", who=w.deputy_account)
    ask(w, found, "学校门口上下学时段交通拥堵，缺少交警疏导。", who=w.deputy_account)
    ask(w, found, "菜市场周边占道经营严重，影响通行。")  # a citizen's question is not on the deputy's record
    from services import inquiries
    inquiries.advance(w.staff, close_collection(found), "mobilisation")
    act(listed, "list", w.staff, section="question")
    entry = dutyrecord.record(w.deputy, utcnow().year)
    assert entry["questions"] == {"asked": 2, "listed": 1}
    assert entry["reports"]["received"] == 0  # questions are not reports
    assert "在问政中提出问题2个，列入问题清单1个。" in [p for _, ps in dutyrecord.draft_sections(entry) for p in ps]
    assert dutyrecord.record(w.other_deputy, utcnow().year)["questions"] == {"asked": 0, "listed": 0}
