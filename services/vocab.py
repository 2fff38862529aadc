"""The domain vocabulary — states, categories, reasons, answer classes, ratings, sources, their labels —
in a module of its own, which the workflow, notifications, statistics and exports all read, so none of them
imports another for a word. The rules that use these words live in services/workflow.py.
"""
from flask import current_app, has_app_context


# --- kinds of matter (services/workflow.py runs each on the one engine) ---------------------------

KINDS = {"report": "群众反映", "suggestion": "代表建议", "inquiry": "问政问题"}

# --- states ---------------------------------------------------------------------------------------

STATES = {  # state: (title for staff, title for citizens, category)
    "submitted": ("待受理", "已提交，等待代表受理", "open"),
    "accepted": ("已受理", "代表已受理，转人大办理", "open"),
    "declined": ("不予受理", "未予受理", "closed"),
    "assigned": ("已交办", "已交承办单位", "open"),
    "in_progress": ("办理中", "承办单位办理中", "open"),
    "answered": ("已答复", "已答复，请您评价", "open"),
    "rated": ("已评价", "您已评价", "open"),
    "closed": ("已办结", "已办结", "closed"),
    "withdrawn": ("已撤回", "您已撤回", "closed"),
    "merged": ("已合并", "已与相同问题合并办理", "closed"),       # a duplicate merged into its original
    "transferred": ("已转办", "已转交其他渠道办理", "closed"),  # 转办: to another level or channel
}
OPEN_STATES = tuple(s for s, v in STATES.items() if v[2] == "open")
HANDLING_STATES = ("assigned", "in_progress")
CONCLUDED_STATES = ("answered", "rated", "closed")  # 办结: the department has answered
RESPONSES = ("accept", "decline", "forward")  # a deputy's first answer to a new case (Case.responded_at)

ROLES = {"citizen": "群众", "deputy": "人大代表", "staff": "人大工作人员", "department": "承办单位",
         "admin": "管理员", "system": "系统"}

CATEGORIES = {
    "construction": "城乡建设", "traffic": "交通出行", "environment": "生态环境", "education": "教育",
    "health": "医疗卫生", "social": "社会保障", "agriculture": "农业农村", "economy": "经济发展",
    "safety": "平安建设", "governance": "基层治理", "other": "其他",
}
DECLINE_REASONS = {"duplicate": "重复反映", "out_of_scope": "不属于人大代表工作范围",
                   "judicial": "涉及诉讼、仲裁等法定途径", "insufficient": "内容不具体，无法办理", "other": "其他原因"}
RETURN_REASONS = {"not_our_duty": "不属本单位职责", "wrong_area": "属地不符", "duplicate": "重复交办",
                  "insufficient": "内容不清，无法办理", "other": "其他原因"}
ANSWER_CLASSES = {"A": "已解决", "B": "列入年度计划解决", "C": "列入规划逐步解决", "D": "因条件限制难以解决，已作解释"}
RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
# Where a citizen can turn instead when a report is declined, told on their case page (by decline reason).
DECLINE_ADVICE = {
    "duplicate": "同样的问题已有人反映，正在办理中，办理结果会在公开问题清单中公布。",
    "out_of_scope": "可以拨打 12345 政务服务便民热线，或到相关部门的办事窗口反映。",
    "judicial": "涉及诉讼、仲裁的事项，请向人民法院、仲裁机构或司法所咨询；也可以拨打 12348 法律服务热线。",
    "insufficient": "请写清楚地点和具体情况后重新反映，也可以在联络站接待日当面向代表反映。",
    "other": "如有疑问，可以在联络站接待日当面向代表反映，或拨打 12345 政务服务便民热线。",
}
TRANSFER_TARGETS = {"upper": "上级人大", "12345": "12345政务服务便民热线", "petition": "信访部门",
                    "judicial": "法院、检察院等司法机关", "other": "其他渠道"}
CALLBACK_RESULTS = {"resolved": "已联系，群众认可", "unresolved": "已联系，问题未解决", "unreachable": "未联系上"}
INTAKE_SOURCES = {"visit": "接待日来访", "phone": "电话反映", "letter": "来信"}  # staff entering on behalf
SOURCES = {"miniprogram": "小程序", "h5": "网页", "official_account": "公众号", "console": "工作台", "consultation": "征集",
           **INTAKE_SOURCES}

LIMITS = {"title": 50, "content": 2000, "note": 1000, "photos": 9, "location": 200, "comment": 500,
          "summary": 1000, "reason": 500}


# How the published issue list (问题清单) names each state, speaking to the public, not to the reporter.
PUBLIC_STATES = {"submitted": "已提交", "accepted": "已受理", "assigned": "办理中", "in_progress": "办理中",
                 "answered": "已答复", "rated": "群众已评价", "closed": "已办结"}


def state_label(state, for_citizen=False, for_public=False, kind="report"):
    states = KIND_STATES[kind]
    if for_public:
        return PUBLIC_STATES.get(state, states[state][0]) if kind == "report" else states[state][0]
    return states[state][1 if for_citizen else 0]


def setting(name, default):
    """A county setting (config), or its default outside an app."""
    return current_app.config.get(name, default) if has_app_context() else default


# --- 问政 inquiries (services/inquiries.py) ----------------------------------------------------------

INQUIRY_FORMS = {"meeting": "会议问政", "site": "现场问政", "online": "网络问政"}
INQUIRY_STAGES = {  # the event's states in order: (title, what the stage is for, shown to the public)
    "preparation": ("工作准备", "确定主题、形式、时间地点、被问政对象和参加代表"),
    "mobilisation": ("动员部署", "发布问政活动，面向群众和代表征集问题"),
    "sorting": ("问题梳理", "筛选问题（合并、不予采纳），形成问题清单，交被问政对象"),
    "event": ("活动组织", "举行问政：被问政对象现场答复、作出承诺和整改方案，代表现场测评"),
    "review": ("工作评议", "跟踪整改、代表督查、整改后满意度测评，不满意的二次整改"),
    "done": ("已完成", "问政工作完成，结果已公开"),
}
INQUIRY_SECTIONS = {"question": "问政问题清单", "difficulty": "政府需协调解决的困难清单"}
INQUIRY_RATING_PURPOSES = {"event": "现场测评", "review": "整改后测评"}
INQUIRY_STATES = {  # a question of an inquiry (case kind "inquiry"): (title for staff, title for citizens, category)
    "submitted": ("待筛选", "已提交，等待筛选", "open"),
    "listed": ("已列入清单", "已列入问题清单", "open"),
    "declined": ("未采纳", "未列入问题清单", "closed"),
    "merged": ("已合并", "已与相同问题合并", "closed"),
    "assigned": ("待答复", "已交被问政对象，待答复", "open"),
    "answered": ("已答复", "已现场答复，待作出整改承诺", "open"),
    "rectifying": ("整改中", "整改中", "open"),
    "rectified": ("已整改", "整改完成，待满意度测评", "open"),
    "closed": ("已办结", "已办结", "closed"),
}

# --- states per kind (a kind's own words are added below its vocabulary) ---------------------------

KIND_STATES = {"report": STATES, "inquiry": INQUIRY_STATES}


# --- 代表建议 (kind "suggestion", services/suggestions.py) -------------------------------------------

SUGGESTION_STATES = {  # state: (title for staff, title for the deputies, category)
    "draft": ("草稿", "草稿（未提交）", "open"),
    "submitted": ("待登记", "已提交，等待登记", "open"),
    "registered": ("已登记", "已登记，等待交办", "open"),
    "assigned": ("已交办", "已交办，等待签收", "open"),
    "in_progress": ("办理中", "承办单位办理中", "open"),
    "answered": ("已答复", "已答复，请测评", "open"),
    "rated": ("已测评", "已测评", "open"),
    "closed": ("已办结", "已办结", "closed"),
    "opinion": ("不予立案，转为意见", "不予立案，转为意见处理", "closed"),
    "merged": ("已并案", "已与其他建议并案办理", "closed"),
    "withdrawn": ("已撤回", "已撤回", "closed"),
}
KIND_STATES["suggestion"] = SUGGESTION_STATES
SUGGESTION_CLASSES = {"A": "已解决或基本解决", "B": "正在解决或列入计划", "C": "条件不具备、待以后解决", "D": "留作参考"}
EVALUATION_ITEMS = {"contact": "联系沟通", "attitude": "办理态度", "result": "办理结果"}  # 测评, each rated as RATINGS
CONSULT_WAYS = {"visit": "当面面商", "phone": "电话沟通", "meeting": "座谈会", "site": "实地察看"}
NOT_REGISTERED_REASONS = {"not_suggestion": "不属于代表建议范围", "unclear": "内容不明确，无具体建议",
                          "judicial": "涉及诉讼、仲裁或个案", "other": "其他原因"}
ASSIGN_ROLES = {"lead": "主办", "assist": "协办", "joint": "会办"}
RECESS = 0  # Suggestion.session: 0 闭会期间, N 第N次会议
LIMITS.update({"cause": 200, "reasons": 3000, "measures": 3000, "leader": 50, "who": 100, "promise": 500})


def session_label(session):
    return "闭会期间" if not session else f"第{session}次会议"
