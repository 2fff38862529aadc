"""批量导出 cards, plaques and boards from a console button: started here, run in the background
(services/batches.py), followed on a progress page, downloaded as a zip."""
from flask import redirect, render_template, request, send_file, url_for

from models import Station
from services import batches
from services.errors import ServiceError

from . import STAFF, actor, bp, fail, roles


@bp.route("/exports", methods=["GET", "POST"])
@roles(*STAFF)
def batch_exports():
    if request.method == "POST":
        try:
            token = batches.start(actor(), request.form.get("kind"), request.form.get("station"),
                                  request.form.get("fmt", "pdf"))
            return redirect(url_for("console.batch_export", token=token))
        except ServiceError as err:
            fail(err)
    who = actor().account
    stations = Station.select().order_by(Station.path)
    if who.role == "staff" and who.station_id:
        stations = stations.where(Station.path.startswith(who.station.path))
    return render_template("console/batches.html", kinds=batches.KINDS, formats=batches.FORMATS,
                           stations=stations, chosen=request.values.get("kind", "deputies"))


@bp.get("/exports/<token>")
@roles(*STAFF)
def batch_export(token):
    return render_template("console/batch.html", token=token, state=batches.status(token, actor()))


@bp.get("/exports/<token>.zip")
@roles(*STAFF)
def batch_download(token):
    path, state = batches.path(token, actor())
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"{state['label']}-{token[:6]}.zip")
