"""The office's console pages through the Flask client: 待办 counts equal their lists, every statistics figure
equals the queue it links to (random data, with filters), the statistics export, the audit-log page, its
purge, PDF answer letters, and the on-behalf entry form."""
import datetime as dt
import html
import io
import re

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from models import AuditLog, Case, CaseEvent, Notification, Upload
from services import audit, workflow
from tests.factories import case_in, new_case, world
from tests.test_console import post, sign_in
from tests.test_stats import busy_month


@pytest.fixture
def w(app):
    return world()


def queue_total(client, href):
    page = client.get(html.unescape(href)).get_data(as_text=True)
    return int(re.search(r"共 (\d+) 件", page).group(1))


def drill_links(page):
    """(figure, count shown, href) for every number on the statistics page that links to the queue."""
    return [(fig, int(n), href) for href, fig, n in
            re.findall(r'<a href="(/console/cases\?[^"]+)" data-figure="(\w+)">(\d+)</a>', page)]


def test_every_figure_links_to_exactly_the_cases_it_counts(client, w):
    busy_month(w, seed=11)
    with freeze_time("2026-04-10 02:00:00"):
        sign_in(client, w.staff)
        for query in ("", "?department=D1&start=2026-03-10&end=2026-03-25", "?station=TB&category=education",
                      "?deputy=DEP001&source=miniprogram"):
            page = client.get("/console/stats" + query).get_data(as_text=True)
            links = drill_links(page)
            assert len(links) > 30, query
            figures = {fig for fig, _, _ in links}
            assert {"total", "due", "concluded", "rated", "satisfied", "resolved", "on_time", "handled"} <= figures
            for figure, shown, href in links:
                assert queue_total(client, href) == shown, (query, figure, href)


def test_concluded_in_the_statistics_is_the_queue_of_concluded_cases_not_only_closed(client, w):
    for state in ("answered", "rated", "closed", "closed", "in_progress"):
        case_in(w, state)
    sign_in(client, w.staff)
    page = client.get("/console/stats").get_data(as_text=True)
    (href,) = {h for f, n, h in drill_links(page) if f == "concluded" and "department" not in h
               and "at_station" not in h and "category" not in h and "start" not in h and "project" not in h}
    assert queue_total(client, href) == 4  # answered + rated + 2 closed
    assert queue_total(client, "/console/cases?state=closed") == 2
    listing = client.get(html.unescape(href)).get_data(as_text=True)
    assert "统计口径：<b>已办结（已答复、已评价、已办结）</b>" in listing


def test_statistics_export_has_a_sheet_per_table(client, w):
    case_in(w, "closed")
    sign_in(client, w.staff)
    response = client.get("/console/stats/export.xlsx?department=D1")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["总体", "承办单位", "联络站", "问题类别", "按月", "民生实事项目", "代表响应"]
    overall = book["总体"]
    assert [c.value for c in overall[2]] == ["范围", "件数", "应办结", "已办结", "办结率", "按期办结率", "已评价", "满意率",
                                             "办成率"]
    assert [c.value for c in overall[3]][:4] == ["全部", 1, 1, 1]
    assert [c.value for c in book["承办单位"][3]][:2] == ["县交通运输局", 1]


def test_todo_counts_match_their_lists_for_staff_and_departments(client, w):
    with freeze_time("2026-03-02 02:00:00"):  # a Monday, long ago: late for 受理
        old = new_case(w, title="五个月前的反映")
    case_in(w, "submitted")
    forwarded = workflow.perform(new_case(w), "forward", w.deputy_account, {"note": "请交住建局"})
    workflow.perform(case_in(w, "assigned"), "return", w.lead, {"reason": "not_our_duty"})
    extension = case_in(w, "in_progress")
    workflow.perform(extension, "request_extension", w.lead, {"days": 5, "reason": "需要协调资金"})
    workflow.perform(case_in(w, "in_progress"), "supplement", w.citizen, {"note": "补充：坑更大了"})
    case_in(w, "rated")
    workflow.submit_case(w.citizen, {"deputy": w.deputy.code, "category": "traffic", "content": "需要审核的内容。"},
                         flagged_reason="内容安全检查未通过")
    sign_in(client, w.staff)
    page = client.get("/console/").headers["Location"]
    assert page.endswith("/console/todo")
    home = client.get("/console/todo").get_data(as_text=True)
    counts = {k: int(n) for k, n in re.findall(r'data-todo="(\w+)"[^>]*><small>[^<]*</small><b>(\d+)</b>', home)}
    assert counts["new"] == 3 and counts["accept_late"] == 1 and counts["to_assign"] == 2
    assert (counts["returned"], counts["extension"], counts["supplement"], counts["unsatisfied"],
            counts["flagged"]) == (1, 1, 1, 1, 1)
    assert re.search(rf"{old.number}</a></td><td>五个月前的反映</td>\s*<td>待受理</td><td class=\"num age\">\d+个月", home)
    for key, n in counts.items():
        assert queue_total(client, f"/console/cases?todo={key}") == n
    kinds = {n.kind for n in Notification.select().where(Notification.account == w.staff)}
    assert {"staff_forwarded", "staff_returned", "staff_extension", "staff_supplement", "staff_unsatisfied"} <= kinds
    assert forwarded.state == "accepted"

    sign_in(client, w.lead)
    home = client.get("/console/todo").get_data(as_text=True)
    counts = {k: int(n) for k, n in re.findall(r'data-todo="(\w+)"[^>]*><small>[^<]*</small><b>(\d+)</b>', home)}
    assert counts == {"to_sign": 0, "handling": 2, "reopened": 0, "supplement": 1, "overdue": 0, "due_soon": 0}
    for key, n in counts.items():
        assert queue_total(client, f"/console/cases?todo={key}") == n
    sign_in(client, w.deputy_account)
    assert client.get("/console/").headers["Location"].endswith("/console/cases")
    assert client.get("/console/todo").status_code == 403


def test_audit_log_page_filters_and_exports_and_old_entries_are_purged(client, w, app):
    case = case_in(w, "assigned")
    workflow.perform(case, "recall", w.staff, {"reason": "交办有误"})
    sign_in(client, w.lead)
    other = case_in(w, "in_progress")
    post(client, f"/console/cases/{other.number}/phone")
    sign_in(client, w.admin)
    page = client.get(f"/console/audit?target={case.number}").get_data(as_text=True)
    assert page.count("<tr><td>") == 4 and "case.recall" in page and "reason=交办有误" in page
    page = client.get("/console/audit?action=view_phone").get_data(as_text=True)
    assert page.count("<tr><td>") == 1 and "lead" in page and other.number in page
    response = client.get("/console/audit/export.xlsx?action=case.")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "审计日志" and [c.value for c in sheet[2]][:4] == ["时间", "操作人", "角色", "操作"]
    assert sheet.max_row == 2 + AuditLog.select().where(AuditLog.action.startswith("case.")).count()
    assert isinstance(sheet["A3"].value, dt.datetime)
    sign_in(client, w.town_staff)
    assert client.get("/console/audit").status_code == 403  # township staff: not the whole county's log
    sign_in(client, w.lead)
    assert client.get("/console/audit").status_code == 403
    # retention: at least 180 days, whatever the setting says
    AuditLog.update(at=dt.datetime(2020, 1, 1)).where(AuditLog.action == "view_phone").execute()
    recent = AuditLog.select().count() - 1
    assert audit.purge(30) == 1 and AuditLog.select().count() == recent
    assert app.config["AUDIT_RETENTION_DAYS"] >= 180


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_answer_letter_as_pdf_and_a_refused_form_keeps_the_text(client, w):
    case = case_in(w, "in_progress")
    sign_in(client, w.lead)
    path = f"/console/cases/{case.number}/act/answer"
    refused = post(client, path, {"answer_class": "B", "text": "已列入明年计划，详见答复函。",
                                  "attachments": (io.BytesIO(b"%PDF-1.4 truncated"), "答复函.pdf")},
                   content_type="multipart/form-data")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "PDF 文件不完整" in page
    assert "已列入明年计划，详见答复函。</textarea>" in page and '<option value="B" selected' in page
    fake = post(client, path, {"answer_class": "B", "text": "已列入明年计划。",
                               "attachments": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "答复函.pdf")},
                content_type="multipart/form-data")
    assert fake.status_code == 400 and Case.get_by_id(case.id).state == "in_progress"
    ok = post(client, path, {"answer_class": "B", "text": "已列入明年计划，详见答复函。",
                             "attachments": (io.BytesIO(PDF), "答复函.pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 302 and Case.get_by_id(case.id).state == "answered"
    upload = Upload.get(Upload.mime == "application/pdf")
    served = client.get(f"/uploads/{upload.token}")
    assert served.status_code == 200 and served.data == PDF and served.mimetype == "application/pdf"


def test_staff_enter_a_report_on_behalf_through_the_form(client, w):
    sign_in(client, w.town_staff)
    form = client.get("/console/cases/new").get_data(as_text=True)
    assert "接待日来访" in form and "河西镇" not in form  # only the staff member's own stations
    refused = post(client, "/console/cases/new", {"intake": "visit", "station": "TA", "category": "social",
                                                 "citizen_name": "王大爷", "content": "短"})
    assert refused.status_code == 400 and 'value="王大爷"' in refused.get_data(as_text=True)
    done = post(client, "/console/cases/new", {"intake": "phone", "station": "TA", "category": "social",
                                              "citizen_name": "王大爷", "contact_phone": "13900002222",
                                              "content": "低保申请三个月没有回音。"})
    case = Case.get(Case.entered_by == w.town_staff.id)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/cases/{case.number}")
    page = client.get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "电话反映" in page and "town_a_staff代录" in page


def test_station_staff_are_refused_outside_their_subtree_on_every_edit_page(client, w):
    """Town A's staff: town B's deputies, stations, projects and cases, county-wide projects, departments and
    accounts are refused with 403 and a Chinese message, and nothing changes."""
    from models import Deputy, Department, Project, Station
    other_project = Project.create(code="XM002", name="河西镇路灯", year=2026, station=w.town_b)
    county_project = Project.create(code="XM003", name="全县农贸市场", year=2026)
    b_case = new_case(w, deputy=w.other_deputy.code, content="河西镇路灯坏了很久了。")
    sign_in(client, w.town_staff)
    deputy_form = {"name": "吴秀英", "level": "township", "station": "TB"}
    refused = [
        ("/console/deputies/DEP002", deputy_form),                                  # a deputy of town B
        ("/console/deputies/DEP001", {**deputy_form, "name": "周建华", "station": "TB"}),  # moved out of scope
        ("/console/deputies/new", {**deputy_form, "code": "DEP009"}),               # created in town B
        ("/console/stations/TB", {"name": "改名", "level": "town", "kind": "station"}),
        ("/console/stations/new", {"code": "TB9", "parent": "TB", "name": "新站", "level": "village",
                                   "kind": "point"}),
        ("/console/stations/C1", {"name": "改名", "level": "county", "kind": "station"}),  # the county's own
        ("/console/departments", {"code": "D9", "name": "县新设局"}),
        ("/console/projects/XM002/edit", {"name": "改名", "year": "2026", "station": "TB"}),
        ("/console/projects/XM003/edit", {"name": "改名", "year": "2026"}),
        ("/console/projects/new", {"code": "XM009", "name": "新项目", "year": "2026", "station": "TB"}),
        ("/console/projects/XM002/milestones", {"title": "开工"}),
        ("/console/projects/XM002/updates", {"text": "已开工建设"}),
        ("/console/accounts", {"username": "x", "role": "staff"}),
        (f"/console/cases/{b_case.number}/act/accept", {}),
    ]
    for path, data in refused:
        response = post(client, path, data)
        assert response.status_code in (403, 404), (path, response.status_code)
        if response.status_code == 403:
            assert re.search("辖区|管理员|无权", response.get_data(as_text=True)), path
    assert client.get("/console/projects/XM002/edit").status_code == 403
    assert Deputy.get(Deputy.code == "DEP002").station_id == w.town_b.id
    assert Deputy.get(Deputy.code == "DEP001").station_id == w.town_a.id
    assert not Deputy.select().where(Deputy.code == "DEP009").exists()
    assert Station.get(Station.code == "TB").name == "河西镇联络站" and not Station.select().where(
        Station.code == "TB9").exists()
    assert not Department.select().where(Department.code == "D9").exists()
    assert Project.get_by_id(other_project.id).name == "河西镇路灯" and Project.get_by_id(county_project.id).name == \
        "全县农贸市场"
    assert Case.get_by_id(b_case.id).state == "submitted"
    # within the subtree the same pages work
    ok = post(client, "/console/deputies/DEP001", {"name": "周建华", "level": "county", "station": "TA",
                                                  "constituency": "城关镇第一选区"})
    assert ok.status_code == 302 and Deputy.get(Deputy.code == "DEP001").constituency == "城关镇第一选区"
    assert post(client, "/console/projects/XM001/milestones", {"title": "开工"}).status_code == 302


def test_late_acceptance_goes_to_the_station_staff_then_the_county_office(w, app):
    from jobs import tasks
    with freeze_time("2026-03-02 02:00:00"):  # Monday
        case = new_case(w)
    with freeze_time("2026-03-05 02:00:00"):  # three working days: not yet late
        assert tasks.escalate_late_steps() == {"escalated": 0}
    with freeze_time("2026-03-06 02:00:00"):  # the fourth: late, the town's staff hear of it
        assert tasks.escalate_late_steps() == {"escalated": 1}
        assert tasks.escalate_late_steps() == {"escalated": 0}  # once per level
    late = {(n.account_id, n.kind) for n in Notification.select().where(Notification.kind == "staff_late")}
    assert late == {(w.town_staff.id, "staff_late")}
    with freeze_time("2026-03-12 02:00:00"):  # seven working days: the county office
        assert tasks.escalate_late_steps() == {"escalated": 1}
    late = {n.account_id for n in Notification.select().where(Notification.kind == "staff_late")}
    assert late == {w.town_staff.id, w.staff.id}
    events = [(e.action, e.data.get("level"), e.data.get("step")) for e in case.events.order_by("id")]
    assert events[-2:] == [("escalate", 1, "受理"), ("escalate", 2, "受理")]
    assert Case.get_by_id(case.id).state == "submitted"


def test_late_signing_reminds_the_department(w, app):
    from jobs import tasks
    with freeze_time("2026-03-02 02:00:00"):
        case = case_in(w, "assigned")
    with freeze_time("2026-03-05 02:00:00"):
        assert tasks.escalate_late_steps() == {"escalated": 1}
    assert {n.kind for n in Notification.select().where(Notification.account == w.lead)} >= {"dept_sign_late"}
    assert case.events.order_by(CaseEvent.id.desc()).first().data["step"] == "签收"


def test_staff_morning_digest_and_audit_purge_job(w, app):
    from jobs import tasks
    new_case(w)
    assert tasks.daily_digest()["written"] >= 2
    digest = Notification.get(Notification.account == w.staff, Notification.kind == "digest_staff")
    assert "新反映 1 件" in digest.body
    assert not Notification.select().where(Notification.account == w.other_town_staff,
                                           Notification.kind == "digest_staff").exists()
    AuditLog.update(at=dt.datetime(2020, 1, 1)).execute()
    assert tasks.purge_audit_log()["purged"] >= 1 and AuditLog.select().count() == 0


def test_pushes_lost_in_an_inbox_nobody_can_open_show_on_the_failed_page(client, w):
    from models import Account
    from services import delivery
    phone_only = Account.create(role="citizen", display_name="王大爷", phone="13900002222")  # entered by staff
    case = new_case(w, reporter=phone_only)
    new_case(w)  # the mini-program citizen: the inbox is theirs to read
    workflow.perform(case, "accept", w.deputy_account)
    delivery.drain()
    sign_in(client, w.staff)
    page = client.get("/console/notifications/failed").get_data(as_text=True)
    lost = page.split('id="lost-table"')[1]
    assert "王大爷" in lost and case.number in lost and "张三" not in lost


def test_batch_cards_from_a_console_button_in_the_background(client, w):
    import time
    import zipfile
    from models import Deputy
    Deputy.create(code="DEP003", name="郑立新", level="county", station=w.town_b)
    sign_in(client, w.town_staff)
    assert 'id="batch-cards"' in client.get("/console/deputies").get_data(as_text=True)
    assert post(client, "/console/exports", {"kind": "deputies", "station": "TB", "fmt": "svg"}).status_code == 403
    started = post(client, "/console/exports", {"kind": "deputies", "station": "", "fmt": "svg"})
    assert started.status_code == 302
    progress = started.headers["Location"]
    deadline = time.time() + 60  # a safety net only: the loop ends when the page says done
    while 'data-state="running"' in (page := client.get(progress).get_data(as_text=True)) and time.time() < deadline:
        time.sleep(0.2)
    assert 'data-state="done"' in page and "1 / 1" in page
    download = client.get(re.search(r'id="batch-download" href="([^"]+)"', page).group(1))
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert download.status_code == 200 and names == ["DEP001-周建华.svg"]  # town A's deputy only
    sign_in(client, w.staff)
    assert client.get(progress).status_code == 404  # only its starter follows it


def test_asked_after_closing_whether_it_is_really_solved_and_no_puts_it_back_on_the_office_desk(client, w, app):
    from jobs import tasks
    with freeze_time("2026-03-02 02:00:00"):
        case = case_in(w, "closed")
    with freeze_time("2026-03-10 02:00:00"):
        assert tasks.ask_if_resolved() == {"asked": 0}  # too early
    with freeze_time("2026-03-18 02:00:00"):
        assert tasks.ask_if_resolved() == {"asked": 1}
        assert tasks.ask_if_resolved() == {"asked": 0}  # once
    check = Notification.get(Notification.kind == "case_check")
    assert check.account_id == w.citizen.id and check.title == "问题是否真正解决了？"
    with pytest.raises(Exception):
        workflow.perform(case, "reopen", w.staff, {"days": 5})  # not without the citizen's 没有
    case = workflow.perform(case, "resolution", w.citizen, {"resolved": "no"})
    assert "staff_unresolved" in {n.kind for n in Notification.select().where(Notification.account == w.staff)}
    sign_in(client, w.staff)
    home = client.get("/console/todo").get_data(as_text=True)
    assert re.search(r'data-todo="unresolved"[^>]*><small>[^<]*</small><b>1</b>', home)
    assert queue_total(client, "/console/cases?todo=unresolved") == 1
    reopened = workflow.perform(case, "reopen", w.staff, {"days": 5})
    assert (reopened.state, reopened.round, reopened.closed_at) == ("assigned", 2, None)
    assert queue_total(client, "/console/cases?todo=unresolved") == 0


def test_a_staff_member_may_take_to_dos_as_the_morning_digest_only(client, w):
    from jobs import tasks
    sign_in(client, w.town_staff)
    assert post(client, "/console/todo/push-mode", {"mode": "digest"}).status_code == 302
    assert 'value="digest" checked' in client.get("/console/todo").get_data(as_text=True)
    case = workflow.perform(new_case(w), "forward", w.deputy_account, {"note": "请交办"})
    pushed = {(n.account_id, n.kind) for n in Notification.select().where(Notification.case == case.id)}
    assert (w.staff.id, "staff_forwarded") in pushed and (w.town_staff.id, "staff_forwarded") not in pushed
    tasks.daily_digest()
    assert Notification.select().where(Notification.account == w.town_staff,
                                       Notification.kind == "digest_staff").exists()
    assert post(client, "/console/todo/push-mode", {"mode": "sometimes"}).status_code == 302
    assert 'value="digest" checked' in client.get("/console/todo").get_data(as_text=True)


def test_deputy_and_station_forms_keep_what_was_typed_when_refused(client, w):
    sign_in(client, w.staff)
    page = post(client, "/console/deputies/DEP001", {"name": "周建华", "level": "county", "station": "TA",
                                                    "constituency": "城关镇第二选区", "term_start": "2026-13-01"})
    text = page.get_data(as_text=True)
    assert "任期开始格式" in text and 'value="城关镇第二选区"' in text and 'value="2026-13-01"' in text
    page = post(client, "/console/stations/TA", {"name": "城关镇联络站", "level": "nowhere", "kind": "station",
                                                "address": "城关镇人民路8号"})
    assert 'value="城关镇人民路8号"' in page.get_data(as_text=True)
