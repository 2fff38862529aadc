"""QR codes and printables, checked with a real decoder (zxing-cpp) and real rasterising (cairo)."""
import datetime as dt
import io
import xml.etree.ElementTree as ET
import zipfile

import cairosvg
import pytest
import zxingcpp
from PIL import Image

from models import Deputy, Project
from qr import codes, printables
from tests.factories import world

BASE = "http://daibiao.test"


def decode(png_bytes):
    """Every QR code zxing-cpp finds in the image: [(text, ec_level)]."""
    image = Image.open(io.BytesIO(png_bytes))
    return [(r.text, r.ec_level) for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def w(app):
    return world()


@pytest.mark.parametrize("path,url", [("d/DEP001", "/d/DEP001"), ("p/XM001", "/p/XM001"), ("s/TA", "/s/TA"),
                                      ("d/dep002", "/d/DEP002")])
@pytest.mark.parametrize("size", [None, 100, 1000])
def test_png_code_decodes_to_exactly_the_public_url(client, w, path, url, size):
    response = client.get(f"/qr/{path}.png" + (f"?size={size}" if size else ""))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert decode(response.data) == [(BASE + url, "M")]
    image = Image.open(io.BytesIO(response.data)).convert("L")
    assert image.width == image.height and image.width <= (size or 360)
    # whole pixels per module, and a quiet zone of 4 white modules on every side
    modules = len(codes.matrix(BASE + url)) + 8
    scale = image.width // modules
    assert image.width == modules * scale
    for box in [(0, 0, image.width, 4 * scale), (0, image.width - 4 * scale, image.width, image.width),
                (0, 0, 4 * scale, image.width), (image.width - 4 * scale, 0, image.width, image.width)]:
        assert image.crop(box).getextrema() == (255, 255)
    assert image.crop((4 * scale, 4 * scale, 5 * scale, 5 * scale)).getextrema() == (0, 0)  # finder corner


def test_same_code_gives_same_bytes_and_a_repeat_is_a_304(client, w):
    first, second = client.get("/qr/d/DEP001.png"), client.get("/qr/d/DEP001.png")
    assert first.data == second.data
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/qr/d/DEP001.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/qr/d/DEP002.png")
    assert other.headers["ETag"] != first.headers["ETag"] and other.data != first.data


def test_svg_code_is_valid_and_decodes_after_rasterising(client, w):
    response = client.get("/qr/s/TA.svg?size=300")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "300"
    assert decode(cairosvg.svg2png(bytestring=response.data, output_width=300)) == [(BASE + "/s/TA", "M")]


def test_codes_follow_public_base_url(app, client, w):
    app.config["PUBLIC_BASE_URL"] = "http://192.168.1.20:5000"
    assert decode(client.get("/qr/d/DEP001.png").data) == [("http://192.168.1.20:5000/d/DEP001", "M")]


@pytest.mark.parametrize("path", ["/qr/d/NOPE.png", "/qr/p/NOPE.svg", "/qr/s/NOPE.png", "/qr/card/NOPE.pdf",
                                  "/qr/plaque/NOPE.png", "/qr/board/NOPE.svg", "/qr/d/NOPE.wxa.png",
                                  "/qr/d/DEP0%2E1.png"])
def test_unknown_code_is_404(client, w, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] in ("code_not_found", "not_found")


def test_unpublished_project_has_no_code_or_plaque(client, w):
    Project.update(published=False).execute()
    assert client.get("/qr/p/XM001.png").status_code == 404
    assert client.get("/qr/plaque/XM001.pdf").status_code == 404


@pytest.mark.parametrize("kind,code,url", [("card", "DEP001", "/d/DEP001"), ("plaque", "XM001", "/p/XM001"),
                                           ("board", "TA", "/s/TA")])
def test_printables_in_three_formats_carry_a_readable_code(client, w, kind, code, url):
    svg = client.get(f"/qr/{kind}/{code}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.data)
    assert root.get("width").endswith("mm")
    assert not list(root.iter("{http://www.w3.org/2000/svg}text")), "text is outlines: no fonts needed to print"
    assert decode(cairosvg.svg2png(bytestring=svg.data, dpi=150)) == [(BASE + url, "M")]
    png = client.get(f"/qr/{kind}/{code}.png")
    assert png.mimetype == "image/png" and decode(png.data) == [(BASE + url, "M")]
    pdf = client.get(f"/qr/{kind}/{code}.pdf?download=1")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/qr/{kind}/{code}.pdf", headers={"If-None-Match": pdf.headers["ETag"]}).status_code == 304


def test_card_shows_the_deputy_and_changes_when_the_deputy_does(client, w):
    sheet = printables.deputy_card(w.deputy)
    texts = {t["label"]: t["text"] for t in sheet.texts}
    assert texts["name"] == "周建华" and texts["level"] == "县人大代表" and texts["station"] == "城关镇联络站"
    assert texts["slogan"] == "扫码找代表 反映问题"
    before = client.get("/qr/card/DEP001.svg").headers["ETag"]
    Deputy.update(name="周建国").where(Deputy.id == w.deputy.id).execute()
    assert client.get("/qr/card/DEP001.svg").headers["ETag"] != before


def inside(inner, outer):
    x, y, w, h = inner
    X, Y, W, H = outer
    return X <= x and Y <= y and x + w <= X + W + 1e-6 and y + h <= Y + H + 1e-6


def overlaps(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def assert_laid_out_inside(sheet, label, text):
    from qr import fonts
    box = next(t for t in sheet.texts if t["label"] == label)
    assert "".join(box["lines"]) == text, "every character is set, none cut"
    assert len(box["lines"]) > 1, "a long name wraps"
    weight = "bold"
    for line in box["lines"]:
        assert fonts.face(weight).width(line) * box["size"] <= box["box"][2] + 1e-6
    assert inside(box["used"], box["box"]) and inside(box["box"], sheet.frame)
    assert not overlaps(box["box"], sheet.code_box)
    # Nothing is drawn outside the frame: render and look at the margin's pixels.
    image = Image.open(io.BytesIO(printables.render(sheet, "png", dpi=100))).convert("L")
    px = 100 / 25.4
    x, y, w, h = sheet.frame
    stroke = 1.0  # mm: half the frame's stroke lies outside its rectangle, plus anti-aliasing
    left, top = int((x - stroke) * px), int((y - stroke) * px)
    right, bottom = int((x + w + stroke) * px) + 1, int((y + h + stroke) * px) + 1
    for region in [(0, 0, image.width, top), (0, bottom, image.width, image.height),
                   (0, 0, left, image.height), (right, 0, image.width, image.height)]:
        assert image.crop(region).getextrema() == (255, 255), region


def test_plaque_with_a_40_character_name_stays_inside_its_frame(app, w):
    name = "县城至柳林镇公路提质改造及沿线村组道路安全生命防护工程和配套排水设施建设一期工程"
    assert len(name) == 40
    Project.update(name=name, planned_start=dt.date(2026, 3, 1), planned_end=dt.date(2026, 12, 31)).execute()
    sheet = printables.project_plaque(Project.get(Project.code == "XM001"))
    assert_laid_out_inside(sheet, "name", name)
    assert decode(printables.render(sheet, "png")) == [(BASE + "/p/XM001", "M")]


def test_long_names_on_card_and_board_shrink_and_wrap_inside(app, w):
    long_station = "城关镇东门社区第三网格人大代表联络站暨党群服务中心代表接待室（夜间接待点）"
    w.town_a.name = long_station
    w.town_a.save()
    assert_laid_out_inside(printables.station_board(w.town_a), "name", long_station)
    w.deputy.name = "阿卜杜热合曼·艾买提江·买买提明·克然木·吐尔逊"
    w.deputy.save()
    card = printables.deputy_card(Deputy.get_by_id(w.deputy.id))
    box = next(t for t in card.texts if t["label"] == "name")
    assert "".join(box["lines"]) == w.deputy.name and inside(box["used"], card.frame)


def test_card_carries_the_deputys_photo(app, client, w):
    from services.uploads import save_image
    image = Image.new("RGB", (300, 400), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    w.deputy.photo = save_image(out.getvalue()).token
    w.deputy.save()
    svg = client.get("/qr/card/DEP001.svg").data
    assert b"data:image/jpeg;base64," in svg
    assert decode(cairosvg.svg2png(bytestring=svg, dpi=150)) == [(BASE + "/d/DEP001", "M")]


def test_export_zip_holds_one_card_per_serving_deputy(app, runner, w, tmp_path):
    Deputy.create(code="DEP003", name="郑国庆", level="county", station=w.town_b, term_end=dt.date(2020, 1, 1))
    out = tmp_path / "cards.zip"
    result = runner.invoke(args=["export-codes", "--kind", "deputies", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出 2 个代表联系卡" in result.output
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == ["DEP001-周建华.pdf", "DEP002-吴秀英.pdf"]
        assert all(archive.read(n).startswith(b"%PDF") for n in names)


def test_export_on_two_processes_writes_the_same_zip_as_on_one(app, runner, w, tmp_path):
    for i in range(3, 26):  # enough cards for the worker pool (qr.POOL_FROM)
        Deputy.create(code=f"DEP{i:03d}", name=f"代表{i}", level="township", station=w.town_b)
    zips = []
    for jobs in ("1", "2"):
        out = tmp_path / f"cards-{jobs}.zip"
        result = runner.invoke(args=["export-codes", "--kind", "deputies", "--format", "png", "--jobs", jobs,
                                     "--out", str(out)])
        assert result.exit_code == 0 and "已导出 25 个" in result.output, result.output
        zips.append(out.read_bytes())
    assert zips[0] == zips[1]
    with zipfile.ZipFile(tmp_path / "cards-2.zip") as archive:
        assert len(archive.namelist()) == 25
        assert decode(archive.read("DEP017-代表17.png")) == [(BASE + "/d/DEP017", "M")]


def test_export_by_station_and_kind(app, runner, w, tmp_path):
    out = tmp_path / "boards.zip"
    result = runner.invoke(args=["export-codes", "--kind", "stations", "--station", "TA", "--format", "png",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["TA-城关镇联络站.png"]
        assert decode(archive.read("TA-城关镇联络站.png")) == [(BASE + "/s/TA", "M")]
    out = tmp_path / "deputies.zip"
    result = runner.invoke(args=["export-codes", "--kind", "deputies", "--station", "TB", "--format", "svg",
                                 "--out", str(out)])
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["DEP002-吴秀英.svg"]
    result = runner.invoke(args=["export-codes", "--kind", "projects", "--station", "NOPE", "--out", str(out)])
    assert result.exit_code != 0 and "未找到该联络站" in result.output


def test_wxacode_comes_from_wechat_once_then_from_the_cache(client, w, wechat_standin):
    first = client.get("/qr/d/DEP001.wxa.png")
    assert first.status_code == 200 and first.mimetype == "image/jpeg"  # what WeChat sends, served as it is
    assert first.data[:3] == b"\xff\xd8\xff"
    assert decode(first.data)[0][0] == "wxacode:?scene=d=DEP001"
    again = client.get("/qr/d/DEP001.wxa.png")
    assert again.data == first.data
    assert [c["json"]["scene"] for c in wechat_standin.calls if c["path"] == "/wxa/getwxacodeunlimit"] == ["d=DEP001"]


def test_wxacode_when_wechat_fails_says_so(client, w, wechat_standin):
    wechat_standin.inject("wxa/getwxacodeunlimit", status=500)
    response = client.get("/qr/p/XM001.wxa.png")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "wechat_unavailable"
    wechat_standin.inject("wxa/getwxacodeunlimit", errcode=45009)
    response = client.get("/qr/p/XM001.wxa.png")
    assert response.status_code == 502 and "45009" in response.get_json()["error"]["message"]
