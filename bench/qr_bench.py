"""QR codes and printables: PNG and SVG codes per second on one core (against the qrcode library's defaults on
the same URLs), and exporting 1,000 deputy cards through `export-codes` (its default: PDF, every usable core)
on a throwaway SQLite database holding the demo county plus generated serving deputies.

Every figure is checked, so a fast but broken code cannot pass: a sample of the PNGs (and of the SVGs, after
rasterising with cairo) is decoded with zxing-cpp and must give back exactly its URL at error correction M,
and the export must hold one readable PDF per serving deputy.
"""
import datetime as dt
import io
import os
import random
import resource
import statistics
import tempfile
import time
import zipfile

BASE = "https://rd.qingshan.gov.cn"   # a realistic production PUBLIC_BASE_URL (the length sets the QR version)
CODES = 2000                          # distinct URLs per timing round
ROUNDS = 3                            # rounds per measure; the median is reported
DEPUTIES = 1000                       # serving deputies in the export
DECODE_SAMPLE = 60                    # codes decoded with zxing-cpp per kind


def urls(n=CODES):
    """Distinct public URLs, deputies and projects mixed, the way an export or a crawl asks for them."""
    return [f"{BASE}/d/DB{i:04d}" if i % 2 else f"{BASE}/p/XM{i:04d}" for i in range(1, n + 1)]


def rate(make, inputs, rounds=ROUNDS):
    """Median codes per second over `rounds` passes (after one warm-up pass), wall clock and process CPU.

    Single process, single thread: one core. The CPU rate shows whether another process took the core."""
    for text in inputs[:50]:
        make(text)
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in inputs:
            make(text)
        walls.append(len(inputs) / (time.perf_counter() - wall))
        cpus.append(len(inputs) / (time.process_time() - cpu))
    return statistics.median(walls), statistics.median(cpus)


def qrcode_defaults_png(text):
    """What the qrcode library does out of the box: best of eight masks, 10 px modules, its PIL image, PNG."""
    import qrcode
    out = io.BytesIO()
    qrcode.make(text).save(out)
    return out.getvalue()


def decode(png_bytes):
    import zxingcpp
    from PIL import Image
    image = Image.open(io.BytesIO(png_bytes))
    return [(r.text, r.ec_level) for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def check_codes(sample):
    """Decode PNGs at three sizes and rasterised SVGs; compare the matrix with the qrcode library's own."""
    import cairosvg
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qr import codes
    bad = []
    for i, url in enumerate(sample):
        for size in (codes.DEFAULT_SIZE, codes.MIN_SIZE * 2, 1000):
            if decode(codes.png(url, size)) != [(url, "M")]:
                bad.append(f"png {size} {url}")
        if i % 3 == 0 and decode(cairosvg.svg2png(bytestring=codes.svg(url), output_width=300)) != [(url, "M")]:
            bad.append(f"svg {url}")
        reference = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=codes.MASK)
        reference.add_data(url.encode("utf-8"))
        reference.make(fit=True)
        if codes.matrix(url) != reference.modules:
            bad.append(f"matrix {url}")
    if bad:
        raise AssertionError(f"{len(bad)} codes do not read back: {bad[:5]}")
    return len(sample)


def code_rows():
    from qr import codes
    inputs = urls()
    png_wall, png_cpu = rate(codes.png, inputs)
    ref_wall, ref_cpu = rate(qrcode_defaults_png, inputs[:400])
    svg_wall, svg_cpu = rate(codes.svg, inputs)
    checked = check_codes(random.Random(8).sample(inputs, DECODE_SAMPLE))
    version = (len(codes.matrix(inputs[0])) - 17) // 4
    size = len(codes.png(inputs[0]))
    return [
        ["QR code PNG (qr/codes.py)", "codes per second, 1 core, 360 px",
         f"{png_wall:,.0f}/s", "≥ 500/s",
         f"{'met' if png_wall >= 500 else 'NOT met'}; {1000 / png_wall:.2f} ms each; CPU-time rate {png_cpu:,.0f}/s; "
         f"version {version}-M, {size:,} bytes; {len(inputs):,} distinct URLs × {ROUNDS}, median"],
        ["QR code PNG (qrcode defaults)", "qrcode.make(url).save(png), same URLs",
         f"{ref_wall:,.0f}/s", "", f"ours is {png_wall / ref_wall:.1f}× faster; CPU-time rate {ref_cpu:,.0f}/s; "
         "best of 8 masks, 10 px modules (450 px)"],
        ["QR code SVG (qr/codes.py)", "codes per second, 1 core",
         f"{svg_wall:,.0f}/s", "", f"{1000 / svg_wall:.2f} ms each; CPU-time rate {svg_cpu:,.0f}/s"],
        ["QR code correctness", "decoded with zxing-cpp", f"{checked}/{checked}", "all",
         "PNG at 360/128/1000 px, every 3rd also as SVG via cairo; URL and EC level M exact; "
         "matrix equal to the qrcode library's"],
    ]


def add_deputies(count):
    """Serving deputies beyond the demo's, spread over the demo stations, until `count` are serving."""
    from models import Deputy, Station, db
    from services import seed
    from services.directory import serving
    stations = list(Station.select().order_by(Station.id))
    have = Deputy.select().where(serving()).count()
    start = Deputy.select().count() + 1
    rows = []
    for i in range(start, start + count - have):
        rows.append(dict(code=f"DB{i:04d}", name=seed.SURNAMES[i % len(seed.SURNAMES)] + seed.GIVEN[(i * 7) % 30][: 1 + i % 2],
                         level=seed.LEVELS[i % 30], station=stations[i % len(stations)].id,
                         constituency="生成选区", term_start=dt.date(2021, 12, 1), term_end=dt.date(2027, 11, 30)))
    with db.atomic():
        for at in range(0, len(rows), 200):
            Deputy.insert_many(rows[at:at + 200]).execute()


def export_rows():
    """1,000 deputy cards (PDF, the default) through the real `export-codes` command on SQLite."""
    from app import create_app
    from models import Deputy, db
    from models.migrate import migrate
    from services import seed
    from qr import printables
    import qr
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "PUBLIC_BASE_URL": BASE, "UPLOAD_FOLDER": f"{tmp}/uploads"})
        with app.app_context():
            with db.connection_context():
                migrate()
                seed.seed_demo(log=lambda *_: None)
                add_deputies(DEPUTIES)
                serving = len(qr.export_rows("deputies"))
                jobs = qr.usable_cores()
                # Where one card's time goes (one core, 30 cards, fonts already loaded): laying it out, and
                # cairo turning the SVG into PDF, as written for download (<use>) and as given to cairo (inline).
                sample = qr.export_rows("deputies")[:30]
                printables.deputy_card(sample[0])
                started = time.perf_counter()
                sheets = [printables.deputy_card(d) for d in sample]
                build = (time.perf_counter() - started) / len(sample) * 1000
                cairo = {}
                for inline in (False, True):
                    svgs = [sheet.svg(inline=inline) for sheet in sheets]
                    started = time.perf_counter()
                    for svg in svgs:
                        printables.convert(svg, "pdf")
                    cairo[inline] = (time.perf_counter() - started) / len(sample) * 1000
            out = f"{tmp}/cards.zip"
            cpu_before = cpu_seconds()
            started = time.perf_counter()
            result = app.test_cli_runner().invoke(args=["export-codes", "--kind", "deputies", "--out", out])
            seconds = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
            if result.exit_code != 0:
                raise AssertionError(result.output)
            with zipfile.ZipFile(out) as archive:
                names = archive.namelist()
                pdfs = sum(archive.read(n).startswith(b"%PDF") for n in names)
            megabytes = os.path.getsize(out) / 1e6
            with db.connection_context():
                # The PDF cannot be decoded directly: decode the same card's PNG preview (same SVG, same cairo).
                read = 0
                for deputy in random.Random(8).sample(list(Deputy.select().where(Deputy.code.in_(
                        [n.split("-")[0] for n in names]))), 10):
                    png = printables.render(printables.deputy_card(deputy), "png")
                    read += decode(png) == [(f"{BASE}/d/{deputy.code}", "M")]
    if len(names) != serving or pdfs != serving or read != 10:
        raise AssertionError(f"export: {len(names)} files, {pdfs} PDFs, {serving} serving, {read}/10 read")
    return [
        [f"export {serving:,} deputy cards", "export-codes --kind deputies (PDF, A6)", f"{seconds:.1f} s",
         "", f"{seconds / serving * 1000:.0f} ms a card; {jobs} worker processes; CPU {cpu:.0f} s in all; "
             f"{megabytes:.1f} MB zip; {pdfs} PDFs; codes of 10/10 sampled cards decoded (PNG preview)"],
        ["  one card, 1 core", "lay out + cairo SVG→PDF", f"{build + cairo[True]:.0f} ms", "",
         f"layout, glyph outlines, best-mask QR {build:.0f} ms; cairo {cairo[True]:.0f} ms "
         f"({cairo[False]:.0f} ms from the <use> SVG); 30 cards"],
    ]


def cpu_seconds():
    """CPU time of this process and its finished children (the export's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run():
    return code_rows() + export_rows()
