"""The web console through the Flask client: sign-in, lock-out, CSRF, the permission matrix, case actions,
bulk assign, exports and the statistics dashboard against a dataset computed by hand."""
import csv
import datetime as dt
import io
import re
import time

import pytest
from openpyxl import load_workbook

from handlers.console import password_mark
from models import Account, AuditLog, Case, Follow, Notification, ProjectUpdate
from services import accounts, calendar, stats, todo, workflow
from tests.factories import case_in, new_case, world

PASSWORD = "secret-pass-1"


@pytest.fixture
def w(app):
    return world()


def with_password(*people):
    for a in people:
        accounts.set_password(a, PASSWORD)
        a.save()


def token(client):
    with client.session_transaction() as sess:
        return sess.setdefault("csrf", "test-csrf-token")


def sign_in(client, account):
    """A signed-in session, as the login form leaves it."""
    account = Account.get_by_id(account.id)
    with client.session_transaction() as sess:
        sess.update(uid=account.id, seen=time.time(), pw=password_mark(account), csrf="test-csrf-token")
    return client


def post(client, path, data=None, **kw):
    return client.post(path, data={"csrf_token": token(client), **(data or {})}, **kw)


def flashes(client, path):
    return re.findall(r'<p class="flash (\w+)" role="alert">([^<]*)</p>', client.get(path).get_data(as_text=True))


# --- sign-in, lock-out, session, CSRF -------------------------------------------------------------

def test_login_form_signs_in_and_unknown_password_is_refused_in_chinese(client, w):
    with_password(w.staff)
    page = client.get("/console/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    bad = client.post("/console/login", data={"username": "staff", "password": "wrong", "csrf_token": csrf})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    ok = client.post("/console/login", data={"username": "staff", "password": PASSWORD, "csrf_token": csrf})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/console/")
    assert client.get("/console/cases").status_code == 200
    assert Account.get_by_id(w.staff.id).last_login_at is not None


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, w):
    with_password(w.lead)
    for _ in range(4):
        assert post(client, "/console/login", {"username": "lead", "password": "nope"}).status_code == 401
    locked = post(client, "/console/login", {"username": "lead", "password": "nope"})
    assert locked.status_code == 403 and "已锁定" in locked.get_data(as_text=True)
    still = post(client, "/console/login", {"username": "lead", "password": PASSWORD})
    assert still.status_code == 403 and "分钟后再试" in still.get_data(as_text=True)
    Account.update(locked_until=dt.datetime(2000, 1, 1)).where(Account.id == w.lead.id).execute()
    assert post(client, "/console/login", {"username": "lead", "password": PASSWORD}).status_code == 302


def test_citizen_accounts_and_disabled_accounts_cannot_sign_in(client, w):
    with_password(w.assist)
    Account.update(active=False).where(Account.id == w.assist.id).execute()
    assert "已停用" in post(client, "/console/login", {"username": "assist", "password": PASSWORD}).get_data(
        as_text=True)
    assert post(client, "/console/login", {"username": "张三", "password": PASSWORD}).status_code == 401


def test_an_idle_session_expires(client, w):
    sign_in(client, w.staff)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 2 * 3600
    response = client.get("/console/cases")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert ("error", "登录已过期，请重新登录") in flashes(client, "/console/login")


def test_password_change_needs_the_old_one_and_ends_other_sessions(app, client, w):
    with_password(w.staff)
    other = sign_in(app.test_client(), w.staff)
    sign_in(client, w.staff)
    wrong = post(client, "/console/password", {"old": "x", "new": "new-pass-22", "confirm": "new-pass-22"})
    assert "原密码不正确" in wrong.get_data(as_text=True)
    done = post(client, "/console/password", {"old": PASSWORD, "new": "new-pass-22", "confirm": "new-pass-22"})
    assert done.status_code == 302
    assert client.get("/console/cases").status_code == 200        # this session goes on
    assert other.get("/console/cases").status_code == 302         # the other one must sign in again
    assert accounts.password_ok(Account.get_by_id(w.staff.id), "new-pass-22")


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, w):
    case = case_in(w, "accepted")
    sign_in(client, w.staff)
    response = client.post(f"/console/cases/{case.number}/act/assign", data={"lead": "D1", "days": "5"})
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    wrong = client.post(f"/console/cases/{case.number}/act/assign",
                        data={"lead": "D1", "days": "5", "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert client.post("/console/login", data={"username": "staff", "password": PASSWORD}).status_code == 400
    assert Case.get_by_id(case.id).state == "accepted"


# --- the permission matrix ------------------------------------------------------------------------

ALL = {"admin", "staff", "department", "deputy"}
OFFICE = {"admin", "staff"}


def routes(w, case):
    """(method, path, roles allowed). Everything else gets 403."""
    return [
        ("GET", "/console/cases", ALL), ("GET", f"/console/cases/{case.number}", ALL),
        ("GET", "/console/cases/export.xlsx", OFFICE), ("GET", "/console/cases/export.csv", OFFICE),
        ("POST", "/console/cases/bulk-assign", OFFICE), ("POST", f"/console/cases/{case.number}/act/urge", OFFICE),
        ("POST", f"/console/cases/{case.number}/act/progress", {"department"}),
        ("GET", "/console/projects", ALL), ("GET", "/console/projects/XM001", ALL),
        ("GET", "/console/projects/new", OFFICE), ("GET", "/console/projects/XM001/edit", OFFICE),
        ("POST", "/console/projects/XM001/milestones", OFFICE),
        ("POST", "/console/projects/XM001/updates", OFFICE | {"department"}),
        ("GET", "/console/stats", OFFICE), ("GET", "/console/notifications/failed", OFFICE),
        ("GET", "/console/deputies", OFFICE), ("GET", "/console/deputies/DEP001", OFFICE),
        ("GET", "/console/deputies/new", OFFICE), ("GET", "/console/stations", OFFICE),
        ("GET", "/console/stations/TA", OFFICE), ("GET", "/console/departments", OFFICE),
        ("GET", "/console/accounts", {"admin"}), ("POST", f"/console/accounts/{w.lead.id}/unlock", {"admin"}),
        ("GET", "/console/password", ALL), ("GET", "/console/todo", OFFICE | {"department"}),
        ("GET", "/console/cases/new", OFFICE), ("GET", "/console/audit", OFFICE),
        ("GET", "/console/audit/export.xlsx", OFFICE), ("GET", "/console/stats/export.xlsx", OFFICE),
        ("GET", "/console/exports", OFFICE),
    ]


@pytest.mark.parametrize("role", ["admin", "staff", "department", "deputy"])
def test_permission_matrix(client, w, role):
    case = case_in(w, "in_progress")
    sign_in(client, {"admin": w.admin, "staff": w.staff, "department": w.lead, "deputy": w.deputy_account}[role])
    seen = {}
    for method, path, allowed in routes(w, case):
        if method == "GET":
            status = client.get(path).status_code
        else:
            status = post(client, path, {"note": "请加快办理", "text": "路基已完成", "title": "验收"}).status_code
        seen[(method, path)] = status
        expected = (200 if method == "GET" else 302) if role in allowed else 403
        assert status == expected, (role, method, path, status)


def test_signed_out_visitors_are_sent_to_the_login_form(client, w):
    case = case_in(w, "submitted")
    for method, path, _ in routes(w, case):
        if method == "GET" and path != "/console/password":
            response = client.get(path)
            assert response.status_code == 302 and "/console/login?next=" in response.headers["Location"], path


# --- who sees what --------------------------------------------------------------------------------

@pytest.mark.parametrize("probed_above", [0, todo.PROBED_ABOVE])  # a department's cases probed, or gathered
def test_each_role_lists_only_its_own_cases(client, w, monkeypatch, probed_above):
    monkeypatch.setattr(todo, "PROBED_ABOVE", probed_above)
    in_a = case_in(w, "in_progress")                                   # deputy in town A, lead D1
    in_b = new_case(w, deputy=w.other_deputy.code, content="河西镇路灯坏了很久了。")  # town B, not assigned
    listed = lambda account: set(re.findall(r"/console/cases/(\d{4}-\d{6})",  # noqa: E731
                                            sign_in(client, account).get("/console/cases").get_data(as_text=True)))
    assert listed(w.staff) == {in_a.number, in_b.number}
    assert listed(w.town_staff) == {in_a.number}
    assert listed(w.lead) == {in_a.number}
    assert listed(w.outsider_dept) == set()
    assert listed(w.deputy_account) == {in_a.number}
    assert sign_in(client, w.town_staff).get(f"/console/cases/{in_b.number}").status_code == 404
    assert sign_in(client, w.outsider_dept).get(f"/console/cases/{in_a.number}").status_code == 404


def test_department_never_sees_an_anonymous_reporter_but_staff_do(client, w):
    case = case_in(w, "in_progress", anonymous=True)
    page = sign_in(client, w.lead).get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "匿名反映" in page and "张三" not in page and "13800001111" not in page
    assert post(client, f"/console/cases/{case.number}/phone").status_code == 403  # anonymous: not even on request
    page = sign_in(client, w.staff).get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "张三" in page and "138****1111" in page and "13800001111" not in page  # masked until asked for
    assert not AuditLog.select().where(AuditLog.action == "view_phone").exists()
    page = post(client, f"/console/cases/{case.number}/phone").get_data(as_text=True)
    assert "13800001111" in page
    entry = AuditLog.get(AuditLog.action == "view_phone")
    assert (entry.actor_id, entry.target_id) == (w.staff.id, case.number)


def test_department_may_call_a_reporter_who_is_not_anonymous_and_each_view_is_audited(client, w):
    case = case_in(w, "in_progress")
    page = sign_in(client, w.lead).get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "138****1111" in page and "查看完整号码" in page
    for _ in range(2):
        assert "13800001111" in post(client, f"/console/cases/{case.number}/phone").get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "view_phone", AuditLog.actor == w.lead.id).count() == 2
    assert post(client, f"/console/cases/{case.number}/act/contact", {"note": "已电话联系，约定周五到现场"}).status_code == 302
    assert "已电话联系" in client.get(f"/console/cases/{case.number}").get_data(as_text=True)


def test_deputy_view_is_read_only(client, w):
    case = case_in(w, "submitted")
    page = sign_in(client, w.deputy_account).get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert case.title in page and 'id="act-' not in page
    assert post(client, f"/console/cases/{case.number}/act/accept").status_code == 403


# --- actions --------------------------------------------------------------------------------------

def test_staff_takes_a_case_to_closed_with_forms_and_errors_are_chinese_flashes(client, w):
    case = case_in(w, "submitted")
    path = f"/console/cases/{case.number}"
    sign_in(client, w.staff)
    page = client.get(path).get_data(as_text=True)
    assert 'id="act-accept"' in page and 'id="act-assign"' not in page
    post(client, path + "/act/accept")
    refused = post(client, path + "/act/assign", {"days": "7", "note": "请尽快处理，群众很着急"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "请选择主办单位" in page
    assert "请尽快处理，群众很着急</textarea>" in page  # the form keeps what was typed
    post(client, path + "/act/assign", {"lead": "D1", "assist": "D2", "days": "5", "note": "请尽快处理"})
    case = Case.get_by_id(case.id)
    assert case.state == "assigned" and case.deadline == calendar.add_working_days(calendar.today(), 5)
    assert {(a.department.code, a.role) for a in case.assignments} == {("D1", "lead"), ("D2", "assist")}

    sign_in(client, w.lead)
    assert 'id="act-return"' in client.get(path).get_data(as_text=True)
    post(client, path + "/act/sign")
    post(client, path + "/act/progress", {"note": "已安排施工队"})
    post(client, path + "/act/request_extension", {"days": "3", "reason": "雨季无法施工"})
    sign_in(client, w.staff)
    post(client, path + "/act/approve_extension")
    assert Case.get_by_id(case.id).deadline == calendar.add_working_days(calendar.add_working_days(
        calendar.today(), 5), 3)
    post(client, path + "/act/urge", {"note": "请加快"})
    sign_in(client, w.lead)
    post(client, path + "/act/answer", {"answer_class": "A", "text": "路面已修复完毕。"})
    workflow.perform(Case.get_by_id(case.id), "rate", w.citizen, {"value": "satisfied"})
    sign_in(client, w.staff)
    post(client, path + "/act/close", {"note": "群众满意"})
    post(client, path + "/act/publish")
    case = Case.get_by_id(case.id)
    assert (case.state, case.answer_class, case.urge_level, case.published) == ("closed", "A", 1, True)
    labels = [e.action for e in case.events]
    assert labels == ["submit", "accept", "assign", "sign", "progress", "request_extension", "approve_extension",
                      "urge", "answer", "rate", "close", "publish"]


def test_department_returns_with_a_coded_reason(client, w):
    case = case_in(w, "assigned")
    sign_in(client, w.lead)
    post(client, f"/console/cases/{case.number}/act/return", {"reason": "wrong_area", "note": ""})
    case = Case.get_by_id(case.id)
    assert case.state == "accepted" and case.assignments.where().first().return_reason == "wrong_area"
    assert Notification.select().where(Notification.kind == "staff_returned").exists()


def test_a_stale_form_does_not_act_twice(client, w):
    case = case_in(w, "accepted")
    sign_in(client, w.staff)
    stale = {"seen_state": "accepted", "seen_version": str(case.version), "lead": "D1", "days": "5"}
    post(client, f"/console/cases/{case.number}/act/assign", stale)
    again = post(client, f"/console/cases/{case.number}/act/assign", stale)
    assert again.status_code == 409 and "案件状态已变化，请刷新后重试" in again.get_data(as_text=True)
    assert Case.get_by_id(case.id).assignments.count() == 1  # assigned once, not twice


def test_answer_with_an_image_attachment(client, w, tmp_path):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "JPEG")
    case = case_in(w, "in_progress")
    sign_in(client, w.lead)
    post(client, f"/console/cases/{case.number}/act/answer",
         {"answer_class": "B", "text": "已列入年度计划。", "attachments": (io.BytesIO(buf.getvalue()), "a.jpg")},
         content_type="multipart/form-data")
    answer = Case.get_by_id(case.id).answers.get()
    assert answer.answer_class == "B" and len(answer.attachments) == 1
    assert client.get(f"/uploads/{answer.attachments[0]}").status_code == 200


def test_bulk_assign_reports_what_worked_and_what_did_not(client, w):
    ready = [case_in(w, "accepted") for _ in range(2)]
    fresh = case_in(w, "submitted")
    sign_in(client, w.staff)
    post(client, "/console/cases/bulk-assign", {"numbers": [c.number for c in ready] + [fresh.number],
                                                 "lead": "D2", "days": "10"})
    kinds = dict(flashes(client, "/console/cases"))
    assert "已交办 2 件" in kinds["ok"] and fresh.number in kinds["error"] and "不能“交办”" in kinds["error"]
    assert [Case.get_by_id(c.id).state for c in ready] == ["assigned", "assigned"]


# --- exports --------------------------------------------------------------------------------------

def test_excel_issue_list_cell_by_cell(client, w):
    answered = case_in(w, "answered", title="村口道路坑洼")
    case_in(w, "submitted")
    sign_in(client, w.staff)
    response = client.get("/console/cases/export.xlsx?state=answered")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    today = calendar.today()
    assert sheet["A1"].value == f"青山县人大代表联络站群众意见建议办理情况一览表（截至{today.year}年{today.month}月{today.day}日）"
    assert "A1:U1" in [str(r) for r in sheet.merged_cells.ranges]
    headings = [c.value for c in sheet[2]]
    assert headings == ["序号", "编号", "提交日期", "来源", "类别", "联络站", "代表", "反映人（脱敏）", "标题", "反映内容",
                        "主办单位", "协办单位", "交办日期", "办理时限", "是否超期", "督办", "答复日期", "答复类别", "答复内容",
                        "满意度", "状态"]
    assert sheet.max_row == 3
    row = dict(zip(headings, [c.value for c in sheet[3]]))
    assert (row["序号"], row["编号"], row["来源"], row["类别"], row["联络站"], row["代表"], row["反映人（脱敏）"]) == (
        1, answered.number, "小程序", "交通出行", "城关镇联络站", "周建华", "张* 138****1111")
    assert (row["标题"], row["反映内容"], row["主办单位"], row["协办单位"]) == (
        "村口道路坑洼", "村口道路坑洼严重，雨天积水。", "县交通运输局", "县住建局")
    assert (row["是否超期"], row["督办"], row["答复类别"], row["答复内容"], row["满意度"], row["状态"]) == (
        None, None, "A 已解决", "已经修好了路面。", "未评价", "已答复")
    for name in ("提交日期", "交办日期", "答复日期"):  # real date cells, not text
        assert row[name].date() == today, name
    assert row["办理时限"].date() == answered.deadline and sheet["N3"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A3" and sheet.print_title_rows == "$2:$2"
    assert sheet.page_setup.orientation == "landscape" and (sheet.page_setup.fitToWidth or 1) == 1  # 1: the default
    assert sheet.page_setup.fitToHeight == 0 and sheet.page_setup.paperSize == 9  # A4, as many pages down as it takes
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and round(sheet.column_dimensions["J"].width) in (40, 41)
    text = client.get("/console/cases/export.csv").get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(lines) == 3 and "13800001111" not in text and "张三" not in text
    assert lines[0][:3] == ["序号", "编号", "提交日期"] and lines[1][2] == today.isoformat()


def test_formula_injection_and_forbidden_characters_are_neutralised(client, w):
    case_in(w, "submitted", title="=HYPERLINK(\"http://evil.test\",\"点我\")",
            content="+1+cmd|' /C calc'!A0\x01 路灯坏了")
    new_case(w, title="-2+3", content="@SUM(1+1) 路面\x0b塌陷")
    sign_in(client, w.staff)
    response = client.get("/console/cases/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [c for row in sheet.iter_rows(min_row=3) for c in row]
    assert all(c.data_type != "f" for c in cells)  # nothing is a formula
    values = {c.value for c in cells if isinstance(c.value, str)}
    assert "'=HYPERLINK(\"http://evil.test\",\"点我\")" in values and "'-2+3" in values
    assert "'+1+cmd|' /C calc'!A0 路灯坏了" in values and "'@SUM(1+1) 路面塌陷" in values
    text = client.get("/console/cases/export.csv").get_data(as_text=True)
    fields = {f for line in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for f in line}
    assert "'=HYPERLINK(\"http://evil.test\",\"点我\")" in fields and not any(f.startswith(("=", "+", "@")) for f in fields)


# --- statistics -----------------------------------------------------------------------------------

def _take(w, lead_code, steps, **data):
    """A case through the real workflow with `lead_code` leading; steps are (action, data) pairs."""
    handler = {"D1": w.lead, "D2": w.assist}[lead_code]
    case = new_case(w, **data)
    for action, payload in [("accept", {}), ("assign", {"lead": lead_code, "days": 5})] + steps:
        if action == "past_deadline":
            Case.update(deadline=calendar.today() - dt.timedelta(days=1)).where(Case.id == case.id).execute()
            case = Case.get_by_id(case.id)
            continue
        actor = {"rate": w.citizen, "close": w.staff, "accept": w.staff, "assign": w.staff}.get(action, handler)
        case = workflow.perform(case, action, actor, payload)
    return case


def answer(klass):
    return ("answer", {"answer_class": klass, "text": "答复内容详见附件。"})


def hand_dataset(w):
    sign, rate = ("sign", {}), lambda v: ("rate", {"value": v})
    _take(w, "D1", [sign, answer("A"), rate("satisfied"), ("close", {})])   # 1 concluded, on time, A, 满意
    _take(w, "D1", [sign, answer("B")])                                     # 2 concluded, unrated
    _take(w, "D1", [sign, answer("A"), rate("unsatisfied")])                # 3 concluded, A, 不满意
    _take(w, "D1", [sign, ("past_deadline", {})])                           # 4 overdue: due, not concluded
    _take(w, "D1", [sign])                                                  # 5 handling, not yet due
    _take(w, "D2", [sign, answer("C"), rate("basic"), ("close", {})])       # 6 concluded, 基本满意
    _take(w, "D2", [sign, ("past_deadline", {}), answer("D")])              # 7 answered late
    new_case(w)                                                             # 8 submitted: not handled
    case_in(w, "declined")                                                  # 9 declined


def kpis(page):
    return dict(re.findall(r'data-kpi="(\w+)"><small>[^<]*</small><b>([^<]*)</b>', page))


def row_of(page, table, label):
    part = page.split(f'id="{table}"')[1].split("</table>")[0]
    cells = re.search(rf"<td>{label}[^<]*(?:<span[^>]*>[^<]*</span>)?\s*</td>(.*?)</tr>", part, re.S).group(1)
    return re.findall(r'<td class="num">(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>', cells), \
        "二次整改" in part.split(label)[1].split("</tr>")[0]


def test_dashboard_figures_match_a_dataset_computed_by_hand(client, w):
    hand_dataset(w)
    page = sign_in(client, w.staff).get("/console/stats").get_data(as_text=True)
    # due = 5 concluded + 1 overdue = 6; on time = 4 (case 7 late); rated 3, satisfied 2; class A = 2 of 5
    assert kpis(page) == {"completion_rate": "83.3%", "on_time_rate": "66.7%", "satisfaction_rate": "66.7%",
                          "success_rate": "40.0%", "total": "9"}
    # columns: 件数 应办结 已办结 办结率 按期办结率 已评价 满意率 办成率
    assert row_of(page, "by-department", "县交通运输局") == (
        ["5", "4", "3", "75.0%", "75.0%", "2", "50.0%", "66.7%"], True)
    assert row_of(page, "by-department", "县住建局") == (
        ["2", "2", "2", "100.0%", "50.0%", "1", "100.0%", "0.0%"], False)
    assert "承办单位：县交通运输局（满意率 50.0%，1/2）" in page and "承办单位：县住建局" not in page
    counts = dict(re.findall(r'data-state="(\w+)"><a [^>]*>(\d+)<', page))  # each links to its list
    assert counts == {"submitted": "1", "accepted": "0", "declined": "1", "assigned": "0", "in_progress": "2",
                      "answered": "2", "rated": "1", "closed": "2", "withdrawn": "0", "transferred": "0"}
    assert page.count("<svg") >= 6
    deputy = re.search(r'id="by-deputy".*?<td>周建华</td>(.*?)</tr>', page, re.S).group(1)
    # staff accepted seven of them: only the deputy's own answer (the decline) counts as responding
    assert re.findall(r'<td class="num">(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>', deputy)[:3] == ["9", "1", "11.1%"]


def test_dashboard_date_range_and_town_scope(client, w):
    hand_dataset(w)
    new_case(w, deputy=w.other_deputy.code, content="河西镇路灯坏了很久了。")
    Case.update(submitted_at=dt.datetime(2025, 3, 1)).where(Case.number.endswith("01")).execute()
    stats.rebuild()  # the case was moved behind the workflow's back
    page = sign_in(client, w.staff).get("/console/stats?start=2025-01-01&end=2025-12-31").get_data(as_text=True)
    assert kpis(page)["total"] == "1"
    everything = sign_in(client, w.staff).get("/console/stats").get_data(as_text=True)
    town = sign_in(client, w.town_staff).get("/console/stats").get_data(as_text=True)
    assert kpis(everything)["total"] == "10" and kpis(town)["total"] == "9" and "城关镇联络站" in town


def test_failed_notifications_page_lists_the_error(client, w):
    case_in(w, "accepted")
    Notification.update(state="failed", attempts=5, last_error="43101 用户拒绝接受消息").execute()
    page = sign_in(client, w.staff).get("/console/notifications/failed").get_data(as_text=True)
    assert "43101 用户拒绝接受消息" in page and "反映已受理" in page


# --- projects -------------------------------------------------------------------------------------

def test_project_create_edit_milestone_and_update_notifies_followers(client, w):
    sign_in(client, w.staff)
    response = post(client, "/console/projects/new", {
        "code": "XM009", "name": "城关镇农贸市场改造", "department": "D2", "year": "2026", "budget": "1200000",
        "planned_start": "2026-03-01", "planned_end": "2026-02-01", "status": "planned",
        "deputies": "DEP001", "published": "1"})
    assert "计划完工日期不能早于开工日期" in response.get_data(as_text=True)
    post(client, "/console/projects/new", {"code": "XM009", "name": "城关镇农贸市场改造", "department": "D2",
                                           "year": "2026", "status": "planned", "deputies": "DEP001，DEP002"})
    post(client, "/console/projects/XM009/edit", {"name": "城关镇农贸市场提质改造", "department": "D2", "year": "2026",
                                                  "status": "in_progress", "deputies": "DEP002"})
    page = client.get("/console/projects/XM009").get_data(as_text=True)
    assert "城关镇农贸市场提质改造" in page and "吴秀英" in page and "周建华" not in page
    assert "/qr/plaque/XM009.pdf" in page
    post(client, "/console/projects/XM009/milestones", {"title": "开工建设", "planned_date": "2026-05-01"})
    from models import Project
    project = Project.get(Project.code == "XM009")
    Follow.create(account=w.citizen, project=project)
    sign_in(client, w.assist)  # the project's department reports progress
    post(client, "/console/projects/XM009/updates", {"text": "主体结构完工", "progress": "60"})
    project = Project.get_by_id(project.id)
    assert project.progress == 60 and ProjectUpdate.select().where(ProjectUpdate.project == project).count() == 1
    note = Notification.get(Notification.kind == "project_update")
    assert note.account_id == w.citizen.id and "主体结构完工" in note.body
    assert post(client, "/console/projects/XM001/updates", {"text": "不是我的项目"}).status_code == 404


# --- people ---------------------------------------------------------------------------------------

def test_staff_manage_deputies_and_stations_and_admins_departments(client, w):
    from PIL import Image
    from models import Deputy, Department, Station
    buf = io.BytesIO()
    Image.new("RGB", (30, 40), "blue").save(buf, "PNG")
    sign_in(client, w.staff)
    post(client, "/console/deputies/new", {"code": "dep003", "name": "郑立新", "level": "county", "station": "TB",
                                           "term_start": "2021-12-01", "term_end": "2026-11-30",
                                           "photo": (io.BytesIO(buf.getvalue()), "p.png")},
         content_type="multipart/form-data")
    deputy = Deputy.get(Deputy.code == "DEP003")
    assert deputy.station_id == w.town_b.id and deputy.photo.startswith("/uploads/")
    assert "/qr/card/DEP003.pdf" in client.get("/console/deputies").get_data(as_text=True)
    post(client, "/console/stations/new", {"code": "TA1", "parent": "TA", "name": "东门社区联络点", "level": "village",
                                           "kind": "point"})
    assert Station.get(Station.code == "TA1").path.startswith(w.town_a.path)
    sign_in(client, w.town_staff)  # a station's staff keep no departments (they belong to a level: the county's)
    assert post(client, "/console/departments", {"code": "D4", "name": "县水利局"}).status_code == 403
    sign_in(client, w.admin)
    post(client, "/console/departments", {"code": "D4", "name": "县水利局", "active": "1"})
    assert Department.get(Department.code == "D4").name == "县水利局"
    dup = post(client, "/console/departments", {"code": "D5", "name": "县水利局", "active": "1"})
    assert "已存在" in client.get(dup.headers.get("Location", "/console/departments")).get_data(as_text=True) or \
        "已存在" in dup.get_data(as_text=True)


def test_admin_creates_accounts_and_unlocks_them(client, w):
    sign_in(client, w.admin)
    post(client, "/console/accounts", {"username": "hexi", "password": "river-gate-17", "role": "staff",
                                       "station": "TB", "display_name": "河西镇人大"})
    hexi = Account.get(Account.username == "hexi")
    assert hexi.role == "staff" and hexi.station_id == w.town_b.id
    Account.update(locked_until=dt.datetime(2099, 1, 1), failed_logins=0).where(Account.id == hexi.id).execute()
    post(client, f"/console/accounts/{hexi.id}/unlock")
    assert Account.get_by_id(hexi.id).locked_until is None
    assert "密码至少10位" in post(client, "/console/accounts", {"username": "x1", "password": "short",
                                                              "role": "staff"}).get_data(as_text=True)


def test_queue_filters_combine_and_pages(client, w):
    cases = [case_in(w, "accepted") for _ in range(3)]
    Case.update(category="education").where(Case.id == cases[0].id).execute()
    Case.update(submitted_at=dt.datetime(2025, 6, 1, 4)).where(Case.id == cases[1].id).execute()
    sign_in(client, w.staff)
    listed = lambda q: set(re.findall(r'href="/console/cases/(\d{4}-\d{6})"',  # noqa: E731
                                      client.get("/console/cases?" + q).get_data(as_text=True)))
    assert listed("category=education") == {cases[0].number}
    assert listed("start=2025-06-01&end=2025-06-01") == {cases[1].number}
    assert listed("state=accepted&deputy=DEP001&q=" + cases[2].number) == {cases[2].number}
    assert listed("overdue=1") == set()
    Case.update(state="assigned", deadline=dt.date(2020, 1, 1)).where(Case.id == cases[2].id).execute()
    assert listed("overdue=1") == {cases[2].number}
    assert listed("station=TB") == set() and listed("station=TA") == {c.number for c in cases}
