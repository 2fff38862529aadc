"""征集 — the consultation engine: one machine for every text or topic put to people for their opinions, with kinds
(法规草案征求意见, 重大决策征求意见, 民生实事项目征集, 问政选题, other). The rules live here and nowhere else:

- A consultation is either a text split into articles (a .docx draft: 第N章 / 第N条 detected, the paragraphs
  after an article belong to it) or open questions; people give opinions per article or question, or on the
  whole text.
- Window and states as for ballots (services/window.py): draft → open → closed → published; an opinion is
  taken only while open and inside [opens_at, closes_at). Station staff may enter a 座谈会's opinions from
  paper until the office closes the consultation.
- Audience: "public" — anyone; "stations" — only through the chosen stations (and their subtree): the opinion
  names its station (the station's QR code, or picked on the page); "deputies" — deputies only.
- Identity as for reports: the door's account (WeChat, the browser's web citizen, the mini-program); the
  commenter signs with a name, or stays anonymous where the kind allows it. Content check as for reports
  (services/reports.check_text: risky refused, doubtful flagged).
- The organiser answers each opinion (采纳 / 部分采纳 / 未采纳, a reason required unless adopted); publishing
  needs every opinion answered, shows the replies per article with counts, and tells every commenter.
- KINDS is the table a new practice adds a row to (its words, whether anonymous opinions are taken, which
  modes it uses); nothing else changes.
"""
import io
import re
from dataclasses import dataclass

from flask import current_app
from peewee import JOIN, fn

from models import Account, Consultation, ConsultationStation, Opinion, Section, Station, utcnow
from services import audit, notify, ratelimit, window
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.workflow import as_actor, boolean, number, retried, text, write_transaction


@dataclass(frozen=True)
class Kind:
    label: str                      # the practice, e.g. 法规草案征求意见
    modes: tuple                    # which of MODES it uses
    anonymous: bool                 # anonymous opinions taken
    opinion: str = "意见"           # what one opinion is called (意见 / 项目建议 / 选题建议)
    prompt: str = "请写下您的意见和建议"  # the text box's hint
    organiser: str = "县人大常委会"  # who answers, in the citizens' words


KINDS = {
    "law": Kind("法规草案征求意见", ("articles",), False, "意见", "请写下您对本条的修改意见或建议", "县人大常委会法工委"),
    "decision": Kind("重大决策征求意见", ("articles", "questions"), True),
    "project": Kind("民生实事项目征集", ("questions",), True, "项目建议", "请写下您建议办理的民生实事（地点、内容、理由）"),
    "inquiry": Kind("问政选题征集", ("questions",), True, "选题建议", "请写下您希望问政的问题"),
    "other": Kind("其他征集", ("articles", "questions"), True),
}
MODES = {"articles": "条文（逐条征求意见）", "questions": "问题（开放式征集）"}
AUDIENCES = {"public": "公众", "stations": "指定联络站", "deputies": "仅限人大代表"}
STATES = {"draft": "未开始", "open": "征求意见中", "closed": "已截止", "published": "答复已公布"}
CHANNELS = {"h5": "网页", "miniprogram": "小程序", "oa": "公众号", "paper": "座谈会（书面）"}
DECISIONS = {"adopted": "采纳", "partly": "部分采纳", "rejected": "未采纳"}
TEXT_MIN, TEXT_MAX = 5, 2000
MAX_SECTIONS, MAX_PEOPLE = 500, 10000

CN_NUMBER = "[一二三四五六七八九十百千零〇两0-9０-９]+"
CHAPTER = re.compile(rf"^\s*(第{CN_NUMBER}章)\s*(.*)$")
ARTICLE = re.compile(rf"^\s*(第{CN_NUMBER}条)[\s　]*(.*)$")


# --- the text: articles from a .docx draft, or questions ------------------------------------------

def split_articles(paragraphs):
    """[(chapter, label, text)] from a draft's paragraphs: 第N章 starts a chapter, 第N条 an article, and the
    paragraphs after an article (its 款 and 项) belong to it. Lines before the first article are the preamble
    and are left out (the title, 目录)."""
    chapter, found = "", []
    for line in (p.strip() for p in paragraphs):
        if not line:
            continue
        head = CHAPTER.match(line)
        if head and len(line) <= 60:
            chapter = f"{head.group(1)} {head.group(2).strip()}".strip()
            continue
        article = ARTICLE.match(line)
        if article:
            found.append([chapter, article.group(1), article.group(2).strip()])
        elif found:
            found[-1][2] = (found[-1][2] + "\n" + line).strip()
    return [tuple(a) for a in found]


def read_docx(data):
    """The paragraphs of a .docx file (python-docx); a file that is not one is a Chinese refusal."""
    import docx
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # not a zip, not a Word package, a damaged part: python-docx raises many types
        current_app.logger.info("consultation draft not readable: %r", err)
        raise InvalidInput("bad_docx", "无法读取该文件，请上传 Word（.docx）格式的草案") from None
    return [p.text for p in document.paragraphs]


def _sections(mode, data, draft):
    if mode == "questions":
        lines = [line.strip() for line in str(data.get("questions") or "").splitlines() if line.strip()]
        found = [("", f"问题{i}", line[:1000]) for i, line in enumerate(lines, start=1)]
        if not found:
            raise InvalidInput("no_questions", "请填写征集的问题（每行一个）")
    else:
        paragraphs = read_docx(draft) if draft else str(data.get("articles") or "").splitlines()
        found = split_articles(paragraphs)
        if not found:
            raise InvalidInput("no_articles", "草案中没有找到“第一条”“第二条”这样的条文，请检查文件")
    if len(found) > MAX_SECTIONS:
        raise InvalidInput("too_many_sections", f"条文或问题不能超过{MAX_SECTIONS}个")
    return found


# --- setting up -------------------------------------------------------------------------------------

def organiser(actor):
    """The office organises: county-wide staff (no station scope) and admins."""
    who = as_actor(actor)
    if who.role not in ("staff", "admin", "system") or (who.role == "staff" and who.account.station_id):
        raise Forbidden("not_permitted", "只有县人大常委会工作人员可以组织征求意见")
    return who


@retried
def create(actor, data, draft=None):
    """A consultation in draft from a form: title, kind, mode, audience, intro, opens_at, closes_at, stations
    (codes, audience "stations"), and the text: `draft` (.docx bytes) or `articles` (pasted), or `questions`."""
    who = organiser(actor)
    title = text(data, "title", "标题", limit=120, minimum=2)
    kind, mode, audience = data.get("kind"), data.get("mode"), data.get("audience")
    if kind not in KINDS or audience not in AUDIENCES or mode not in MODES:
        raise InvalidInput("bad_choice", "请选择征集类型、形式和范围")
    if mode not in KINDS[kind].modes:
        raise InvalidInput("bad_mode", f"{KINDS[kind].label}只能采用：{'、'.join(MODES[m] for m in KINDS[kind].modes)}")
    intro = text(data, "intro", "说明", required=False, limit=5000)
    opens_at, closes_at = window.window(data)
    stations = []
    if audience == "stations":
        codes = [c.strip().upper() for c in data.get("stations") or [] if c.strip()]
        stations = list(Station.select().where(Station.code.in_(codes))) if codes else []
        if not stations or len(stations) != len(set(codes)):
            raise InvalidInput("bad_stations", "请选择征求意见的联络站")
    sections = _sections(mode, data, draft)
    with write_transaction():
        consultation = Consultation.create(code=window.new_code("Q"), title=title, kind=kind, mode=mode,
                                           audience=audience, intro=intro, opens_at=opens_at, closes_at=closes_at,
                                           created_by=who.account)
        for station in stations:
            ConsultationStation.create(consultation=consultation, station=station)
        Section.insert_many([{"consultation": consultation, "sort": i, "chapter": chapter[:120], "label": label[:40],
                              "text": body} for i, (chapter, label, body) in enumerate(sections)]).execute()
        audit.record(who.account, "consultation.create", ("consultation", consultation.code),
                     {"title": title, "sections": len(sections)})
    return consultation


def get(code):
    return window.by_code(Consultation, code, "no_consultation", "没有找到这次征求意见，请核对二维码或链接")


def public(code):
    """A consultation as the public doors show it: a draft (not yet opened) is not there at all."""
    found = get(code)
    if found.state == "draft":
        raise NotFound("no_consultation", "没有找到这次征求意见，请核对二维码或链接")
    return found


def sections(consultation):
    return list(consultation.sections.order_by(Section.sort, Section.id))


def stations(consultation):
    """The chosen stations (audience "stations"), read in one query."""
    return list(Station.select().join(ConsultationStation, on=(ConsultationStation.station == Station.id))
                .where(ConsultationStation.consultation == consultation).order_by(Station.path))


@retried
def _move(actor, consultation, expected, action, **changes):
    who = organiser(actor)
    with write_transaction():
        window.cas(consultation, expected, **changes)
        audit.record(who.account, f"consultation.{action}", ("consultation", consultation.code), {})
    return consultation


@retried
def open_consultation(actor, consultation):
    """Start taking opinions. Told in the same transaction: every deputy (deputies only), or the staff of the
    chosen stations and their subtree, who organise the 座谈会 (stations)."""
    with write_transaction():
        _move(actor, consultation, "draft", "open", state="open")
        values = {"title": consultation.title[:40], "code": consultation.code,
                  "closes_text": notify.local_stamp(consultation.closes_at),
                  "count": consultation.sections.count()}
        for account, kind in _told_on_opening(consultation):
            notify.write(account, kind, f"consultation-open{consultation.id}:{account.id}", values)
    return consultation


def _told_on_opening(consultation):
    active = Account.select().where(Account.active == True)  # noqa: E712
    if consultation.audience == "deputies":
        return [(a, "consultation_deputy") for a in active.where(Account.role == "deputy",
                                                                  Account.deputy.is_null(False))]
    if consultation.audience == "stations":
        chosen = stations(consultation)
        staff = active.where(Account.role == "staff", Account.station.is_null(False))
        return [(a, "consultation_station") for a in staff if any(a.station.path.startswith(s.path) for s in chosen)]
    return []


def close(actor, consultation):
    """Stop taking opinions (paper ones too); answering goes on."""
    return _move(actor, consultation, "open", "close", state="closed", closes_at=min(consultation.closes_at, utcnow()))


# --- who may comment, and commenting --------------------------------------------------------------

def station_allowed(consultation, station):
    """Whether an opinion through `station` belongs to this consultation's audience."""
    if consultation.audience != "stations":
        return True
    if station is None:
        return False
    return any(station.path.startswith(s.path) for s in stations(consultation))


def may_comment(consultation, account=None, station=None):
    """Why this person may not give an opinion now (a Chinese message), or None."""
    outside = window.refusal(consultation, "征求意见尚未开始", "征求意见已经截止")
    if outside:
        return outside
    if consultation.audience == "deputies" and (account is None or account.role != "deputy"):
        return "本次征求意见仅限人大代表参加，请登录代表工作台后再提交"
    if consultation.audience == "stations" and station is not None and not station_allowed(consultation, station):
        return "本次征求意见只通过指定的联络站收集，请扫描参加征求意见的联络站二维码"
    return None


def _section_of(consultation, data):
    """The article or question an opinion is on (None: the whole text); a forged id is refused."""
    value = data.get("section")
    if value in (None, "", 0, "0", "all"):
        return None
    found = Section.get_or_none(Section.id == number(data, "section", "条文", 1, 2 ** 62),
                                Section.consultation == consultation)
    if found is None:
        raise InvalidInput("bad_section", "没有找到这一条，请刷新页面后重新填写")
    return found


def _station_of(consultation, data):
    code = str(data.get("station") or "").strip().upper()[:16]
    station = Station.get_or_none(Station.code == code) if code else None
    if code and station is None:
        raise InvalidInput("bad_station", "没有找到这个联络站，请重新扫描联络站的二维码")
    if consultation.audience == "stations" and not station_allowed(consultation, station):
        raise Forbidden("not_in_audience", "本次征求意见只通过指定的联络站收集，请选择参加征求意见的联络站")
    return station


def _opinion_text(data):
    return text(data, "text", "意见内容", limit=TEXT_MAX, minimum=TEXT_MIN)


@retried
def _write(entered_by=None, **fields):
    """The opinion (and, entered from paper, its audit entry) in one transaction, safe to run again whole."""
    with write_transaction():
        opinion = Opinion.create(entered_by=entered_by, **fields)
        if entered_by is not None:
            audit.record(entered_by, "consultation.paper", ("consultation", fields["consultation"].code),
                         {"opinion": opinion.id})
    return opinion


def comment(consultation, account, data, channel):
    """One opinion from a door (h5, miniprogram, oa) by `account`: the section, text, name or anonymous, station.
    Everything is checked before anything is written; the content check runs last (it asks WeChat)."""
    from services.reports import check_text
    if channel not in CHANNELS or channel == "paper":
        raise InvalidInput("bad_channel", "不支持的提交方式")
    station = _station_of(consultation, data)  # the audience's stations checked here
    refusal = may_comment(consultation, account)
    if refusal:
        raise Forbidden("may_not_comment", refusal)
    if consultation.audience == "stations" and station is None:
        raise InvalidInput("station_required", "请选择您所在的联络站")
    section = _section_of(consultation, data)
    body = _opinion_text(data)
    anonymous = boolean(data, "anonymous", "匿名")
    kind = KINDS[consultation.kind]
    if anonymous and not kind.anonymous:
        raise InvalidInput("name_required", f"{kind.label}须署名，请填写姓名")
    name = "" if anonymous else (text(data, "name", "姓名", required=False, limit=20) or
                                 (account.display_name if account.display_name not in ("", "网页访客") else ""))
    if not anonymous and not name:
        raise InvalidInput("name_required", "请填写姓名" + ("" if not kind.anonymous else "，或选择匿名提交"),
                           field="name")
    limit, seconds = current_app.config["OPINION_RATE_LIMIT"]
    ratelimit.hit(f"opinion:{account.id}", limit, seconds, message="您提交得太频繁了，请稍后再试")
    flag = check_text(account, body)
    return _write(consultation=consultation, section=section, author=account, station=station, channel=channel,
                  name=name, anonymous=anonymous, text=body, flagged_reason=flag)


def enter_paper(actor, consultation, data):
    """A 座谈会's opinion, entered by staff from paper: the station (in the staff member's scope and the
    audience), the meeting (name), how many people it speaks for, the section and the text."""
    who = as_actor(actor)
    if who.role not in ("staff", "admin"):
        raise Forbidden("not_permitted", "只有联络站或人大工作人员可以录入座谈会意见")
    if consultation.state != "open":
        raise Forbidden("may_not_comment", "征求意见已经截止，不能再录入" if consultation.state != "draft"
                        else "征求意见尚未开始")
    station = _station_of(consultation, data)
    if station is None:
        raise InvalidInput("station_required", "请选择召开座谈会的联络站")
    scope = who.account.station if who.role == "staff" and who.account.station_id else None
    if scope is not None and not station.path.startswith(scope.path):
        raise Forbidden("not_permitted", "只能录入本联络站（及下属站点）的座谈会意见")
    meeting = text(data, "name", "座谈会名称", limit=50, minimum=2)
    people = number(data, "people", "参加人数", 1, MAX_PEOPLE)
    section = _section_of(consultation, data)
    body = _opinion_text(data)
    return _write(consultation=consultation, section=section, author=None, station=station, channel="paper",
                  name=meeting, people=people, text=body, entered_by=who.account)


# --- answering and publishing -----------------------------------------------------------------------

def opinion_of(consultation, opinion_id):
    """The opinion with this id (of this consultation, or of any when consultation is None), else 404."""
    try:
        query = Opinion.select().where(Opinion.id == int(opinion_id))
        found = (query if consultation is None else query.where(Opinion.consultation == consultation)).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise NotFound("no_opinion", "没有找到这条意见")
    return found


@retried
def answer(actor, opinion, data):
    """The organiser's answer to one opinion; it may be revised until the replies are published."""
    who = organiser(actor)
    consultation = opinion.consultation
    if consultation.state == "published":
        raise Conflict("published", "答复已经公布，不能再修改")
    if consultation.state == "draft":
        raise Conflict("not_open", "征求意见尚未开始")
    decision = data.get("decision")
    if decision not in DECISIONS:
        raise InvalidInput("bad_decision", "请选择采纳、部分采纳或未采纳")
    reason = text(data, "reason", "理由", required=decision != "adopted", limit=1000)
    with write_transaction():
        unpublished = Consultation.select(Consultation.id).where(Consultation.state != "published")
        if not Opinion.update(decision=decision, reason=reason, answered_by=who.account, answered_at=utcnow()).where(
                Opinion.id == opinion.id, Opinion.consultation.in_(unpublished)).execute():
            raise Conflict("published", "答复已经公布，不能再修改")
        audit.record(who.account, "consultation.answer", ("consultation", consultation.code),
                     {"opinion": opinion.id, "decision": decision})
    return Opinion.get_by_id(opinion.id)


@retried
def publish(actor, consultation):
    """Publish the replies (every opinion answered first) and tell every commenter, in one transaction."""
    who = organiser(actor)
    if consultation.state in ("draft", "open"):
        raise Conflict("not_closed", "请先截止征求意见，再公布答复")
    waiting = consultation.opinions.where(Opinion.decision.is_null()).count()
    if consultation.state == "closed" and waiting:
        raise Conflict("unanswered", f"还有{waiting}条意见没有答复，全部答复后才能公布")
    with write_transaction():
        window.cas(consultation, "closed", state="published", published_at=utcnow())
        authors = (Opinion.select(Opinion.author, fn.COUNT(Opinion.id).alias("n")).where(
            Opinion.consultation == consultation, Opinion.author.is_null(False)).group_by(Opinion.author))
        for row in authors:
            notify.write(Account.get_by_id(row.author_id), "consultation_replied",
                         f"consultation{consultation.id}:{row.author_id}",
                         {"number": consultation.code, "title": consultation.title[:40], "count": row.n,
                          "code": consultation.code})
        audit.record(who.account, "consultation.publish", ("consultation", consultation.code), {})
    return consultation


# --- reading ----------------------------------------------------------------------------------------

def opinions(consultation):
    """The opinions in the order given, each with its station read in the same query (exports list thousands)."""
    query = (Opinion.select(Opinion, Station).join(Station, JOIN.LEFT_OUTER, on=(Opinion.station == Station.id))
             .where(Opinion.consultation == consultation))
    return list(query.order_by(Opinion.created_at, Opinion.id))


def counts(rows):
    """{opinions, people, adopted, partly, rejected, waiting} of some opinions."""
    found = {"opinions": len(rows), "people": sum(o.people for o in rows), "waiting": 0, **{d: 0 for d in DECISIONS}}
    for o in rows:
        found[o.decision or "waiting"] += 1
    return found


def summary(consultation):
    """Per article or question (and "on the whole text" first when there are such opinions): the section
    (None for the whole), its opinions and their counts — what the public page, the console and the exports show."""
    rows = opinions(consultation)
    by_section = {}
    for o in rows:
        by_section.setdefault(o.section_id, []).append(o)
    parts = [(None, by_section.get(None, []))] if by_section.get(None) else []
    parts += [(s, by_section.get(s.id, [])) for s in sections(consultation)]
    return {"parts": [{"section": s, "opinions": found, "counts": counts(found)} for s, found in parts],
            "total": counts(rows)}


def mine(consultation, account):
    if account is None:
        return []
    return list(consultation.opinions.where(Opinion.author == account).order_by(Opinion.created_at, Opinion.id))


def open_for(station=None):
    """The consultations open now for people coming through `station` (or anyone: public ones)."""
    now = utcnow()
    query = Consultation.select().where(Consultation.state == "open", Consultation.opens_at <= now,
                                        Consultation.closes_at > now, Consultation.audience != "deputies")
    return [c for c in query.order_by(Consultation.closes_at)
            if c.audience == "public" or (station is not None and station_allowed(c, station))]


def for_staff(account):
    """The consultations a staff member works on: all for the county office; for a station's staff those open
    to the public or sent to a station on their branch of the tree (above or below their own)."""
    rows = list(Consultation.select().order_by(Consultation.created_at.desc(), Consultation.id.desc()))
    scope = account.station if account.station_id else None
    if scope is None:
        return rows
    return [c for c in rows if c.audience != "stations" or any(
        scope.path.startswith(s.path) or s.path.startswith(scope.path) for s in stations(c))]


def open_for_deputies():
    """The deputies-only consultations open now (the phone workbench lists them under 请提意见)."""
    now = utcnow()
    return list(Consultation.select().where(Consultation.state == "open", Consultation.audience == "deputies",
                                            Consultation.opens_at <= now, Consultation.closes_at > now)
                .order_by(Consultation.closes_at))


def signer(opinion):
    """How an opinion is signed for staff and the exports: 匿名, a masked name, or the meeting and its size."""
    from services.exports import mask_name
    if opinion.channel == "paper":
        return f"{opinion.name}（{opinion.people}人）"
    return "匿名" if opinion.anonymous or not opinion.name else mask_name(opinion.name)


def section_label(section):
    return "对全文" if section is None else " ".join(x for x in (section.chapter, section.label) if x)


# --- exports for the legislative office ------------------------------------------------------------

def export_xlsx(consultation):
    """逐条汇总 (per article: opinions, people, 采纳 / 部分采纳 / 未采纳 / 未答复) and 全部意见 (every opinion with its
    station, channel, signer, answer and reason)."""
    from services.exports import table_xlsx
    from services.calendar import local
    data = summary(consultation)
    per = [[section_label(p["section"]), p["counts"]["opinions"], p["counts"]["people"], p["counts"]["adopted"],
            p["counts"]["partly"], p["counts"]["rejected"], p["counts"]["waiting"]] for p in data["parts"]]
    every, index = [], 0
    for part in data["parts"]:
        for o in part["opinions"]:
            index += 1
            every.append([index, section_label(part["section"]), o.text, o.station.name if o.station_id else "",
                          CHANNELS[o.channel], signer(o), o.people, local(o.created_at).replace(tzinfo=None),
                          DECISIONS.get(o.decision, "未答复"), o.reason])
    head = [("征求意见", consultation.title), ("类型", KINDS[consultation.kind].label),
            ("范围", AUDIENCES[consultation.audience] + (("：" + "、".join(s.name for s in stations(consultation)))
                                                         if consultation.audience == "stations" else "")),
            ("时间", f"{local(consultation.opens_at):%Y-%m-%d %H:%M} 至 {local(consultation.closes_at):%Y-%m-%d %H:%M}"),
            ("意见总数", data["total"]["opinions"]), ("涉及人数", data["total"]["people"])]
    return table_xlsx([("概况", ["项目", "内容"], [16, 70], head),
                       ("逐条汇总", ["条文", "意见数", "人数", "采纳", "部分采纳", "未采纳", "未答复"],
                        [30, 10, 10, 10, 10, 10, 10], per),
                       ("全部意见", ["序号", "条文", "意见", "联络站", "渠道", "署名", "人数", "提交时间", "处理", "理由"],
                        [6, 16, 60, 20, 14, 16, 8, 18, 10, 40], every)])


def export_docx(consultation):
    """The 意见汇总 for the legislative office as a Word document: per article its text, the counts, and every
    opinion with its station and the answer."""
    import docx
    document = docx.Document()
    document.add_heading(f"《{consultation.title}》征求意见汇总", level=1)
    data = summary(consultation)
    total = data["total"]
    document.add_paragraph(f"共收到{KINDS[consultation.kind].opinion}{total['opinions']}条（涉及{total['people']}人），"
                           f"采纳{total['adopted']}条，部分采纳{total['partly']}条，未采纳{total['rejected']}条，"
                           f"未答复{total['waiting']}条。")
    for part in data["parts"]:
        section, c = part["section"], part["counts"]
        document.add_heading(section_label(section), level=2)
        if section is not None and section.text:
            document.add_paragraph(section.text)
        document.add_paragraph(f"意见{c['opinions']}条（{c['people']}人）：采纳{c['adopted']}，部分采纳{c['partly']}，"
                               f"未采纳{c['rejected']}，未答复{c['waiting']}")
        for i, o in enumerate(part["opinions"], start=1):
            where = o.station.name if o.station_id else CHANNELS[o.channel]
            document.add_paragraph(f"{i}. {o.text}（{where}，{signer(o)}）", style="List Number")
            answer_text = DECISIONS.get(o.decision, "未答复") + (f"：{o.reason}" if o.reason else "")
            document.add_paragraph(f"处理：{answer_text}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
