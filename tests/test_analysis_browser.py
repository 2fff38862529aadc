"""附近有相同的反映 in Debian's Chromium on a 390-px phone: while a villager writes the fifth report of the same
broken road, the first is offered and 我也遇到 follows it instead of filing; and the 民情 dashboard draws its
charts with ECharts (served from static/vendor)."""
import pytest

from models import Case, Support
from tests.factories import world
from tests.test_analysis import ROAD, four_road_reports
from tests.test_console import with_password
from tests.test_console_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def w(app, live_server):
    app.config.update(PUBLIC_BASE_URL=live_server)
    return world()


@pytest.fixture
def phone390(phone_page):
    phone_page.set_viewport_size({"width": 390, "height": 844})
    return phone_page


def test_fifth_report_of_the_same_road_is_offered_the_first_and_followed(w, live_server, phone390):
    first = four_road_reports(w)[0]
    page = phone390
    page.goto(f"{live_server}/d/{w.deputy.code}")
    assert page.is_hidden("#similar")
    page.fill("#content", ROAD[4])
    page.wait_for_selector(f'#similar li[data-number="{first.number}"]')
    assert page.is_visible("text=附近有相同的反映")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off the screen
    page.screenshot(path="/tmp/i23-similar-390.png", full_page=True)
    cases_before = Case.select().count()
    page.click(f'#similar li[data-number="{first.number}"] button.support')
    page.wait_for_selector("#supported")
    assert "已记下：您也遇到了这个问题" in page.inner_text("#supported")
    assert page.inner_text("#supporters") == "1"
    assert Case.select().count() == cases_before  # nothing filed twice
    assert Support.select().where(Support.case == first).count() == 1
    # the same phone again: still one
    page.go_back()
    page.fill("#content", ROAD[4] + "。")
    page.wait_for_selector(f'#similar li[data-number="{first.number}"]')
    page.click(f'#similar li[data-number="{first.number}"] button.support')
    page.wait_for_selector("#supported")
    assert "您已经点过" in page.inner_text("#supported")
    assert Support.select().where(Support.case == first).count() == 1


def test_a_different_problem_is_filed_as_usual(w, live_server, phone390):
    four_road_reports(w)
    page = phone390
    page.goto(f"{live_server}/d/{w.deputy.code}")
    page.select_option("#category", "health")
    page.fill("#content", "卫生室没有医生，看个小病都要跑到镇上。")
    page.wait_for_timeout(1200)  # the look-up runs half a second after typing stops
    assert page.is_hidden("#similar")
    page.click("text=提交反映")
    page.wait_for_selector("#case-number")


def test_minqing_dashboard_draws_its_charts(w, live_server, page):
    four_road_reports(w)
    with_password(w.staff)
    sign_in(page, live_server, "staff")
    page.click("nav >> text=民情")
    page.wait_for_selector("#topics-chart canvas")  # ECharts drew the topics
    page.wait_for_selector("#map-chart")
    assert "南塘村" in page.inner_text("#topics") and page.is_visible("#clusters")
    assert "城关镇联络站" in page.inner_text("#category-town")
    page.screenshot(path="/tmp/i23-minqing.png", full_page=True)
