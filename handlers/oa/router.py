"""What the official account answers: a registry of handlers by message type, event and text command.

A handler returns the reply: None (nothing to say → "success"), a str (text reply) or a list of article
dicts {title, description, url, image} (a news card). Commands are matched after normalising the text
(full-width → half-width, punctuation → spaces), so "查询：２０２６－０００００１" is "查询 2026-000001".

A handler registered with pure=True changes nothing (it only reads), so the webhook may run it before
claiming the message's de-duplication key and store key and answer in one statement; when it finds it
would have to change something after all (a follower seen for the first time), it raises NeedsClaim and
is run again the ordinary way, under the claim.
"""
import contextlib
import contextvars
import logging
import re
import unicodedata

from flask import current_app
from peewee import JOIN

from models import (Account, Case, CaseEvent, Consultation, DeliveryAttempt, Deputy, Inquiry, Notification, Project,
                    Station)
from services import accounts, activities, binding, directory, workflow
from services.errors import ServiceError
from services.calendar import local
from wechat.prepared import Prepared, instance

log = logging.getLogger("wechat.router")


class NeedsClaim(Exception):
    """Raised by a pure handler that would have to change something: run it under the claim instead."""


_read_only = contextvars.ContextVar("wechat_read_only", default=False)


@contextlib.contextmanager
def read_only():
    """Run a pure handler: within this block follower() raises NeedsClaim instead of creating an account."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


class Router:
    def __init__(self):
        self.messages, self.events, self.commands, self.clicks = {}, {}, {}, {}
        self.pure = set()
        self._words = None   # the command words as one pattern, longest first
        self.conversation = None  # handler(msg) with .active(msg): takes every message of a conversation

    def _register(self, table, keys, pure=False):
        def decorate(handler):
            for key in keys:
                table[key] = handler
            if pure:
                self.pure.add(handler)
            words = sorted(self.commands, key=len, reverse=True)
            self._words = re.compile("|".join(map(re.escape, words)), re.IGNORECASE) if words else None
            return handler
        return decorate

    def message(self, *types, pure=False):
        """Handle messages of these MsgTypes: handler(msg)."""
        return self._register(self.messages, types, pure)

    def event(self, *names, pure=False):
        """Handle these events (wechatpy's lower-case names, e.g. subscribe_scan): handler(msg)."""
        return self._register(self.events, names, pure)

    def command(self, *words, pure=False):
        """Handle text starting with one of these words (any case): handler(msg, argument)."""
        return self._register(self.commands, [w.lower() for w in words], pure)

    def click(self, *keys, pure=False):
        """Handle menu CLICK events with these keys: handler(msg)."""
        return self._register(self.clicks, keys, pure)

    def resolve(self, msg):
        """(handler, its arguments) for this message; (None, None) when nothing handles it."""
        if msg.type == "event":
            if msg.event == "click" and msg.key in self.clicks:
                return self.clicks[msg.key], (msg,)
            handler = self.events.get(msg.event)
            if handler is None:
                log.info("wechat: event %r from %s ignored (no handler)", msg.event, msg.source)
                return None, None
            return handler, (msg,)
        if msg.type == "text":
            handler, args = self.resolve_text(msg, msg.content)
        elif msg.type == "voice" and said(msg):  # WeChat's speech recognition: spoken commands work too
            handler, args = self.resolve_text(msg, said(msg))
        else:
            handler = self.messages.get(msg.type) or self.messages.get("*")
            args = (msg,) if handler else None
        # A conversation in progress takes the message, except the read-only commands (查询, 帮助), which
        # answer as ever and leave it open: so the busiest question costs no extra lookup.
        overridable = handler in self.messages.values() or handler not in self.pure
        if self.conversation is not None and msg.type in CHAT_TYPES and overridable and self.conversation.active(msg):
            return self.conversation, (msg,)
        return (handler, args) if handler else (None, None)

    def resolve_text(self, msg, content):
        text = normalize(content)
        found = self._words.match(text) if self._words else None
        if found:
            return self.commands[found.group().lower()], (msg, text[found.end():].strip())
        return self.messages["*"], (msg,)

    def dispatch(self, msg):
        handler, args = self.resolve(msg)
        return handler(*args) if handler else None

    def run_text(self, msg, content):
        handler, args = self.resolve_text(msg, content)
        return handler(*args)


CHAT_TYPES = ("text", "voice", "image", "location")


def said(msg):
    """What the follower said: a text's content, or WeChat's recognition of a voice message ('' when none)."""
    if msg.type == "text":
        return (msg.content or "").strip()
    if msg.type == "voice":
        return (getattr(msg, "recognition", None) or "").strip()
    return ""


router = Router()

PUNCTUATION = re.compile(r"[\s,.;:!?'\"`~、，。；：！？“”‘’《》〈〉<>「」『』【】\[\]{}()（）…—·|/\\*#]+")


def normalize(text):
    """Full-width → half-width (NFKC), punctuation and runs of spaces → one space."""
    return PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def base_url():
    return current_app.config["PUBLIC_BASE_URL"]


def follower(msg):
    """The sender's account, created on first sight; linked to their mini-program account through the
    unionid WeChat gives for an official account bound to an Open Platform account."""
    account = Account.get_or_none(Account.oa_openid == msg.source)
    if account is not None:
        return account
    if _read_only.get():
        raise NeedsClaim
    return accounts.oa_citizen(msg.source)


# --- help -----------------------------------------------------------------------------------------

def help_text(greeting="您好，这里是“代表连心”。"):
    base = base_url()
    return (f"{greeting}您可以发送：\n"
            "· 我要反映 —— 一步一步向代表反映问题\n"
            "· 查询 案件号 —— 查看反映的办理进度\n"
            "· 我的 —— 我最近的反映\n"
            "· 代表 姓名、代码或乡镇村名 —— 找人大代表\n"
            "· 项目 名称或代码 —— 看民生实事进展\n"
            "· 征求意见 —— 正在征求意见的法规草案等，可逐条提意见\n"
            "· 问政 —— 正在征集问题的问政活动，可附照片和地点提问题\n"
            "· 绑定 绑定码 —— 代表和工作人员绑定微信\n"
            "· 帮助 —— 显示本菜单\n"
            f"扫描代表码即可向代表反映问题。<a href=\"{base}/public/cases\">公开问题清单</a>")


@router.message("*", pure=True)
@router.command("帮助", "help", "?", pure=True)
@router.click("HELP", pure=True)
def show_help(msg, argument=None):
    return help_text()


# --- commands -------------------------------------------------------------------------------------

CASE_NUMBER = re.compile(r"^(\d{4})\s*-?\s*(\d{1,6})$")
OTHER_NUMBER = re.compile(r"^[A-Z0-9-]{8,20}$")  # another kind's number as printed (JY2026-00001, 2026-WZ0001)
NOT_FOUND = "未找到您可以查看的案件{number}。只有反映人、相关代表和人大工作人员可以查询；请核对案件号，或在小程序“我的反映”中查看。"


LOOKUP_ACCOUNT = (Account.id, Account.role, Account.deputy, Account.department, Account.station)
LOOKUP_CASE = (Case.id, Case.kind, Case.number, Case.title, Case.state, Case.deadline, Case.round, Case.reporter,
               Case.deputy, Case.station, Case.version)


_LOOKUP = Prepared(lambda: Case.select(*LOOKUP_CASE, *LOOKUP_ACCOUNT)
                   .join(Account, JOIN.LEFT_OUTER, on=(Account.oa_openid == Prepared.arg("source")))
                   .where(Case.number == Prepared.arg("number")).limit(1), LOOKUP_CASE + LOOKUP_ACCOUNT)


def lookup(source, number):
    """(case, the sender's account) in one query: only the columns the checks and the answer read (this is
    the official account's busiest question); (None, None) without such a case, account None for an openid
    not seen before."""
    row = _LOOKUP.first(source=source, number=number)
    if row is None:
        return None, None
    split = len(LOOKUP_CASE)
    case = instance(Case, LOOKUP_CASE, row[:split])
    account = instance(Account, LOOKUP_ACCOUNT, row[split:]) if row[split] else None
    return case, account


def _last_event(for_citizen):
    query = CaseEvent.select(CaseEvent.action, CaseEvent.at).where(CaseEvent.case == Prepared.arg("case"))
    if for_citizen and workflow.HIDDEN_FROM_CITIZENS:
        query = query.where(CaseEvent.action.not_in(workflow.HIDDEN_FROM_CITIZENS))
    return query.order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)


_LAST_EVENT = {citizen: Prepared(lambda citizen=citizen: _last_event(citizen), (CaseEvent.action, CaseEvent.at))
               for citizen in (False, True)}


def last_step(case, for_citizen):
    """The last entry of workflow.timeline(case, …, for_citizen) as (label, at), read as one row."""
    row = _LAST_EVENT[bool(for_citizen)].first(case=case.id)
    if row is None:
        return None
    name, at = row
    return workflow.event_label(name, for_citizen, kind=case.kind), at


STATUS_KEPT = 4096   # statuses kept per process (then all are dropped and read afresh)


def status_text(case, for_citizen):
    """What 查询 answers about a case a viewer may see: number, title, state, last step, deadline. Kept per
    process by (case, version, citizen or not): every step of a case raises its version in the transaction
    that writes the step (workflow.perform), cases are never deleted, so a kept text is dropped by the next
    step of its case — the lookup reads the version afresh — and a case asked about again costs no
    timeline read. Kept on the app (a new app, a new store)."""
    kept = current_app.extensions.setdefault("oa_status", {})
    key = (case.id, case.version, for_citizen)
    text = kept.get(key)
    if text is None:
        kind = case.kind
        lines = [f"{workflow.KIND_WORDS.get(kind, '案件')} {case.number}：{case.title}",
                 f"状态：{workflow.state_label(case.state, for_citizen=for_citizen, kind=kind)}"]
        step = last_step(case, for_citizen)
        if step:
            lines.append(f"最近一步：{step[0]}（{local(step[1]):%Y-%m-%d %H:%M}）")
        if case.deadline and case.state in workflow.OPEN_STATES:
            lines.append(f"办理时限：{case.deadline:%Y-%m-%d}")
        text = "\n".join(lines)
        if len(kept) >= STATUS_KEPT:
            kept.clear()
        kept[key] = text
    return text


@router.command("查询", pure=True)
@router.click("QUERY_CASE", pure=True)
def query_case(msg, argument=""):
    typed = argument.replace(" ", "").upper()
    match = CASE_NUMBER.match(typed)
    if match:
        number = f"{match.group(1)}-{int(match.group(2)):06d}"
    elif OTHER_NUMBER.match(typed):
        number = typed  # a 问政 question's or a 代表建议's number: looked up as it reads
    else:
        return "请发送“查询 案件号”，例如：查询 2026-000001"
    case, account = lookup(msg.source, number)
    if account is None:  # no such case, or a follower seen for the first time: found or created
        account = follower(msg)
    if case is None or account.role == "department" or not workflow.can_view(case, account):
        return NOT_FOUND.format(number=number)
    return status_text(case, account.role == "citizen")


@router.command("我的")
@router.click("MY_CASES")
def my_cases(msg, argument=None):
    account = follower(msg)
    cases = list(Case.select().where(Case.reporter == account).order_by(Case.submitted_at.desc(), Case.id.desc())
                 .limit(5))
    if not cases:
        return "您还没有提交过反映。扫描人大代表的代表码，即可向代表反映问题。"
    lines = ["您最近的反映："] + [
        f"{c.number} {c.title[:14]} —— {workflow.state_label(c.state, for_citizen=True)}" for c in cases]
    lines.append("发送“查询 案件号”查看详情。")
    return "\n".join(lines)


def deputy_card(deputy):
    station = deputy.station.name if deputy.station_id else ""
    return [{"title": f"{deputy.name}（{directory.DEPUTY_LEVELS.get(deputy.level, '人大代表')}）",
             "description": "　".join(x for x in (station, deputy.constituency, "点击查看并向代表反映问题") if x),
             "url": f"{base_url()}/d/{deputy.code}", "image": absolute(deputy.photo)}]


def project_card(project):
    latest = directory.project_updates(project, limit=1)
    status = directory.PROJECT_STATUS.get(project.status, project.status)
    description = f"进度 {project.progress}%（{status}）"
    if latest:
        description += f"；最新：{latest[0].text[:40]}"
    return [{"title": f"民生实事：{project.name}", "description": description,
             "url": f"{base_url()}/p/{project.code}", "image": ""}]


def station_card(station):
    details = [x for x in (station.address and f"地址：{station.address}",
                           station.reception_hours and f"接待时间：{station.reception_hours}") if x]
    return [{"title": f"{station.name}", "description": "；".join(details + ["点击查看代表并反映问题"]),
             "url": f"{base_url()}/s/{station.code}", "image": ""}]


def absolute(path):
    return f"{base_url()}{path}" if path and path.startswith("/") else (path or "")


@router.command("代表")
@router.click("FIND_DEPUTY")
def find_deputy(msg, argument=None):
    if not argument:
        return "请发送“代表 姓名或代码”，例如：代表 DB0001"
    rows, total = directory.search_deputies(q=argument, per_page=8)
    if not rows:
        station = directory.station_for_place(argument)
        if station is None:
            return f"没有找到“{argument}”这位在任代表或这个乡镇（村、社区），请核对姓名、代表码或地名。"
        deputies = directory.station_deputies(station)
        if not deputies:
            return station_card(station)
        lines = [f"{station.name}的代表（{len(deputies)}位）："] + [
            f"{d.code} {d.name}（{directory.DEPUTY_LEVELS.get(d.level, '人大代表')}）" for d in deputies[:10]]
        if station.reception_hours:
            lines.append(f"接待时间：{station.reception_hours}")
        lines.append("发送“代表 代码”查看名片，或发送“我要反映”反映问题。")
        return "\n".join(lines)
    if total == 1:
        return deputy_card(rows[0])
    lines = [f"找到{total}位代表："] + [
        f"{d.code} {d.name}{'（' + d.station.name + '）' if d.station_id else ''}" for d in rows]
    lines.append("发送“代表 代码”查看名片。")
    return "\n".join(lines)


@router.command("项目")
@router.click("FIND_PROJECT")
def find_project(msg, argument=None):
    if not argument:
        return "请发送“项目 名称或代码”，例如：项目 XM001"
    query = Project.select().where(Project.published == True,  # noqa: E712
                                   (Project.code == argument.upper()) | Project.name.contains(argument[:30]))
    rows = list(query.order_by(Project.year.desc(), Project.code).limit(8))
    if not rows:
        return f"没有找到“{argument}”相关的民生实事项目。"
    if len(rows) == 1:
        return project_card(rows[0])
    return "\n".join([f"找到{len(rows)}个项目："] + [f"{p.code} {p.name}（{p.progress}%）" for p in rows]
                     + ["发送“项目 代码”查看进展。"])


def consultation_card(consultation):
    from services import consultations
    kind = consultations.KINDS[consultation.kind]
    return [{"title": f"{kind.label}：{consultation.title}",
             "description": f"截止{local(consultation.closes_at):%Y-%m-%d %H:%M}，点击阅读并提{kind.opinion}",
             "url": f"{base_url()}/q/{consultation.code}", "image": ""}]


@router.command("征求意见", "意见征集", pure=True)
def open_consultations(msg, argument=None):
    """征集 through the official account: what is open to the public now, each linking to its H5 page."""
    from services import consultations
    rows = consultations.open_for()
    if not rows:
        return "目前没有正在征求意见的事项。联络站组织的征求意见，请扫描联络站的二维码参加。"
    if len(rows) == 1:
        return consultation_card(rows[0])
    return "\n".join(["正在征求意见："] + [
        f"· <a href=\"{base_url()}/q/{c.code}\">{c.title}</a>（截止{local(c.closes_at):%m月%d日}）" for c in rows[:8]])


def inquiry_card(inquiry):
    """An inquiry's card: while it collects, straight to its ask form (WeChat web OAuth makes the follower the
    asker); otherwise its public page with the 问题清单 and progress."""
    from services import inquiries
    if inquiries.collecting(inquiry):
        return [{"title": f"问政：{inquiry.topic}",
                 "description": f"问题征集至{local(inquiry.collect_closes):%m月%d日 %H:%M}，点击提问题（可附照片和地点）",
                 "url": f"{base_url()}/w/{inquiry.code}/ask", "image": ""}]
    return [{"title": f"问政：{inquiry.topic}",
             "description": f"{inquiries.stage_label(inquiry.stage)}阶段，点击查看问题清单、整改进展和测评结果",
             "url": f"{base_url()}/w/{inquiry.code}", "image": ""}]


@router.command("问政", "我要问政", pure=True)
@router.click("INQUIRY", pure=True)
def open_inquiries(msg, argument=None):
    """问政 through the official account: the events collecting questions now, each opening its H5 ask form;
    "问政 <code>" one event's card."""
    from services import inquiries
    if argument:
        found = Inquiry.get_or_none(Inquiry.code == argument.strip().upper()[:16], Inquiry.published == True)  # noqa
        return inquiry_card(found) if found else f"没有找到编号为“{argument[:16]}”的问政活动，请核对后再发送。"
    rows = inquiries.open_events()
    if not rows:
        return "目前没有正在征集问题的问政活动。问政活动发布后，发送“问政”即可提问题；扫描问政二维码可查看问题清单和整改进展。"
    if len(rows) == 1:
        return inquiry_card(rows[0])
    return "\n".join(["正在征集问题的问政活动："] + [
        f"· <a href=\"{base_url()}/w/{i.code}/ask\">{i.topic}</a>（截止{local(i.collect_closes):%m月%d日}）"
        for i in rows[:8]])


# --- events ---------------------------------------------------------------------------------------

SCENES = {  # scene prefix: (find by code, card)
    "d": (lambda code: Deputy.get_or_none((Deputy.code == code) & directory.serving()), deputy_card),
    "p": (lambda code: Project.get_or_none((Project.code == code) & (Project.published == True)),  # noqa: E712
          project_card),
    "s": (lambda code: Station.get_or_none(Station.code == code), station_card),
    "q": (lambda code: Consultation.get_or_none(Consultation.code == code), consultation_card),
    "w": (lambda code: Inquiry.get_or_none((Inquiry.code == code) & (Inquiry.published == True)),  # noqa: E712
          inquiry_card),
}


def scene_card(scene):
    """The card for a parametric QR code's scene "d:<deputy>", "p:<project>", "s:<station>", "q:<consultation>"
    or "w:<inquiry>" (or None)."""
    kind, _, code = (scene or "").partition(":")
    find, card = SCENES.get(kind, (None, None))
    found = find(code.strip().upper()) if find and code else None
    if found is None:
        log.warning("wechat: QR scene %r matches nothing", scene)
        return None
    return card(found)


@router.event("subscribe", "subscribe_scan")
def subscribed(msg):
    account = follower(msg)
    Account.update(oa_followed=True).where(Account.id == account.id).execute()
    scene = (msg.scene_id or "") if msg.event == "subscribe_scan" else ""
    if scene.startswith(BIND_SCENE):
        return bind(msg, scene[len(BIND_SCENE):])
    return (checked_in(msg, scene) or scene_card(scene) if scene else None) or help_text("感谢关注“代表连心”！")


@router.event("scan")
def scanned(msg):
    if (msg.scene_id or "").startswith(BIND_SCENE):
        return bind(msg, msg.scene_id[len(BIND_SCENE):])
    return checked_in(msg, msg.scene_id) or scene_card(msg.scene_id) or help_text()


def checked_in(msg, scene):
    """签到 by scanning a station's code ("s:<code>") in WeChat: a bound deputy with a reception day or activity
    open for check-in there is checked in at once (services/activities.py); anyone else gets the station's card."""
    kind, _, code = (scene or "").partition(":")
    account = binding.bound_account("official_account", msg.source) if kind == "s" else None
    if account is None or account.role != "deputy" or not account.deputy_id:
        return None
    done = []
    for activity in activities.checkin_choices(account.deputy, code):
        try:
            row = activities.check_in(account, activity)
        except ServiceError as err:
            done.append(f"{activity.title}：{err.message}")
            continue
        done.append(f"{activity.title}（{local(row.checked_in_at):%H:%M}）")
    return "签到成功：\n" + "\n".join(done) if done else None


# --- binding (绑定码, services/binding.py) ----------------------------------------------------------

BIND_SCENE = "bind:"


def bind(msg, secret):
    """Bind the sender's official-account identity to the person a binding code or QR token names."""
    unionid, _ = binding.oa_profile(msg.source)
    try:
        account, _ = binding.redeem(secret, "official_account", msg.source, unionid, followed=True)
    except ServiceError as err:
        return err.message
    return (f"您已绑定为 {binding.describe(account)}。今后的待办提醒会通过本公众号发给您。\n"
            f"<a href=\"{base_url()}/m/\">打开手机工作台</a>")


@router.command("绑定")
def bind_command(msg, argument=""):
    if not argument:
        return "请发送“绑定 绑定码”，例如：绑定 ABCD2345。绑定码由人大常委会办公室提供。"
    return bind(msg, argument)


@router.event("unsubscribe")
def unsubscribed(msg):
    """No more official-account pushes to this person (template messages check oa_followed)."""
    Account.update(oa_followed=False).where(Account.oa_openid == msg.source).execute()


@router.event("templatesendjobfinish")
def template_delivered(msg):
    """WeChat's delivery report for a template message: kept on the successful template attempt it reports
    on, in its detail as "TEMPLATESENDJOBFINISH:<status>" (success, failed:user block, failed:system failed);
    the notification's own last_error (why an earlier channel failed) stays as it was."""
    sent = Notification.select(Notification.id).where(Notification.wechat_msgid == str(msg.id))
    found = DeliveryAttempt.update(detail=f"TEMPLATESENDJOBFINISH:{msg.status}"[:255]).where(
        DeliveryAttempt.notification.in_(sent), DeliveryAttempt.channel == "template",
        DeliveryAttempt.result == "ok").execute()
    if not found:
        log.warning("wechat: delivery report for unknown template msgid %s (%s)", msg.id, msg.status)


@router.event("view", "view_miniprogram")
def menu_link(msg):
    return None


# --- voice, pictures and places outside a conversation ----------------------------------------------

@router.message("voice", pure=True)
def unheard_voice(msg):
    return "抱歉，没有听清您的语音。请打字发送，例如“我要反映”或“查询 案件号”；发送“帮助”查看全部功能。"


@router.message("image", "location", pure=True)
def stray_media(msg):
    return "如需反映问题，请先发送“我要反映”，再按提示发送照片或位置。发送“帮助”查看全部功能。"


# --- 我要反映: a guided conversation that files a real case -------------------------------------------
# Kept server-side (wechat.store) for CONVERSATION_TTL seconds after the last message: what happened →
# where (text or a location message) → photos → phone (optional) → confirm → services.reports.submit.

CONVERSATION_TTL = 600
MAX_PHOTOS = 3
CANCEL = ("取消", "退出", "不反映了")
DONE = ("好了", "好", "完成", "发完了", "跳过", "没有", "不用", "无")
YES = ("确认", "确定", "是", "提交", "好", "对")
ASK_WHERE = "第2步：在什么地方？请发送地点（例如：南塘村村口），也可以点“+”→“位置”发送您的位置。"
ASK_PHOTOS = f"第3步：有照片吗？请直接发送照片（最多{MAX_PHOTOS}张），发完回复“好了”；没有照片请回复“跳过”。"
ASK_PHONE = "第4步：留个手机号，方便代表联系您吗？请发送手机号；不留请回复“跳过”。"
KIND_TYPE = "抱歉，没有听清您的语音，请再说一遍，或者打字发送。"


def _key(source):
    return f"wx:report:{source}"


def _words(text):
    return normalize(text).replace(" ", "")


def start_report(msg, argument=""):
    """我要反映 [代表码或姓名 | 要反映的事]: begin the conversation."""
    from wechat import store
    state = {"step": "content", "started": msg.time or 0, "deputy": "", "photos": []}
    argument = (argument or "").strip()
    found = Deputy.get_or_none((Deputy.code == argument.upper()) & directory.serving()) if argument else None
    intro = "好的，我们一步一步来（随时回复“取消”可以退出）。\n"
    if found is not None:
        state["deputy"], intro = found.code, f"好的，您的反映将送到{found.name}代表（随时回复“取消”可以退出）。\n"
    elif len(argument) >= 5:
        state.update(content=argument[:2000], step="where")
        store.put(_key(msg.source), state, CONVERSATION_TTL)
        return intro + ASK_WHERE
    store.put(_key(msg.source), state, CONVERSATION_TTL)
    return intro + "第1步：请说一说发生了什么事、希望怎么解决？可以打字，也可以发语音。"


router.command("我要反映", "反映问题", "我要投诉")(start_report)
router.click("REPORT")(start_report)


def converse(msg):
    from wechat import store
    state = store.get(_key(msg.source))
    if state is None:  # expired between resolve and now
        return show_help(msg)
    text = said(msg)
    if _words(text) in CANCEL:
        store.delete(_key(msg.source))
        return "已取消这次反映。需要时再发送“我要反映”。"
    if msg.type == "voice" and not text:
        return KIND_TYPE
    if _words(text).startswith("我要反映"):  # starting again
        return start_report(msg, normalize(text)[4:].strip())
    reply = STEPS[state["step"]](msg, state, text)
    if state["step"] == "filed":
        store.delete(_key(msg.source))
    else:
        store.put(_key(msg.source), state, CONVERSATION_TTL)
    return reply


converse.active = lambda msg: _conversation_open(msg.source)


def _conversation_open(source):
    from wechat import store
    return store.get(_key(source)) is not None


router.conversation = converse


def _content(msg, state, text):
    if msg.type not in ("text", "voice"):
        return "请先用文字或语音说一说发生了什么事。"
    if len(text) < 5:
        return "请多说几句：在什么地方、出了什么问题（至少5个字）。"
    state.update(content=text[:2000], step="where")
    return ASK_WHERE


def _where(msg, state, text):
    if msg.type == "location":
        state.update(location=(msg.label or "").strip()[:200] or "（位置消息）",
                     latitude=float(msg.location_x), longitude=float(msg.location_y))
    elif text:
        state["location"] = text[:200]
    else:
        return ASK_WHERE
    state["step"] = "photos"
    return ASK_PHOTOS


def _photos(msg, state, text):
    if msg.type == "image":
        if len(state["photos"]) >= MAX_PHOTOS:
            return f"最多{MAX_PHOTOS}张照片，已经收到{MAX_PHOTOS}张了。请回复“好了”继续。"
        token = _save_picture(msg)
        if token is None:
            return "这张照片没有收到，请重新发送；不发照片请回复“跳过”。"
        state["photos"].append(token)
        return f"已收到第{len(state['photos'])}张照片。还有就继续发送，发完请回复“好了”。"
    if _words(text) in DONE:
        state["step"] = "phone"
        return ASK_PHONE
    return ASK_PHOTOS


def _save_picture(msg):
    """Fetch the picture WeChat received (its PicUrl) and keep it as an upload (EXIF stripped)."""
    import requests

    from services.errors import ServiceError
    from services.uploads import save_image
    try:
        response = requests.get(msg.image, timeout=3)
        response.raise_for_status()
        return save_image(response.content, follower(msg)).token
    except (requests.RequestException, ServiceError) as err:
        log.warning("wechat: picture from %s not saved (%s)", msg.source, err)
        return None


def _phone(msg, state, text):
    from services.errors import InvalidInput
    if msg.type not in ("text", "voice"):
        return ASK_PHONE
    if _words(text) in DONE:
        state["phone"] = ""
    else:
        try:
            state["phone"] = workflow.phone({"contact_phone": normalize(text).replace(" ", "")})
        except InvalidInput:
            return "手机号好像不对，请重新发送，或回复“跳过”。"
        if not state["phone"]:
            return ASK_PHONE
    state["step"] = "confirm"
    target = Deputy.get_or_none(Deputy.code == state["deputy"]) if state["deputy"] else None
    return "\n".join([
        "请确认您的反映：", f"事情：{state['content'][:100]}", f"地点：{state.get('location', '')}",
        f"照片：{len(state['photos'])}张", f"电话：{state['phone'] or '未留'}",
        f"送给：{target.name + '代表' if target else '所在地的代表联络站'}",
        "回复“确认”提交，回复“取消”放弃。"])


def _confirm(msg, state, text):
    from services import reports
    from services.errors import ServiceError
    if _words(text) not in YES:
        return "回复“确认”提交，回复“取消”放弃。"
    account = follower(msg)
    if not account.oa_followed:  # they are chatting with the account: pushes can reach them
        Account.update(oa_followed=True).where(Account.id == account.id).execute()
    station = None if state["deputy"] else (directory.station_for_place(state.get("location", ""))
                                            or directory.root_station())
    data = {"deputy": state["deputy"], "station": station.code if station else "", "category": "other",
            "content": state["content"], "location": state.get("location", ""), "photos": state["photos"],
            "latitude": state.get("latitude"), "longitude": state.get("longitude"),
            "contact_phone": state["phone"], "client_request_id": f"oa:{msg.source}:{state['started']}"[:64]}
    try:
        case, _ = reports.submit(account, data, source="official_account")
    except ServiceError as err:
        return f"{err.message}。回复“确认”重试，或回复“取消”放弃。"
    state["step"] = "filed"
    return (f"已提交！案件号 {case.number}。\n办理有进展时会在这里通知您；发送“查询 {case.number}”可随时查看进度。\n"
            f"<a href=\"{base_url()}/c/{case.number}\">查看详情</a>")


STEPS = {"content": _content, "where": _where, "photos": _photos, "phone": _phone, "confirm": _confirm}
