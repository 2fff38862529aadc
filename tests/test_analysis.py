"""民情分析 on a fresh county (no demo seed): the same broken road reported again is offered the first report
(API and H5), 我也遇到 counts once per person, staff merge a duplicate from the suggestion in one click, the
routing suggestion learns from this database's own assignments and is applied only by a click, and the 民情
dashboard and its monthly .docx report show what the reports say."""
import datetime as dt
import io
import re

import pytest
from docx import Document

from models import AnalysisModel, Case, CaseTerms, CaseWord, Notification, Support
from services import analysis, workflow
from tests.api_client import Api
from tests.factories import csrf_of, new_case, world
from tests.test_console import post, sign_in

ROAD = ["南塘村村口那条水泥路坑坑洼洼的，下雨天根本没法走",
        "南塘村口的路烂得不成样子了，全是大坑，一下雨就积水。",
        "领导好，南塘村村口道路破损严重，请有关部门修一修！",
        "俺们南塘村村口的路坏了两年了没人管，老人孩子走路都怕",
        "南塘村村口路面塌了好大一块，电动车摔了好几次了，希望尽快解决。"]
OTHER = ["北街社区的路灯坏了好几个月，晚上黑漆漆的", "城关小学门口早上乱停车，孩子上学太危险",
         "东关村垃圾站满了没人拉走，夏天味道太难闻"]


@pytest.fixture
def w(app):
    return world()


def citizen(n):
    from models import Account
    return Account.create(role="citizen", openid=f"openid-road-{n}", display_name=f"村民{n}")


def four_road_reports(w):
    """The first four reports of the broken road (by four villagers), among other problems of the same town."""
    for text in OTHER:
        new_case(w, reporter=citizen(text[:4]), content=text, category="construction")
    return [new_case(w, reporter=citizen(i), content=text, location="南塘村村口") for i, text in
            enumerate(ROAD[:4])]


def test_the_fifth_report_of_the_same_broken_road_is_offered_the_first(client, w):
    road = four_road_reports(w)
    fifth = Api(client, citizen(5))
    resp = fifth.get("/similar", query_string={"deputy": w.deputy.code, "text": ROAD[4]})
    assert resp.status_code == 200
    offered = resp.get_json()["similar"]
    numbers = [o["number"] for o in offered]
    assert road[0].number in numbers
    assert set(numbers) <= {c.number for c in road}  # the street lamp, the school gate, the rubbish are not offered
    first = offered[numbers.index(road[0].number)]
    assert first["title"] == road[0].title and first["state"] == "已提交" and 0 < first["score"] <= 1
    assert not {"reporter", "contact_phone", "content"} & set(first)  # never who, nor their whole text
    # another town's open report of the same words is not "near"
    assert Api(client, citizen(6)).get("/similar", query_string={
        "deputy": w.other_deputy.code, "text": ROAD[4]}).get_json()["similar"] == []


def test_similar_lookup_refuses_bad_input_clearly(client, w):
    api = Api(client, citizen(1))
    assert api.get("/similar", query_string={"deputy": "NOPE", "text": ROAD[0]}).get_json()["error"]["code"] \
        == "deputy_not_found"
    assert api.get("/similar", query_string={"text": ROAD[0]}).get_json()["error"]["code"] == "missing_target"
    bad = api.get("/similar", query_string={"deputy": w.deputy.code, "text": ROAD[0], "latitude": "north"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_location"
    assert api.get("/similar", query_string={"deputy": w.deputy.code, "text": "路"}).get_json() == {"similar": []}
    assert Api(client).get("/similar", query_string={"deputy": w.deputy.code, "text": ROAD[0]}).status_code == 401


def test_coordinates_make_reports_near_across_stations_and_far_ones_not(client, w):
    first = new_case(w, reporter=citizen(1), content=ROAD[0], latitude=28.2001, longitude=112.9001)
    near = analysis.similar(ROAD[1], station=w.town_b, latitude=28.2003, longitude=112.9004)
    assert [c.number for c, _ in near] == [first.number]  # ~40 m away, though filed to another station
    assert analysis.similar(ROAD[1], station=w.town_b, latitude=28.25, longitude=112.95) == []  # ~7 km


def test_i_have_it_too_counts_once_per_person_and_staff_see_it(client, w):
    first = four_road_reports(w)[0]
    seven, eight = citizen(7), citizen(8)
    villager = Api(client, seven)
    once = villager.post(f"/cases/{first.number}/support")
    twice = villager.post(f"/cases/{first.number}/support")
    assert (once.status_code, once.get_json()) == (201, {"supporters": 1, "added": True})
    assert (twice.status_code, twice.get_json()) == (200, {"supporters": 1, "added": False})
    assert Api(client, eight).post(f"/cases/{first.number}/support").get_json()["supporters"] == 2
    own = Api(client, first.reporter).post(f"/cases/{first.number}/support")
    assert own.status_code == 400 and own.get_json()["error"]["code"] == "own_case"
    assert Support.select().where(Support.case == first).count() == 2
    # offered with its count to the next villager
    offered = Api(client, citizen(9)).get("/similar", query_string={"deputy": w.deputy.code, "text": ROAD[4]})
    assert {o["number"]: o["supporters"] for o in offered.get_json()["similar"]}[first.number] == 2
    # shown to staff on the case page
    page = sign_in(client, w.staff).get(f"/console/cases/{first.number}").get_data(as_text=True)
    assert re.search(r'id="supporters"><b>2</b> 位群众点了“我也遇到”', page)
    # the supporters hear the answer and the closing, once each, about the problem only
    for action, actor, data in (("accept", w.deputy_account, {}), ("assign", w.staff, {"lead": "D1", "days": 5}),
                                ("sign", w.lead, {}), ("answer", w.lead, {"answer_class": "A", "text": "路面已经修好了。"}),
                                ("close", w.staff, {})):
        first = workflow.perform(first, action, actor, data)
    for person in (seven, eight):
        heard = {n.kind: n.body for n in Notification.select().where(Notification.account == person)}
        assert heard == {"support_answered": f"您也遇到的问题“{first.title}”（{first.number}）已由{w.depts[0].name}答复",
                         "support_closed": f"您也遇到的问题“{first.title}”（{first.number}）已办结"}
    assert not Notification.select().where(Notification.account == first.reporter,
                                           Notification.kind.startswith("support_")).exists()
    # the nightly job takes a closed report's words out of the index of the lookup
    assert CaseWord.select().where(CaseWord.case == first.id).exists()
    assert analysis.prune()[0] > 0 and not CaseWord.select().where(CaseWord.case == first.id).exists()
    # a closed report cannot be followed
    closed = Api(client, citizen(10)).post(f"/cases/{first.number}/support")
    assert closed.status_code == 400 and closed.get_json()["error"]["code"] == "case_not_open"


def test_h5_i_have_it_too_from_one_browser_counts_once(client, w):
    first = four_road_reports(w)[0]
    form = client.get(f"/d/{w.deputy.code}")
    assert 'id="similar"' in form.get_data(as_text=True)
    offered = client.get("/similar", query_string={"deputy": w.deputy.code, "text": ROAD[4]}).get_json()["similar"]
    assert first.number in [o["number"] for o in offered]
    csrf = csrf_of(form)
    done = client.post(f"/c/{first.number}/support", data={"csrf_token": csrf, "back": f"/d/{w.deputy.code}"})
    assert done.status_code == 200 and "已记下：您也遇到了这个问题" in done.get_data(as_text=True)
    again = client.post(f"/c/{first.number}/support", data={"csrf_token": csrf, "back": "https://evil.example/"})
    html = again.get_data(as_text=True)
    assert "您已经点过“我也遇到”了" in html and 'href="https://evil.example/"' not in html
    assert Support.select().where(Support.case == first).count() == 1
    assert client.post("/c/2026-999999/support", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/c/{first.number}/support").status_code == 400  # no CSRF token: refused


def test_staff_merge_the_fifth_report_into_the_first_from_the_suggestion(client, w):
    road = four_road_reports(w)
    fifth = new_case(w, reporter=citizen(5), content=ROAD[4])
    sign_in(client, w.staff)
    page = client.get(f"/console/cases/{fifth.number}").get_data(as_text=True)
    rows = re.findall(r'<tr data-number="([^"]+)">.*?(\d+)%</td>', page, re.S)
    assert road[0].number in [n for n, _ in rows]
    assert all(0 < int(score) <= 100 for _, score in rows)
    # the first's own page lists no later report as its original
    assert 'id="duplicates"' not in client.get(f"/console/cases/{road[0].number}").get_data(as_text=True)
    form = re.search(r'<input type="hidden" name="original" value="%s">\s*<input type="hidden" name="reason" '
                     r'value="([^"]+)">' % re.escape(road[0].number), page)
    assert Case.get_by_id(fifth.id).state == "submitted"  # nothing happened before the click
    done = post(client, f"/console/cases/{fifth.number}/act/merge",
                {"original": road[0].number, "reason": form.group(1), "seen_state": "submitted",
                 "seen_version": str(fifth.version)})
    assert done.status_code == 302
    merged = Case.get_by_id(fifth.id)
    assert merged.state == "merged" and merged.merged_into_id == road[0].id
    # merged reports are no longer offered to citizens
    numbers = [c.number for c, _ in analysis.similar(ROAD[1], station=w.town_a)]
    assert fifth.number not in numbers and road[0].number in numbers


TRAINING = [  # (text, category, lead department code) — how this county's office assigned past reports
    ("{v}村口的路坑坑洼洼，下雨天没法走", "traffic", "D1"), ("{v}道路破损严重，电动车摔了", "traffic", "D1"),
    ("{v}到县城的班车太少，进城不方便", "traffic", "D1"), ("{v}桥面开裂，拖拉机不敢过", "traffic", "D1"),
    ("{v}路灯坏了好几个月，晚上黑漆漆", "construction", "D2"), ("{v}下水道堵塞，污水漫到路上", "construction", "D2"),
    ("{v}排水沟堵了，一下雨就淹到家门口", "construction", "D2"), ("{v}照明坏了很久，晚上出门看不见", "construction", "D2"),
    ("{v}小学门口乱停车，孩子上学危险", "education", "D3"), ("{v}学校食堂饭菜太差，孩子吃不饱", "education", "D3"),
    ("{v}幼儿园收费太高，家长负担重", "education", "D3"), ("{v}学校校车超载，太危险", "education", "D3"),
]
VILLAGES = ["南塘村", "东关村", "石桥村", "柳湾村"]


def assigned_history(w):
    for village in VILLAGES:
        for text, category, lead in TRAINING:
            case = new_case(w, reporter=citizen(f"{village}{text[:6]}"), content=text.format(v=village),
                            category=category)
            case = workflow.perform(case, "accept", w.deputy_account, {})
            workflow.perform(case, "assign", w.staff, {"lead": lead, "days": 10})


def test_routing_suggestion_is_learned_from_this_countys_assignments_and_applied_only_by_a_click(client, w):
    from jobs import tasks
    assert analysis.suggest(new_case(w, content="还没有任何历史数据的反映内容")) is None  # no model yet
    assigned_history(w)
    result = tasks.train_routing()
    model = AnalysisModel.get_by_id("routing")
    assert model.cases == 48 and result["test"] == 9 and result["train"] == 39
    assert result["department"]["top1"] >= 0.75 and result["department"]["top3"] == 1.0
    fresh = new_case(w, reporter=citizen("new"), content="河口村的路灯全坏了，晚上黑灯瞎火", category="other")
    suggestion = analysis.suggest(fresh)
    assert suggestion["category"][0][0] == "construction"
    assert suggestion["department"][0][0].code == "D2"
    sign_in(client, w.staff)
    page = client.get(f"/console/cases/{fresh.number}").get_data(as_text=True)
    assert re.search(r'class="suggest-department" data-code="D2">县住建局 \d+%', page)
    assert "留出 9 件检验" in page and 'id="model-accuracy"' in page
    assert Case.get_by_id(fresh.id).category == "other" and fresh.lead_department_id is None  # nothing applied
    # 交办时选用 pre-selects the lead department in the assign form; staff still press 交办
    fresh = workflow.perform(fresh, "accept", w.deputy_account, {})
    chosen = client.get(f"/console/cases/{fresh.number}?lead=D2").get_data(as_text=True)
    assert re.search(r'<option value="D2" selected>县住建局</option>', chosen)
    assert Case.get_by_id(fresh.id).lead_department_id is None
    # 采用 the category: the edit action, on the timeline with its reason
    fresh = Case.get_by_id(fresh.id)
    done = post(client, f"/console/cases/{fresh.number}/act/edit",
                {"title": fresh.title, "category": "construction", "summary": "", "reason": "采用系统建议的类别",
                 "seen_state": fresh.state, "seen_version": str(fresh.version)})
    assert done.status_code == 302 and Case.get_by_id(fresh.id).category == "construction"
    # departments never see the suggestions
    assert 'id="insight"' not in sign_in(client, w.lead).get(f"/console/cases/{fresh.number}").get_data(as_text=True)


def test_minqing_dashboard_shows_topics_rising_clusters_and_townships(client, w):
    now = analysis.utcnow()
    four_road_reports(w)
    new_case(w, reporter=citizen("lamp"), content="北街社区路灯不亮，晚上出门看不见路", latitude=28.1, longitude=112.9)
    earlier = new_case(w, reporter=citizen("old"), content="柳湾村排水沟堵了，一下雨就淹", deputy=w.other_deputy.code)
    Case.update(submitted_at=now - dt.timedelta(days=40)).where(Case.id == earlier.id).execute()
    data = analysis.dashboard(days=30)
    assert data["total"] == 8
    road = next(c for c in data["clusters"] if c["count"] == 4)
    assert road["station"].id == w.town_a.id and road["rising"] and road["previous"] == 0
    top = {t["word"]: t for t in data["topics"]}
    assert top["南塘村"]["count"] == 4 and top["南塘村"]["rising"]
    sign_in(client, w.staff)
    page = client.get("/console/minqing").get_data(as_text=True)
    assert 'class="topic rising" data-word="南塘村"' in page
    assert re.search(r'<tr data-town="城关镇联络站"><td>城关镇联络站</td>', page)
    assert "未配置地图服务" in page and "有坐标的反映 1 件" in page
    assert '/static/vendor/echarts.min.js' in page and "leaflet.js" not in page
    assert client.get("/static/vendor/echarts.min.js").status_code == 200  # installed by make from npm
    client.application.config["MAP_TILE_URL"] = "https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}"
    assert "vendor/leaflet.js" in client.get("/console/minqing").get_data(as_text=True)
    # a town's staff see their own town only
    town_b = sign_in(client.application.test_client(), w.other_town_staff).get("/console/minqing?station=TA")
    assert "南塘村" not in town_b.get_data(as_text=True)
    assert sign_in(client.application.test_client(), w.lead).get("/console/minqing").status_code == 403


def test_monthly_report_docx_lists_the_recurring_problem_where_and_who_answered(client, w):
    road = four_road_reports(w)
    for case in road[:2]:
        case = workflow.perform(case, "accept", w.deputy_account, {})
        workflow.perform(case, "assign", w.staff, {"lead": "D1", "days": 10})
    Api(client, citizen("me-too")).post(f"/cases/{road[0].number}/support")
    month = analysis.calendar.today().strftime("%Y-%m")
    sign_in(client, w.staff)
    resp = client.get(f"/console/minqing/report.docx?month={month}")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = {row.cells[0].text: row.cells[1].text for table in doc.tables for row in table.rows}
    assert "每月一题候选" in text and "本月共收到群众反映 7 件" in text
    assert "（4 件）" in text
    assert cells["地点"] == "城关镇联络站（4件）" and cells["承办单位"] == "县交通运输局（2件）"
    assert "1 人点了“我也遇到”" in cells["反映与附议"]
    assert all(c.number in cells["案件"] for c in road)
    bad = client.get("/console/minqing/report.docx?month=2026-13")
    assert bad.status_code == 400 and "月份格式" in bad.get_data(as_text=True)


def test_every_report_gets_its_vector_with_it_and_reindex_fills_gaps(w):
    case = new_case(w, content=ROAD[0])
    stored = CaseTerms.get_by_id(case.id)
    assert stored.station == w.town_a.id and "南塘村" in stored.keywords and abs(
        sum(v * v for v in stored.vector.values()) - 1) < 0.01
    CaseTerms.delete().execute()
    assert analysis.reindex() == 1 and CaseTerms.select().count() == 1


def test_migration_0015_upgrades_an_existing_database_and_indexes_its_reports(w):
    """A database from before 0015: the tables arrive and the reports already filed are offered at once."""
    from models import CaseWord, db
    from models.migrate import SchemaVersion, discover, migrate
    first = new_case(w, reporter=citizen(1), content=ROAD[0])
    db.drop_tables([CaseWord, CaseTerms, Support, AnalysisModel])
    SchemaVersion.delete().where(SchemaVersion.version == 15).execute()
    assert migrate(discover()) == [15]
    assert [c.number for c, _ in analysis.similar(ROAD[1], station=w.town_a)] == [first.number]


def test_a_cluster_becomes_a_suggestion_draft_with_its_reports_attached(client, w):
    from models import Suggestion
    road = four_road_reports(w)
    Api(client, citizen("me-too")).post(f"/cases/{road[0].number}/support")
    sign_in(client, w.staff)
    page = client.get("/console/minqing").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/console/minqing/suggest".*?</form>', page, re.S).group(0)
    numbers = re.findall(r'name="numbers" value="([^"]+)"', form)
    assert sorted(numbers) == sorted(c.number for c in road)
    assert re.search(r'<option value="%s" selected>' % w.deputy.code, form)  # the cluster's station's deputy
    done = post(client, "/console/minqing/suggest", {"numbers": numbers, "lead_deputy": w.deputy.code})
    assert done.status_code == 302 and "/console/suggestions/" in done.headers["Location"]
    draft = Case.get(Case.kind == "suggestion")
    form = Suggestion.get(Suggestion.case == draft)
    assert draft.state == "draft" and draft.deputy_id == w.deputy.id and draft.entered_by_id == w.staff.id
    assert sorted(form.from_reports) == sorted(c.number for c in road)
    assert "南塘村" in draft.title and "4 件群众反映" in form.reasons and "1 人点了“我也遇到”" in form.reasons
    assert all(c.number in form.reasons for c in road)
    # a suggestion is not a report: never offered to citizens, nor counted in the topics
    assert draft.number not in [c.number for c, _ in analysis.similar(ROAD[4], station=w.town_a)]
    assert analysis.dashboard()["total"] == 7  # the seven reports, not the suggestion
    # nothing chosen: a clear message, no draft
    refused = post(client, "/console/minqing/suggest", {"lead_deputy": w.deputy.code})
    assert refused.status_code == 302 and Case.select().where(Case.kind == "suggestion").count() == 1
