"""The office's pages for reception days, activities, 联系组, 双联系, 履职档案 and 述职, and the deputy's phone record —
through the real app on a fresh database."""
import datetime as dt
import io

from docx import Document

from models import Activity, Booking, Case, DeputyGroup, DutyReport, Notification, utcnow
from services import activities
from tests.factories import csrf_of, world
from tests.test_ballots import _login, _phone_session


def test_the_office_sets_a_calendar_plans_an_activity_records_it_and_enters_what_it_heard(app, client):
    w = world()
    _login(client, "staff")
    token = csrf_of(client.get("/console/reception?station=TA"))
    response = client.post("/console/reception", data={
        "csrf_token": token, "station": "TA", "repeat": "weekly", "weekday": "3", "start_time": "09:00",
        "end_time": "11:00", "slots": "5", "deputies": [w.deputy.code]})
    assert response.status_code == 302
    page = client.get("/console/reception?station=TA").get_data(as_text=True)
    assert "每周三 09:00–11:00" in page and page.count("周建华") >= 8
    bad = client.post("/console/reception", data={"csrf_token": token, "station": "TA", "repeat": "weekly",
                                                  "weekday": "9", "deputies": [w.deputy.code]})
    assert bad.status_code == 400 and "请选择接待日的重复方式" in bad.get_data(as_text=True)

    start = (dt.datetime.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    response = client.post("/console/activities/new", data={
        "csrf_token": token, "kind": "inspection", "title": "城区老旧小区改造专题视察", "starts_at": start,
        "ends_at": start.replace("09:00", "12:00"), "place": "城关镇幸福小区", "deputies": [w.deputy.code]})
    assert response.status_code == 302
    code = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/console/activities/{code}").get_data(as_text=True)
    assert "城区老旧小区改造专题视察" in page and "<svg" in page and f"/m/checkin/{code}" in page
    assert Notification.get(Notification.kind == "activity_invite").account_id == w.deputy_account.id
    client.post(f"/console/activities/{code}/record", data={"csrf_token": token, "record": "视察了三个小区。"})
    assert Activity.get(Activity.code == code).record == "视察了三个小区。"
    assert client.post("/console/activities/new", data={"csrf_token": token, "kind": "inspection", "title": "无人",
                                                        "starts_at": start, "ends_at": start}).status_code == 400

    day = activities.upcoming(station=w.town_a)[0]
    booking = activities.book(w.citizen, day, {"deputy": w.deputy.code, "topic": "加装电梯", "name": "张三",
                                               "phone": "13800001111"})
    page = client.get(f"/console/activities/{day.code}").get_data(as_text=True)
    assert "138****1111" in page and "13800001111" not in page
    shown = client.post(f"/console/activities/{day.code}/phone", data={"csrf_token": token, "booking": booking.code})
    assert "13800001111" in shown.get_data(as_text=True)
    from models import AuditLog
    assert AuditLog.get(AuditLog.action == "view_phone").target_id == booking.code
    import pytest
    from services.errors import ServiceError
    with pytest.raises(ServiceError):  # station staff of another town may not
        activities.reveal_booking_phone(w.other_town_staff, booking)
    assert activities.reveal_booking_phone(w.deputy_account, booking) == "13800001111"  # the deputy booked may
    with pytest.raises(ServiceError):
        activities.reveal_booking_phone(w.other_deputy_account, booking)
    client.post(f"/console/activities/{day.code}/report", data={
        "csrf_token": token, "deputy": w.deputy.code, "booking": booking.code, "category": "traffic",
        "citizen_name": "张三", "contact_phone": "13800001111", "content": "小区加装电梯，希望协调。"})
    case = Case.get(Case.content == "小区加装电梯，希望协调。")
    assert (case.source, case.deputy_id, case.entered_by_id) == ("visit", w.deputy.id, w.staff.id)
    assert case.number in client.get(f"/console/activities/{day.code}").get_data(as_text=True)
    client.post(f"/console/activities/{day.code}/cancel", data={"csrf_token": token, "reason": "场地维修"})
    assert Activity.get_by_id(day.id).state == "cancelled"
    assert Notification.get(Notification.kind == "booking_dropped").account_id == w.citizen.id
    assert Booking.get_by_id(booking.id).state == "booked"  # the booking stays; the day is cancelled


def test_groups_contacts_records_and_duty_reports_pages(app, client):
    w = world()
    _login(client, "staff")
    token = csrf_of(client.get("/console/groups"))
    client.post("/console/groups", data={"csrf_token": token, "name": "城关片联系组", "leader": w.deputy.code,
                                         "members": [w.other_deputy.code]})
    assert DeputyGroup.get(DeputyGroup.name == "城关片联系组").members.count() == 2
    assert "城关片联系组" in client.get("/console/groups").get_data(as_text=True)
    client.post("/console/contacts", data={"csrf_token": token, "deputy": w.deputy.code,
                                           "day": dt.date.today().isoformat(), "way": "phone", "note": "电话联系"})
    page = client.get("/console/contacts").get_data(as_text=True)
    assert "联系 1 次，联系代表 1 人" in page
    quarter = (dt.date.today().month - 1) // 3 + 1
    assert client.get(f"/console/contacts/{dt.date.today().year}-{quarter}.xlsx").status_code == 200
    page = client.get("/console/records").get_data(as_text=True)
    assert "不作排行比较" in page and "个月没有履职记录的代表" in page
    year = dt.date.today().year
    client.post(f"/console/records/{w.deputy.code}?year={year}", data={"csrf_token": token, "what": "schedule"})
    assert DutyReport.get(DutyReport.deputy == w.deputy).year == year
    client.post(f"/console/records/{w.deputy.code}?year={year}", data={"csrf_token": token, "own_words": "我的话"})
    document = Document(io.BytesIO(client.get(f"/console/records/{w.deputy.code}/{year}.docx").data))
    assert "我的话" in [p.text for p in document.paragraphs]
    assert client.get(f"/console/records/{w.deputy.code}/{year}.pdf").data.startswith(b"%PDF")
    page = client.get(f"/console/duty-reports?year={year}").get_data(as_text=True)
    assert "周建华" in page and "发起述职评议" in page
    now = utcnow() + dt.timedelta(hours=8)
    report = DutyReport.get(DutyReport.deputy == w.deputy)
    client.post(f"/console/duty-reports?year={year}", data={
        "csrf_token": token, "what": "review", "report": str(report.id), "electorate": "deputies",
        "deputies": [w.other_deputy.code], "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    ballot = DutyReport.get_by_id(report.id).ballot
    assert ballot.kind == "duty_review" and [e.deputy.code for e in ballot.electors] == [w.other_deputy.code]
    assert Notification.get(Notification.kind == "ballot_open").account_id == w.other_deputy_account.id
    client.post(f"/console/duty-reports?year={year}", data={"csrf_token": token})  # 按规则安排: the rest of the third
    assert DutyReport.select().where(DutyReport.year == year).count() == 1  # ceil(2/3) = 1, already scheduled
    deputy_client = client.application.test_client()
    _login(deputy_client, "deputy")
    assert deputy_client.get("/console/records").status_code == 403


def test_the_deputy_sees_their_record_and_writes_their_own_words_on_the_phone(app, client):
    w = world()
    report = DutyReport.create(deputy=w.deputy, year=dt.date.today().year)
    _phone_session(client, w.deputy_account)
    assert "我的履职档案" in client.get("/m/").get_data(as_text=True)
    page = client.get("/m/record").get_data(as_text=True)
    assert "履职档案" in page and "我的述职" in page
    client.post("/m/record", data={"csrf_token": "t", "own_words": "每月到站接待。"})
    assert DutyReport.get_by_id(report.id).own_words == "每月到站接待。"
    assert client.get(f"/m/record/{report.year}.docx").status_code == 200
    activities.add_rule(w.staff, w.town_a, {"repeat": "weekly", "weekday": "3", "start_time": "09:00",
                                            "end_time": "11:00", "deputies": [w.deputy.code]})
    booking = activities.book(w.citizen, activities.upcoming(station=w.town_a)[0], {
        "deputy": w.deputy.code, "topic": "加装电梯的事", "name": "张三", "phone": "13800001111"})
    page = client.get("/m/record").get_data(as_text=True)
    assert "加装电梯的事" in page and "138****1111" in page and "13800001111" not in page
    page = client.post("/m/record", data={"csrf_token": "t", "booking": booking.code}).get_data(as_text=True)
    assert 'href="tel:13800001111"' in page
    stranger = client.application.test_client()
    assert stranger.get("/m/record").status_code == 302


def test_the_booking_page_refuses_a_bad_form_in_chinese_and_too_many_bookings_from_one_address(app, client):
    w = world()
    app.config["H5_BOOKINGS_PER_IP_HOUR"] = 2
    activities.add_rule(w.staff, w.town_a, {"repeat": "monthly", "monthday": "15", "start_time": "09:00",
                                            "end_time": "11:30", "slots": "9", "deputies": [w.deputy.code]})
    day = activities.upcoming(station=w.town_a)[0]
    page = client.get(f"/r/{day.code}")
    assert "只有您约见的代表和人大工作人员能看到完整号码" in page.get_data(as_text=True)
    token = csrf_of(page)
    form = {"csrf_token": token, "deputy": w.deputy.code, "topic": "加装电梯的事", "name": "张三", "phone": "1380000"}
    response = client.post(f"/r/{day.code}", data=form)
    assert response.status_code == 400 and "请填写正确的手机号或座机号" in response.get_data(as_text=True)
    assert client.post(f"/r/{day.code}", data={**form, "phone": "13800001111"}).status_code == 303
    response = client.post(f"/r/{day.code}", data={**form, "phone": "13800001111"})
    assert response.status_code == 429 and "预约太频繁" in response.get_data(as_text=True)
    assert Booking.select().count() == 1 and client.get("/r/NOSUCH").status_code == 404
