"""The H5 pages behind the QR codes, through the test client (both databases)."""
import datetime as dt
import io
import re

import pytest
from PIL import Image

from models import Account, Case, Follow, Milestone, ProjectUpdate, Upload
from tests.factories import world

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36 "
             "MicroMessenger/8.0.47.2560 NetType/WIFI Language/zh_CN")


@pytest.fixture
def w(app):
    return world()


def token_of(response):
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def report(client, path, headers=None, **fields):
    """Open the page, then send its form like a browser does."""
    page = client.get(path, headers=headers or {})
    assert page.status_code == 200
    data = {"csrf_token": token_of(page), "category": "traffic", "content": "村口道路坑洼严重，雨天积水。",
            "contact_phone": "", **fields}
    return client.post(path, data=data, headers=headers or {}, content_type="multipart/form-data")


def case_number(response):
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return re.search(r"/c/([\d-]+)", response.headers["Location"]).group(1)


def test_deputy_page_shows_the_profile_and_a_report_form(client, w):
    html = client.get("/d/dep001").get_data(as_text=True)
    assert "周建华" in html and "县人大代表" in html and "城关镇联络站" in html
    assert 'href="/s/TA"' in html and "向周建华代表反映问题" in html and 'name="csrf_token"' in html
    assert "村道提质改造" in html  # the project this deputy supervises


def test_report_without_wechat_gets_a_case_number_and_how_to_follow_it(client, w):
    response = report(client, "/d/DEP001", name="王大爷", contact_phone="139 1234 5678", location="村口")
    number = case_number(response)
    case = Case.get(Case.number == number)
    assert (case.deputy.code, case.source, case.state, case.contact_phone) == ("DEP001", "h5", "submitted",
                                                                               "13912345678")
    assert case.reporter.role == "citizen" and case.reporter.display_name == "王大爷"
    assert case.flagged  # no WeChat identity, no content check: staff look at it first
    page = client.get(f"/c/{number}?new=1").get_data(as_text=True)
    assert "提交成功" in page and number in page and f"查询 {number}" in page and "查我的反映" in page
    # the same browser reports again as the same citizen; another browser cannot open the case
    second = case_number(report(client, "/d/DEP001", content="路灯坏了两个月，晚上很黑。"))
    assert Case.get(Case.number == second).reporter_id == case.reporter_id
    assert client.application.test_client().get(f"/c/{number}").status_code == 404


def test_form_needs_its_csrf_token(client, w):
    client.get("/d/DEP001")
    response = client.post("/d/DEP001", data={"category": "traffic", "content": "村口道路坑洼严重。"})
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert Case.select().count() == 0 and Account.select().where(Account.display_name == "网页访客").count() == 0


def test_bad_input_is_explained_and_what_was_typed_is_kept(client, w):
    response = report(client, "/d/DEP001", content="太短", contact_phone="12345")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "反映内容至少5个字" in html and "太短" in html
    response = report(client, "/d/DEP001", category="")
    assert response.status_code == 400 and "请选择有效的问题类别" in response.get_data(as_text=True)
    response = report(client, "/d/DEP001", contact_phone="12345")
    assert response.status_code == 400 and "请填写正确的手机号" in response.get_data(as_text=True)
    assert Case.select().count() == 0
    assert Account.select().where(Account.role == "citizen").count() == 2  # only the world's, none half-made


def test_photos_are_uploaded_with_the_report(client, w):
    def jpeg():
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (120, 80, 20)).save(out, format="JPEG")
        out.seek(0)
        return out
    response = report(client, "/d/DEP001", photos=[(jpeg(), "a.jpg"), (jpeg(), "b.jpg")])
    case = Case.get(Case.number == case_number(response))
    assert len(case.photos) == 2 and Upload.select().where(Upload.token.in_(case.photos)).count() == 2
    assert client.get(f"/uploads/{case.photos[0]}").status_code == 200
    response = report(client, "/d/DEP001", photos=[(io.BytesIO(b"not an image"), "x.jpg")])
    assert response.status_code == 400 and "只能上传" in response.get_data(as_text=True)
    response = report(client, "/d/DEP001", photos=[(jpeg(), f"{i}.jpg") for i in range(4)])
    assert response.status_code == 400 and "最多上传3张照片" in response.get_data(as_text=True)


def test_reports_from_one_address_are_rate_limited(app, client, w):
    app.config["H5_REPORTS_PER_IP_HOUR"] = 2
    case_number(report(client, "/d/DEP001"))
    case_number(report(client, "/d/DEP002"))
    response = report(client, "/s/TA")
    assert response.status_code == 429 and "提交太频繁" in response.get_data(as_text=True)
    assert Case.select().count() == 2


def test_deputy_whose_term_ended_sends_the_citizen_to_the_station(client, w):
    w.deputy.term_end = dt.date(2020, 12, 31)
    w.deputy.save()
    response = client.get("/d/DEP001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "任期已满" in html and "2020年12月31日" in html
    assert 'href="/s/TA"' in html and 'name="content"' not in html
    client.post("/d/DEP001", data={"csrf_token": token_of(client.get("/s/TA")), "category": "traffic",
                                   "content": "村口道路坑洼严重。"})
    assert Case.select().count() == 0


@pytest.mark.parametrize("path", ["/d/NOPE", "/p/NOPE", "/s/NOPE", "/c/2026-999999", "/go?code=NOPE"])
def test_unknown_codes_get_a_friendly_chinese_404(client, w, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "没有找到" in html and 'href="/"' in html


def test_project_page_shows_progress_updates_deputies_and_takes_reports(client, w):
    w.project.progress = 45
    w.project.save()
    Milestone.create(project=w.project, title="开工建设", planned_date=dt.date(2026, 5, 15), done_on=dt.date(2026, 5, 10))
    Milestone.create(project=w.project, title="竣工验收", planned_date=dt.date(2026, 12, 15), sort=1)
    ProjectUpdate.create(project=w.project, text="路基已完成", progress=30, created_at=dt.datetime(2026, 6, 1, 2))
    ProjectUpdate.create(project=w.project, text="开始铺设沥青", progress=45, created_at=dt.datetime(2026, 7, 1, 2))
    html = client.get("/p/XM001").get_data(as_text=True)
    assert "村道提质改造" in html and "45%" in html and "县交通运输局" in html
    assert "开工建设" in html and "2026年5月10日" in html and "竣工验收" in html
    assert html.index("开始铺设沥青") < html.index("路基已完成")  # latest first
    assert 'href="/d/DEP001"' in html and "关注项目" in html and "小程序" in html
    number = case_number(report(client, "/p/XM001", content="施工路段晚上没有警示灯。"))
    case = Case.get(Case.number == number)
    assert case.project.code == "XM001" and case.deputy.code == "DEP001"  # routed to its supervising deputy


def test_station_page_shows_hours_and_members_and_takes_reports(client, w):
    html = client.get("/s/TA").get_data(as_text=True)
    assert "城关镇联络站" in html and "周二 9:00-11:30" in html and 'href="/d/DEP001"' in html
    assert 'href="/s/C1"' in html  # up to the county station
    case = Case.get(Case.number == case_number(report(client, "/s/TA")))
    assert case.station.code == "TA" and case.deputy is None


def test_inside_wechat_the_official_account_identifies_the_reporter(client, w, wechat_standin):
    headers = {"User-Agent": WECHAT_UA}
    response = client.get("/d/DEP001?from=card", headers=headers)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{wechat_standin.base_url}connect/oauth2/authorize?appid=wxoatest0000000001")
    assert "scope=snsapi_base" in location and location.endswith("#wechat_redirect")
    assert "redirect_uri=http%3A%2F%2Fdaibiao.test%2Fd%2FDEP001%3Ffrom%3Dcard" in location
    assert client.get("/d/DEP001?code=code-alice&state=h5", headers=headers).status_code == 200
    case = Case.get(Case.number == case_number(report(client, "/d/DEP001", headers=headers)))
    assert case.reporter.oa_openid == "oa-alice"
    assert [c["query"]["code"] for c in wechat_standin.calls if c["path"] == "/sns/oauth2/access_token"] \
        == ["code-alice"]
    # now identified: the project page offers a real follow button
    page = client.get("/p/XM001", headers=headers)
    assert "关注项目" in page.get_data(as_text=True)
    client.post("/p/XM001/follow", data={"csrf_token": token_of(page), "action": "follow"}, headers=headers)
    assert Follow.select().where(Follow.account == case.reporter_id).count() == 1


def test_wechat_oauth_failure_still_shows_the_page(client, w, wechat_standin):
    headers = {"User-Agent": WECHAT_UA}
    assert client.get("/p/XM001", headers=headers).status_code == 302
    response = client.get("/p/XM001?code=bad&state=h5", headers=headers)
    assert response.status_code == 200 and "村道提质改造" in response.get_data(as_text=True)
    assert client.get("/p/XM001", headers=headers).status_code == 200  # no redirect loop


def test_sandbox_mode_never_sends_a_phone_to_wechats_real_authorize_page(app, client, w):
    app.config["WECHAT_SANDBOX"] = True  # make run without WeChat credentials: the AppID is made up
    app.config["WECHAT_OPEN_BASE"] = "https://open.weixin.qq.com"
    response = client.get("/d/DEP001", headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 200 and "向周建华代表反映问题" in response.get_data(as_text=True)


def test_outside_wechat_there_is_no_redirect_and_no_follow_button(client, w):
    response = client.get("/p/XM001")
    assert response.status_code == 200
    assert 'action="/p/XM001/follow"' not in response.get_data(as_text=True)
    response = client.post("/p/XM001/follow", data={"csrf_token": token_of(response)})
    assert response.status_code == 400 and Follow.select().count() == 0


def test_home_page_links_to_stations_and_projects(client, w):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/s/C1"' in html and 'href="/s/TA"' in html and 'href="/p/XM001"' in html
    assert client.get("/go?code=dep002").headers["Location"].endswith("/d/DEP002")


def test_wechat_verification_file_is_served_where_the_rules_need_it(schema, database_url, tmp_path):
    from app import create_app
    from tests.conftest import TEST_CONFIG
    path = tmp_path / "a1b2c3d4e5.txt"
    path.write_text("8f3e0c1d2b")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_VERIFY_FILE": str(path)})
    client = app.test_client()
    for url in ("/a1b2c3d4e5.txt", "/d/a1b2c3d4e5.txt", "/p/a1b2c3d4e5.txt", "/s/a1b2c3d4e5.txt",
                "/q/a1b2c3d4e5.txt"):
        response = client.get(url)
        assert response.status_code == 200 and response.data == b"8f3e0c1d2b", url
    assert client.get("/other.txt").status_code == 404
