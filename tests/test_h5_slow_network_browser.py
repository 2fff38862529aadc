"""What keeps the report form quick on a slow phone network (bench/h5_bench.py measures it), in Chromium:
a big phone photo is shrunk in the browser before it is sent and the server accepts it; without
JavaScript the plain form still files a text report; pages and their files come gzipped and fingerprinted."""
import random
import re

import pytest
import requests
from PIL import Image, ImageDraw

from models import Case, Upload
from tests.factories import world

pytestmark = pytest.mark.browser


def big_photo(path):
    """A 3000×2250 JPEG of a little over 1 MB (grain and shapes), as a phone camera would give."""
    rng = random.Random(3)
    image = Image.linear_gradient("L").resize((3000, 2250)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(1500):
        x, y, r = rng.randrange(3000), rng.randrange(2250), rng.randrange(8, 80)
        draw.ellipse((x, y, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    Image.blend(image, Image.effect_noise((3000, 2250), 28).convert("RGB"), 0.25).save(path, "JPEG", quality=90)
    return path


def file_report(page, base, photo=None):
    page.goto(f"{base}/d/DEP001")
    page.select_option("#category", "traffic")
    page.fill("#content", "村口的路灯坏了两个月，晚上很黑，老人出门不方便。")
    if photo:
        page.set_input_files("#photos", photo)
    page.click("text=提交反映")
    page.wait_for_selector("#case-number")
    return Case.get(Case.number == page.inner_text("#case-number"))


def test_a_phone_photo_is_shrunk_before_upload_and_the_server_keeps_it(live_server, phone_page, app, tmp_path):
    world()
    photo = big_photo(tmp_path / "IMG_0001.jpg")
    assert photo.stat().st_size > 1_000_000
    case = file_report(phone_page, live_server, str(photo))  # submitted at once: the form waits for the shrink
    [upload] = [Upload.get(Upload.token == token) for token in case.photos]
    assert (upload.width, upload.height) == (1600, 1200) and upload.mime == "image/jpeg"
    assert upload.size < photo.stat().st_size / 3


def test_without_javascript_the_form_still_files_a_text_report(live_server, browser, app):
    world()
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        case = file_report(context.new_page(), live_server)
    finally:
        context.close()
    assert case.deputy.code == "DEP001" and case.photos == [] and "路灯" in case.content


def test_pages_and_their_files_come_gzipped_and_fingerprinted(live_server, app):
    world()
    page = requests.get(f"{live_server}/d/DEP001", headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert page.headers["Content-Encoding"] == "gzip" and "周建华" in page.text
    css = re.search(r'href="(/static/public/h5\.css\?v=\w+)"', page.text).group(1)
    asset = requests.get(live_server + css, headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert asset.headers["Content-Encoding"] == "gzip" and "immutable" in asset.headers["Cache-Control"]
    assert "max-age=31536000" in asset.headers["Cache-Control"] and "body" in asset.text
