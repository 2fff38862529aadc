"""QR codes for deputies, projects and stations; printable cards, plaques and boards; batch export.

`flask --app app export-codes --kind deputies|projects|stations [--station CODE] [--format pdf|svg|png]
--out FILE.zip` writes one printable per deputy (project, station) into a zip, with a progress bar.
"""
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


def export_zip(kind, rows, out, fmt="pdf", progress=None):
    """Write one printable per row into the zip `out`; returns how many. `progress(row)` follows each file."""
    from qr import printables
    build = printables.SHEETS[EXPORTS[kind]][1]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            info = zipfile.ZipInfo(f"{row.code}-{_safe(row.name)}.{fmt}", date_time=(2020, 1, 1, 0, 0, 0))  # same rows, same zip
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, printables.render(build(row), fmt))
            if progress:
                progress(row)
    return len(rows)


def _safe(name):
    return "".join(c for c in name if c not in '\\/:*?"<>|').strip()[:60] or "未命名"


@click.command("export-codes")
@click.option("--kind", type=click.Choice(list(EXPORTS)), required=True,
              help="deputies: 代表联系卡; projects: 项目公示牌; stations: 联络站牌")
@click.option("--station", help="只导出该联络站（含下级站点）的。")
@click.option("--format", "fmt", type=click.Choice(["pdf", "svg", "png"]), default="pdf", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="zip 文件路径")
def export_codes(kind, station, fmt, out):
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
            count = export_zip(kind, rows, out, fmt, progress=lambda row: bar.update(1))
    click.echo(f"已导出 {count} 个{label}到 {out}")
