"""The browser fixtures work: Chromium opens a page served by the test app."""
import pytest

pytestmark = pytest.mark.browser


def test_chromium_shows_the_health_page(live_server, page):
    page.goto(f"{live_server}/healthz")
    assert '"status":"ok"' in page.content().replace(" ", "")


def test_unknown_page_is_a_chinese_404(live_server, page):
    response = page.goto(f"{live_server}/no-such-page")
    assert response.status == 404
    assert "页面不存在" in page.inner_text("h1")
