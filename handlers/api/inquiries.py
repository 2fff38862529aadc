"""问政 in the mini-program: the events collecting questions now (a station's list), an event with its 问题清单
and published 测评 results (no sign-in; no personal data), and submitting a question while it collects them
(citizens, and the deputies taking part; with photos, the place and the station it came through)."""
from flask import g, jsonify, request

from models import Station
from services import inquiries, inquiry_questions
from services.vocab import INQUIRY_FORMS, INQUIRY_SECTIONS, INQUIRY_STAGES

from .common import body, bp, day, login_required, when


def question_json(link, case):
    last = inquiry_questions.latest_progress(case)
    return {"number": case.number, "section": link.section, "seq": link.seq, "title": case.title,
            "content": case.content, "state": case.state, "state_label": inquiry_questions.state_label(case),
            "object": link.target.name if link.target_id else None, "answer": inquiry_questions.answer_of(case),
            "commitment": link.commitment, "plan": link.plan, "deadline": day(case.deadline), "round": case.round,
            "overdue": inquiry_questions.overdue(case),
            "latest": {"at": when(last.at), "text": last.data.get("text", ""),
                       "delay_reason": last.data.get("delay_reason", "")} if last else None}


def brief_json(found):
    return {"code": found.code, "topic": found.topic, "form": found.form, "form_label": INQUIRY_FORMS[found.form],
            "held_at": when(found.held_at), "place": found.place, "collect_closes": when(found.collect_closes),
            "objects": [o.name for o in inquiries.objects(found)]}


@bp.get("/inquiries")
def open_inquiries():
    """The 问政 collecting questions now (?station= a station's code: those it may be asked in)."""
    code = (request.args.get("station") or "").strip().upper()[:16]
    station = Station.get_or_none(Station.code == code) if code else None
    return jsonify({"inquiries": [brief_json(i) for i in inquiries.open_events(station)]})


@bp.get("/inquiries/<code>")
def inquiry(code):
    found = inquiries.get(code)
    return jsonify({"inquiry": {
        "code": found.code, "topic": found.topic, "form": found.form, "form_label": INQUIRY_FORMS[found.form],
        "stage": found.stage, "stage_label": INQUIRY_STAGES[found.stage][0], "held_at": when(found.held_at),
        "place": found.place, "collect_opens": when(found.collect_opens), "collect_closes": when(found.collect_closes),
        "collecting": inquiries.collecting(found), "objects": [o.name for o in inquiries.objects(found)],
        "lists": {section: {"label": INQUIRY_SECTIONS[section], "questions": [question_json(l, c) for l, c in rows]}
                  for section, rows in inquiry_questions.lists(found).items()},
        "results": [{"purpose": r.purpose, "electorate": b.electorate, "items": [
            {"name": row["name"], "rate": row["rate"], "flagged": row["flagged"]} for row in found_.data["items"]]}
            for r, b, found_ in inquiries.published_results(found)],
    }})


@bp.post("/inquiries/<code>/questions")
@login_required
def inquiry_question(code):
    found = inquiries.get(code)
    data = body()
    fields = ("title", "content", "location", "latitude", "longitude", "photos", "station")
    case = inquiry_questions.submit(g.account, found, {k: data.get(k) for k in fields}, source="miniprogram")
    link = inquiry_questions.link_of(case)
    return jsonify({"question": question_json(link, case)}), 201
