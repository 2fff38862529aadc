"""Who hears what: notification intents written to the outbox in the same transaction as the change.

`MESSAGES` is the one table of every message: its title and inbox text, the template it uses with the
logical values it fills (number, title, status, …), where it links (mini-program page and H5/console URL),
whether it may break quiet hours, and when it is sent. `TEMPLATES` names our four templates and the
values each carries. The county's WeChat templates are its own choice: the configuration maps each of
them to a template id and each of its keywords (WeChat's key "<rule><kid>", e.g. "thing7") to one value
(`flask --app app wechat templates` reads the account and writes the mapping; docs/wechat.md). A
message therefore names no WeChat key at all. `AUDIENCE` says which workflow action tells whom.
Delivery (channels, retries, quiet hours) is services/delivery.py; this module only writes rows and
renders them.
"""
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app

from models import (Account, Assignment, Case, Department, Deputy, Follow, KeyValue, Notification, Station, Support,
                    insert_rows, retried, utcnow)
from wechat.prepared import Prepared

# --- templates ------------------------------------------------------------------------------------
# key: (what to look for in WeChat's library, {value: (label, keyword rules it may fill, words of a
# WeChat keyword name that suggest it)}). Every message of a template fills all of its values.
_NUMBER = ("案件编号", ("character_string", "thing"), ("编号", "单号"))
_TIME = ("更新时间", ("time", "date"), ("时间", "日期"))
TEMPLATES = {
    "case_progress": ("办理进度通知", {
        "number": _NUMBER, "title": ("反映事项", ("thing",), ("事项", "标题", "名称", "主题")),
        "status": ("办理状态", ("phrase", "thing"), ("状态", "结果", "进度")),
        "tip": ("温馨提示", ("thing",), ("提示", "说明", "备注", "内容")), "time": _TIME}),
    "case_todo": ("待办事项提醒", {
        "number": _NUMBER, "title": ("事项名称", ("thing",), ("名称", "事项", "标题", "主题")),
        "todo": ("待办内容", ("thing",), ("待办", "内容", "事项", "说明")),
        "deadline": ("办理时限", ("date", "thing"), ("截止", "时限", "期限", "日期"))}),
    "project_progress": ("项目进度通知", {
        "project": ("项目名称", ("thing",), ("项目", "名称")),
        "update": ("最新进展", ("thing",), ("进展", "说明", "情况", "内容")),
        "percent": ("完成进度", ("character_string", "thing"), ("完成", "比例", "进度")), "time": _TIME}),
    "work_digest": ("工作汇总提醒", {
        "subject": ("提醒事项", ("thing",), ("提醒", "事项", "名称", "主题")),
        "count": ("件数", ("number", "thing"), ("数量", "件数", "数")),
        "detail": ("说明", ("thing",), ("备注", "说明", "内容", "详情")),
        "date": ("日期", ("date",), ("日期", "时间"))}),
}
CHANNEL_SETTING = {"subscribe": "WECHAT_MP_TEMPLATES", "template": "WECHAT_OA_TEMPLATES"}
KEYWORD = re.compile(r"([a-z_]+?)(\d+)")  # WeChat's keyword key: <rule><kid>
RULES = ("thing", "number", "letter", "symbol", "character_string", "time", "date", "amount", "phone_number",
         "car_number", "name", "phrase", "enum", "const")


def rule_of(keyword):
    match = KEYWORD.fullmatch(keyword or "")
    return match.group(1) if match and match.group(1) in RULES else None


def mapping(channel, key):
    """The configured WeChat template for one of ours on a channel ("subscribe" or "template"):
    {"id", "keywords": {"<rule><kid>": value}, "long_term"?}, or None when it is not configured."""
    entry = (current_app.config.get(CHANNEL_SETTING[channel]) or {}).get(key)
    return entry if isinstance(entry, dict) and entry.get("id") else None


def mapping_problems(key, entry):
    """What is wrong with one template's mapping, in Chinese ([] when it can be used)."""
    if key not in TEMPLATES:
        return [f"{key}：没有这个消息模板（可用：{'、'.join(TEMPLATES)}）"]
    if not isinstance(entry, dict):
        return [f"{key}：只有模板 id，缺少关键词映射（请运行 flask --app app wechat templates --write）"]
    values = TEMPLATES[key][1]
    problems = [] if isinstance(entry.get("id"), str) and entry["id"] else [f"{key}：缺少模板 id"]
    keywords = entry.get("keywords")
    if not isinstance(keywords, dict) or not keywords:
        return problems + [f"{key}：缺少关键词映射（微信模板的每个关键词对应哪一项内容）"]
    for keyword, value in keywords.items():
        rule = rule_of(keyword)
        if rule is None:
            problems.append(f"{key}：{keyword} 不是微信的关键词（应为“规则+编号”，如 thing7）")
        elif value not in values:
            problems.append(f"{key}：{keyword} 对应的“{value}”不是本模板的内容（可用：{'、'.join(values)}）")
        elif rule not in values[value][1]:
            problems.append(f"{key}：{keyword} 是 {rule} 类关键词，放不下“{values[value][0]}”"
                            f"（可用：{'、'.join(values[value][1])}）")
    return problems


def template_problems(cfg):
    """Every problem of the configured mappings, checked at start-up (app.py: a bad one stops the app).
    A channel without any mapping is not used for pushes; one with a mapping needs all four templates."""
    problems = []
    for setting in CHANNEL_SETTING.values():
        configured = cfg.get(setting) or {}
        for key, entry in configured.items():
            problems += [f"{setting} {p}" for p in mapping_problems(key, entry)]
        if configured:
            problems += [f"{setting} {key}：缺少映射（{TEMPLATES[key][0]}）" for key in TEMPLATES if key not in configured]
    return problems


@dataclass(frozen=True)
class Message:
    title: str           # inbox title
    body: str            # inbox text (format string over the values)
    template: str        # key into TEMPLATES
    fields: dict         # template value (number, title, …) -> format string over the row's data
    page: str = ""       # mini-program page ("" for console-only audiences)
    url: str = ""        # H5 or console path, joined to PUBLIC_BASE_URL
    urgent: bool = False  # may be pushed during quiet hours
    when: str = ""       # when it is sent (docs/notifications.md)
    audience: str = ""   # who receives it (docs)


CASE_PAGE, CASE_URL = "pages/case/detail?number={number}", "/c/{number}"
WORK_PAGE, CONSOLE_URL = "pages/workbench/case?number={number}", "/console/cases/{number}"
PHONE_URL = "/m/cases/{number}"  # deputies and departments: the phone workbench (handlers/mobile.py)
SUG_PHONE, SUG_CONSOLE = "/m/suggestions/{number}", "/console/suggestions/{number}"  # a suggestion's pages


def _progress(status, tip, **kw):
    return {"number": "{number}", "title": "{title}", "status": status, "tip": tip, "time": "{time}", **kw}


def _todo(what, deadline="{deadline_text}"):
    return {"number": "{number}", "title": "{title}", "todo": what, "deadline": deadline}


def _digest(subject, count, detail):
    return {"subject": subject, "count": count, "detail": detail, "date": "{date_text}"}


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
    "case_check": M("问题是否真正解决了？", "您的反映 {number} 已办结{days}天，问题是否真正解决了？请告诉我们", "case_progress",
                    _progress("回访", "问题是否真正解决了？"), CASE_PAGE, CASE_URL,
                    when="办结后 RESOLVED_CHECK_DAYS 天（每件一次）", audience="反映人"),
    # 我也遇到: the citizens who followed someone else's open report (services/analysis.support) — the problem
    # and its outcome only, no link (the case page is the reporter's), nothing about who reported it
    "support_answered": M("您也遇到的问题已答复", "您也遇到的问题“{title}”（{number}）已由{department}答复", "case_progress",
                          _progress("已答复", "您也遇到的问题已由{department}答复"),
                          when="承办单位答复一件您点过“我也遇到”的反映（每人一条）", audience="点了“我也遇到”的群众"),
    "support_closed": M("您也遇到的问题已办结", "您也遇到的问题“{title}”（{number}）已办结", "case_progress",
                        _progress("已办结", "您也遇到的问题已办结，感谢您的关注"),
                        when="您点过“我也遇到”的反映办结（含逾期未评价自动办结）", audience="点了“我也遇到”的群众"),
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
                        "", PHONE_URL, when="每日9:10：交办后超过签收时限未签收", audience="承办单位"),
    "digest_staff": M("今日待办", "新反映 {new} 件，待交办 {to_assign} 件，延期待批 {extension} 件，超期 {overdue} 件",
                      "work_digest", _digest("人大工作日报", "{total}", "新反映{new}件，超期{overdue}件"),
                      "", "/console/todo", when="每日8:30，工作人员有待办事项时", audience="工作人员（辖区内）"),
    "staff_unresolved": M("群众反馈未解决", "{number} 办结后群众反馈问题没有解决，可重新办理", "case_todo",
                          _todo("群众反馈没有解决", "{date_text}"), "", CONSOLE_URL,
                          when="群众对“问题是否真正解决了？”回答“没有”", audience="工作人员（辖区内）"),
    "staff_unsatisfied": M("群众不满意", "{number} 的答复被评为不满意，可安排二次办理", "case_todo",
                           _todo("群众不满意，可二次办理", "{date_text}"), "", CONSOLE_URL,
                           when="群众评价“不满意”", audience="工作人员（辖区内）"),
    "staff_overdue": M("案件超期", "{number} 已超期（{department}），已自动红色督办", "case_todo",
                       _todo("{department}超期未办结"), "", CONSOLE_URL,
                       when="每日9:00：案件超期并升为红色督办", audience="工作人员（辖区内）"),
    "staff_satisfaction": M("满意率偏低", "{department}今年满意率{rate}，低于80%，建议二次整改", "work_digest",
                            _digest("{department}满意率偏低", "{unsatisfied}", "满意率{rate}，建议二次整改"),
                            "", "/console/stats",
                            when="每晚统计快照后，某承办单位今年满意率低于80%（每单位每周至多一次）",
                            audience="县级工作人员"),
    # digests
    "digest_deputy": M("今日待办", "待受理 {pending} 件，今日答复 {answered} 件，不满意 {unsatisfied} 件", "work_digest",
                       _digest("代表工作日报", "{pending}", "待受理{pending}件，新答复{answered}件"),
                       "pages/workbench/index", "/m/",
                       when="每日8:30，有待受理、新答复或不满意的案件时", audience="代表"),
    "digest_department": M("今日待办", "待签收 {to_sign} 件，办理中 {handling} 件，即将到期 {due_soon} 件，已超期 {overdue} 件",
                           "work_digest", _digest("承办工作日报", "{handling}", "待签收{to_sign}件，超期{overdue}件"),
                           "", "/m/", when="每日8:30，有待签收或办理中的案件时", audience="承办单位"),
    # anyone who binds their WeChat (services/binding.py)
    "bind_confirmed": M("微信绑定成功", "您已绑定为 {who}（{channel}）", "work_digest",
                        _digest("微信绑定成功", "1", "您已绑定为{who}"),
                        "", "/m/", when="用绑定码绑定公众号或小程序", audience="代表、工作人员、承办单位"),
    # the electors of a ballot (services/ballots.py)
    "ballot_open": M("请参加表决", "{title} 已开始投票，请于{closes_text}前完成", "work_digest",
                     _digest("请参加{title}", "{count}", "投票截止{closes_text}"), "", "/m/ballots/{code}",
                     when="工作人员开始一次代表表决（如部门评议）", audience="名单中的代表"),
    # reception days and activities (services/activities.py), the duty record (services/dutyrecord.py)
    "booking_made": M("预约成功", "您已预约{when_text}在{station}约见{deputy}代表：{topic}", "work_digest",
                      _digest("接待日预约成功", "1", "{when_text} {station}"), "", "/r/b/{code}",
                      when="群众预约接待选民日", audience="预约的群众"),
    "booking_new": M("群众预约约见您", "{name}预约{when_text}在{station}约见您：{topic}", "work_digest",
                     _digest("群众预约约见", "1", "{when_text}：{topic}"), "", "/m/record",
                     when="群众预约接待选民日时选了这位代表", audience="值班代表"),
    "booking_cancelled": M("群众取消了预约", "{name}取消了{when_text}的约见：{topic}", "work_digest",
                           _digest("群众取消预约", "1", "{when_text}：{topic}"), "", "/m/record",
                           when="群众取消预约", audience="值班代表"),
    "booking_reminder": M("明天是您预约的接待日", "{when_text}在{station}（{place}）约见{deputy}代表，请准时到达",
                          "work_digest", _digest("接待日预约提醒", "1", "{when_text} {station}"), "", "/r/b/{code}",
                          when="每小时：预约的接待日在24小时内开始（每个预约一次）", audience="预约的群众"),
    "booking_reminder_deputy": M("明天有群众约见您", "{when_text}在{station}，{name}约见您：{topic}", "work_digest",
                                 _digest("接待日约见提醒", "1", "{when_text}：{topic}"), "", "/m/record",
                                 when="每小时：预约的接待日在24小时内开始（每个预约一次）", audience="值班代表"),
    "booking_dropped": M("接待日已取消", "您预约的{when_text}“{title}”已取消：{reason}", "work_digest",
                         _digest("接待日取消", "1", "{title}已取消"), "", "/r/b/{code}",
                         when="工作人员取消已有预约的接待日", audience="预约的群众"),
    "activity_invite": M("请参加活动", "{kind}：{title}，{when_text}，地点{place}", "work_digest",
                         _digest("请参加{kind}", "1", "{title} {when_text}"), "", "/m/activities/{code}",
                         when="工作人员安排活动（视察、调研、接待日等）", audience="受邀或值班的代表"),
    "activity_cancelled": M("活动已取消", "{title}（{when_text}）已取消：{reason}", "work_digest",
                            _digest("活动取消", "1", "{title}已取消"), "", "/m/activities/{code}",
                            when="工作人员取消活动", audience="受邀或值班的代表"),
    "duty_inactive": M("履职提醒", "{name}代表，您已有{months}个月没有接待选民或参加活动的记录，"
                       "近期有{upcoming}项活动等您参加", "work_digest",
                       _digest("履职提醒", "{upcoming}", "{months}个月没有履职记录"), "", "/m/record",
                       when="每月1日10:00：连续DUTY_INACTIVE_MONTHS个月没有签到、办理反映或被联系（每月一次）",
                       audience="代表"),
    # 代表建议 (services/suggestions.py): signers (领衔 + confirmed 附议), departments, staff, reporters
    "sug_invited": M("请确认附议", "{deputy}代表邀请您附议建议：{title}", "case_todo", _todo("请确认是否附议", "{date_text}"),
                     "", SUG_PHONE, when="起草或修改草稿时邀请附议代表", audience="受邀附议的代表"),
    "sug_cosigned": M("代表已附议", "{deputy}代表已确认附议：{title}", "case_todo", _todo("附议已确认", "{date_text}"),
                      "", SUG_PHONE, when="附议代表确认附议", audience="领衔代表"),
    "sug_cosign_declined": M("代表不附议", "{deputy}代表不附议：{title}", "case_todo", _todo("附议被谢绝", "{date_text}"),
                             "", SUG_PHONE, when="受邀代表选择不附议", audience="领衔代表"),
    "sug_submitted": M("新的代表建议待登记", "{number}：{title}", "case_todo", _todo("请登记代表建议", "{date_text}"),
                       "", SUG_CONSOLE, when="代表提交建议", audience="工作人员（辖区内）"),
    "sug_from_report": M("代表已就此提出建议", "您的反映 {number} 反映的问题，代表已就此提出建议：{suggestion}", "case_progress",
                         _progress("代表提出建议", "代表已就此提出建议"), CASE_PAGE, CASE_URL,
                         when="代表提交由群众反映转化的建议", audience="所依据反映的反映人"),
    "sug_withdrawn": M("建议已撤回", "{number}：{title} 已由领衔代表撤回", "case_todo", _todo("建议已撤回", "{date_text}"),
                       "", SUG_PHONE, when="领衔代表撤回草稿或已提交的建议", audience="附议代表"),
    "sug_handed_over": M("建议已转办", "{number}：{title} 已转交{to}办理：{reason}", "case_todo",
                         _todo("已转交{to}办理", "{date_text}"), "", SUG_PHONE,
                         when="人大工作人员把建议转办到上级人大或下级单位（登记、交办前）", audience="领衔和附议代表"),
    "sug_handed_in": M("转来的代表建议", "{number}：{title}（{from_station}转来：{reason}）", "case_todo",
                       _todo("请登记转来的代表建议", "{date_text}"), "", SUG_CONSOLE,
                       when="建议由其他层级的人大转办过来", audience="接收单位的工作人员（辖区内）"),
    "sug_registered": M("建议已登记", "{number}：{title} 已登记为{seq}", "case_todo", _todo("已登记{seq}", "{date_text}"),
                        "", SUG_PHONE, when="人大工作人员登记建议", audience="领衔和附议代表"),
    "sug_classified": M("建议类别已调整", "{number}：{title} 的类别调整为{category}", "case_todo",
                        _todo("类别调整为{category}", "{date_text}"), "", SUG_PHONE, when="人大工作人员调整建议类别（分类）",
                        audience="领衔代表"),
    "sug_progress": M("建议办理有新进展", "{number}：{department}更新了办理进展", "case_todo", _todo("办理有新进展", "{date_text}"),
                      "", SUG_PHONE, when="承办单位更新办理进展", audience="领衔代表"),
    "sug_merged": M("建议已并案", "{number} 已并入 {original} 办理", "case_todo", _todo("并案办理", "{date_text}"),
                    "", SUG_PHONE, when="人大工作人员并案", audience="领衔和附议代表"),
    "sug_not_registered": M("建议不予立案", "{number} 不予立案，转为意见处理：{reason}", "case_todo",
                            _todo("不予立案，转为意见", "{date_text}"), "", SUG_PHONE,
                            when="人大工作人员不予立案（转为意见，以函答复）", audience="领衔和附议代表"),
    "sug_assigned": M("建议已交办", "{number} 已交{department}主办，时限{deadline_text}", "case_todo",
                      _todo("已交办{department}"), "", SUG_PHONE, when="交办", audience="领衔和附议代表"),
    "sug_dept_assigned": M("新交办代表建议", "{number}：{title}，请于{deadline_text}前答复", "case_todo",
                           _todo("新交办建议，请签收"), "", SUG_PHONE, when="交办（主办、协办、会办单位）", audience="承办单位"),
    "sug_key": M("列为重点建议", "{number} 列为重点建议，由{leader}领衔督办", "case_todo", _todo("重点建议，{leader}领衔督办"),
                 "", SUG_PHONE, when="列为重点建议", audience="承办单位"),
    "sug_signed": M("承办单位已签收", "{number} 已由{department}签收办理", "case_todo", _todo("已签收办理", "{date_text}"),
                    "", SUG_PHONE, when="主办单位签收", audience="领衔代表"),
    "sug_returned": M("代表建议被退回", "{number} 被{department}退回：{reason}", "case_todo", _todo("被退回：{reason}", "{date_text}"),
                      "", SUG_CONSOLE, when="主办单位退回（交办有误）", audience="工作人员（辖区内）"),
    "sug_assist_opinion": M("协办单位意见", "{number}：{department}提出协办意见", "case_todo", _todo("协办意见已到", "{date_text}"),
                            "", SUG_PHONE, when="协办单位向主办单位提出意见", audience="主办单位"),
    "sug_consulted": M("承办单位已面商", "{number}：{department}记录了与您的面商", "case_todo", _todo("面商已记录", "{date_text}"),
                       "", SUG_PHONE, when="主办单位记录面商", audience="领衔代表"),
    "sug_extension": M("建议延期申请待审批", "{number} {department}申请延期：{reason}", "case_todo",
                       _todo("延期申请待审批", "{date_text}"), "", SUG_CONSOLE, when="主办单位申请延期",
                       audience="工作人员（辖区内）"),
    "sug_extension_decided": M("延期申请已审批", "{number} 的延期申请{decision}，时限{deadline_text}", "case_todo",
                               _todo("延期申请{decision}"), "", SUG_PHONE, when="工作人员同意或不同意延期",
                               audience="承办单位"),
    "sug_urged": M("代表建议督办", "{number} 被督办，时限{deadline_text}", "case_todo", _todo("人大督办，请抓紧办理"),
                   "", SUG_PHONE, urgent=True, when="工作人员或系统督办（临近或超过时限）", audience="承办单位"),
    "sug_answered": M("建议已答复，请测评", "{number} 已由{department}答复（{answer_class}类），请测评", "case_todo",
                      _todo("已答复，请测评", "{date_text}"), "", SUG_PHONE, when="主办单位答复", audience="领衔和附议代表"),
    "sug_evaluated": M("代表已测评", "{number}：{deputy}代表测评办理结果为{result}", "case_todo",
                       _todo("代表测评{result}", "{date_text}"), "", SUG_PHONE, when="领衔或附议代表测评",
                       audience="承办单位、工作人员（辖区内）"),
    "sug_unsatisfied": M("代表测评不满意", "{number} 领衔代表测评不满意，请安排重新办理", "case_todo",
                         _todo("代表不满意，请重新办理", "{date_text}"), "", SUG_CONSOLE, when="领衔代表测评“不满意”",
                         audience="工作人员（辖区内）"),
    "sug_reopened": M("建议重新办理", "{number} 代表不满意，请于{deadline_text}前重新答复", "case_todo",
                      _todo("代表不满意，请重新办理"), "", SUG_PHONE, when="重新办理", audience="承办单位、领衔和附议代表"),
    "sug_closed": M("建议已办结", "{number}：{title} 已办结", "case_todo", _todo("已办结", "{date_text}"),
                    "", SUG_PHONE, when="工作人员办结", audience="领衔和附议代表"),
    "sug_commitment_done": M("承诺事项已兑现", "{number}：{promise} 已兑现", "case_todo", _todo("承诺事项已兑现", "{date_text}"),
                             "", SUG_PHONE, when="承诺事项标记为已兑现", audience="领衔和附议代表"),
    "sug_commitment_due": M("承诺事项催办", "{number} 承诺“{promise}”于{due}兑现，{step}", "case_todo",
                            _todo("承诺事项{step}", "{due}"), "", SUG_PHONE, urgent=True,
                            when="每日9:00：B类答复的承诺事项临近（黄）或超过（红）承诺日期", audience="承办单位、工作人员（辖区内）"),
    "sug_step_late": M("代表建议超时提醒", "{number}：{note}", "case_todo", _todo("{note}", "{date_text}"), "", SUG_PHONE,
                       urgent=True, when="每日9:10：交办后主办单位超过签收时限未签收（黄，加倍后红），或协办单位交办满1个月未提出协办意见",
                       audience="超时的承办单位、工作人员（辖区内）"),
    # consultations (services/consultations.py): the deputies or the stations' staff when one opens
    "consultation_deputy": M("请提意见", "《{title}》正在征求代表意见，请于{closes_text}前提出", "work_digest",
                             _digest("请对{title}提意见", "{count}", "征求意见截止{closes_text}"), "", "/q/{code}",
                             when="工作人员开始一次仅限代表的征求意见", audience="代表"),
    "consultation_station": M("请组织征求意见", "《{title}》已发到本站征求意见，请组织群众提意见、召开座谈会，"
                              "截止{closes_text}", "work_digest",
                              _digest("请组织{title}征求意见", "{count}", "截止{closes_text}"), "",
                              "/console/consultations/{code}",
                              when="工作人员开始一次发往指定联络站的征求意见", audience="指定联络站（及下属站点）的工作人员"),
    # whoever gave an opinion in a consultation
    "consultation_replied": M("您的意见已有答复", "您对《{title}》提出的{count}条意见已有答复，请查看", "case_progress",
                              _progress("意见已答复", "点击查看对您意见的答复"), "", "/q/{code}",
                              when="征求意见的答复公布", audience="提出意见的群众和代表"),
    # 微实事 (services/micro.py)
    "micro_proposed": M("新的微实事提议", "{deputy}代表提出微实事 {code}：{title}（预计{amount}元）", "work_digest",
                        _digest("微实事待审议：{title}", "1", "预计{amount}元，请提交主席团审议"), "",
                        "/console/micro/{code}", when="代表提出微实事", audience="工作人员（该乡镇辖区内）"),
    "micro_decided": M("微实事审议结果", "您提出的微实事“{title}”{decision}：{note}", "work_digest",
                       _digest("微实事{decision}：{title}", "1", "{note}"), "", "/console/micro/{code}",
                       when="主席团批准或不予批准（直接决定或按表决结果）", audience="提出微实事的代表"),
    # 票决制 (services/livelihood.py): the proposers of a candidate, the departments of a project
    "candidate_elected": M("您提的项目已票决当选", "您提出的“{project}”经人大代表票决成为民生实事项目，可扫码关注进展",
                           "project_progress", {"project": "{project}", "update": "代表票决当选（{votes}票）",
                                                "percent": "0%", "time": "{time}"},
                           "pages/project/detail?code={code}", "/p/{code}",
                           when="票决结果公布后确定项目（提议人自动关注该项目）", audience="候选项目的提议人（含并入的建议）"),
    "candidate_not_elected": M("项目票决结果", "您提出的“{name}”本次未当选（{votes}票），感谢您的参与", "work_digest",
                               _digest("项目票决结果：{name}", "{votes}", "本次未当选，感谢参与"), "", "/v/{code}",
                               when="票决结果公布后确定项目", audience="候选项目的提议人（含并入的建议）"),
    "project_flagged": M("项目测评须整改", "{project} 年终测评满意率{rate}，低于80%，请整改", "project_progress",
                         {"project": "{project}", "update": "满意率{rate}，须整改", "percent": "{rate}", "time": "{time}"},
                         "", "/console/projects/{code}", when="年终测评结果公布后通知整改", audience="项目的承办单位"),
    # a project's followers
    "project_update": M("项目有新进展", "{project}：{text}", "project_progress",
                        {"project": "{project}", "update": "{text}", "percent": "{progress}%", "time": "{time}"},
                        "pages/project/detail?code={code}", "/p/{code}",
                        when="项目发布进展", audience="项目关注者"),
    "project_completed": M("项目已完工", "{project} 已完工：{text}", "project_progress",
                           {"project": "{project}", "update": "已完工：{text}", "percent": "100%", "time": "{time}"},
                           "pages/project/detail?code={code}", "/p/{code}",
                           when="项目进展达到100%或标记完工", audience="项目关注者"),
    # 问政 questions (services/inquiry_questions.py): the asker, and the object's department
    "inquiry_progress": M("问政问题有新进展", "您提的问题 {number}：{status}。{tip}", "case_progress",
                          _progress("{status}", "{tip}"), "", "/w/{code}/q/{number}",
                          when="问题列入清单、未采纳、合并、交被问政对象、答复、承诺整改、整改进展、督查、整改完成、二次整改（及测评更正后撤销）、办结",
                          audience="提问人"),
    "inquiry_assigned": M("问政问题待答复", "问政问题 {number} 已交你单位，请在问政活动上答复", "case_todo",
                          _todo("问政问题，请在活动上答复"), "", "/console/inquiry-questions/{number}",
                          when="问题交被问政对象（部门）", audience="被问政的承办单位"),
    # an inquiry's followers (services/inquiries.py): its stages, 测评, 二次整改 and 追责问责
    "inquiry_news": M("问政动态", "{title}：{status}，{tip}", "case_progress",
                      {"number": "{number}", "title": "{title}", "status": "{status}", "tip": "{tip}", "time": "{time}"},
                      "", "/w/{code}", when="问政进入新阶段（进入活动组织时改发问题清单）、测评开始或结束、启动或撤销二次整改、公布追责问责",
                      audience="问政关注者"),
    # an inquiry's followers and everyone who asked in it: one digest per person per publication
    # (services/inquiries.py `digest`), never one per question
    "inquiry_list": M("问政问题清单公布", "{title}问题清单已公布：群众问题{questions}个，政府困难{difficulties}个",
                      "work_digest", _digest("问政问题清单公布", "{count}", "{title}"), "", "/w/{code}",
                      when="问政进入活动组织阶段（问题清单定稿公布）", audience="问政关注者和提问人"),
    "inquiry_progress_report": M("问政整改进展公布", "{title}：已整改{rectified}个，整改中{rectifying}个，逾期{overdue}个",
                                 "case_progress", _progress("进展公布", "已整改{rectified}个，整改中{rectifying}个"),
                                 "", "/w/{code}", when="人大常委会公布问政整改进展", audience="问政关注者和提问人"),
    "inquiry_results": M("问政测评结果公布", "{title}{purpose}结果：{detail}", "work_digest",
                         _digest("{purpose}结果公布", "{count}", "{detail}"), "", "/w/{code}",
                         when="问政满意度测评结果公布", audience="问政关注者和提问人"),
    # whoever wrote to the official account
    "late_answer": M("公众号的回复", "{text}", "", {}, when="公众号的回复超过5秒、客服消息又发不出时（只进站内消息，列入发送失败）",
                     audience="向公众号发消息的人"),
    "project_digest": M("本周项目进展", "您关注的 {count} 个项目本周有 {updates} 条进展", "work_digest",
                        _digest("关注项目周报", "{updates}", "{names}"),
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
    "answer": [("reporter", "case_answered"), ("deputy", "deputy_answer"), ("supporters", "support_answered")],
    "reopen": [("reporter", "case_reopened"), ("departments", "dept_reopened")],
    "close": [("reporter", "case_closed"), ("supporters", "support_closed")],
    "auto_close": [("reporter", "case_closed"), ("supporters", "support_closed")],
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


_DEPUTY_ACCOUNTS = Prepared(lambda: Account.select().where(  # its SQL built once (wechat/prepared.py)
    Account.deputy == Prepared.arg("deputy"), Account.role == "deputy", Account.active == True))  # noqa: E712


def recipients(case, audience):
    if audience == "reporter":  # with the reporters of duplicates merged into this case
        merged = Case.select(Case.reporter).where(Case.merged_into == case.id)
        return list(Account.select().where((Account.id == case.reporter_id) | Account.id.in_(merged)))
    if audience == "supporters":  # 我也遇到 on this case (the reporter and merged reporters hear it as theirs)
        own = {a.id for a in recipients(case, "reporter")}
        return [a for a in Account.select().where(Account.id.in_(Support.select(Support.account).where(
            Support.case == case.id)), Account.active == True) if a.id not in own]  # noqa: E712
    if audience == "deputy":  # the case's deputy; for a station report, the station's member deputies
        if case.deputy_id:
            return _DEPUTY_ACCOUNTS.rows(deputy=case.deputy_id)
        if case.station_id:
            deputies = Deputy.select(Deputy.id).where(Deputy.station == case.station_id)
        else:
            return []
        return list(Account.select().where(Account.deputy.in_(deputies), Account.role == "deputy",
                                           Account.active == True))  # noqa: E712
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
    return insert_rows(Notification, [dict(
        account=account, kind=kind, case=case, project=project, title=message.title,
        body=_fmt(message.body, values)[:500], link=_fmt(message.page or message.url, values)[:255], data=values,
        urgent=message.urgent, dedupe_key=dedupe_key[:150])], ignore=True)


@retried
def undeliverable(oa_openid, dedupe_key, text, reason):
    """A reply WeChat would not carry (a late answer the customer-service API refused): kept in the
    follower's inbox and 'failed', so staff see it under 发送失败. Safe to repeat (dedupe_key)."""
    from models import db
    from services.accounts import citizen_for_openid
    with db.atomic():
        account = citizen_for_openid(oa_openid, official_account=True)
        if write(account, "late_answer", dedupe_key, {"text": text[:480]}):
            Notification.update(state="failed", channel="custom", last_error=reason[:255]).where(
                Notification.dedupe_key == dedupe_key[:150]).execute()


def case_changed(case, event):
    """Write the notifications an event on a case causes (called inside the workflow's transaction): who
    hears what is looked up by the case's kind (KIND_AUDIENCE)."""
    if (case.kind or "report") != "report":
        return kind_changed(case, event)
    plan = list(AUDIENCE.get(event.action, []))
    if event.action == "submit" and not case.deputy_id:  # a station report: the station's staff receive it
        plan.append(("staff", "staff_new"))
    if event.action == "rate":
        plan += RATING_AUDIENCE.get(event.data.get("value"), [])
    if event.action == "resolution" and event.data.get("resolved") == "no":
        plan.append(("staff", "staff_unresolved"))
    if event.action == "escalate":
        plan = ESCALATE_AUDIENCE[(event.data.get("step"), event.data.get("level"))]
    if event.action == "urge" and event.actor_role == "system":
        plan = SYSTEM_URGE_AUDIENCE.get(event.data.get("level"), plan)
    if not plan:
        return
    from services.vocab import DECLINE_REASONS, RETURN_REASONS, TRANSFER_TARGETS
    values = {"number": case.number, "title": case.title, "state": case.state, "note": event.note[:40],
              "deadline": case.deadline.isoformat() if case.deadline else "",
              "deadline_text": date_text(case.deadline),
              "department": event.data.get("lead") or event.data.get("department")
              or (case.lead_department.name if case.lead_department_id else ""),
              "reason": DECLINE_REASONS.get(event.data.get("reason")) or RETURN_REASONS.get(
                  event.data.get("reason"), event.data.get("reason", "")),
              "original": event.data.get("original", ""), "step": event.data.get("step", ""), "transfer_to": TRANSFER_TARGETS.get(case.transfer_to, "")}
    digest_only = None
    for audience, kind in plan:
        for account in recipients(case, audience):
            if account.role == "staff" and kind in STAFF_TODO_PUSHES:
                digest_only = digest_only if digest_only is not None else digest_people()
                if account.id in digest_only:
                    continue  # this person takes their to-dos as the morning digest only
            write(account, kind, f"e{event.id}:{account.id}:{kind}", values, case=case)


# 代表建议: action -> [(audience, message)] — audiences: signers (lead + confirmed co-signers), lead_deputy,
# cosigners, invited (this event's new invitations), departments (current round), lead_department, staff
# (in scope), reporters (of the reports it was made from)
SUGGESTION_AUDIENCE = {
    "draft": [("invited", "sug_invited")], "edit_draft": [("invited", "sug_invited")],
    "cosign": [("lead_deputy", "sug_cosigned")], "decline_cosign": [("lead_deputy", "sug_cosign_declined")],
    "submit": [("staff", "sug_submitted"), ("reporters", "sug_from_report")],
    "withdraw": [("cosigners", "sug_withdrawn")],
    "register": [("signers", "sug_registered")], "merge": [("signers", "sug_merged")],
    "hand_over": [("signers", "sug_handed_over"), ("staff", "sug_handed_in")],
    "classify": [("lead_deputy", "sug_classified")], "progress": [("lead_deputy", "sug_progress")],
    "not_register": [("signers", "sug_not_registered")],
    "assign": [("signers", "sug_assigned"), ("departments", "sug_dept_assigned")],
    "mark_key": [("departments", "sug_key")], "sign": [("lead_deputy", "sug_signed")],
    "return": [("staff", "sug_returned")], "assist_opinion": [("lead_department", "sug_assist_opinion")],
    "consult": [("lead_deputy", "sug_consulted")], "request_extension": [("staff", "sug_extension")],
    "approve_extension": [("departments", "sug_extension_decided")],
    "refuse_extension": [("departments", "sug_extension_decided")],
    "urge": [("departments", "sug_urged")], "answer": [("signers", "sug_answered")],
    "evaluate": [("departments", "sug_evaluated"), ("staff", "sug_evaluated")],
    "co_evaluate": [("departments", "sug_evaluated")],
    "reopen": [("departments", "sug_reopened"), ("signers", "sug_reopened")],
    "close": [("signers", "sug_closed")], "commitment_done": [("signers", "sug_commitment_done")],
    "chase": [("departments", "sug_commitment_due"), ("staff", "sug_commitment_due")],
    "escalate": [("late_departments", "sug_step_late"), ("staff", "sug_step_late")],
}
KIND_AUDIENCE = {"suggestion": SUGGESTION_AUDIENCE}  # reports: AUDIENCE and the rules in case_changed


def _deputy_accounts(deputy_ids):
    return list(Account.select().where(Account.deputy.in_(deputy_ids), Account.role == "deputy",
                                       Account.active == True)) if deputy_ids else []  # noqa: E712


def suggestion_recipients(case, audience, event):
    from models import Signer
    signers = Signer.select(Signer.deputy).where(Signer.case == case.id)
    if audience == "signers":
        return _deputy_accounts(signers.where(Signer.confirmed_at.is_null(False)))
    if audience == "cosigners":
        return _deputy_accounts(signers.where(Signer.confirmed_at.is_null(False), Signer.role == "co"))
    if audience == "lead_deputy":
        return _deputy_accounts([case.deputy_id])
    if audience == "invited":
        codes = event.data.get("invited") or []
        return _deputy_accounts(Deputy.select(Deputy.id).where(Deputy.code.in_(codes))) if codes else []
    if audience == "late_departments":  # the departments an escalate event names
        return list(Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                           Account.department.in_(Department.select(Department.id).where(
                                               Department.code.in_(event.data.get("departments") or [""])))))
    if audience == "lead_department":
        lead = Assignment.select(Assignment.department).where(
            Assignment.case == case.id, Assignment.round == case.round, Assignment.active == True,  # noqa: E712
            Assignment.role == "lead")
        return list(Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                           Account.department.in_(lead)))
    return recipients(case, audience)


def kind_changed(case, event):
    """Another kind's event: who hears what from its own table (KIND_AUDIENCE)."""
    plan = list(KIND_AUDIENCE[case.kind].get(event.action, []))
    if event.action == "evaluate" and case.rating == "unsatisfied":
        plan.append(("staff", "sug_unsatisfied"))
    from services.vocab import CATEGORIES, NOT_REGISTERED_REASONS, RATINGS, RETURN_REASONS
    from models import Suggestion
    form = Suggestion.get_or_none(Suggestion.case == case.id)
    lead = Deputy.get_or_none(Deputy.id == case.deputy_id)
    reason = event.data.get("reason", "")
    values = {"number": case.number, "title": case.title, "note": event.note[:40],
              "deadline": case.deadline.isoformat() if case.deadline else "", "deadline_text": date_text(case.deadline),
              "department": event.data.get("lead") or event.data.get("department")
              or (case.lead_department.name if case.lead_department_id else ""),
              "deputy": event.data.get("deputy") or (lead.name if lead else ""),
              "reason": NOT_REGISTERED_REASONS.get(reason) or RETURN_REASONS.get(reason, reason),
              "seq": f"第{form.seq}号" if form and form.seq else "", "original": event.data.get("original", ""),
              "leader": event.data.get("leader", ""), "answer_class": event.data.get("answer_class", ""),
              "result": RATINGS.get(event.data.get("result"), ""), "promise": event.data.get("promise", "")[:40],
              "due": event.data.get("due", ""), "step": "已超过承诺日期" if event.data.get("level") == 2 else "即将到期",
              "decision": "已同意" if event.action == "approve_extension" else "未同意",
              "category": CATEGORIES.get(case.category, ""), "to": event.data.get("to", ""),
              "from_station": event.data.get("from", "")}
    if case.kind in KIND_VALUES:  # a kind's own values for its messages
        values.update(KIND_VALUES[case.kind](case, event))
    for audience, kind in plan:
        if audience == "reporters":  # told on their own report, in its own words
            for report in Case.select().where(Case.number.in_(form.from_reports if form else []),
                                              Case.reporter.is_null(False)):
                write(report.reporter_id, kind, f"e{event.id}:{report.reporter_id}:{kind}:{report.id}",
                      {"number": report.number, "title": report.title, "suggestion": case.title}, case=report)
            continue
        for account in KIND_RECIPIENTS.get(case.kind, lambda c, a, e: recipients(c, a))(case, audience, event):
            write(account, kind, f"e{event.id}:{account.id}:{kind}", values, case=case)


KIND_RECIPIENTS = {"suggestion": suggestion_recipients}  # a kind's own audiences (others: `recipients`)
KIND_VALUES = {}  # kind: (case, event) -> the values its messages add (问政: services/inquiry_questions.py)


# staff pushes that are also on 待办 (and in the morning digest): a person may take them as the digest only
STAFF_TODO_PUSHES = ("staff_new", "staff_forwarded", "staff_returned", "staff_extension", "staff_supplement",
                     "staff_unsatisfied", "staff_unresolved")
PUSH_MODES = {"now": "有新待办时即时推送", "digest": "只在每天早上推送待办汇总"}


def digest_people():
    """Ids of the staff who chose the morning digest only (kept in shared storage, KeyValue)."""
    return {int(k.key.split(":")[1]) for k in KeyValue.select(KeyValue.key).where(
        KeyValue.key.startswith("pushmode:"), KeyValue.value == "digest")}


def push_mode(account):
    row = KeyValue.get_or_none(KeyValue.key == f"pushmode:{account.id}")
    return row.value if row else "now"


def set_push_mode(account, mode):
    from services.errors import InvalidInput
    if mode not in PUSH_MODES:
        raise InvalidInput("invalid_choice", "请选择推送方式", field="mode")
    if not KeyValue.update(value=mode).where(KeyValue.key == f"pushmode:{account.id}").execute():
        KeyValue.create(key=f"pushmode:{account.id}", value=mode)


def project_updated(project, update):
    """Every follower of a project hears of each update, and of its completion (inside the update's transaction)."""
    progress = update.progress if update.progress is not None else project.progress
    values = {"project": project.name, "code": project.code, "text": update.text[:40], "progress": progress}
    kind = "project_completed" if progress == 100 or project.status == "completed" else "project_update"
    for follow in Follow.select().where(Follow.project == project):
        write(follow.account_id, kind, f"u{update.id}:{follow.account_id}", values, project=project)


# --- rendering for WeChat -------------------------------------------------------------------------

LIMITS = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
          "car_number": 8, "name": 10, "phrase": 5, "amount": 10}
_HAN = re.compile(r"[\u4e00-\u9fff]")
_DAY, _CLOCK = r"\d{4}年\d{1,2}月\d{1,2}日", r"\d{1,2}:\d{2}"
_MOMENTS = {"date": re.compile(rf"{_DAY}(\s{_CLOCK})?"), "time": re.compile(rf"({_DAY}\s)?{_CLOCK}")}


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
    """A value shaped to what WeChat accepts for this keyword's rule (the rule is the key's prefix:
    thing ≤ 20, phrase ≤ 5 Chinese characters, character_string ≤ 32 ASCII, number digits, …)."""
    kind = rule_of(keyword) or keyword.rstrip("0123456789")
    text = unicodedata.normalize("NFC", str(value if value is not None else ""))
    text = "".join(ch for ch in text if _printable(ch))
    text = re.sub(r"\s+", " ", text).strip()
    if kind == "phrase":
        return "".join(_HAN.findall(text))[:5]
    if kind in ("number", "amount"):
        found = re.search(r"\d+(\.\d+)?", text)
        number = found.group(0)[:LIMITS[kind]].rstrip(".") if found else "0"
        return f"{number}元" if kind == "amount" else number
    if kind == "symbol":
        return "".join(ch for ch in text if unicodedata.category(ch)[0] in "PS")[:5]
    if kind in ("character_string", "letter", "phone_number"):
        allowed = {"letter": str.isalpha, "phone_number": lambda ch: ch in "0123456789+-() "}.get(kind)
        return "".join(ch for ch in text if "\x21" <= ch <= "\x7e" and (allowed is None or allowed(ch)))[
            :LIMITS[kind]].strip()
    if kind == "car_number":
        return "".join(ch for ch in text if ch.isascii() and ch.isalnum() or _HAN.match(ch))[:8]
    if kind == "name" and text.isascii():
        return text[:20]
    if kind in _MOMENTS:  # our times and dates are written for these already; anything else is dropped
        found = _MOMENTS[kind].search(text)
        return found.group(0) if found else ""
    limit = LIMITS.get(kind)
    if limit is None:  # enum, const: only the template's own values (the mapping refuses them)
        return text
    return _cut(text, limit)


def template_data(notification, channel):
    """The WeChat `data` for a notification on a channel: {keyword: {"value": fitted}} — each keyword of the
    configured template gets the value it is mapped to, shaped by the keyword's rule."""
    message = MESSAGES[notification.kind]
    values = notification.data or {}
    keywords = mapping(channel, message.template)["keywords"]
    return {keyword: {"value": fit(keyword, _fmt(message.fields.get(value, ""), values)) or _placeholder(keyword)}
            for keyword, value in keywords.items()}


def _placeholder(keyword):
    """A valid value for a keyword whose value came out empty (WeChat rejects empty values)."""
    return {"time": local_stamp(), "date": local_stamp(with_time=False), "phrase": "无", "symbol": "-",
            "character_string": "-", "number": "0", "letter": "x", "amount": "0元"}.get(rule_of(keyword), "—")


def links(notification, base_url):
    """(mini-program page, absolute H5/console URL) for a notification."""
    message = MESSAGES[notification.kind]
    values = notification.data or {}
    return _fmt(message.page, values), (base_url.rstrip("/") + _fmt(message.url, values)) if message.url else ""
