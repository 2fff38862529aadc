"""征集 through the mini-program: open consultations (for a station's QR code: ?station=), one consultation with its
articles or questions (and, once published, the replies with their counts), giving an opinion, and one's own."""
from flask import g, jsonify, request

from models import Station
from services import consultations as engine

from .common import body, bp, login_required, optional_account, station_brief, when


def brief(c):
    kind = engine.KINDS[c.kind]
    return {"code": c.code, "title": c.title, "kind": c.kind, "kind_label": kind.label, "mode": c.mode,
            "audience": c.audience, "state": c.state, "state_label": engine.STATES[c.state],
            "opens_at": when(c.opens_at), "closes_at": when(c.closes_at)}


def opinion_json(o, published):
    return {"id": o.id, "section": o.section_id, "text": o.text, "station": station_brief(o.station),
            "created_at": when(o.created_at),
            "decision": o.decision if published else None,
            "decision_label": engine.DECISIONS.get(o.decision, "未答复") if published else None,
            "reason": o.reason if published else ""}


def _station():
    code = (request.args.get("station") or "").strip().upper()[:16]
    return Station.get_or_none(Station.code == code) if code else None


@bp.get("/consultations")
def consultations_open():
    """The consultations open now to the public, or through ?station=<code> (its QR code)."""
    return jsonify({"consultations": [brief(c) for c in engine.open_for(_station())]})


@bp.get("/consultations/<code>")
def consultation(code):
    found = engine.public(code)
    account = optional_account()
    published = found.state == "published"
    kind = engine.KINDS[found.kind]
    data = {**brief(found), "intro": found.intro, "organiser": kind.organiser, "opinion_word": kind.opinion,
            "prompt": kind.prompt, "anonymous_allowed": kind.anonymous,
            "stations": [station_brief(s) for s in engine.stations(found)],
            "refusal": engine.may_comment(found, account, _station()),
            "sections": [{"id": s.id, "chapter": s.chapter, "label": s.label, "text": s.text}
                         for s in engine.sections(found)]}
    if published:
        summary = engine.summary(found)
        data["totals"] = summary["total"]
        data["replies"] = [{"section": p["section"].id if p["section"] else None, "counts": p["counts"],
                            "opinions": [opinion_json(o, True) for o in p["opinions"]]} for p in summary["parts"]]
    return jsonify({"consultation": data})


@bp.post("/consultations/<code>/opinions")
@login_required
def give_opinion(code):
    """One opinion: {section (id, or null for the whole text), text, name | anonymous, station (code)}."""
    found = engine.public(code)
    opinion = engine.comment(found, g.account, body(), "miniprogram")
    return jsonify({"opinion": opinion_json(opinion, False)}), 201


@bp.get("/consultations/<code>/opinions/mine")
@login_required
def my_opinions(code):
    found = engine.public(code)
    published = found.state == "published"
    return jsonify({"opinions": [opinion_json(o, published) for o in engine.mine(found, g.account)]})
