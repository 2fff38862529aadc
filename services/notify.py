"""Who hears what: notification intents written to the outbox in the same transaction as the change.

`MESSAGES` is the one table of every message: its title and inbox text, the WeChat template it uses
with that template's fields, where it links (mini-program page and H5/console URL), whether it may
break quiet hours, and when it is sent. `TEMPLATES` names the four WeChat templates and their keyword
fields; their ids come from configuration (WECHAT_MP_TEMPLATES / WECHAT_OA_TEMPLATES, see
docs/notifications.md). `AUDIENCE` says which workflow action tells whom. Delivery (channels, retries,
quiet hours) is services/delivery.py; this module only writes rows and renders them.
"""
import re
import unicodedata
from dataclasses import dataclass

from models import Account, Assignment, Case, Follow, Notification, Station, utcnow

# --- templates ------------------------------------------------------------------------------------
# key: (the template's title in WeChat's library, {keyword: label}); the keyword's prefix is its type.
TEMPLATES = {
    "case_progress": ("反映办理进度通知", {"character_string1": "案件编号", "thing2": "反映事项",
                                    "phrase3": "办理状态", "thing4": "温馨提示", "time5": "更新时间"}),
    "case_todo": ("待办事项提醒", {"character_string1": "案件编号", "thing2": "事项名称", "thing3": "待办内容",
                             "date4": "办理时限"}),
    "project_progress": ("项目进展通知", {"thing1": "项目名称", "thing2": "最新进展", "character_string3": "完成进度",
                                    "time4": "更新时间"}),
    "work_digest": ("工作汇总提醒", {"thing1": "提醒事项", "number2": "件数", "thing3": "说明", "date4": "日期"}),
}


@dataclass(frozen=True)
class Message:
    title: str           # inbox title
    body: str            # inbox text (format string over the values)
    template: str        # key into TEMPLATES
    fields: dict         # keyword -> format string over the values
    page: str = ""       # mini-program page ("" for console-only audiences)
    url: str = ""        # H5 or console path, joined to PUBLIC_BASE_URL
    urgent: bool = False  # may be pushed during quiet hours
    when: str = ""       # when it is sent (docs/notifications.md)
    audience: str = ""   # who receives it (docs)


CASE_PAGE, CASE_URL = "pages/case/detail?number={number}", "/c/{number}"
WORK_PAGE, CONSOLE_URL = "pages/workbench/case?number={number}", "/console/cases/{number}"
PHONE_URL = "/m/cases/{number}"  # deputies and departments: the phone workbench (handlers/mobile.py)


def _progress(status, tip, **kw):
    return {"character_string1": "{number}", "thing2": "{title}", "phrase3": status, "thing4": tip,
            "time5": "{time}", **kw}


def _todo(what, deadline="{deadline_text}"):
    return {"character_string1": "{number}", "thing2": "{title}", "thing3": what, "date4": deadline}


M = Message
MESSAGES = {
    # the reporter (citizen)
    "case_accepted": M("反映已受理", "您的反映 {number} 已受理", "case_progress",
                       _progress("已受理", "代表已受理，我们会尽快转交办理"), CASE_PAGE, CASE_URL,
                       when="代表或工作人员受理（含代表转交人大办）", audience="反映人"),
    "case_declined": M("反映未予受理", "您的反映 {number} 未予受理：{reason}", "case_progress",
                       _progress("未予受理", "{reason}"), CASE_PAGE, CASE_URL,
                       when="不予受理", audience="反映人"),
    "case_assigned": M("反映已交办", "您的反映 {number} 已交{department}办理", "case_progress",
                       _progress("已交办", "已交{department}办理"), CASE_PAGE, CASE_URL,
                       when="交办承办单位", audience="反映人"),
    "case_answered": M("反映已答复，请评价", "您的反映 {number} 已答复，请评价", "case_progress",
                       _progress("已答复", "承办单位已答复，请您评价"), CASE_PAGE, CASE_URL,
                       when="承办单位答复（请群众评价）", audience="反映人"),
    "case_reopened": M("反映进入二次办理", "您的反映 {number} 进入二次办理", "case_progress",
                       _progress("二次办理", "已重新交办，时限{deadline_text}"), CASE_PAGE, CASE_URL,
                       when="不满意后二次办理", audience="反映人"),
    "case_closed": M("反映已办结", "您的反映 {number} 已办结", "case_progress",
                     _progress("已办结", "感谢您的参与和监督"), CASE_PAGE, CASE_URL,
                     when="办结（工作人员办结，或答复后逾期未评价自动办结）", audience="反映人"),
    "case_replied": M("代表回复了您", "{number}：{note}", "case_progress",
                      _progress("代表回复", "{note}"), CASE_PAGE, CASE_URL,
                      when="代表回复群众", audience="反映人"),
    "case_merged": M("反映已合并办理", "您的反映 {number} 与相同问题 {original} 合并办理，后续进展会继续通知您",
                     "case_progress", _progress("合并办理", "与{original}合并办理"), CASE_PAGE, CASE_URL,
                     when="工作人员把重复反映合并到原案件", audience="反映人"),
    "case_transferred": M("反映已转办", "您的反映 {number} 已转交{transfer_to}办理：{reason}", "case_progress",
                          _progress("已转办", "已转交{transfer_to}"), CASE_PAGE, CASE_URL,
                          when="工作人员转办到上级人大、12345等其他渠道", audience="反映人"),
    # the deputy
    "case_new": M("新的群众反映", "{number}：{title}", "case_todo", _todo("请受理群众反映", "{date_text}"),
                  WORK_PAGE, PHONE_URL, when="群众通过代表码或其领办项目提交反映", audience="代表"),
    "deputy_answer": M("案件已答复", "{number} 已由{department}答复", "case_todo", _todo("已答复，请跟进", "{date_text}"),
                       WORK_PAGE, PHONE_URL, when="承办单位答复", audience="代表"),
    "deputy_withdrawn": M("群众撤回了反映", "{number}：{title} 已由反映人撤回，无需再受理", "case_todo",
                          _todo("反映人已撤回，无需受理", "{date_text}"), WORK_PAGE, PHONE_URL,
                          when="反映人在受理前撤回反映", audience="代表"),
    "deputy_unsatisfied": M("群众不满意", "{number} 的答复被评为不满意", "case_todo",
                            _todo("群众评价不满意", "{date_text}"), WORK_PAGE, PHONE_URL,
                            when="群众评价“不满意”", audience="代表"),
    # the department
    "dept_assigned": M("新交办案件", "{number}：{title}，请于{deadline_text}前办结", "case_todo", _todo("新交办，请签收办理"),
                       "", PHONE_URL, when="交办（主办、协办单位）", audience="承办单位"),
    "dept_reopened": M("案件二次办理", "{number} 群众不满意，请于{deadline_text}前重新办理", "case_todo",
                       _todo("群众不满意，请重新办理"), "", PHONE_URL, when="二次办理", audience="承办单位"),
    "dept_urged": M("督办提醒", "{number} 被督办，时限{deadline_text}", "case_todo", _todo("人大督办，请抓紧办理"),
                    "", PHONE_URL, urgent=True, when="工作人员督办", audience="承办单位"),
    "dept_due_soon": M("即将到期提醒", "{number} 将于{deadline_text}到期，请抓紧办理", "case_todo",
                       _todo("即将到期（黄牌）"), "", PHONE_URL,
                       when="每日9:00：距时限不足2个工作日（黄色督办）", audience="承办单位"),
    "dept_overdue": M("超期督办", "{number} 已超过办理时限{deadline_text}，请立即办理", "case_todo",
                      _todo("已超期（红牌督办）"), "", PHONE_URL, urgent=True,
                      when="每日9:00：已超过时限（红色督办）", audience="承办单位"),
    # staff (the congress office, in scope)
    "staff_returned": M("案件被退回", "{number} 被{department}退回：{reason}", "case_todo",
                        _todo("被退回：{reason}", "{date_text}"),
                        "", CONSOLE_URL, when="承办单位退回", audience="工作人员（辖区内）"),
    "staff_new": M("联络站收到新反映", "{number}：{title}", "case_todo", _todo("请受理群众反映", "{date_text}"),
                   "", CONSOLE_URL, when="群众直接向联络站反映（未选代表）", audience="工作人员（辖区内）"),
    "staff_forwarded": M("代表转交案件", "{number}：{title}（代表意见：{note}）", "case_todo",
                         _todo("代表转交，请交办", "{date_text}"), "", CONSOLE_URL,
                         when="代表转交人大办", audience="工作人员（辖区内）"),
    "staff_extension": M("延期申请待审批", "{number} {department}申请延期：{reason}", "case_todo",
                         _todo("延期申请待审批", "{date_text}"), "", CONSOLE_URL,
                         when="承办单位申请延期", audience="工作人员（辖区内）"),
    "staff_supplement": M("群众补充了材料", "{number}：{note}", "case_todo", _todo("群众补充材料", "{date_text}"),
                          "", CONSOLE_URL, when="群众补充材料", audience="工作人员（辖区内）"),
    "dept_supplement": M("群众补充了材料", "{number}：{note}", "case_todo", _todo("群众补充材料，请查看"), "",
                         CONSOLE_URL, when="办理中的案件群众补充材料", audience="承办单位"),
    "staff_late": M("环节超时", "{number} 已超过{step}时限，请尽快处理", "case_todo", _todo("{step}超时，请处理", "{date_text}"),
                    "", CONSOLE_URL, when="每日9:10：超过受理时限（ACCEPT_DAYS）或签收时限（SIGN_DAYS）未办，先提醒联络站工作人员，"
                    "再超一个时限提醒县级工作人员", audience="工作人员（先辖区联络站，再县级）"),
    "dept_sign_late": M("请尽快签收", "{number} 交办后已超过签收时限，请尽快签收", "case_todo", _todo("超过签收时限"),
                        "", CONSOLE_URL, when="每日9:10：交办后超过签收时限未签收", audience="承办单位"),
    "digest_staff": M("今日待办", "新反映 {new} 件，待交办 {to_assign} 件，延期待批 {extension} 件，超期 {overdue} 件",
                      "work_digest", {"thing1": "人大工作日报", "number2": "{total}",
                                      "thing3": "新反映{new}件，超期{overdue}件", "date4": "{date_text}"},
                      "", "/console/todo", when="每日8:30，工作人员有待办事项时", audience="工作人员（辖区内）"),
    "staff_unsatisfied": M("群众不满意", "{number} 的答复被评为不满意，可安排二次办理", "case_todo",
                           _todo("群众不满意，可二次办理", "{date_text}"), "", CONSOLE_URL,
                           when="群众评价“不满意”", audience="工作人员（辖区内）"),
    "staff_overdue": M("案件超期", "{number} 已超期（{department}），已自动红色督办", "case_todo",
                       _todo("{department}超期未办结"), "", CONSOLE_URL,
                       when="每日9:00：案件超期并升为红色督办", audience="工作人员（辖区内）"),
    "staff_satisfaction": M("满意率偏低", "{department}今年满意率{rate}，低于80%，建议二次整改", "work_digest",
                            {"thing1": "{department}满意率偏低", "number2": "{unsatisfied}",
                             "thing3": "满意率{rate}，建议二次整改", "date4": "{date_text}"},
                            "", "/console/stats",
                            when="每晚统计快照后，某承办单位今年满意率低于80%（每单位每周至多一次）",
                            audience="县级工作人员"),
    # digests
    "digest_deputy": M("今日待办", "待受理 {pending} 件，今日答复 {answered} 件，不满意 {unsatisfied} 件", "work_digest",
                       {"thing1": "代表工作日报", "number2": "{pending}", "thing3": "待受理{pending}件，新答复{answered}件",
                        "date4": "{date_text}"}, "pages/workbench/index", "/m/",
                       when="每日8:30，有待受理、新答复或不满意的案件时", audience="代表"),
    "digest_department": M("今日待办", "待签收 {to_sign} 件，办理中 {handling} 件，即将到期 {due_soon} 件，已超期 {overdue} 件",
                           "work_digest", {"thing1": "承办工作日报", "number2": "{handling}",
                                           "thing3": "待签收{to_sign}件，超期{overdue}件", "date4": "{date_text}"},
                           "", "/m/", when="每日8:30，有待签收或办理中的案件时", audience="承办单位"),
    # anyone who binds their WeChat (services/binding.py)
    "bind_confirmed": M("微信绑定成功", "您已绑定为 {who}（{channel}）", "work_digest",
                        {"thing1": "微信绑定成功", "number2": "1", "thing3": "您已绑定为{who}", "date4": "{date_text}"},
                        "", "/m/", when="用绑定码绑定公众号或小程序", audience="代表、工作人员、承办单位"),
    # a project's followers
    "project_update": M("项目有新进展", "{project}：{text}", "project_progress",
                        {"thing1": "{project}", "thing2": "{text}", "character_string3": "{progress}%",
                         "time4": "{time}"}, "pages/project/detail?code={code}", "/p/{code}",
                        when="项目发布进展", audience="项目关注者"),
    "project_completed": M("项目已完工", "{project} 已完工：{text}", "project_progress",
                           {"thing1": "{project}", "thing2": "已完工：{text}", "character_string3": "100%",
                            "time4": "{time}"}, "pages/project/detail?code={code}", "/p/{code}",
                           when="项目进展达到100%或标记完工", audience="项目关注者"),
    "project_digest": M("本周项目进展", "您关注的 {count} 个项目本周有 {updates} 条进展", "work_digest",
                        {"thing1": "关注项目周报", "number2": "{updates}", "thing3": "{names}", "date4": "{date_text}"},
                        "pages/project/following", "/p/{code}",
                        when="每周一9:30，关注的项目在过去一周有进展时", audience="项目关注者"),
}

# action: [(audience, kind)] — audiences: reporter, deputy, departments (current round), staff (in scope)
AUDIENCE = {
    "submit": [("deputy", "case_new")],
    "accept": [("reporter", "case_accepted")],
    "forward": [("reporter", "case_accepted"), ("staff", "staff_forwarded")],
    "request_extension": [("staff", "staff_extension")],
    "supplement": [("staff", "staff_supplement"), ("departments", "dept_supplement")],
    "reassign": [("reporter", "case_assigned"), ("departments", "dept_assigned")],
    "merge": [("reporter", "case_merged")],
    "withdraw": [("deputy", "deputy_withdrawn")],
    "transfer": [("reporter", "case_transferred")],
    "decline": [("reporter", "case_declined")],
    "assign": [("reporter", "case_assigned"), ("departments", "dept_assigned")],
    "return": [("staff", "staff_returned")],
    "answer": [("reporter", "case_answered"), ("deputy", "deputy_answer")],
    "reopen": [("reporter", "case_reopened"), ("departments", "dept_reopened")],
    "close": [("reporter", "case_closed")],
    "auto_close": [("reporter", "case_closed")],
    "reply": [("reporter", "case_replied")],
    "urge": [("departments", "dept_urged")],
}
RATING_AUDIENCE = {"unsatisfied": [("deputy", "deputy_unsatisfied"), ("staff", "staff_unsatisfied")]}
# the scheduler's own 督办 (actor "system"): level 1 yellow, level 2 red
SYSTEM_URGE_AUDIENCE = {1: [("departments", "dept_due_soon")],
                        2: [("departments", "dept_overdue"), ("staff", "staff_overdue")]}


# a late step (the scheduler's 超时提醒): level 1 the station's own staff, level 2 the county office
ESCALATE_AUDIENCE = {("受理", 1): [("station_staff", "staff_late")], ("受理", 2): [("county_staff", "staff_late")],
                     ("签收", 1): [("departments", "dept_sign_late"), ("station_staff", "staff_late")],
                     ("签收", 2): [("county_staff", "staff_late")]}


def recipients(case, audience):
    if audience == "reporter":  # with the reporters of duplicates merged into this case
        merged = Case.select(Case.reporter).where(Case.merged_into == case.id)
        return list(Account.select().where((Account.id == case.reporter_id) | Account.id.in_(merged)))
    if audience == "deputy":
        return list(Account.select().where(Account.deputy == case.deputy_id, Account.role == "deputy",
                                           Account.active == True)) if case.deputy_id else []  # noqa: E712
    if audience == "departments":
        departments = Assignment.select(Assignment.department).where(
            Assignment.case == case.id, Assignment.round == case.round, Assignment.active == True)  # noqa: E712
        return list(Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                           Account.department.in_(departments)))
    if audience == "staff":
        return staff_for(case.station_id)
    if audience == "station_staff":  # the station's own staff (county-wide staff when it has none)
        scoped = [a for a in staff_for(case.station_id) if a.station_id is not None]
        return scoped or staff_for(None)
    if audience == "county_staff":
        return staff_for(None)
    raise ValueError(audience)


def staff_for(station_id):
    """Active staff whose scope contains the station (county-wide staff always; None: county-wide only)."""
    staff = Account.select().where(Account.role == "staff", Account.active == True)  # noqa: E712
    if station_id is None:
        return list(staff.where(Account.station.is_null()))
    station = Station.get_by_id(station_id)
    # staff whose scope contains the case's station: their station's path is a prefix of it
    return [a for a in staff if a.station_id is None or station.path.startswith(a.station.path)]


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _fmt(text, values):
    return text.format_map(_Blank(values))


def local_stamp(moment=None, with_time=True):
    """A moment as WeChat's time/date keywords want it: 2026年11月21日 15:01."""
    from services.calendar import local
    moment = local(moment or utcnow())
    return f"{moment.year}年{moment.month}月{moment.day}日" + (f" {moment:%H:%M}" if with_time else "")


def date_text(day):
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def write(account, kind, dedupe_key, values, case=None, project=None):
    """One outbox row (= the inbox entry); returns 1 when written, 0 when this dedupe_key was written before."""
    message = MESSAGES[kind]
    values = {"time": local_stamp(), "date_text": local_stamp(with_time=False), **values}
    return Notification.insert(
        account=account, kind=kind, case=case, project=project, title=message.title,
        body=_fmt(message.body, values)[:500], link=_fmt(message.page or message.url, values)[:255], data=values,
        urgent=message.urgent, dedupe_key=dedupe_key[:150],
    ).on_conflict_ignore().as_rowcount().execute()


def case_changed(case, event):
    """Write the notifications an event on a case causes (called inside the workflow's transaction)."""
    plan = list(AUDIENCE.get(event.action, []))
    if event.action == "submit" and not case.deputy_id:  # a station report: the station's staff receive it
        plan.append(("staff", "staff_new"))
    if event.action == "rate":
        plan += RATING_AUDIENCE.get(event.data.get("value"), [])
    if event.action == "escalate":
        plan = ESCALATE_AUDIENCE[(event.data.get("step"), event.data.get("level"))]
    if event.action == "urge" and event.actor_role == "system":
        plan = SYSTEM_URGE_AUDIENCE.get(event.data.get("level"), plan)
    if not plan:
        return
    from services.workflow import DECLINE_REASONS, RETURN_REASONS, TRANSFER_TARGETS  # the workflow's codes
    values = {"number": case.number, "title": case.title, "state": case.state, "note": event.note[:40],
              "deadline": case.deadline.isoformat() if case.deadline else "",
              "deadline_text": date_text(case.deadline),
              "department": event.data.get("lead") or event.data.get("department")
              or (case.lead_department.name if case.lead_department_id else ""),
              "reason": DECLINE_REASONS.get(event.data.get("reason")) or RETURN_REASONS.get(
                  event.data.get("reason"), event.data.get("reason", "")),
              "original": event.data.get("original", ""), "step": event.data.get("step", ""), "transfer_to": TRANSFER_TARGETS.get(case.transfer_to, "")}
    for audience, kind in plan:
        for account in recipients(case, audience):
            write(account, kind, f"e{event.id}:{account.id}:{kind}", values, case=case)


def project_updated(project, update):
    """Every follower of a project hears of each update, and of its completion (inside the update's transaction)."""
    progress = update.progress if update.progress is not None else project.progress
    values = {"project": project.name, "code": project.code, "text": update.text[:40], "progress": progress}
    kind = "project_completed" if progress == 100 or project.status == "completed" else "project_update"
    for follow in Follow.select().where(Follow.project == project):
        write(follow.account_id, kind, f"u{update.id}:{follow.account_id}", values, project=project)


# --- rendering for WeChat -------------------------------------------------------------------------

LIMITS = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
          "car_number": 8, "name": 10, "phrase": 5, "amount": 14}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _printable(ch):
    """Characters WeChat's keywords accept: no emoji/pictographs, control, format or private-use characters."""
    code = ord(ch)
    if code >= 0x10000 or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF:
        return False
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me") or unicodedata.combining(ch)


def _cut(text, limit, ellipsis="…"):
    """At most `limit` characters, never splitting a base character from its combining marks."""
    if len(text) <= limit:
        return text
    keep = limit - len(ellipsis)
    while keep > 0 and unicodedata.combining(text[keep]):
        keep -= 1
    return text[:keep] + ellipsis


def fit(keyword, value):
    """A value trimmed to what WeChat accepts for this keyword's type (thing ≤ 20, phrase ≤ 5 Chinese, …)."""
    kind = keyword.rstrip("0123456789")
    text = unicodedata.normalize("NFC", str(value if value is not None else ""))
    text = "".join(ch for ch in text if _printable(ch))
    text = re.sub(r"\s+", " ", text).strip()
    if kind == "phrase":
        return "".join(_HAN.findall(text))[:5]
    if kind == "number":
        found = re.search(r"[+-]?\d+(\.\d+)?", text)
        return found.group(0)[:32] if found else "0"
    if kind in ("character_string", "letter", "symbol", "phone_number"):
        return "".join(ch for ch in text if "\x21" <= ch <= "\x7e")[:LIMITS[kind]]
    if kind == "name" and text.isascii():
        return text[:20]
    limit = LIMITS.get(kind)
    if limit is None:  # time, date, enum: we format these ourselves
        return text
    return _cut(text, limit, "" if kind in ("amount", "car_number") else "…")


def template_data(notification):
    """The WeChat `data` for a notification: {keyword: {"value": fitted}} from its message's fields."""
    message = MESSAGES[notification.kind]
    values = notification.data or {}
    return {keyword: {"value": fit(keyword, _fmt(spec, values)) or _placeholder(keyword)}
            for keyword, spec in message.fields.items()}


def _placeholder(keyword):
    """A valid value for a keyword whose value came out empty (WeChat rejects empty values)."""
    kind = keyword.rstrip("0123456789")
    return {"time": local_stamp(), "date": local_stamp(with_time=False), "phrase": "无",
            "character_string": "-", "number": "0", "letter": "x"}.get(kind, "—")


def links(notification, base_url):
    """(mini-program page, absolute H5/console URL) for a notification."""
    message = MESSAGES[notification.kind]
    values = notification.data or {}
    return _fmt(message.page, values), (base_url.rstrip("/") + _fmt(message.url, values)) if message.url else ""
