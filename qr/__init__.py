"""QR codes for deputies, projects and stations; printable cards, plaques and boards; batch export.

`flask --app app export-codes --kind deputies|projects|stations [--station CODE] [--format pdf|svg|png]
[--jobs N] --out FILE.zip` writes one printable per deputy (project, station) into a zip, with a progress bar;
PDF/PNG rendering uses every core unless --jobs says otherwise.
"""
import collections
import multiprocessing
import os
import zipfile

import click


def init_app(app):
    from qr.routes import bp
    app.register_blueprint(bp)
    app.cli.add_command(export_codes)


EXPORTS = {"deputies": "card", "projects": "plaque", "stations": "board"}


def export_rows(kind, station=None):
    """What `export-codes` writes: serving deputies, published projects or stations, optionally of one
    station's subtree (the station itself included)."""
    from models import Deputy, Project, Station
    from services.directory import serving, station_by_code
    model = {"deputies": Deputy, "projects": Project, "stations": Station}[kind]
    query = model.select().order_by(model.code)
    if kind == "deputies":
        query = query.where(serving())
    if kind == "projects":
        query = query.where(Project.published == True)  # noqa: E712
    if station:
        scope = station_by_code(station)
        subtree = Station.select(Station.id).where(Station.path.startswith(scope.path))
        query = query.where((Station.id if kind == "stations" else model.station).in_(subtree))
    return list(query)


POOL_FROM = 20  # rows; fewer are done before a pool would pay for itself


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def export_zip(kind, rows, out, fmt="pdf", progress=None, jobs=None):
    """Write one printable per row into the zip `out`; returns how many. `progress(row)` follows each file.

    Sheets are laid out here (they read the database); turning them into PDF or PNG, most of the time, runs
    in `jobs` worker processes (default: every usable core). Same rows, same zip, whatever `jobs` is."""
    from qr import printables
    build = printables.SHEETS[EXPORTS[kind]][1]
    jobs = usable_cores() if jobs is None else max(1, jobs)
    pool = None
    if fmt != "svg" and jobs > 1 and len(rows) >= POOL_FROM:
        # fork: workers start at once with cairo loaded, and never re-run the caller's main script (which
        # spawn/forkserver do); they only turn SVG bytes into PDF/PNG and touch nothing they inherited.
        pool = multiprocessing.get_context("fork").Pool(jobs)
    window = collections.deque()  # (row, result) in order, at most a few per worker ahead of the writer
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            def write(row, data):
                info = zipfile.ZipInfo(f"{row.code}-{_safe(row.name)}.{fmt}",
                                       date_time=(2020, 1, 1, 0, 0, 0))  # same rows, same zip
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
                if progress:
                    progress(row)

            for row in rows:
                sheet = build(row)
                if pool is None:
                    write(row, printables.render(sheet, fmt))
                    continue
                window.append((row, pool.apply_async(printables.convert, (sheet.svg(inline=True), fmt))))
                while len(window) > 4 * jobs:
                    done, result = window.popleft()
                    write(done, result.get())
            while window:
                done, result = window.popleft()
                write(done, result.get())
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return len(rows)


def _safe(name):
    return "".join(c for c in name if c not in '\\/:*?"<>|').strip()[:60] or "未命名"


@click.command("export-codes")
@click.option("--kind", type=click.Choice(list(EXPORTS)), required=True,
              help="deputies: 代表联系卡; projects: 项目公示牌; stations: 联络站牌")
@click.option("--station", help="只导出该联络站（含下级站点）的。")
@click.option("--format", "fmt", type=click.Choice(["pdf", "svg", "png"]), default="pdf", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="zip 文件路径")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="同时生成的进程数（默认：本机可用的 CPU 核数）")
def export_codes(kind, station, fmt, out, jobs):
    """Export printable QR codes (cards, plaques or boards) into one zip file."""
    from models import db
    from services.errors import ServiceError
    from tqdm import tqdm
    with db.connection_context():
        try:
            rows = export_rows(kind, station)
        except ServiceError as err:
            raise click.ClickException(err.message) from None
        if not rows:
            raise click.ClickException("没有可导出的内容（请检查 --station）")
        label = {"deputies": "代表联系卡", "projects": "项目公示牌", "stations": "联络站牌"}[kind]
        with tqdm(total=len(rows), desc=f"正在生成{label}", unit="个") as bar:
            count = export_zip(kind, rows, out, fmt, progress=lambda row: bar.update(1), jobs=jobs)
    click.echo(f"已导出 {count} 个{label}到 {out}")
