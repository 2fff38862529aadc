"""Personal data and uploads: phones encrypted at rest (read the raw column), lookups still work, old rows
sealed by the migration; the retention job and account deletion remove personal details while the figures
stay; the collection notice is on every form; decompression bombs refused before decoding; orphans swept."""
import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image

from models import Account, Case, CaseEvent, Notification, Rating, Upload, db, is_mysql, utcnow
from models.migrate import SchemaVersion, discover, migrate
from services import privacy, stats, uploads
from tests.api_client import Api, error, jpeg
from tests.factories import case_in, csrf_of, new_case, world

ROOT = Path(__file__).resolve().parents[1]


def raw(table, column, row_id):
    q = "`" if is_mysql() else '"'
    mark = "%s" if is_mysql() else "?"
    return db.execute_sql(f"SELECT {q}{column}{q} FROM {q}{table}{q} WHERE id = {mark}", (row_id,)).fetchone()[0]


# --- encryption at rest ---------------------------------------------------------------------------

def test_phone_numbers_are_encrypted_in_the_database_and_plain_in_the_app(app):
    w = world()
    case = new_case(w, contact_phone="13912345678")
    for table, column, row_id, plain in (("account", "phone", w.citizen.id, "13800001111"),
                                         ("case", "contact_phone", case.id, "13912345678")):
        stored = raw(table, column, row_id)
        assert stored.startswith("s1:") and plain not in stored and "1234" not in stored
    assert Case.get_by_id(case.id).contact_phone == "13912345678"
    assert Account.get_or_none(Account.phone == "13800001111").id == w.citizen.id   # lookups still work
    assert Case.select().where(Case.contact_phone != "").count() == 1


def test_the_office_sees_the_number_others_see_it_masked(app, client):
    w = world()
    case = new_case(w, contact_phone="13912345678")
    detail = Api(client, w.deputy_account).get(f"/cases/{case.number}").get_json()["case"]
    assert detail["contact_phone"] == "139****5678"


def test_the_migration_seals_numbers_written_before_it(app):
    w = world()
    case = new_case(w)
    q = "`" if is_mysql() else '"'
    mark = "%s" if is_mysql() else "?"
    db.execute_sql(f"UPDATE {q}case{q} SET contact_phone = {mark} WHERE id = {mark}", ("13700007777", case.id))
    assert raw("case", "contact_phone", case.id) == "13700007777"
    assert Case.get_by_id(case.id).contact_phone == "13700007777"   # a legacy plain value still reads
    SchemaVersion.delete().where(SchemaVersion.version == 6).execute()
    assert 6 in migrate(discover())
    assert raw("case", "contact_phone", case.id).startswith("s1:")
    assert Case.get_by_id(case.id).contact_phone == "13700007777"


def test_a_wrong_key_cannot_read_the_numbers(app):
    from models import sealing
    w = world()
    stored = raw("account", "phone", w.citizen.id)
    sealing.configure("ab" * 64)
    try:
        with pytest.raises(Exception):
            sealing.unseal(stored)
    finally:
        sealing.configure(app.config.get("PERSONAL_DATA_KEY"), app.config["SECRET_KEY"],
                          app.config.get("PERSONAL_DATA_CIPHER"))


def test_sm4_seals_too_and_flask_reseal_switches_every_number(app, runner):
    from models import sealing
    w = world()
    case = new_case(w, contact_phone="13912345678")
    assert raw("case", "contact_phone", case.id).startswith("s1:")
    sealing.configure(app.config.get("PERSONAL_DATA_KEY"), app.config["SECRET_KEY"], "sm4")
    try:
        assert Case.get_by_id(case.id).contact_phone == "13912345678"   # the other cipher still reads
        result = runner.invoke(args=["reseal"])
        assert result.exit_code == 0 and "已重新加密 2 个号码" in result.output
        stored = raw("case", "contact_phone", case.id)
        assert stored.startswith("s2:") and "5678" not in stored
        assert Case.get_by_id(case.id).contact_phone == "13912345678"
        assert Case.get_or_none(Case.contact_phone == "13912345678").id == case.id   # lookups again
        assert Account.get_or_none(Account.phone == "13800001111").id == w.citizen.id
        tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
        with pytest.raises(ValueError):
            sealing.unseal(tampered)
    finally:
        sealing.configure(app.config.get("PERSONAL_DATA_KEY"), app.config["SECRET_KEY"], "aes")
        sealing.reseal(db, is_mysql())


# --- retention and deletion -----------------------------------------------------------------------

def test_retention_removes_reporters_details_from_long_ended_cases_and_the_figures_stay(app):
    w = world()
    old = case_in(w, "closed", contact_phone="13912345678")
    recent = case_in(w, "closed")
    still_open = case_in(w, "answered")
    Case.update(closed_at=utcnow() - dt.timedelta(days=4 * 365)).where(Case.id == old.id).execute()
    before = {by: stats.figures(by=by) for by in ("category", "department", "month")}
    assert privacy.purge_expired() == 1
    gone = Case.get_by_id(old.id)
    assert gone.reporter_id is None and gone.contact_phone == "" and gone.state == "closed"
    assert not CaseEvent.select().where(CaseEvent.case == old.id, CaseEvent.actor == w.citizen.id).exists()
    assert not Rating.select().where(Rating.case == old.id, Rating.rater == w.citizen.id).exists()
    assert Case.get_by_id(recent.id).reporter_id == w.citizen.id
    assert Case.get_by_id(still_open.id).reporter_id == w.citizen.id
    assert {by: stats.figures(by=by) for by in before} == before
    assert privacy.purge_expired() == 0          # safe to run again


def test_a_citizen_deletes_their_account_through_the_api(app, client):
    w = world()
    case = case_in(w, "accepted", contact_phone="13912345678")
    api = Api(client, w.citizen)
    status, code = error(api.delete("/me", json={}))
    assert (status, code) == (400, "confirm_required")
    assert api.delete("/me", json={"confirm": True}).get_json() == {"deleted": True, "cases_detached": 1}
    account = Account.get_by_id(w.citizen.id)
    assert account.phone == "" and account.openid is None and not account.active
    assert account.display_name == privacy.DELETED_NAME
    assert Case.get_by_id(case.id).reporter_id is None and Case.get_by_id(case.id).contact_phone == ""
    assert Notification.select().where(Notification.account == w.citizen.id).count() == 0
    assert api.get("/me").status_code == 401      # the token ended with the account
    assert Case.get_by_id(case.id).state == "accepted"   # the case goes on without the person


def test_staff_accounts_cannot_be_deleted_that_way(app, client):
    w = world()
    assert error(Api(client, w.staff).delete("/me", json={"confirm": True})) == (403, "not_citizen")


def test_an_h5_citizen_deletes_their_account_from_the_browser(app, client):
    world()
    page = client.get("/d/DEP001")
    assert "个人信息收集说明" in page.get_data(as_text=True) and "/me/delete" in page.get_data(as_text=True)
    client.post("/d/DEP001", data={"csrf_token": csrf_of(page), "category": "traffic",
                                   "content": "村口道路坑洼严重，雨天积水。", "contact_phone": "13912345678",
                                   "name": "张大爷"})
    case = Case.get()
    confirm = client.get("/me/delete")
    assert "确认注销" in confirm.get_data(as_text=True)
    done = client.post("/me/delete", data={"csrf_token": csrf_of(confirm)})
    assert "已注销" in done.get_data(as_text=True)
    assert Case.get_by_id(case.id).reporter_id is None
    assert client.get(f"/c/{case.number}").status_code == 404


def test_every_form_that_takes_personal_details_shows_the_collection_notice(app, client):
    world()
    for path in ("/d/DEP001", "/s/TA", "/p/XM001"):
        assert "个人信息收集说明" in client.get(path).get_data(as_text=True)
    assert "个人信息收集说明" in (ROOT / "miniprogram/pages/report/index.wxml").read_text(encoding="utf-8")
    assert client.get("/api/v1/privacy").get_json()["notice"].startswith("个人信息收集说明")


# --- uploads --------------------------------------------------------------------------------------

def png(width, height, mode="RGBA"):
    out = io.BytesIO()
    Image.new(mode, (width, height), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_a_small_png_that_decodes_to_hundreds_of_megabytes_is_refused_before_decoding(app, client):
    w = world()
    bomb = png(6000, 6000)   # ~150 KB on the wire, 144 MB of pixels, under the 40 M pixel cap
    assert len(bomb) < 400_000
    response = Api(client, w.citizen).upload(bomb, "bomb.png", "image/png")
    assert error(response) == (400, "too_many_pixels") and Upload.select().count() == 0


def test_a_large_phone_photo_still_goes_through(app, client):
    w = world()
    response = Api(client, w.citizen).upload(jpeg(6000, 4500))   # a 27 MP photo: decoded at a reduced scale
    assert response.status_code == 201 and max(response.get_json()["width"], response.get_json()["height"]) <= 2560


def test_uploads_nothing_refers_to_are_swept_after_a_day(app, client):
    w = world()
    api = Api(client, w.citizen)
    tokens = [api.upload(jpeg()).get_json()["id"] for _ in range(4)]
    used, orphan, young, deputy_photo = tokens
    new_case(w, photos=[used])
    w.deputy.photo = uploads.url_for_upload(deputy_photo)
    w.deputy.save()
    Upload.update(created_at=utcnow() - dt.timedelta(hours=30)).where(Upload.token != young).execute()
    paths = {u.token: Path(app.config["UPLOAD_FOLDER"]) / u.path for u in Upload.select()}
    assert uploads.sweep_orphans() == 1
    assert {u.token for u in Upload.select()} == {used, young, deputy_photo}
    assert not paths[orphan].exists() and paths[used].exists()
    assert client.get(f"/uploads/{orphan}").status_code == 404
