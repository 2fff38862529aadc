"""The public directory, categories, projects and following, through /api/v1 (and /openapi.json)."""
import datetime as dt

from models import Deputy, Follow, Milestone, ProjectUpdate
from tests.api_client import Api, error
from tests.factories import world


def test_directory_lists_serving_deputies_and_filters_by_station_and_name(app, client):
    w = world()
    Deputy.create(code="DEP009", name="退任代表", level="county", station=w.town_a, term_end=dt.date(2020, 1, 1))
    api = Api(client)
    everyone = api.get("/deputies").get_json()
    assert [d["code"] for d in everyone["deputies"]] == ["DEP001", "DEP002"]
    assert everyone["deputies"][0]["level_label"] == "县人大代表"
    in_town_a = api.get("/deputies?station=TA").get_json()
    assert [d["code"] for d in in_town_a["deputies"]] == ["DEP001"]
    county_subtree = api.get("/deputies?station=C1").get_json()
    assert county_subtree["total"] == 2
    assert [d["name"] for d in api.get("/deputies?q=秀英").get_json()["deputies"]] == ["吴秀英"]
    assert api.get("/deputies?q=dep002").get_json()["deputies"][0]["code"] == "DEP002"
    assert api.get("/deputies?q=' OR 1=1 --").get_json()["deputies"] == []
    assert error(api.get("/deputies?station=NOPE")) == (404, "station_not_found")
    assert error(api.get("/deputies?page=x")) == (400, "invalid_number")


def test_deputy_profile_by_code_with_supervised_projects(app, client):
    w = world()
    body = Api(client).get("/deputies/dep001").get_json()["deputy"]
    assert body["name"] == "周建华" and body["station"] == {"code": "TA", "name": "城关镇联络站"}
    assert body["term_ended"] is False
    assert [p["code"] for p in body["projects"]] == ["XM001"]
    assert "openid" not in str(body)
    assert error(Api(client).get("/deputies/NOPE")) == (404, "deputy_not_found")
    w.deputy.term_end = dt.date(2020, 1, 1)
    w.deputy.save()
    assert Api(client).get("/deputies/DEP001").get_json()["deputy"]["term_ended"] is True


def test_station_page_shows_children_and_member_deputies(app, client):
    world()
    county = Api(client).get("/stations/C1").get_json()["station"]
    assert county["kind_label"] == "代表联络站" and county["level_label"] == "县级"
    assert [c["code"] for c in county["children"]] == ["TA", "TB"]
    town = Api(client).get("/stations/ta").get_json()["station"]
    assert town["parent"]["code"] == "C1" and [d["code"] for d in town["deputies"]] == ["DEP001"]
    assert town["reception_hours"] == "周二 9:00-11:30"
    assert error(Api(client).get("/stations/<script>")) == (404, "station_not_found")


def test_categories_give_codes_and_chinese_labels(app, client):
    body = Api(client).get("/categories").get_json()
    assert {"code": "traffic", "label": "交通出行"} in body["categories"]
    assert [r["label"] for r in body["ratings"]] == ["满意", "基本满意", "不满意"]
    assert body["limits"]["content"] == 2000


def test_project_page_has_progress_milestones_updates_and_deputies(app, client):
    w = world()
    Milestone.create(project=w.project, title="完成设计", planned_date=dt.date(2026, 3, 1), done_on=dt.date(2026, 3, 5))
    Milestone.create(project=w.project, title="竣工验收", planned_date=dt.date(2026, 11, 1), sort=1)
    ProjectUpdate.create(project=w.project, text="路基已完成", progress=40)
    body = Api(client).get("/projects/xm001").get_json()["project"]
    assert body["name"] == "村道提质改造" and body["department"] == "县交通运输局"
    assert [(m["title"], m["done"]) for m in body["milestones"]] == [("完成设计", True), ("竣工验收", False)]
    assert body["updates"][0]["text"] == "路基已完成" and body["updates"][0]["progress"] == 40
    assert [d["code"] for d in body["deputies"]] == ["DEP001"]
    assert body["following"] is False and body["followers"] == 0
    w.project.published = False
    w.project.save()
    assert error(Api(client).get("/projects/XM001")) == (404, "project_not_found")


def test_follow_and_unfollow_a_project_idempotently(app, client):
    w = world()
    api = Api(client, w.citizen)
    assert error(Api(client).put("/projects/XM001/follow")) == (401, "login_required")
    assert api.put("/projects/XM001/follow").get_json() == {"following": True, "followers": 1}
    assert api.put("/projects/XM001/follow").get_json() == {"following": True, "followers": 1}
    assert api.get("/projects/XM001").get_json()["project"]["following"] is True
    assert [p["code"] for p in api.get("/me/follows").get_json()["projects"]] == ["XM001"]
    assert Api(client, w.other_citizen).get("/me/follows").get_json()["projects"] == []
    assert Follow.select().where(Follow.account == w.citizen).count() == 1
    assert api.delete("/projects/XM001/follow").get_json() == {"following": False, "followers": 0}
    assert api.delete("/projects/XM001/follow").status_code == 200
    assert error(api.put("/projects/NOPE/follow")) == (404, "project_not_found")


def test_openapi_document_describes_every_api_route(app, client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = "/" + rule.rule[len("/api/v1/"):]
            path = path.replace("<", "{").replace(">", "}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_unknown_api_path_is_a_json_404(app, client):
    assert error(client.get("/api/v1/nothing-here")) == (404, "not_found")
