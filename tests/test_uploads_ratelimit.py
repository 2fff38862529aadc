"""Shared services: image uploads are cleaned; rate limits count across calls and windows."""
import io

import pytest
from freezegun import freeze_time
from PIL import Image

from services import ratelimit, uploads
from services.errors import InvalidInput, ServiceError, TooMany


def jpeg_with_gps():
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone"  # camera model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS IFD
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_upload_strips_exif_and_gps_and_serves_the_image(app, client):
    raw = jpeg_with_gps()
    assert b"SecretPhone" in raw
    upload = uploads.save_image(raw)
    response = client.get(uploads.url_for_upload(upload.token))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert b"SecretPhone" not in response.data
    cleaned = Image.open(io.BytesIO(response.data))
    assert cleaned.size == (64, 48) and not cleaned.getexif()


@pytest.mark.parametrize("data,code", [
    (b"%PDF-1.4 pretending to be a jpg", "not_an_image"), (b"", "empty_file"),
    (b"GIF89a" + b"\x00" * 20, "not_an_image"),
])
def test_upload_refuses_what_is_not_an_image(app, data, code):
    with pytest.raises(InvalidInput) as err:
        uploads.save_image(data)
    assert err.value.code == code


def test_upload_refuses_oversized_files(app):
    app.config["UPLOAD_MAX_BYTES"] = 1000
    with pytest.raises(ServiceError) as err:
        uploads.save_image(jpeg_with_gps() + b"\x00" * 2000)
    assert (err.value.status, err.value.code) == (413, "too_large")


def test_rate_limit_counts_then_refuses_then_resets(app):
    with freeze_time("2026-05-01 08:00:00"):
        assert [ratelimit.hit("k", 3, 60) for _ in range(3)] == [1, 2, 3]
        with pytest.raises(TooMany) as err:
            ratelimit.hit("k", 3, 60)
        assert err.value.code == "rate_limited" and "频繁" in err.value.message
        assert ratelimit.hit("other", 3, 60) == 1
    with freeze_time("2026-05-01 08:01:01"):
        assert ratelimit.hit("k", 3, 60) == 1


def test_first_hits_from_many_people_at_once_all_count(app):
    """Sixteen people filing their first report at the same moment: each is counted once, none is refused
    with an error (a locking read before the insert deadlocked here on MariaDB)."""
    import threading
    from models import db
    errors, counts = [], []
    together = threading.Barrier(16)

    def person(i):
        with app.app_context(), db.connection_context():
            for j in range(10):
                together.wait()
                try:
                    counts.append(ratelimit.hit(f"report:{i}-{j}", 10, 3600))
                except Exception as err:  # noqa: BLE001  (any error fails the test below)
                    errors.append(err)
    threads = [threading.Thread(target=person, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and counts == [1] * 160


def test_rate_limit_hits_at_once_are_each_counted_once(app):
    """Eight requests of one person at the same moment (threads, each with its own connection): the counts they
    are told are 1 … 8, each once, and the ninth is refused — the upsert answers each its own count."""
    import threading

    from models import db
    barrier, counts, errors = threading.Barrier(8), [], []

    def hit():
        with app.app_context(), db.connection_context():
            barrier.wait()
            try:
                counts.append(ratelimit.hit("report:rush", 8, 3600))
            except Exception as err:  # reported below, with the counts
                errors.append(err)
    threads = [threading.Thread(target=hit) for _ in range(8)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert (sorted(counts), errors) == (list(range(1, 9)), [])
    with pytest.raises(TooMany):
        ratelimit.hit("report:rush", 8, 3600)
    assert ratelimit.count("report:rush") == 9
