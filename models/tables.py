"""Every table of 代表连心. Fields, indexes, constraints and small query helpers only: rules live in services/."""
from peewee import (BigIntegerField, BooleanField, CharField, DateField, DateTimeField, FloatField, ForeignKeyField,
                    IntegerField, TextField, CompositeKey)

from .base import BaseModel, JSONField, utcnow
from .sealing import SealedField


class Station(BaseModel):
    """代表联络站 — a liaison station, point, window or post, or a congress organisation above them (kind
    congress: 市/县人大常委会, 乡镇人大); one tree (市 → 县 → 乡镇 → 站 → 村/社区), services/levels.py."""
    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=100)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    path = CharField(max_length=191, index=True, default="/")  # materialised ids "/1/5/23/" for subtree queries
    level = CharField(max_length=16)   # province | city | county | town | village  (省/市/县/乡镇/村社区)
    kind = CharField(max_length=16)    # congress | station | point | window | post  (人大/站/点/窗/岗)
    address = CharField(max_length=200, default="")
    reception_hours = CharField(max_length=200, default="")
    phone = CharField(max_length=32, default="")
    created_at = DateTimeField(default=utcnow)

    def subtree(self):
        return Station.select().where(Station.path.startswith(self.path))


class Department(BaseModel):
    """承办单位 — a government department that handles assigned cases."""
    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=100, unique=True)
    phone = CharField(max_length=32, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # the level it serves (a congress node: 市/县/乡镇); it takes cases of that area only. None: any (migration 0014)
    station = ForeignKeyField(Station, null=True, backref="departments", on_delete="SET NULL")


class Deputy(BaseModel):
    """人大代表 — a people's congress deputy with a public code (代表码)."""
    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=50, index=True)
    level = CharField(max_length=16)   # national | provincial | city | county | township
    constituency = CharField(max_length=100, default="")
    station = ForeignKeyField(Station, null=True, backref="deputies", on_delete="SET NULL")
    photo = CharField(max_length=200, default="")
    bio = TextField(default="")
    public_contact = CharField(max_length=100, default="")
    term_start = DateField(null=True)
    term_end = DateField(null=True)
    created_at = DateTimeField(default=utcnow)
    # The deputy's WeChat identities live on the deputy's own Account (role deputy), one per deputy: see
    # services/binding.py.


class Account(BaseModel):
    """Anyone who acts: a citizen (by openid/unionid), a deputy, staff, a department handler or an admin."""
    role = CharField(max_length=16, index=True)  # citizen | deputy | staff | department | admin
    username = CharField(max_length=64, null=True, unique=True)  # web console login
    password_hash = CharField(max_length=255, null=True)
    display_name = CharField(max_length=50, default="")
    phone = SealedField(default="")  # encrypted at rest (models/sealing.py)
    openid = CharField(max_length=64, null=True, unique=True)      # mini-program openid
    oa_openid = CharField(max_length=64, null=True, unique=True)   # official-account openid
    unionid = CharField(max_length=64, null=True, index=True)
    oa_followed = BooleanField(default=False)                     # follows the official account
    deputy = ForeignKeyField(Deputy, null=True, backref="accounts", on_delete="SET NULL")
    department = ForeignKeyField(Department, null=True, backref="accounts", on_delete="SET NULL")
    station = ForeignKeyField(Station, null=True, backref="staff", on_delete="SET NULL")  # staff scope
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    password_changed_at = DateTimeField(null=True)
    session_version = IntegerField(default=0)  # raised by logout and password change: older sessions end
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class BindCode(BaseModel):
    """绑定码 — a one-time code the office hands a person so that a WeChat identity is bound to their account:
    `token` goes in links (/bind/<token>) and QR scenes (bind:<token>); the 8-character code a person types
    is kept only as a keyed hash. Written through services/binding.py only."""
    token = CharField(max_length=32, unique=True)
    code_hash = CharField(max_length=64, unique=True)
    account = ForeignKeyField(Account, backref="bind_codes", on_delete="CASCADE")
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    used_channel = CharField(max_length=16, default="")  # official_account | miniprogram
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "bind_code"


class Project(BaseModel):
    """民生实事项目 — a public livelihood project with a plaque QR code."""
    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=120)
    description = TextField(default="")
    department = ForeignKeyField(Department, null=True, backref="projects", on_delete="SET NULL")
    station = ForeignKeyField(Station, null=True, backref="projects", on_delete="SET NULL")
    year = IntegerField(index=True)
    budget = IntegerField(default=0)  # yuan
    location = CharField(max_length=200, default="")
    planned_start = DateField(null=True)
    planned_end = DateField(null=True)
    progress = IntegerField(default=0)  # percent
    status = CharField(max_length=16, default="planned", index=True)  # planned | in_progress | completed
    published = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class ProjectDeputy(BaseModel):
    """代表领办 — a deputy supervising a project."""
    project = ForeignKeyField(Project, backref="supervisors", on_delete="CASCADE")
    deputy = ForeignKeyField(Deputy, backref="supervised", on_delete="CASCADE")

    class Meta:
        indexes = ((("project", "deputy"), True),)


class Milestone(BaseModel):
    project = ForeignKeyField(Project, backref="milestones", on_delete="CASCADE")
    title = CharField(max_length=100)
    planned_date = DateField(null=True)
    done_on = DateField(null=True)
    sort = IntegerField(default=0)


class ProjectUpdate(BaseModel):
    """A dated progress update with photos; never deleted."""
    project = ForeignKeyField(Project, backref="updates", on_delete="RESTRICT")
    author = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    text = TextField()
    progress = IntegerField(null=True)
    photos = JSONField(default=list)
    created_at = DateTimeField(default=utcnow, index=True)


class Follow(BaseModel):
    account = ForeignKeyField(Account, backref="follows", on_delete="CASCADE")
    project = ForeignKeyField(Project, backref="followers", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "project"), True),)


class Upload(BaseModel):
    """An uploaded image (EXIF stripped), referenced from cases, answers and project updates by id."""
    token = CharField(max_length=32, unique=True)
    account = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    path = CharField(max_length=255)
    mime = CharField(max_length=32)
    size = IntegerField()
    width = IntegerField(default=0)
    height = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)


class Case(BaseModel):
    """A matter on the workflow engine, of a `kind`: report (问题反映, what a citizen reports), suggestion
    (代表建议, a deputy's formal suggestion; its form in `Suggestion`), inquiry (问政, reserved). Its state
    changes only through services.workflow."""
    number = CharField(max_length=16, unique=True)  # public number 2026-000123
    kind = CharField(max_length=12, default="report", index=True)  # report | suggestion | inquiry
    reporter = ForeignKeyField(Account, null=True, backref="cases", on_delete="RESTRICT")
    deputy = ForeignKeyField(Deputy, null=True, backref="cases", on_delete="RESTRICT", index=False)
    station = ForeignKeyField(Station, null=True, backref="cases", on_delete="RESTRICT", index=False)
    project = ForeignKeyField(Project, null=True, backref="cases", on_delete="RESTRICT")
    source = CharField(max_length=16, default="miniprogram")  # miniprogram | h5 | official_account | console
    category = CharField(max_length=16)
    title = CharField(max_length=100)
    content = TextField()
    photos = JSONField(default=list)  # upload tokens
    location = CharField(max_length=200, default="")
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    contact_phone = SealedField(default="")  # encrypted at rest (models/sealing.py)
    sms_notify = BooleanField(default=False)  # 接收短信提醒: progress by SMS to contact_phone
    anonymous = BooleanField(default=False)
    client_request_id = CharField(max_length=64, null=True, unique=True)
    state = CharField(max_length=16, default="submitted")
    version = IntegerField(default=0)  # compare-and-swap guard for every write
    round = IntegerField(default=1)
    deadline = DateField(null=True, index=True)
    lead_department = ForeignKeyField(Department, null=True, backref="lead_cases", on_delete="RESTRICT", index=False)
    urge_level = IntegerField(default=0)  # 督办: 0 none, 1 yellow, 2 red
    flagged = BooleanField(default=False)  # content check asked for a human look
    flag_reason = CharField(max_length=100, default="")
    published = BooleanField(default=False)
    decline_reason = CharField(max_length=32, default="")
    answer_class = CharField(max_length=1, default="")  # latest answer's class A/B/C/D
    answered_on_time = BooleanField(null=True)
    rating = CharField(max_length=16, default="")  # latest rating: satisfied | basic | unsatisfied
    close_reason = CharField(max_length=16, default="")  # rated | unrated | staff
    submitted_at = DateTimeField(default=utcnow, index=True)
    answered_at = DateTimeField(null=True)
    responded_at = DateTimeField(null=True)  # the first accept / decline / forward (代表响应)
    closed_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)
    # corrections (migration 0008): the staff's summary beside the citizen's own words, the original a
    # duplicate was merged into, where a case was transferred (转办), who entered it on a citizen's behalf
    summary = TextField(default="")
    merged_into = ForeignKeyField("self", null=True, backref="duplicates", on_delete="RESTRICT")
    transfer_to = CharField(max_length=32, default="")
    entered_by = ForeignKeyField(Account, null=True, backref="entered_cases", on_delete="SET NULL")
    review = CharField(max_length=8, default="")  # flagged content reviewed: passed | withheld (不予公开)

    class Meta:
        indexes = (
            # covers stats' live count of cases in hand and not yet due, in every dimension (migration 0022)
            (("state", "deadline", "kind", "submitted_at", "station", "lead_department", "deputy", "category",
              "project"), False),
            (("lead_department", "submitted_at"), False),
            (("deputy", "submitted_at"), False),
            (("station", "submitted_at"), False),
            (("published", "submitted_at"), False),
            # the console queue's filters, newest first (migration 0018, docs/performance.md). No single-column
            # index on state, category, deputy, station or lead department: MariaDB intersected one of them with
            # kind's and sorted the whole intersection (1–3 s at 1 M cases) where these read 51 rows in order
            (("state", "submitted_at"), False),
            (("category", "submitted_at"), False),
            (("source", "submitted_at"), False),
            (("round", "submitted_at"), False),  # 二次办理 (round 2 and later): few, found without a scan
        )


class Assignment(BaseModel):
    """交办 — a department's share of a case in one round: the lead (主办) or an assisting (协办) department."""
    case = ForeignKeyField(Case, backref="assignments", on_delete="RESTRICT")
    department = ForeignKeyField(Department, backref="assignments", on_delete="RESTRICT")
    role = CharField(max_length=8)  # lead | assist
    round = IntegerField(default=1)
    active = BooleanField(default=True)
    deadline = DateField()
    assigned_at = DateTimeField(default=utcnow)
    signed_at = DateTimeField(null=True)
    returned_at = DateTimeField(null=True)
    return_reason = CharField(max_length=32, default="")
    extension_days = IntegerField(default=0)
    extension_reason = CharField(max_length=500, default="")
    extension_state = CharField(max_length=16, default="")  # requested | approved | refused

    class Meta:
        indexes = ((("department", "active"), False),
                   (("department", "case"), False))  # a department's queue: its cases, probed newest first


class Answer(BaseModel):
    """A department's formal answer (答复) with its class A/B/C/D."""
    case = ForeignKeyField(Case, backref="answers", on_delete="RESTRICT")
    round = IntegerField()
    department = ForeignKeyField(Department, null=True, on_delete="RESTRICT")
    author = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    answer_class = CharField(max_length=1)
    text = TextField()
    attachments = JSONField(default=list)
    created_at = DateTimeField(default=utcnow)


class Rating(BaseModel):
    """The citizen's rating of an answer: 满意 / 基本满意 / 不满意."""
    case = ForeignKeyField(Case, backref="ratings", on_delete="RESTRICT")
    round = IntegerField()
    value = CharField(max_length=16)  # satisfied | basic | unsatisfied
    comment = TextField(default="")
    rater = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    by_phone = BooleanField(default=False)  # given by phone to staff during a 回访, entered by them
    created_at = DateTimeField(default=utcnow)


class CaseEvent(BaseModel):
    """The append-only timeline: every move of a case, with who, when, why and data. Never updated or deleted."""
    case = ForeignKeyField(Case, backref="events", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    actor_role = CharField(max_length=16)
    action = CharField(max_length=32)
    from_state = CharField(max_length=16, default="")
    to_state = CharField(max_length=16, default="")
    note = TextField(default="")
    data = JSONField(default=dict)

    class Meta:
        indexes = ((("case", "at"), False),)


class Notification(BaseModel):
    """The outbox and the in-app inbox: one row per message to one person, written with the change it reports."""
    account = ForeignKeyField(Account, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=32)            # key into services.notify.MESSAGES
    case = ForeignKeyField(Case, null=True, on_delete="SET NULL")
    project = ForeignKeyField(Project, null=True, on_delete="SET NULL")
    title = CharField(max_length=100)
    body = TextField(default="")
    link = CharField(max_length=255, default="")  # mini-program page path
    data = JSONField(default=dict)             # values for the WeChat template fields
    urgent = BooleanField(default=False)
    dedupe_key = CharField(max_length=150, unique=True)
    state = CharField(max_length=16, default="pending")  # pending | sending | sent | failed | inbox
    channel = CharField(max_length=16, default="")       # subscribe | template | sms | inbox
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claimed_by = CharField(max_length=64, default="")
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    wechat_msgid = CharField(max_length=32, null=True, index=True)
    last_error = CharField(max_length=255, default="")
    read_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("state", "next_attempt_at"), False),
            (("account", "created_at"), False),
        )


class DeliveryAttempt(BaseModel):
    """One try at delivering a notification through one channel, recorded before the send."""
    notification = ForeignKeyField(Notification, backref="attempt_log", on_delete="CASCADE")
    channel = CharField(max_length=16)
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    result = CharField(max_length=16, default="started")  # started | ok | retry | failed
    errcode = IntegerField(null=True)
    detail = CharField(max_length=255, default="")


class SubscriptionQuota(BaseModel):
    """Mini-program subscribe-message consents: each accept allows one send of that template."""
    account = ForeignKeyField(Account, backref="quotas", on_delete="CASCADE")
    template_key = CharField(max_length=64)
    remaining = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "template_key"), True),)


class KeyValue(BaseModel):
    """Shared storage for many processes: the WeChat access token, webhook de-duplication, leases, rate limits."""
    key = CharField(max_length=191, primary_key=True)
    value = TextField(default="")
    expires_at = DateTimeField(null=True, index=True)


class Counter(BaseModel):
    """Sequences for public numbers (one row per name, e.g. case-2026)."""
    name = CharField(max_length=64, primary_key=True)
    value = IntegerField(default=0)


class Holiday(BaseModel):
    """节假日安排 entered by the office: a day that is a rest day (放假) or a working day (调休上班) whatever the
    installed chinesecalendar says — for a year it does not know yet, or a local arrangement (services/calendar.py)."""
    day = DateField(unique=True)
    workday = BooleanField()
    name = CharField(max_length=50, default="")
    created_at = DateTimeField(default=utcnow)


class StatsSnapshot(BaseModel):
    """The nightly statistics snapshot (JSON per day and scope)."""
    day = DateField()
    scope = CharField(max_length=64, default="all")
    data = JSONField(default=dict)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("day", "scope"), True),)


class CaseTally(BaseModel):
    """Case counts per local submission day (and per month), station and one dimension value; services/stats.py
    keeps it in step with every case write, in the same transaction; the dashboard reads this, not `case`."""
    kind = CharField(max_length=12, default="report")  # the cases' kind (migration 0010)
    dim = CharField(max_length=12)  # station | state | department | deputy | category | project
    period = CharField(max_length=1)  # D: the day `day`; M: the month starting on `day`
    day = DateField()
    station = IntegerField(default=0)  # station id, 0 for none
    key = CharField(max_length=32)  # the dimension's value as text, '' for none
    total = IntegerField(default=0)
    handled = IntegerField(default=0)
    open_handled = IntegerField(default=0)
    concluded = IntegerField(default=0)
    on_time = IntegerField(default=0)
    rated = IntegerField(default=0)
    satisfied = IntegerField(default=0)
    resolved = IntegerField(default=0)
    responded = IntegerField(default=0)
    responded_12h = IntegerField(default=0)  # responded within 12 (24, 48, 72) hours: stats.WINDOWS (migration 0020)
    responded_24h = IntegerField(default=0)
    responded_48h = IntegerField(default=0)
    responded_72h = IntegerField(default=0)
    response_seconds = BigIntegerField(default=0)  # summed: submission to first response

    class Meta:
        table_name = "case_tally"
        indexes = ((("kind", "dim", "period", "day", "station", "key"), True),)


class AuditLog(BaseModel):
    """审计日志 — append-only: who did or viewed what, when and from where. Never updated or deleted
    (only purged past AUDIT_RETENTION_DAYS). Written through services/audit.py only."""
    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    actor_role = CharField(max_length=16, default="system")
    actor_name = CharField(max_length=64, default="")   # kept as it was at the time
    action = CharField(max_length=48, index=True)      # e.g. bind, unbind, view_phone, login, case.assign
    target_type = CharField(max_length=24, default="")  # case | account | deputy | department | bind_code …
    target_id = CharField(max_length=64, default="")    # the target's public code or id, as text
    detail = JSONField(default=dict)
    ip = CharField(max_length=45, default="")

    class Meta:
        table_name = "audit_log"
        indexes = ((("target_type", "target_id", "at"), False), (("actor", "at"), False))


# --- 表决 ballots (services/ballots.py) --------------------------------------------------------------

class Ballot(BaseModel):
    """表决 — a vote or evaluation: items, a method (choose: up to `places` of the items; rate: 满意/基本满意/
    不满意 per item), an electorate (listed deputies, or the public with one vote per WeChat identity), a
    window and counting rules (`rules`, see services/ballots.py). A re-vote of tied items is a new ballot
    whose `parent` is the first."""
    code = CharField(max_length=16, unique=True)
    title = CharField(max_length=120)
    kind = CharField(max_length=16)        # review | project_vote | satisfaction | duty_review | other
    method = CharField(max_length=8)       # choose | rate
    places = IntegerField(default=1)       # choose: how many items may be picked (and elected)
    electorate = CharField(max_length=8)   # deputies | public
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    rules = JSONField(default=dict)
    state = CharField(max_length=12, default="draft", index=True)  # draft | open | closed | published
    parent = ForeignKeyField("self", null=True, backref="revotes", on_delete="RESTRICT")
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class BallotItem(BaseModel):
    """One thing voted on: a candidate project, an evaluated department or official, a question."""
    ballot = ForeignKeyField(Ballot, backref="items", on_delete="CASCADE")
    sort = IntegerField(default=0)
    name = CharField(max_length=120)
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    ref = CharField(max_length=24, default="", index=True)  # what a kind votes on: "c<candidate id>", "m<micro id>"

    class Meta:
        table_name = "ballot_item"


class Elector(BaseModel):
    """A deputy entitled to vote in a ballot (the electorate of a deputies' ballot)."""
    ballot = ForeignKeyField(Ballot, backref="electors", on_delete="CASCADE")
    deputy = ForeignKeyField(Deputy, on_delete="CASCADE")

    class Meta:
        indexes = ((("ballot", "deputy"), True),)


class Participation(BaseModel):
    """WHO voted (so nobody votes twice, and turnout is known) — and nothing about the choice. `voter` is
    "d<deputy id>" or a keyed hash of a WeChat identity."""
    ballot = ForeignKeyField(Ballot, backref="participations", on_delete="CASCADE")
    voter = CharField(max_length=64)

    class Meta:
        indexes = ((("ballot", "voter"), True),)


class Paper(BaseModel):
    """WHAT was chosen on one ballot paper — and nothing about who: no voter, no time, a random key. The
    table is ordered by that key (InnoDB's clustered key; WITHOUT ROWID on SQLite), so neither insertion
    order nor a row number can be matched against `participation`."""
    id = CharField(max_length=16, primary_key=True)
    ballot = ForeignKeyField(Ballot, backref="papers", on_delete="CASCADE")
    marks = JSONField(default=list)  # choose: [item id, …]; rate: {item id: good | fair | poor}
    comment = TextField(default="")  # 测评: the voter's optional 意见建议 (seen by staff, never published)

    @classmethod
    def create_table(cls, safe=True, **options):
        from .base import is_mysql
        cls._meta.without_rowid = not is_mysql()
        return super().create_table(safe, **options)


class BallotResult(BaseModel):
    """A frozen count, computed once the ballot closed. Never changed: a correction is a later entry (`seq`)
    with its explanation; the latest entry is the result."""
    ballot = ForeignKeyField(Ballot, backref="results", on_delete="CASCADE")
    seq = IntegerField(default=1)
    data = JSONField(default=dict)
    note = TextField(default="")
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "ballot_result"
        indexes = ((("ballot", "seq"), True),)


# --- 代表建议 suggestions (the suggestion kind of Case, services/suggestions.py) ------------------------

class Suggestion(BaseModel):
    """A deputy's suggestion's form, beside its Case (kind suggestion: title, category, attachments as photos,
    the lead deputy as deputy, state and deadlines there)."""
    case = ForeignKeyField(Case, unique=True, backref="suggestion_form", on_delete="RESTRICT")
    cause = CharField(max_length=200)            # 案由
    reasons = TextField(default="")              # 理由 / 现状
    measures = TextField(default="")             # 建议 (the measures proposed)
    session = IntegerField(default=0, index=True)  # 0 闭会期间, N 第N次会议
    year = IntegerField(index=True)
    seq = IntegerField(null=True)                # 登记 number within (year, session): 第12号
    key_leader = CharField(max_length=50, default="")  # 重点建议: the leader who 领衔督办 ('' when not key)
    from_reports = JSONField(default=list)       # numbers of the citizens' reports it was made from (民意转化)
    consulted = BooleanField(default=False)      # 面商 recorded in the current round
    registered_at = DateTimeField(null=True)


class Signer(BaseModel):
    """领衔 (lead) and 附议 (co) deputies of a suggestion; a co-signer counts once confirmed."""
    case = ForeignKeyField(Case, backref="signers", on_delete="RESTRICT")
    deputy = ForeignKeyField(Deputy, on_delete="RESTRICT")
    role = CharField(max_length=4)               # lead | co
    invited_at = DateTimeField(default=utcnow)
    confirmed_at = DateTimeField(null=True)
    declined_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("case", "deputy"), True),)


class Evaluation(BaseModel):
    """测评 — one signer's rating of one round's answer: 联系沟通 / 办理态度 / 办理结果, each 满意/基本满意/不满意."""
    case = ForeignKeyField(Case, backref="evaluations", on_delete="RESTRICT")
    round = IntegerField()
    deputy = ForeignKeyField(Deputy, on_delete="RESTRICT")
    contact = CharField(max_length=16)
    attitude = CharField(max_length=16)
    result = CharField(max_length=16)
    comment = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case", "round", "deputy"), True),)


class Commitment(BaseModel):
    """承诺事项 — what a B-class answer promised, with its date; chased like a deadline until done."""
    case = ForeignKeyField(Case, backref="commitments", on_delete="RESTRICT")
    round = IntegerField()
    text = TextField()
    due = DateField(index=True)
    done_at = DateTimeField(null=True)
    chased_level = IntegerField(default=0)       # 0 none, 1 due soon told, 2 overdue told
    created_at = DateTimeField(default=utcnow)


# --- 征集 consultations (services/consultations.py) ---------------------------------------------------

class Consultation(BaseModel):
    """征集 — a text or topic put to people for their opinions: a draft regulation split into articles, or open
    questions; a kind (法规草案 / 重大决策 / 项目征集 / 问政选题 / other), a window, an audience (the public,
    chosen stations, or deputies only). Every opinion gets the organiser's answer; the answers are published."""
    code = CharField(max_length=16, unique=True)
    title = CharField(max_length=120)
    kind = CharField(max_length=16)          # law | decision | project | inquiry | other
    mode = CharField(max_length=12)          # articles | questions
    audience = CharField(max_length=12)      # public | stations | deputies
    intro = TextField(default="")
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    state = CharField(max_length=12, default="draft", index=True)  # draft | open | closed | published
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    published_at = DateTimeField(null=True)


class ConsultationStation(BaseModel):
    """A station a consultation was sent to (audience "stations": opinions come through these and their subtree)."""
    consultation = ForeignKeyField(Consultation, backref="station_links", on_delete="CASCADE")
    station = ForeignKeyField(Station, on_delete="CASCADE")

    class Meta:
        table_name = "consultation_station"
        indexes = ((("consultation", "station"), True),)


class Section(BaseModel):
    """One article (第N条, under its chapter) of a draft, or one open question, of a consultation."""
    consultation = ForeignKeyField(Consultation, backref="sections", on_delete="CASCADE")
    sort = IntegerField(default=0)
    chapter = CharField(max_length=120, default="")   # e.g. 第一章 总则
    label = CharField(max_length=40)                  # e.g. 第一条 / 问题1
    text = TextField(default="")

    class Meta:
        table_name = "consultation_section"


class Opinion(BaseModel):
    """意见 — one opinion on an article or question (section None: on the whole text), from H5, the mini-program,
    the official account, or entered by station staff from a 座谈会 (channel "paper", with `people`). The
    organiser's answer (decision 采纳 adopted / 部分采纳 partly / 未采纳 rejected, with its reason) is written
    on it once; nothing of what the commenter wrote is ever changed."""
    consultation = ForeignKeyField(Consultation, backref="opinions", on_delete="CASCADE")
    section = ForeignKeyField(Section, null=True, backref="opinions", on_delete="SET NULL")
    author = ForeignKeyField(Account, null=True, backref="opinions", on_delete="SET NULL")
    station = ForeignKeyField(Station, null=True, on_delete="SET NULL")
    channel = CharField(max_length=12)                # h5 | miniprogram | oa | paper
    name = CharField(max_length=50, default="")       # as the commenter signed (paper: the meeting)
    anonymous = BooleanField(default=False)
    people = IntegerField(default=1)                  # paper: how many people the meeting's opinion speaks for
    text = TextField()
    flagged_reason = CharField(max_length=100, default="")
    entered_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    decision = CharField(max_length=12, null=True)    # adopted | partly | rejected
    reason = TextField(default="")
    answered_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    answered_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("consultation", "section"), False), (("author", "created_at"), False))


# --- 票决制 candidates and 微实事 (services/livelihood.py, services/micro.py) --------------------------------

class ProjectCandidate(BaseModel):
    """民生实事候选项目 — one proposal for next year's livelihood projects (an opinion given in the year's 项目征集,
    turned into a proposal by staff; or the government's own), and, once staff screen it into the list (`listed`),
    a candidate on the deputies' 票决 ballot.
    Proposals that say the same are merged into one (`merged_into`); the winner becomes a Project (`project`)."""
    year = IntegerField(index=True)
    name = CharField(max_length=120)
    location = CharField(max_length=200, default="")
    reason = TextField(default="")            # why (理由)
    estimate = BigIntegerField(default=0)     # rough cost, fen
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")  # responsible department
    source = CharField(max_length=12)         # citizen | deputy | government | staff
    channel = CharField(max_length=16, default="console")  # h5 | miniprogram | official_account | station | console
    proposer = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    deputy = ForeignKeyField(Deputy, null=True, on_delete="SET NULL")
    station = ForeignKeyField(Station, null=True, on_delete="SET NULL")
    state = CharField(max_length=12, default="proposed", index=True)
    # proposed | listed | merged | screened_out | elected | not_elected
    merged_into = ForeignKeyField("self", null=True, backref="merged", on_delete="RESTRICT")
    note = TextField(default="")              # staff's screening note (why merged or screened out)
    project = ForeignKeyField(Project, null=True, backref="candidates", on_delete="SET NULL")
    opinion = ForeignKeyField(Opinion, null=True, unique=True, on_delete="SET NULL")  # from the 项目征集's opinion
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "project_candidate"


class MicroFund(BaseModel):
    """微实事资金 — a township's (or the county's) yearly fund: budget and per-project cap, in fen. `version` is
    raised by every write against the fund, so two writers never both spend the same money."""
    station = ForeignKeyField(Station, on_delete="RESTRICT")
    year = IntegerField()
    budget = BigIntegerField()   # fen
    cap = BigIntegerField()      # fen, the most one micro-project may cost
    version = IntegerField(default=0)
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "micro_fund"
        indexes = ((("station", "year"), True),)


class MicroProject(BaseModel):
    """微实事 — 代表提 (a deputy's proposal: what, where, estimated cost, the citizens' reports behind it), 人大定
    (the 主席团's decision, or its ballot), 政府办 (a small Project with milestones and spending)."""
    code = CharField(max_length=16, unique=True)
    fund = ForeignKeyField(MicroFund, backref="micro_projects", on_delete="RESTRICT")
    deputy = ForeignKeyField(Deputy, null=True, on_delete="SET NULL")
    proposer = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    title = CharField(max_length=120)
    location = CharField(max_length=200, default="")
    description = TextField(default="")
    estimate = BigIntegerField()                 # fen, proposed
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    cases = JSONField(default=list)              # numbers of the citizens' reports behind it
    state = CharField(max_length=12, default="proposed", index=True)  # proposed | approved | rejected | done
    amount = BigIntegerField(null=True)          # fen, approved
    decision_note = TextField(default="")
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    ballot = ForeignKeyField(Ballot, null=True, on_delete="SET NULL")
    project = ForeignKeyField(Project, null=True, backref="micro", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "micro_project"


class MicroSpend(BaseModel):
    """A spending entry of a micro-project (fen); never changed or deleted."""
    micro = ForeignKeyField(MicroProject, backref="spends", on_delete="RESTRICT")
    amount = BigIntegerField()
    spent_on = DateField()
    note = CharField(max_length=200, default="")
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "micro_spend"


# --- 问政 inquiries (services/inquiries.py) ----------------------------------------------------------

class Inquiry(BaseModel):
    """问政 — an inquiry event: a topic put to the government at a session (会议), on site (现场) or online (网络),
    moving through five stages (工作准备 → 动员部署 → 问题梳理 → 活动组织 → 工作评议, then 已完成). Its questions are
    cases of kind "inquiry" (InquiryQuestion links them); its 测评 are ballots (InquiryRating)."""
    code = CharField(max_length=16, unique=True)
    topic = CharField(max_length=120)
    description = TextField(default="")
    form = CharField(max_length=8)  # meeting | site | online
    held_at = DateTimeField(null=True)  # when the event itself takes place (UTC)
    place = CharField(max_length=200, default="")
    station = ForeignKeyField(Station, null=True, backref="inquiries", on_delete="RESTRICT")  # organising office
    stage = CharField(max_length=16, default="preparation", index=True)
    version = IntegerField(default=0)  # compare-and-swap guard for stage moves
    collect_opens = DateTimeField(null=True)  # the window in which questions are collected (UTC)
    collect_closes = DateTimeField(null=True)
    published = BooleanField(default=False)  # shown on the public pages (from 动员部署 on)
    consultation = ForeignKeyField(Consultation, null=True, on_delete="SET NULL")  # its 问政选题 征集, if any
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class InquiryObject(BaseModel):
    """被问政对象 — a department, or a named official of a township government, put questions to."""
    inquiry = ForeignKeyField(Inquiry, backref="objects", on_delete="CASCADE")
    sort = IntegerField(default=0)
    department = ForeignKeyField(Department, null=True, on_delete="RESTRICT")
    name = CharField(max_length=120)  # the department's name, or the official's unit and post

    class Meta:
        table_name = "inquiry_object"
        indexes = ((("inquiry", "name"), True),)


class InquiryDeputy(BaseModel):
    """A deputy taking part in an inquiry (asks, supervises 整改, rates the objects)."""
    inquiry = ForeignKeyField(Inquiry, backref="deputies", on_delete="CASCADE")
    deputy = ForeignKeyField(Deputy, on_delete="CASCADE")

    class Meta:
        table_name = "inquiry_deputy"
        indexes = ((("inquiry", "deputy"), True),)


class InquiryQuestion(BaseModel):
    """A question of an inquiry's 问题清单: the case (kind inquiry) that carries it through the workflow, its list
    (the questions put to the government, or the difficulties the government raises), its object and number in
    the list, and the object's commitment and 整改方案 with its deadline (the latest; earlier ones are events)."""
    case = ForeignKeyField(Case, unique=True, backref="inquiry_link", on_delete="RESTRICT")
    inquiry = ForeignKeyField(Inquiry, backref="questions", on_delete="RESTRICT")
    section = CharField(max_length=12, default="question")  # question | difficulty
    seq = IntegerField(default=0)  # number in its list once listed (0: not listed)
    target = ForeignKeyField(InquiryObject, null=True, backref="questions", on_delete="RESTRICT")  # its object
    commitment = TextField(default="")
    plan = TextField(default="")
    plan_deadline = DateField(null=True)
    opinion = ForeignKeyField(Opinion, null=True, unique=True, on_delete="SET NULL")  # taken from the 征集
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "inquiry_question"
        indexes = ((("inquiry", "section", "seq"), False),)


class InquiryEvent(BaseModel):
    """The inquiry's own append-only record: stage moves, the list handed over, 测评 held, 二次整改 opened,
    追责问责 notes. `public` entries are shown on the event's public page."""
    inquiry = ForeignKeyField(Inquiry, backref="events", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    actor_role = CharField(max_length=16, default="system")
    action = CharField(max_length=32)
    from_stage = CharField(max_length=16, default="")
    to_stage = CharField(max_length=16, default="")
    note = TextField(default="")
    data = JSONField(default=dict)
    public = BooleanField(default=True)

    class Meta:
        table_name = "inquiry_event"
        indexes = ((("inquiry", "at"), False),)


class InquiryFollow(BaseModel):
    """关注问政 — a citizen following an inquiry (scanned its QR code) hears of its news."""
    account = ForeignKeyField(Account, on_delete="CASCADE")
    inquiry = ForeignKeyField(Inquiry, backref="followers", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "inquiry_follow"
        indexes = ((("account", "inquiry"), True),)


class InquiryRating(BaseModel):
    """A 满意度测评 of an inquiry's objects: a ballot (kind inquiry, method rate) held at the event or after 整改,
    by the deputies taking part or (网络问政) the public."""
    inquiry = ForeignKeyField(Inquiry, backref="ratings", on_delete="RESTRICT")
    ballot = ForeignKeyField(Ballot, unique=True, on_delete="RESTRICT")
    purpose = CharField(max_length=8)  # event | review (its items' ref is "o<inquiry object id>")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "inquiry_rating"


# --- 民情分析 (services/analysis.py) ------------------------------------------------------------------

class LongJSONField(JSONField):
    """JSON too large for MySQL's TEXT (64 KB): LONGTEXT there, TEXT affinity on SQLite."""
    field_type = "LONGTEXT"


class CaseTerms(BaseModel):
    """A report's words as a weighted, normalised vector (jieba tokens and character bigrams), written with the
    report, so the similar-reports lookup compares numbers instead of segmenting every open report again.
    `station` (0 for none), `latitude` and `longitude` are copies of the case's, for the place filter."""
    case = ForeignKeyField(Case, primary_key=True, backref="terms", on_delete="CASCADE")
    station = IntegerField(default=0, index=True)
    latitude = FloatField(null=True, index=True)
    longitude = FloatField(null=True)
    vector = JSONField(default=dict)  # {term: weight}, unit length
    keywords = JSONField(default=list)  # the report's strongest words (dashboard topics)

    class Meta:
        table_name = "case_terms"


class CaseWord(BaseModel):
    """The inverted index of the similar-reports lookup: a report's strongest words (services/analysis.py), so
    the reports sharing words with a new one are found by index instead of reading every open report."""
    word = CharField(max_length=32)
    case = ForeignKeyField(Case, backref="words", on_delete="CASCADE")
    station = IntegerField(default=0)

    class Meta:
        table_name = "case_word"
        indexes = ((("word", "station", "case"), True),)


class CaseGram(BaseModel):
    """The console search's index (services/search.py): each character, pair and triple of consecutive characters
    (ASCII letters lower-cased) of a case's title and content, with the case's submission moment so a search reads its
    newest cases first and stops after a page. Written in the case's own transaction; every kind and state."""
    gram = CharField(max_length=3)
    submitted_at = DateTimeField()
    case_id = IntegerField()

    class Meta:
        table_name = "case_gram"
        primary_key = CompositeKey("gram", "submitted_at", "case_id")


class Support(BaseModel):
    """我也遇到 — a citizen who met the same problem follows an open report instead of filing it again;
    once per person and report."""
    case = ForeignKeyField(Case, backref="supports", on_delete="CASCADE")
    account = ForeignKeyField(Account, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case", "account"), True),)


class AnalysisModel(BaseModel):
    """A trained suggestion model (the routing model: category and lead department from the words of a report),
    retrained nightly on the county's own assigned cases; `accuracy` is measured on held-out cases."""
    name = CharField(max_length=32, primary_key=True)
    data = LongJSONField(default=dict)
    accuracy = JSONField(default=dict)
    cases = IntegerField(default=0)
    trained_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "analysis_model"


ALL_MODELS = [Station, Department, Deputy, Account, Project, ProjectDeputy, Milestone, ProjectUpdate, Follow,
              Upload, Case, Assignment, Answer, Rating, CaseEvent, Notification, DeliveryAttempt,
              SubscriptionQuota, KeyValue, Counter, StatsSnapshot, CaseTally, AuditLog, BindCode,
              Ballot, BallotItem, Elector, Participation, Paper, BallotResult,
              Suggestion, Signer, Evaluation, Commitment,
              Consultation, ConsultationStation, Section, Opinion, ProjectCandidate, MicroFund, MicroProject, MicroSpend,
              Inquiry, InquiryObject, InquiryDeputy, InquiryQuestion, InquiryEvent, InquiryFollow, InquiryRating, Holiday]


# --- activities, reception days, 联系组, 双联系 and 述职 (services/activities.py, services/dutyrecord.py) ---------

class DeputyGroup(BaseModel):
    """代表联系组 / 代表小组 — deputies grouped (by township, by trade) with a leader; groups may have sub-groups."""
    name = CharField(max_length=100, unique=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    leader = ForeignKeyField(Deputy, null=True, on_delete="SET NULL")
    station = ForeignKeyField(Station, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "deputy_group"


class GroupMember(BaseModel):
    group = ForeignKeyField(DeputyGroup, backref="members", on_delete="CASCADE")
    deputy = ForeignKeyField(Deputy, backref="groups", on_delete="CASCADE")

    class Meta:
        table_name = "group_member"
        indexes = ((("group", "deputy"), True),)


class ReceptionRule(BaseModel):
    """接待日规则 — a station's repeating reception day ("每月15日 9:00–11:30"): an RFC 5545 RRULE, the time,
    and the deputies on duty; services/activities.py plans the Activity rows it yields."""
    station = ForeignKeyField(Station, backref="reception_rules", on_delete="CASCADE")
    rrule = CharField(max_length=120)   # e.g. FREQ=MONTHLY;BYMONTHDAY=15
    label = CharField(max_length=60)    # 每月15日
    start_time = CharField(max_length=5)  # local HH:MM
    end_time = CharField(max_length=5)
    deputies = JSONField(default=list)  # deputy ids on duty
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reception_rule"


class Activity(BaseModel):
    """活动 — something deputies attend, with check-in: a reception day (接待选民日) or an activity the office
    plans (视察, 调研, 执法检查, 列席, 联系组活动, 培训, 问政, 座谈). Kinds: services/activities.KINDS."""
    code = CharField(max_length=16, unique=True)
    kind = CharField(max_length=16, index=True)
    title = CharField(max_length=120)
    theme = CharField(max_length=200, default="")   # 月有主题
    period = CharField(max_length=8, default="")     # 年有计划、季有安排: "2026", "2026Q3", "2026-07"
    station = ForeignKeyField(Station, null=True, backref="activities", on_delete="RESTRICT")
    group = ForeignKeyField(DeputyGroup, null=True, backref="activities", on_delete="SET NULL")
    rule = ForeignKeyField(ReceptionRule, null=True, backref="activities", on_delete="SET NULL")
    place = CharField(max_length=200, default="")
    starts_at = DateTimeField(index=True)  # UTC
    ends_at = DateTimeField()
    slots = IntegerField(default=0)  # bookings a reception day takes (0: no booking)
    state = CharField(max_length=12, default="planned", index=True)  # planned | cancelled
    record = TextField(default="")   # the short record afterwards
    photos = JSONField(default=list)  # upload tokens
    created_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("rule", "starts_at"), True), (("station", "starts_at"), False))


class Attendance(BaseModel):
    """A deputy on an activity: on duty (a reception day) or invited, and the check-in (time, place where given)."""
    activity = ForeignKeyField(Activity, backref="attendance", on_delete="CASCADE")
    deputy = ForeignKeyField(Deputy, backref="attendance", on_delete="CASCADE")
    role = CharField(max_length=8, default="invited")  # duty | invited
    checked_in_at = DateTimeField(null=True)
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)

    class Meta:
        indexes = ((("activity", "deputy"), True), (("deputy", "checked_in_at"), False))


class Booking(BaseModel):
    """预约 / 约见 — a citizen's slot on a reception day with a deputy on duty."""
    code = CharField(max_length=16, unique=True)
    activity = ForeignKeyField(Activity, backref="bookings", on_delete="RESTRICT")
    deputy = ForeignKeyField(Deputy, null=True, backref="bookings", on_delete="RESTRICT")
    account = ForeignKeyField(Account, null=True, backref="bookings", on_delete="SET NULL")
    name = CharField(max_length=50, default="")
    phone = SealedField(default="")  # encrypted at rest, shown masked (as reports' phones)
    topic = CharField(max_length=200)
    state = CharField(max_length=12, default="booked", index=True)  # booked | cancelled
    created_at = DateTimeField(default=utcnow)
    cancelled_at = DateTimeField(null=True)


class ActivityCase(BaseModel):
    """What was received at a reception day (or another activity), entered as a report: the link."""
    activity = ForeignKeyField(Activity, backref="cases", on_delete="RESTRICT")
    case = ForeignKeyField(Case, backref="activity_links", on_delete="RESTRICT")
    booking = ForeignKeyField(Booking, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "activity_case"
        indexes = ((("activity", "case"), True),)


class Contact(BaseModel):
    """双联系 — a 常委会组成人员 (a staff account) records a contact with a deputy."""
    member = ForeignKeyField(Account, backref="contacts", on_delete="RESTRICT")
    deputy = ForeignKeyField(Deputy, backref="contacts", on_delete="RESTRICT")
    day = DateField(index=True)
    way = CharField(max_length=12)  # visit | phone | meeting | online
    note = TextField(default="")
    created_at = DateTimeField(default=utcnow)


class DutyReport(BaseModel):
    """述职 — a deputy scheduled to report to the voters in a year: their own words, and the 述职评议 ballot."""
    deputy = ForeignKeyField(Deputy, backref="duty_reports", on_delete="RESTRICT")
    year = IntegerField()
    own_words = TextField(default="")
    ballot = ForeignKeyField(Ballot, null=True, on_delete="SET NULL")
    scheduled_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "duty_report"
        indexes = ((("deputy", "year"), True),)


DUTY_MODELS = [DeputyGroup, GroupMember, ReceptionRule, Activity, Attendance, Booking, ActivityCase, Contact,
               DutyReport]
ALL_MODELS += DUTY_MODELS + [CaseTerms, CaseWord, CaseGram, Support, AnalysisModel]
