"""The console at a province's size, as a user meets it: the queue's keyset pager (next, previous, last) under every
filter with ties on the sort key and cases arriving meanwhile; the 问题清单 streamed in batches and read back
equal to the data; the working-day memo following the holiday calendar the office edits."""
import csv
import datetime as dt
import html
import io
import json
import re

import pytest
from openpyxl import load_workbook

from handlers.console import cases as queue
from models import Case
from services import calendar, exports, paging, search, workflow
from tests.factories import case_in, new_case, world
from tests.test_console import post, sign_in

LINK = re.compile(r'<a href="\?([^"]*)">(首页|上一页|下一页|末页)</a>')


def listed(client, query):
    html = client.get(f"/console/cases?{query}").get_data(as_text=True)
    numbers = re.findall(r'<td><a href="/console/cases/([^"]+)">', html)
    return numbers, {label: target.replace("&amp;", "&") for target, label in LINK.findall(html)}, html


def walk(client, query, direction, arrive=None):
    """Every number met following 下一页 from the first page (or 上一页 from 末页), filing a case between pages."""
    numbers, links, _ = listed(client, query + ("&last=1" if direction == "上一页" else ""))
    pages = [numbers]
    while direction in links:
        if arrive:
            arrive()
        numbers, links, _ = listed(client, links[direction])
        pages.append(numbers)
    assert all(0 < len(p) <= queue.PER_PAGE for p in pages) or pages == [[]]
    seen = [n for p in (pages if direction == "下一页" else pages[::-1]) for n in p]
    return seen


def test_keyset_pager_shows_every_case_once_under_every_filter_while_cases_arrive(client, w, monkeypatch):
    monkeypatch.setattr(queue, "PER_PAGE", 3)
    cases = [new_case(w, deputy=(w.deputy if i % 3 else w.other_deputy).code,
                      category=("traffic", "environment")[i % 2], content=f"第{i}件 {'路灯' if i % 4 == 0 else '道路'}")
             for i in range(14)]
    moments = [dt.datetime(2026, 3, 1, 9) + dt.timedelta(hours=i // 4) for i in range(14)]  # four cases an instant
    for case, moment, i in zip(cases, moments, range(14)):
        Case.update(submitted_at=moment, state=("submitted", "in_progress")[i % 2],
                    lead_department=w.depts[i % 2].id if i % 2 else None).where(Case.id == case.id).execute()
    search.rebuild()  # the moments moved behind the workflow's back (flask rebuild-search)
    filters = {"": lambda c: True, "state=in_progress": lambda c: c.state == "in_progress",
               "category=environment": lambda c: c.category == "environment",
               f"deputy={w.deputy.code}": lambda c: c.deputy_id == w.deputy.id,
               f"department={w.depts[1].code}": lambda c: c.lead_department_id == w.depts[1].id,
               "department=-": lambda c: c.lead_department_id is None,
               f"station={w.town_b.code}": lambda c: c.station_id == w.town_b.id,
               "q=路灯": lambda c: "路灯" in c.content, "start=2026-03-01&end=2026-03-01": lambda c: True}
    sign_in(client, w.staff)
    arrived = []

    def arrive():  # a citizen files a case while the office pages
        arrived.append(new_case(w, deputy=w.other_deputy.code, category="environment", content="新到 路灯").number)

    for query, keep in filters.items():
        everything = sorted((c for c in Case.select() if keep(c)),  # as it stands before the walk
                            key=lambda c: (c.submitted_at, c.id), reverse=True)
        expected = [c.number for c in everything]
        if query.startswith("start"):
            expected = [c.number for c in everything if c.submitted_at.date() == dt.date(2026, 3, 1)]
        before = list(arrived)
        assert walk(client, query, "下一页", arrive) == expected, query  # none skipped, none twice, no newcomer
        after = [n for n in arrived[::-1] if n not in before and keep(Case.get(Case.number == n))]
        newcomers = [] if query.startswith("start") else after
        assert walk(client, query, "上一页") == newcomers + expected, query  # from 末页 back to the first page
    numbers, links, html = listed(client, "")
    assert "首页" not in links and "下一页" in links and f"共 {Case.select().count()} 件" in html
    numbers, links, _ = listed(client, links["下一页"])
    assert set(links) == {"首页", "上一页", "下一页", "末页"}
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    assert "共 10+ 件" in listed(client, "")[2]
    refused = client.get("/console/cases?after=20260301T090000.000000_1;drop")
    assert refused.status_code == 400 and "翻页参数有误" in refused.get_data(as_text=True)


def test_overdue_and_due_soon_lists_go_by_deadline_nearest_today_first(client, w, monkeypatch):
    monkeypatch.setattr(queue, "PER_PAGE", 2)
    today = calendar.today()
    cases = [case_in(w, ("assigned", "in_progress")[i % 2], title=f"第{i}件") for i in range(9)]
    deadlines = [today - dt.timedelta(days=d) for d in (1, 1, 3, 9, 40)] + [today, today + dt.timedelta(days=1),
                                                                           today + dt.timedelta(days=1), today]
    for case, deadline in zip(cases, deadlines):
        Case.update(deadline=deadline).where(Case.id == case.id).execute()
    done = case_in(w, "answered", title="已答复")  # past its deadline but answered: in neither list
    Case.update(deadline=today - dt.timedelta(days=2)).where(Case.id == done.id).execute()
    sign_in(client, w.staff)
    by_day = lambda picked, ascending: [c.number for c in sorted(  # noqa: E731
        picked, key=lambda c: (Case.get_by_id(c.id).deadline, c.id), reverse=not ascending)]
    overdue, soon = by_day(cases[:5], False), by_day(cases[5:], True)
    for query, expected in (("overdue=1", overdue), ("todo=overdue", overdue), ("todo=due_soon", soon)):
        assert walk(client, query, "下一页") == expected, query  # most recently overdue / soonest due first
        assert walk(client, query, "上一页") == expected, query
        assert "按办理时限排列" in listed(client, query)[2]
    assert "按办理时限排列" not in listed(client, "")[2]
    numbers, links, _ = listed(client, "overdue=1")
    assert re.search(r"after=\d{8}_\d+$", links["下一页"])  # a day, not a moment
    wrong = client.get("/console/cases?overdue=1&after=20260301T090000.000000_1")
    assert wrong.status_code == 400 and "翻页参数有误" in wrong.get_data(as_text=True)
    assert client.get("/console/cases?after=20260301_1").status_code == 400  # a day where the list goes by moment


def test_streamed_issue_list_reads_back_equal_to_the_data(client, w, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 2)  # batches end inside the list: nothing lost or repeated at the seams
    answered = case_in(w, "answered", title="村口道路坑洼")
    quiet = new_case(w, anonymous=True, title="匿名反映")
    other = new_case(w, reporter=w.other_citizen, contact_phone="", deputy=w.other_deputy.code, title="路灯不亮")
    more = [new_case(w, title=f"第{i}件") for i in range(3)]
    sign_in(client, w.staff)
    response = client.get("/console/cases/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    headings = [c.value for c in sheet[2]]
    rows = [dict(zip(headings, [c.value for c in r])) for r in sheet.iter_rows(min_row=3)]
    newest = sorted(Case.select(), key=lambda c: (c.submitted_at, c.id), reverse=True)
    assert [r["编号"] for r in rows] == [c.number for c in newest] and [r["序号"] for r in rows] == list(range(1, 7))
    for row, case in zip(rows, newest):
        assert (row["联络站"], row["代表"], row["标题"]) == (case.station.name, case.deputy.name, case.title)
        assert row["主办单位"] == (case.lead_department.name if case.lead_department_id else None)
    by = {r["编号"]: r for r in rows}
    assert by[answered.number]["反映人（脱敏）"] == "张* 138****1111" and by[quiet.number]["反映人（脱敏）"] == "匿名"
    assert by[other.number]["反映人（脱敏）"] == "李*"  # no phone anywhere: the masked name only
    assert (by[answered.number]["协办单位"], by[answered.number]["答复内容"]) == ("县住建局", "已经修好了路面。")
    assert all(by[c.number]["状态"] == "待受理" for c in more)
    text = client.get("/console/cases/export.csv").get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == headings and [line[1] for line in lines[1:]] == [r["编号"] for r in rows]
    assert [line[10] for line in lines[1:]] == [r["主办单位"] or "" for r in rows]


def test_deadlines_follow_a_holiday_the_office_enters(client, w):
    start = dt.date(2099, 2, 2)  # a Monday of a year no calendar knows: Monday–Friday count
    assert calendar.add_working_days(start, 5) == dt.date(2099, 2, 9)
    sign_in(client, w.staff)
    table = re.compile(r"2099-02-\d\d")
    page = client.get("/console/holidays").get_data(as_text=True)
    assert "尚无登记" in page and not table.search(page)
    assert post(client, "/console/holidays", {"day": "2099-02-04", "workday": "0", "name": "春节"}).status_code == 302
    assert calendar.add_working_days(start, 5) == dt.date(2099, 2, 10)  # the memo followed the new row
    assert calendar.deadline_table(start)[5] == "2099-02-10"
    post(client, "/console/holidays", {"day": "2099-02-07", "workday": "1", "name": "春节调休"})  # a Saturday worked
    assert calendar.add_working_days(start, 5) == dt.date(2099, 2, 9)
    case = case_in(w, "accepted")  # the assign form on the case page, and the deadline the assign then sets
    shown = lambda: json.loads(html.unescape(re.search(  # noqa: E731
        r"data-deadlines='([^']+)'", client.get(f"/console/cases/{case.number}").get_data(as_text=True)).group(1)))
    tomorrow = calendar.add_working_days(calendar.today(), 1)
    assert shown()["1"] == tomorrow.isoformat()
    post(client, "/console/holidays", {"day": tomorrow.isoformat(), "workday": "0", "name": "临时放假"})
    later = calendar.add_working_days(calendar.today(), 1)
    assert later > tomorrow and shown()["1"] == later.isoformat()
    workflow.perform(case, "assign", w.staff, {"lead": w.depts[0].code, "days": "1"})
    assert Case.get_by_id(case.id).deadline == later
    post(client, "/console/holidays", {"day": tomorrow.isoformat(), "workday": "1", "name": "取消放假"})  # changed back
    assert shown()["1"] == tomorrow.isoformat()  # the same day entered again (SQLite gives it the same id)
    post(client, "/console/holidays", {"day": tomorrow.isoformat(), "workday": "0", "name": "临时放假"})
    page = client.get("/console/holidays").get_data(as_text=True)
    assert "春节调休" in page and "上班（调休）" in page
    assert post(client, "/console/holidays", {"remove": "2099-02-04"}).status_code == 302
    assert calendar.add_working_days(start, 5) == dt.date(2099, 2, 7)
    refused = [m for m in re.findall(r'class="flash error" role="alert">([^<]*)<', client.get(
        post(client, "/console/holidays", {"day": "明天", "workday": "0"}).headers["Location"]).get_data(as_text=True))]
    assert refused == ["请填写日期（年-月-日）"]
    town = sign_in(client, w.town_staff)
    assert post(town, "/console/holidays", {"day": "2099-03-02", "workday": "0"}).status_code == 403


@pytest.fixture
def w(app):
    return world()
