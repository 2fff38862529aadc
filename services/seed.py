"""Demo data: a believable county (青山县) — stations, deputies, departments, accounts, projects and cases.

Idempotent: a database that already has stations is left alone. Cases are made through the real
workflow (so timelines and notifications are real), then moved back in time to spread over months.
"""
import datetime as dt
import random

from models import (Account, Case, CaseEvent, Deputy, Department, Follow, Inquiry, Milestone, Notification, Opinion,
                    Project, ProjectDeputy, ProjectUpdate, Station, db, utcnow)
from services import accounts, analysis, calendar, delivery, levels, notify, search, stats, workflow

DEV_PASSWORDS = {  # username: (role, password, name, links) — printed by `make run`; development only
    "admin": ("admin", "guanli-2026!", "系统管理员", {}),
    "staff": ("staff", "bangong-2026!", "县人大常委会办公室 王敏", {}),
    "chengguan": ("staff", "bangong-2026!", "城关镇人大 李强", {"station": "ZCG"}),
    "zhujian": ("department", "chengban-2026!", "县住建局 张伟", {"department": "ZJJ"}),
    "jiaotong": ("department", "chengban-2026!", "县交通运输局 刘洋", {"department": "JTJ"}),
    "chengguanju": ("department", "chengban-2026!", "县城管局 陈静", {"department": "CGJ"}),
    "daibiao": ("deputy", "lvzhi-2026!", "代表 王建华", {"deputy": "DB0001"}),
}

TOWNS = [("ZCG", "城关镇", ["东门社区", "西街社区", "南塘村"]), ("ZHX", "河西镇", ["河西村", "新桥村"]),
         ("ZLL", "柳林镇", ["柳林村", "杏花村"]), ("ZSQ", "石桥乡", ["石桥村", "青龙村"])]
DEPARTMENTS = [("ZJJ", "县住房和城乡建设局"), ("JTJ", "县交通运输局"), ("HBJ", "县生态环境分局"), ("JYJ", "县教育局"),
               ("WJJ", "县卫生健康局"), ("RSJ", "县人力资源和社会保障局"), ("NYJ", "县农业农村局"),
               ("SLJ", "县水利局"), ("SJJ", "县市场监督管理局"), ("CGJ", "县城市管理局")]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = ["建华", "秀英", "志强", "丽娟", "国庆", "海燕", "卫东", "春梅", "晓明", "桂兰", "永红", "德胜", "玉珍",
         "文军", "小燕", "树林", "明辉", "淑芬", "立新", "红霞", "家俊", "美玲", "长江", "翠花", "振国", "雪梅",
         "宏伟", "金凤", "少华", "静怡"]
LEVELS = ["county"] * 14 + ["township"] * 12 + ["city"] * 2 + ["provincial", "national"]
ISSUES = [  # category, department, title, content
    ("traffic", "JTJ", "村道路面破损", "我村通往镇上的村道有多处坑洼，雨天积水，电动车经常摔倒，希望尽快修补。"),
    ("traffic", "JTJ", "校门口缺少减速带", "小学门口车辆车速很快，上下学时段孩子过马路很危险，建议设置减速带和人行横道。"),
    ("construction", "ZJJ", "老旧小区加装电梯", "我们小区都是六层老楼，住的多是老人，上下楼很困难，希望纳入加装电梯计划。"),
    ("construction", "CGJ", "路灯长期不亮", "西街社区后巷的路灯坏了两个多月，晚上漆黑一片，老人孩子出行不安全。"),
    ("environment", "HBJ", "小作坊夜间噪声扰民", "小区旁边的加工作坊每天夜里十一点后还在作业，噪声很大，影响休息。"),
    ("environment", "CGJ", "垃圾清运不及时", "菜市场旁的垃圾点经常满溢，夏天气味很大，希望增加清运次数。"),
    ("education", "JYJ", "幼儿园学位紧张", "新区入住的家庭越来越多，附近公办幼儿园学位不够，希望增加学位。"),
    ("health", "WJJ", "村卫生室缺少药品", "村卫生室常用的降压药经常断货，老人要跑到镇上去开药，很不方便。"),
    ("social", "RSJ", "养老金认证不方便", "家里老人不会用手机做养老金资格认证，希望社区能提供上门帮助。"),
    ("agriculture", "NYJ", "灌溉水渠堵塞", "南塘村的灌溉水渠淤堵严重，春耕用水受影响，希望组织清淤。"),
    ("agriculture", "SLJ", "河道护坡坍塌", "新桥村段河道护坡去年汛期坍塌，至今没有修复，担心今年汛期出险。"),
    ("economy", "SJJ", "农贸市场缺斤短两", "农贸市场有摊贩使用不准的秤，希望加强检查，设置公平秤。"),
    ("safety", "CGJ", "占道经营堵塞消防通道", "小区门口夜市摊位占用消防通道，一旦发生火情后果不堪设想。"),
    ("governance", "ZJJ", "物业服务不到位", "小区物业不打扫楼道，电梯坏了也不修，业主多次反映无果。"),
]
# the same problems in other villagers' words (the newest cases), so the routing model's held-out accuracy is
# measured on wording it was not trained on
RETOLD = [
    "去镇上的那条村道烂得不成样子，到处是坑，下雨天根本没法骑车。",
    "学校门口的车开得飞快，娃娃放学过马路太吓人了，能不能装个减速坎。",
    "老楼没有电梯，俺家老人腿脚不好，一个月都下不了一次楼，盼着能装电梯。",
    "后巷那几盏灯好久都不亮了，晚上黑灯瞎火的，走路都怕摔。",
    "隔壁作坊半夜还在开机器，吵得整栋楼睡不着觉。",
    "菜场边上的垃圾堆了好几天没人拉，臭得很，苍蝇到处飞。",
    "孩子明年上幼儿园，附近公办园报不上名，私立的又太贵。",
    "村里卫生室老是没有降压药，老人只能跑好远去镇上买。",
    "老人不会在手机上刷脸认证养老金，每年都要到处求人帮忙。",
    "田里的水渠被淤泥堵死了，水放不下来，秧苗都快旱死了。",
    "河边的护坡塌了一大段，一直没人修，汛期来了真怕出事。",
    "市场里有的摊贩秤不准，买一斤少二两，希望有人管管。",
    "晚上小区门口摆满了摊子，消防车根本开不进来。",
    "物业费照交，楼道没人扫，电梯坏了半个月也不修。",
]
PROJECTS = [
    ("城关镇老旧小区改造（一期）", "ZJJ", "ZCG", 62, "in_progress"), ("县城至柳林镇公路提质改造", "JTJ", None, 45, "in_progress"),
    ("石桥乡农村饮水安全巩固提升", "SLJ", "ZSQ", 100, "completed"), ("县城区新增公办幼儿园学位600个", "JYJ", None, 80, "in_progress"),
    ("河西镇卫生院综合楼建设", "WJJ", "ZHX", 30, "in_progress"), ("城区公共厕所新建及提升改造20座", "CGJ", "ZCG", 100, "completed"),
    ("柳林镇高标准农田建设5000亩", "NYJ", "ZLL", 15, "planned"), ("全县农贸市场标准化改造", "SJJ", None, 55, "in_progress"),
]
PLAN = (["submitted"] * 6 + ["accepted"] * 5 + ["declined"] * 4 + ["assigned"] * 6 + ["in_progress"] * 10
        + ["answered"] * 7 + ["rated"] * 7 + ["closed"] * 12 + ["closed_unrated"] * 3 + ["second_round"] * 2
        + ["withdrawn", "merged", "transferred"])


def seed_demo(log=print):
    """Fill an empty database with the demo county. Returns False when there was data already."""
    if Station.select().exists():
        log("数据库已有数据，跳过演示数据。")
        return False
    rng = random.Random(2026)
    with db.atomic():
        county = _station("XQS", "青山县人大代表联络总站", None, "county", "station", "青山县人民路1号人大常委会一楼")
        towns, villages = {}, []
        for code, name, subs in TOWNS:
            towns[code] = _station(code, f"{name}人大代表联络站", county, "town", "station", f"青山县{name}政府院内")
            for i, sub in enumerate(subs):
                villages.append(_station(f"{code}{i + 1}", f"{sub}代表联络点", towns[code], "village",
                                         "point", f"青山县{name}{sub}党群服务中心"))
        depts = {code: Department.create(code=code, name=name, phone=f"0730-83{rng.randint(10000, 99999)}")
                 for code, name in DEPARTMENTS}
        stations = list(towns.values()) + villages
        deputies = []
        for i in range(30):
            station = stations[i % len(stations)]
            deputies.append(Deputy.create(
                code=f"DB{i + 1:04d}", name=SURNAMES[i] + GIVEN[i], level=LEVELS[i],
                constituency=f"{station.name.replace('人大代表联络站', '').replace('代表联络点', '')}选区",
                station=station, bio="长期扎根基层，热心为群众办实事。", public_contact="请通过联络站预约",
                term_start=dt.date(2021, 12, 1) if i != 29 else dt.date(2016, 12, 1),
                term_end=dt.date(2021, 11, 30) if i == 29 else dt.date(2026, 12, 31) if i % 7 == 6
                else dt.date(2027, 11, 30)))  # DB0030's term has ended: its page sends citizens to the station
        for deputy in deputies:
            accounts.person_account(deputy)
        for username, (role, password, name, links) in DEV_PASSWORDS.items():
            accounts.create_user(role, username, password, name, **links)
        # WeChat identities the sandbox stand-in accepts: odd citizens follow the official account, the
        # last four consented to progress messages in the mini-program; console users follow the account too.
        citizens = [Account.create(role="citizen", openid=f"openid-demo-{i}", display_name=f"群众{i}",
                                   phone=f"1380000{i:04d}", oa_openid=f"oa-demo-{i}" if i % 2 else None,
                                   oa_followed=bool(i % 2)) for i in range(1, 13)]
        for citizen in citizens[8:]:
            delivery.add_quota(citizen, "case_progress", 3)
        for account in Account.select().where(Account.username.is_null(False)):
            Account.update(oa_openid=f"oa-{account.username}", oa_followed=True).where(
                Account.id == account.id).execute()
        projects = _projects(rng, depts, towns, deputies, citizens)
    for i, goal in enumerate(PLAN):
        with db.atomic():
            _case(rng, i, goal, deputies, citizens, projects)
    with db.atomic():
        _consultation(towns, citizens)
    with db.atomic():
        _inquiry(citizens)
    stats.rebuild()  # _backdate moved submission days behind the tally's back
    search.rebuild()  # and behind the search index's
    routing = analysis.train()  # the 民情分析 routing suggestion, learned from the demo's own assignments
    # What the demo "sent" before today is history, not news: mark it delivered to the in-app inbox.
    Notification.update(state="sent", channel="inbox", sent_at=utcnow()).execute()
    log(f"演示数据已生成：{Station.select().count()} 个联络站，{len(deputies)} 位代表，{len(depts)} 个承办单位，"
        f"{len(projects)} 个民生实事项目，{Case.select().where(Case.kind == 'report').count()} 件群众反映，"
        f"{Inquiry.select().count()} 次问政。")
    log(f"分办建议模型已按 {routing['train'] + routing['test']} 件已交办反映训练：留出 {routing['test']} 件检验，"
        f"承办单位首选准确率 {routing['department']['top1']:.0%}，类别 {routing['category']['top1']:.0%}。")
    return True


DRAFT = """青山县农村人居环境治理条例（草案）
第一章 总则
第一条 为了改善农村人居环境，建设美丽宜居乡村，根据有关法律法规，结合本县实际，制定本条例。
第二条 本条例适用于本县行政区域内农村人居环境的治理、保护和监督管理。
第三条 县人民政府统筹全县农村人居环境治理工作；乡镇人民政府负责本辖区的具体实施。
村民委员会协助做好相关工作，引导村民参与。
第二章 生活垃圾治理
第四条 农村生活垃圾实行分类投放、分类收集、分类运输、分类处理。
第五条 村民应当将生活垃圾投放到指定地点，不得随意倾倒、焚烧。
第三章 生活污水治理
第六条 新建农村住房应当同步建设污水处理设施或者接入污水管网。
第七条 禁止向河道、沟渠、池塘直接排放未经处理的生活污水。
第四章 附则
第八条 本条例自2027年3月1日起施行。"""


def _consultation(towns, citizens):
    """The demo 法规草案征求意见: sent to two towns' stations, open for a fortnight, with a few opinions (written
    straight to the table: the demo's citizens' WeChat identities are not checked by WeChat) and one 座谈会."""
    from services import consultations
    staff = Account.get(Account.username == "staff")
    now = calendar.local(utcnow()).replace(tzinfo=None)
    found = consultations.create(staff, {
        "title": "《青山县农村人居环境治理条例（草案）》征求意见", "kind": "law", "mode": "articles",
        "audience": "stations", "stations": ["ZCG", "ZHX"], "articles": DRAFT,
        "intro": "县人大常委会法工委就本草案公开征求意见，欢迎逐条提出修改意见和建议。",
        "opens_at": (now - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")})
    consultations.open_consultation(staff, found)
    articles = consultations.sections(found)
    for citizen, article, station, text in [
            (citizens[0], 3, "ZCG", "建议明确垃圾分类的具体类别，并由村里统一发放分类垃圾桶。"),
            (citizens[1], 4, "ZCG", "指定地点离部分农户太远，建议每个村民小组至少设一个投放点。"),
            (citizens[2], 5, "ZHX", "旧房改造是否也要求同步建设污水设施？建议一并规定。")]:
        Opinion.create(consultation=found, section=articles[article], author=citizen, channel="miniprogram",
                       station=Station.get(Station.code == station), name=citizen.display_name, text=text)
    consultations.enter_paper(Account.get(Account.username == "chengguan"), found, {
        "station": "ZCG", "name": "城关镇东门社区立法座谈会", "people": "18", "section": str(articles[1].id),
        "text": "与会群众普遍认为应当明确乡镇人民政府的治理经费保障责任。"})


ASKED = [  # (asker index, question) — the demo 网络问政's questions, each ending in another state
    (0, "人民路、解放路晚上车辆乱停乱放，消防通道经常被堵，希望增设停车位并加强管理。"),
    (2, "县城老旧小区几乎没有停车位，建议利用边角空地建设小型停车场。"),
    (4, "学校门口上下学时段车辆拥堵严重，接送孩子的车辆没有临时停靠点。"),
    (6, "人民路晚上停车太乱了，车都停到人行道上。"),
    (8, "想咨询一下我家房屋继承的官司怎么打。"),
]


def _inquiry(citizens):
    """The demo 网络问政 (城区停车难), in 活动组织: its 问题清单 published (two questions answered, one of them under
    整改 with a first progress report, one waiting for its answer), one question merged, one declined, and the
    government's difficulty in the second list; a follower. Questions are filed straight through the kind's own
    writer (the demo's citizens' WeChat identities are not checked by WeChat) and the window is then moved back."""
    from services import inquiries, inquiry_questions
    staff, zhujian, jiaotong = (Account.get(Account.username == name) for name in ("staff", "zhujian", "jiaotong"))
    now = calendar.local(utcnow()).replace(tzinfo=None)
    found = inquiries.save(staff, {
        "topic": "城区停车难问题专题问政", "form": "online", "departments": ["JTJ", "ZJJ"],
        "officials": "城关镇人民政府镇长", "deputies": ["DB0001", "DB0002"],
        "description": "围绕群众反映强烈的城区停车难问题，县人大常委会组织网络问政，请被问政单位现场答复并限期整改。",
        "held_at": (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "collect_opens": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "collect_closes": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    found = inquiries.advance(staff, found, "preparation")
    asked = [inquiry_questions._file(workflow.as_actor(citizens[i]), found, citizens[i], "h5", "question",
                                     {"title": text[:20], "content": text, "location": "青山县城关镇"})
             for i, text in ASKED]
    difficulty = inquiry_questions.submit(staff, found, {
        "section": "difficulty", "content": "城区停车场建设用地指标紧张，需争取上级用地计划和专项债券支持。"}, source="console")
    inquiries.follow(citizens[1], found)
    Inquiry.update(collect_opens=utcnow() - dt.timedelta(days=20), collect_closes=utcnow() - dt.timedelta(days=10),
                   held_at=utcnow() - dt.timedelta(days=2)).where(Inquiry.id == found.id).execute()
    found = inquiries.advance(staff, Inquiry.get_by_id(found.id), "mobilisation")
    def step(case, action, who, data):  # each step on the case as it is now (its version moves on)
        workflow.perform(Case.get_by_id(case.id), action, who, data)
    traffic, housing, town = inquiries.objects(found)
    first, second, third, same, off_topic = asked
    for case, target in ((first, traffic), (second, housing), (third, town), (difficulty, housing)):
        step(case, "list", staff, {"section": "difficulty" if case is difficulty else "question"})
        step(case, "assign", staff, {"target": str(target.id)})
    step(same, "merge", staff, {"original": first.number})
    step(off_topic, "decline", staff, {"reason": "judicial"})
    found = inquiries.advance(staff, found, "sorting")  # the 问题清单 is published
    deadline = (calendar.today() + dt.timedelta(days=60)).isoformat()
    step(first, "answer", jiaotong, {"text": "我局将会同城管部门在人民路、解放路新增夜间停车泊位300个，严查占用消防通道。"})
    step(first, "commit", jiaotong, {"commitment": "两个月内新增泊位300个", "deadline": deadline,
                                                 "plan": "施划路边夜间泊位，开放机关单位停车场，设置消防通道警示标线。"})
    step(first, "progress", jiaotong, {"note": "人民路已施划夜间泊位120个，机关停车场夜间开放。"})
    step(second, "answer", zhujian, {"text": "老旧小区改造中同步建设停车设施，已排查可利用空地12处。"})
    Case.update(submitted_at=utcnow() - dt.timedelta(days=15)).where(
        Case.id.in_([c.id for c in asked] + [difficulty.id])).execute()


def _station(code, name, parent, level, kind, address):
    station = Station.create(code=code, name=name, parent=parent, level=level, kind=kind, address=address,
                             reception_hours="每周二、周四 9:00—11:30，14:30—17:00", phone="0730-8321000")
    station.path = (parent.path if parent else "/") + f"{station.id}/"
    station.save()
    return station


def _projects(rng, depts, towns, deputies, citizens):
    projects = []
    author = Account.get(Account.username == "staff")
    for i, (name, dept, town, progress, status) in enumerate(PROJECTS):
        project = Project.create(code=f"XM{i + 1:03d}", name=name, department=depts[dept], year=2026,
                                 station=towns.get(town), budget=rng.randint(80, 3000) * 10000, progress=progress,
                                 status=status, location="青山县" + (TOWNS[[t[0] for t in TOWNS].index(town)][1]
                                                                     if town else "城区"),
                                 description=f"{name}是青山县2026年民生实事项目之一，由代表全程监督。",
                                 planned_start=dt.date(2026, 3, 1), planned_end=dt.date(2026, 12, 31))
        for deputy in rng.sample(deputies[:20], 2):
            ProjectDeputy.create(project=project, deputy=deputy)
        for j, (title, month) in enumerate([("项目立项", 3), ("开工建设", 5), ("主体完工", 9), ("竣工验收", 12)]):
            done = progress >= (j + 1) * 25 or (j == 0 and progress > 0)
            Milestone.create(project=project, title=title, planned_date=dt.date(2026, month, 15), sort=j,
                             done_on=dt.date(2026, month, 10 + j) if done else None)
        for step in range(0, progress + 1, 20) if progress else []:
            update = ProjectUpdate.create(project=project, author=author, progress=step,
                                          text=f"项目完成{step}%：" + ("施工队已进场" if step < 50 else "主体工程推进顺利"
                                                                   if step < 100 else "已竣工并通过验收"),
                                          created_at=utcnow() - dt.timedelta(days=(progress - step) * 2 + 1))
            notify.project_updated(project, update)
        for citizen in rng.sample(citizens, 3):
            Follow.create(account=citizen, project=project)
        projects.append(project)
    return projects


def _case(rng, i, goal, deputies, citizens, projects):
    category, dept, title, content = ISSUES[i % len(ISSUES)]
    content = RETOLD[i % len(ISSUES)] if i >= 4 * len(ISSUES) else content  # the newest: the held-out ones
    citizen = citizens[i % len(citizens)]
    target = {"project": projects[i % len(projects)].code} if i % 9 == 4 else \
        {"deputy": deputies[i % 29].code}
    case = workflow.submit_case(citizen, {
        **target, "category": category, "title": title, "content": content,
        "contact_phone": citizen.phone, "anonymous": i % 5 == 3, "location": "青山县",
        "client_request_id": f"demo-{i}"})
    staff = Account.get(Account.username == "staff")
    deputy = Account.get_or_none(Account.deputy == case.deputy_id)
    handler = Account.get_or_none(Account.role == "department", Account.department ==
                                  Department.get(Department.code == dept))
    handler = handler or _handler_for(dept)
    steps = {"submitted": [], "withdrawn": ["withdraw"], "accepted": ["accept"], "declined": ["decline"], "assigned": ["accept", "assign"],
             "in_progress": ["accept", "assign", "sign"], "merged": ["merge"],
             "transferred": ["transfer"]}.get(goal, ["accept", "assign", "sign", "answer"])
    if goal in ("rated", "closed", "second_round"):
        steps += ["rate"]
    if goal == "closed":
        steps += ["close"]
    if goal == "second_round":
        steps += ["reopen", "sign"]
    unsatisfied = goal == "second_round" or (goal == "rated" and i % 3 == 0)
    for action in steps:
        actor = {"withdraw": citizen, "accept": deputy or staff, "decline": deputy or staff, "assign": staff, "sign": handler,
                 "answer": handler, "rate": citizen, "close": staff, "reopen": staff, "merge": staff,
                 "transfer": staff}[action]
        data = {"decline": {"reason": "duplicate" if i % 2 else "judicial"},
                "assign": {"lead": dept, "days": 15, "note": "请按时办理并答复群众"},
                "answer": {"answer_class": "ABCD"[i % 4] if i % 3 else "A",
                           "text": "经现场核实，已安排专人处理，相关问题已按计划推进，感谢您的监督。"},
                "rate": {"value": "unsatisfied" if unsatisfied else ("satisfied", "basic")[i % 2],
                         "comment": "希望继续跟进" if unsatisfied else "处理及时"},
                "reopen": {"days": 10}, "transfer": {"to": "12345", "reason": "属政务服务热线受理范围"},
                "merge": {"reason": "与已在办理的反映为同一问题"}}.get(action, {})
        if action == "merge":  # into the first case still being handled
            data["original"] = Case.select().where(Case.state == "in_progress").order_by(Case.id).first().number
        case = workflow.perform(case, action, actor, data)
    if goal == "closed_unrated":
        Case.update(answered_at=case.answered_at - dt.timedelta(days=10)).where(Case.id == case.id).execute()
        case = workflow.perform(Case.get_by_id(case.id), "auto_close", workflow.SYSTEM)
    if i % 4 == 0 and "publish" in workflow.allowed_actions(case, staff):
        case = workflow.perform(case, "publish", staff)
    _backdate(case, days=(len(PLAN) - i) * 3)


def _handler_for(dept_code):
    dept = Department.get(Department.code == dept_code)
    account, _ = accounts.create_user("department", f"dept-{dept_code.lower()}", "chengban-2026!",
                                      f"{dept.name}经办人", department=dept_code)
    return account


def _backdate(case, days):
    """Move a demo case's history back in time, keeping its order (demo data only)."""
    shift = dt.timedelta(days=days)
    keep_open = case.state in ("assigned", "in_progress") and days < 40
    moved = {name: getattr(case, name) - shift for name in ("submitted_at", "updated_at", "answered_at", "responded_at",
                                                          "closed_at")
             if getattr(case, name)}
    if case.deadline and not keep_open:
        moved["deadline"] = case.deadline - shift
    Case.update(**moved).where(Case.id == case.id).execute()
    for event in CaseEvent.select().where(CaseEvent.case == case.id):
        CaseEvent.update(at=event.at - shift).where(CaseEvent.id == event.id).execute()


def seed_city(log=print):
    """A demo city (江州市) with two counties and their townships, each a congress with its station, office
    (staff) and departments, and a township and two county deputies per township: `flask seed-demo --city`
    (services/levels.py says what the tree means). Returns False when there was data already."""
    if Station.select().exists():
        log("数据库已有数据，跳过演示数据。")
        return False

    def node(code, name, parent, level, kind=levels.CONGRESS):
        s = Station.create(code=code, name=name, parent=parent, level=level, kind=kind)
        s.path = (parent.path if parent else "/") + f"{s.id}/"
        s.save()
        return s

    with db.atomic():
        _city(node)
    log(f"演示市已生成：{Station.select().count()} 个单位（市、县、乡镇人大及联络站），"
        f"{Deputy.select().count()} 位代表，{Department.select().count()} 个承办单位。"
        "办公室账号：jiangzhou/shiren-2026!（市）、qs、bs/xianren-2026!（县）、qs1、qs2、bs1、bs2/zhenren-2026!（乡镇）")
    return True


def _city(node):
    city = node("JZ", "江州市人大常委会", None, "city")
    accounts.create_user("staff", "jiangzhou", "shiren-2026!", "江州市人大常委会办公室", station=city.code)
    Department.create(code="JZJT", name="江州市交通运输局", station=city)
    counties = {"QS": ("青山县", ["城关镇", "河西镇"]), "BS": ("白水县", ["白沙镇", "石门乡"])}
    for code, (county_name, towns) in counties.items():
        county = node(code, f"{county_name}人大常委会", city, "county")
        accounts.create_user("staff", code.lower(), "xianren-2026!", f"{county_name}人大常委会办公室", station=county.code)
        Department.create(code=f"{code}ZJ", name=f"{county_name}住建局", station=county)
        for i, town in enumerate(towns, start=1):
            congress = node(f"{code}{i}", f"{town}人大", county, "town")
            station = node(f"{code}{i}Z", f"{county_name}{town}人大代表联络站", congress, "town", "station")
            accounts.create_user("staff", f"{code.lower()}{i}", "zhenren-2026!", f"{town}人大", station=congress.code)
            for level, n in (("township", 1), ("county", 2)):
                deputy = Deputy.create(code=f"{code}{i}{n:02d}", name=f"{town}{n}号代表", level=level, station=station,
                                       constituency=f"{town}选区")
                accounts.person_account(deputy)
