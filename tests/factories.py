"""Small factories for tests: a tiny county with one of every kind of actor, and cases in any state."""
from types import SimpleNamespace

from models import Account, Case, Department, Deputy, Project, ProjectDeputy, Station
from services import workflow

PATHS = {  # how to bring a fresh case to each state: (action, actor key, data)
    "submitted": [],
    "accepted": [("accept", "deputy", {})],
    "declined": [("decline", "deputy", {"reason": "duplicate"})],
    "withdrawn": [("withdraw", "citizen", {})],
    "assigned": [("accept", "deputy", {}), ("assign", "staff", {"lead": "D1", "assist": ["D2"], "days": 5})],
}
PATHS["in_progress"] = PATHS["assigned"] + [("sign", "lead", {})]
PATHS["answered"] = PATHS["in_progress"] + [("answer", "lead", {"answer_class": "A", "text": "已经修好了路面。"})]
PATHS["rated"] = PATHS["answered"] + [("rate", "citizen", {"value": "unsatisfied"})]
PATHS["closed"] = PATHS["answered"] + [("rate", "citizen", {"value": "satisfied"}), ("close", "staff", {})]
ORIGINAL = "<a new case>"  # in a path's data: the number of another case, made for the purpose
PATHS["merged"] = [("merge", "staff", {"original": ORIGINAL, "reason": "重复反映"})]
PATHS["transferred"] = [("transfer", "staff", {"to": "upper", "reason": "属上级人大职权"})]


def station(code, name, parent=None, level="town"):
    s = Station.create(code=code, name=name, parent=parent, level=level, kind="station", address="某地",
                       reception_hours="周二 9:00-11:30")
    s.path = (parent.path if parent else "/") + f"{s.id}/"
    s.save()
    return s


def world():
    """A county with two towns, a deputy in town A, three departments and an account for every role."""
    county = station("C1", "青山县联络总站", level="county")
    town_a, town_b = station("TA", "城关镇联络站", county), station("TB", "河西镇联络站", county)
    depts = [Department.create(code=f"D{i}", name=name) for i, name in
             enumerate(["县交通运输局", "县住建局", "县教育局"], start=1)]
    deputy = Deputy.create(code="DEP001", name="周建华", level="county", station=town_a)
    other_deputy = Deputy.create(code="DEP002", name="吴秀英", level="township", station=town_b)
    project = Project.create(code="XM001", name="村道提质改造", year=2026, department=depts[0], station=town_a)
    ProjectDeputy.create(project=project, deputy=deputy)
    acc = lambda role, name, **kw: Account.create(role=role, display_name=name, username=name, **kw)  # noqa: E731
    w = SimpleNamespace(
        county=county, town_a=town_a, town_b=town_b, depts=depts, deputy=deputy, other_deputy=other_deputy,
        project=project,
        citizen=Account.create(role="citizen", openid="openid-citizen", display_name="张三", phone="13800001111"),
        other_citizen=Account.create(role="citizen", openid="openid-other", display_name="李四"),
        deputy_account=acc("deputy", "deputy", deputy=deputy),
        other_deputy_account=acc("deputy", "deputy2", deputy=other_deputy),
        staff=acc("staff", "staff"),                                   # county-wide
        town_staff=acc("staff", "town_a_staff", station=town_a),       # scope: town A
        other_town_staff=acc("staff", "town_b_staff", station=town_b),  # scope: town B
        lead=acc("department", "lead", department=depts[0]),
        assist=acc("department", "assist", department=depts[1]),
        outsider_dept=acc("department", "outsider", department=depts[2]),
        admin=acc("admin", "admin"),
    )
    return w


def new_case(w, reporter=None, **data):
    fields = {"deputy": w.deputy.code, "category": "traffic", "content": "村口道路坑洼严重，雨天积水。",
              "contact_phone": "13800001111", **data}
    return workflow.submit_case(reporter or w.citizen, fields)


def case_in(w, state, **data):
    """A case brought to `state` through the real workflow."""
    case = new_case(w, **data)
    for action, who, payload in PATHS[state]:
        payload = with_original(w, payload)
        actor = {"citizen": w.citizen, "deputy": w.deputy_account, "staff": w.staff, "lead": w.lead}[who]
        case = workflow.perform(case, action, actor, payload)
    assert case.state == state
    return Case.get_by_id(case.id)


def with_original(w, data):
    """`data` with ORIGINAL replaced by the number of a fresh case."""
    return {**data, "original": new_case(w).number} if data.get("original") == ORIGINAL else data


def csrf_of(page):
    """The CSRF token a rendered page put in its forms (a response or its HTML)."""
    import re
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
