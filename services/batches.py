"""Batch export of printables from the console (代表卡, 项目公示牌, 联络站牌): run in the background, with
progress in shared storage (the KeyValue table, so every worker process can show it) and a zip to download.

One machine: the zip is written under INSTANCE/exports and served by whichever process the browser reaches
(they share the disk). The work runs in a thread of the process that received the request, one file at a time
(no process pool: forking a threaded web worker is unsafe).
"""
import datetime as dt
import json
import os
import secrets
import threading

from flask import current_app

from models import KeyValue, db, utcnow
from services.errors import InvalidInput, NotFound
from services.workflow import as_actor, require_scope

KINDS = {"deputies": "代表联系卡", "projects": "项目公示牌", "stations": "联络站牌"}
FORMATS = ("pdf", "svg", "png")
KEEP = dt.timedelta(days=2)


def _folder():
    return os.path.join(current_app.instance_path, "exports")


def _save(token, **state):
    value = json.dumps(state, ensure_ascii=False)
    if not KeyValue.update(value=value).where(KeyValue.key == f"batch:{token}").execute():
        KeyValue.create(key=f"batch:{token}", value=value, expires_at=utcnow() + KEEP)


def status(token, actor):
    """{kind, label, total, done, state: running|done|failed, error, owner}; only its starter may see it."""
    row = KeyValue.get_or_none(KeyValue.key == f"batch:{token}")
    state = json.loads(row.value) if row else None
    if state is None or state.get("owner") != as_actor(actor).id:
        raise NotFound("batch_not_found", "导出任务不存在或已过期")
    return state


def path(token, actor):
    state = status(token, actor)
    if state["state"] != "done":
        raise NotFound("batch_not_ready", "导出尚未完成")
    return os.path.join(_folder(), f"{token}.zip"), state


def start(actor, kind, station_code, fmt, wait=False):
    """Start exporting; returns the token. Station staff export only their subtree."""
    import qr
    from services.directory import station_by_code
    actor = as_actor(actor)
    if kind not in KINDS or fmt not in FORMATS:
        raise InvalidInput("invalid_choice", "请选择导出内容和格式", field="kind")
    own = actor.account.station if actor.role == "staff" and actor.account.station_id else None
    station = station_by_code(station_code) if station_code else own
    require_scope(actor, station, "联络站")
    rows = qr.export_rows(kind, station.code if station else None)
    if not rows:
        raise InvalidInput("nothing_to_export", "没有可导出的内容")
    token = secrets.token_urlsafe(12)
    _save(token, kind=kind, label=KINDS[kind], total=len(rows), done=0, state="running", error="",
          owner=actor.id, fmt=fmt)
    app = current_app._get_current_object()
    worker = threading.Thread(target=_run, args=(app, token, kind, [r.id for r in rows], fmt, actor.id),
                              daemon=True, name=f"batch-{token}")
    worker.start()
    if wait:
        worker.join()
    return token


def _run(app, token, kind, ids, fmt, owner):
    import qr
    from models import Deputy, Project, Station
    model = {"deputies": Deputy, "projects": Project, "stations": Station}[kind]
    with app.app_context(), db.connection_context():
        base = dict(kind=kind, label=KINDS[kind], total=len(ids), owner=owner, fmt=fmt, error="")
        rows = list(model.select().where(model.id.in_(ids)).order_by(model.code))
        os.makedirs(_folder(), exist_ok=True)
        target = os.path.join(_folder(), f"{token}.zip")
        done = [0]

        def progress(row):
            done[0] += 1
            if done[0] % 5 == 0 or done[0] == len(rows):
                _save(token, **base, done=done[0], state="running")
        try:
            qr.export_zip(kind, rows, target + ".part", fmt, progress=progress, jobs=1)
            os.replace(target + ".part", target)
            _save(token, **base, done=len(rows), state="done")
        except Exception as err:  # shown on the progress page; the half-written file is removed
            app.logger.exception("batch export %s", token)
            if os.path.exists(target + ".part"):
                os.remove(target + ".part")
            _save(token, **{**base, "error": str(err)[:200]}, done=done[0], state="failed")
