"""Project progress updates take PDFs (checked by their bytes, as answer letters are) besides photos; the console
and the public project page show a PDF as a link and a photo as a picture; the API says which is which."""
import io

import pytest

from models import ProjectUpdate, Upload
from tests.api_client import Api, jpeg
from tests.factories import world
from tests.test_console import flashes, post, sign_in

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def w(app):
    return world()


def publish(client, *files):
    return post(client, "/console/projects/XM001/updates", {"text": "路基完工，验收报告见附件", "progress": "40",
                                                           "photos": [(io.BytesIO(d), n) for d, n in files]},
                content_type="multipart/form-data")


def test_a_pdf_and_a_photo_on_an_update_show_as_a_link_and_a_picture(client, w):
    sign_in(client, w.staff)
    assert publish(client, (PDF, "验收报告.pdf"), (jpeg(), "现场.jpg")).status_code == 302
    update = ProjectUpdate.get()
    pdf, photo = (Upload.get(Upload.token == t) for t in update.photos)
    assert (pdf.mime, photo.mime) == ("application/pdf", "image/jpeg")
    for page in (client.get("/console/projects/XM001"), client.get("/p/XM001")):
        text = page.get_data(as_text=True)
        assert f'href="/uploads/{pdf.token}"' in text and "PDF 文件" in text
        assert f'<img src="/uploads/{photo.token}"' in text and f'<img src="/uploads/{pdf.token}"' not in text
    assert client.get(f"/uploads/{pdf.token}").data == PDF
    body = Api(client).get("/projects/XM001").get_json()["project"]
    assert [(p["id"], p["pdf"]) for p in body["updates"][0]["photos"]] == [(pdf.token, True), (photo.token, False)]


def test_a_broken_pdf_is_refused_in_chinese_and_nothing_is_published(client, w):
    sign_in(client, w.staff)
    publish(client, (b"%PDF-1.4 truncated", "报告.pdf"))
    assert ("error", "PDF 文件不完整或已损坏，请重新导出后上传") in flashes(client, "/console/projects/XM001")
    assert ProjectUpdate.select().count() == 0
