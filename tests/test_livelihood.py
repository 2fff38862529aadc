"""票决制 — a year on a fresh database: 征集 (proposals from every source, merged and screened) → the candidate
list → the deputies' vote (a tie for the last place re-voted, the threshold of all deputies) → projects with
plaques that the proposers follow → the year-end 测评 with projects under 80 % flagged; and the figures."""
import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image

from models import Ballot, Deputy, Follow, Notification, Project, ProjectCandidate, ProjectDeputy, utcnow
from services import ballots, consultations, livelihood, notify
from services.errors import ServiceError
from tests.factories import csrf_of, world

YEAR = 2027


def window():
    now = utcnow() + dt.timedelta(hours=8)
    return {"opens_at": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}


def refused(code, call, *args, **kwargs):
    with pytest.raises(ServiceError) as err:
        call(*args, **kwargs)
    assert err.value.code == code, err.value.message
    return err.value.message


def vote(ballot, papers):
    """Each deputy of the electorate in turn hands in one paper of candidate names."""
    ids = {i.name: i.id for i in ballots.items(ballot)}
    for elector, names in zip(ballot.electors, papers):
        ballots.cast(ballot, [ids[n] for n in names] if ballot.method == "choose" else
                     {str(ids[n]): mark for n, mark in names.items()}, deputy=elector.deputy)


def counted(w, ballot):
    ballots.close(w.staff, ballot)
    return ballots.publish(w.staff, ballot)


@pytest.fixture
def county(app):
    app.config["PROJECT_CALL_YEAR"] = YEAR
    w = world()
    w.session = [w.deputy] + [Deputy.create(code=f"DEP10{n}", name=f"代表{n}", level="county", station=w.town_b)
                              for n in range(1, 5)]  # five county deputies: the session's electorate
    return w


def test_a_year_from_the_call_to_the_vote_the_plaques_and_the_year_end_evaluation(county, client):
    w = county
    # 征集: the year's call on the 征集 engine; opinions come in through its doors
    call = livelihood.open_call(w.staff, YEAR, window())
    refused("call_exists", livelihood.open_call, w.staff, YEAR, window())
    consultations.open_consultation(w.staff, call)
    question = consultations.sections(call)[0].id
    say = lambda who, text, channel: consultations.comment(call, who, {"section": question, "text": text}, channel)  # noqa: E731
    say(w.citizen, "老街晚上太黑，老人出行不便，建议装路灯，大约80万元", "miniprogram")
    say(w.other_citizen, "老街夜里看不见路，希望装上路灯", "oa")
    say(w.deputy_account, "城关小学学生就餐拥挤，建议扩建食堂", "h5")
    form = client.get(f"/q/{call.code}?s=TA")  # a station's QR code, in a browser: a web citizen
    assert client.post(f"/q/{call.code}?s=TA", data={"csrf_token": csrf_of(form), "section": question,
                                                     "text": "孩子没地方玩，建一个大型游乐园", "name": "王女士"}).status_code == 303
    consultations.enter_paper(w.staff, call, {"station": "TA", "name": "城关镇座谈会", "people": "12",
                                              "section": question, "text": "希望多开几条公交线路"})
    opinions = livelihood.waiting_opinions(YEAR)
    assert len(opinions) == 5
    adopt = lambda n, name, location, **more: livelihood.adopt(w.staff, opinions[n], {  # noqa: E731
        "name": name, "location": location, **more})
    lights = adopt(0, "老街路灯改造", "城关镇老街", estimate="800000")
    same, school, park = adopt(1, "老街装路灯", "老街"), adopt(2, "城关小学扩建食堂", "城关小学"), adopt(3, "建一个大型游乐园", "县城")
    refused("already_adopted", adopt, 0, "老街路灯改造", "老街")
    consultations.answer(w.staff, opinions[4], {"decision": "rejected", "reason": "县交通运输局已提出同类候选项目"})
    bus = livelihood.propose(w.lead, {"name": "新增城乡公交线路", "location": "城关至河西", "reason": "村民进城不便",
                                      "estimate": "1200000"})
    market = livelihood.propose(w.staff, {"source": "government", "name": "农贸市场提升改造", "location": "河西镇",
                                          "reason": "市场设施老旧", "estimate": "3000000", "department": "D2"})
    refused("not_permitted", livelihood.propose, w.citizen, {"name": "自己提的项目", "location": "县城", "reason": "直接提"})
    assert (lights.source, lights.channel, same.channel, school.source, park.channel, park.station) == (
        "citizen", "miniprogram", "official_account", "deputy", "station", w.town_a)
    assert (bus.source, market.source, market.state, lights.year, lights.proposer) == (
        "government", "government", "listed", YEAR, w.citizen)
    refused("incomplete", livelihood.screen, w.staff, school, {"action": "list"})
    livelihood.screen(w.staff, same, {"action": "merge", "into": str(lights.id)})
    livelihood.screen(w.staff, lights, {"action": "list", "department": "D2", "estimate": "900000"})
    livelihood.screen(w.staff, school, {"action": "list", "department": "D3", "estimate": "2000000.50"})
    livelihood.screen(w.staff, bus, {"action": "list"})
    livelihood.screen(w.staff, park, {"action": "screen_out", "note": "投资过大，超出县级财力"})
    refused("not_permitted", livelihood.screen, w.lead, park, {"action": "list"})
    # screening answered each opinion behind a proposal; the call's replies are published and every proposer told
    assert [consultations.Opinion.get_by_id(o.id).decision for o in opinions] == [
        "adopted", "partly", "adopted", "rejected", "rejected"]
    consultations.close(w.staff, call)
    consultations.publish(w.staff, call)
    assert Notification.select().where(Notification.kind == "consultation_replied").count() == 4  # paper: no author
    listed = livelihood.candidate_list(YEAR)
    assert [c.name for c in listed] == ["老街路灯改造", "城关小学扩建食堂", "新增城乡公交线路", "农贸市场提升改造"]
    assert [c.proposal_count for c in listed] == [2, 1, 1, 1]

    # 票决: 4 candidates for 2 places, five deputies; 路灯 4, 食堂 3, 公交 3 all pass (> 2.5) — a tie for place 2
    refused("not_competitive", livelihood.start_vote, w.staff, YEAR, {"places": "4", **window()})
    ballot = livelihood.start_vote(w.staff, YEAR, {"places": "2", **window()})
    assert ballot.kind == "project_vote" and ballot.rules["base"] == "all" and ballot.electors.count() == 5
    ballots.open_ballot(w.staff, ballot)
    vote(ballot, [["老街路灯改造", "城关小学扩建食堂"], ["老街路灯改造", "新增城乡公交线路"],
                  ["老街路灯改造", "城关小学扩建食堂"], ["老街路灯改造", "新增城乡公交线路"],
                  ["城关小学扩建食堂", "新增城乡公交线路"]])
    refused("not_published", livelihood.apply_result, w.staff, ballot)
    counted(w, ballot)
    [lamp_project] = livelihood.apply_result(w.staff, ballot)
    assert livelihood.apply_result(w.staff, ballot) == []  # safe to run again
    states = {c.name: c.state for c in livelihood.proposals(YEAR)}
    assert states["老街路灯改造"] == "elected" and states["农贸市场提升改造"] == "not_elected"
    assert states["城关小学扩建食堂"] == states["新增城乡公交线路"] == "listed"  # tied: wait for the re-vote
    # the project: department, budget, the link back, the proposers following it and told
    assert (lamp_project.department.code, lamp_project.budget, lamp_project.year) == ("D2", 900000, YEAR)
    origin = livelihood.origin(lamp_project)
    assert origin["proposals"] == 2 and origin["vote"]["votes"] == 4 and origin["vote"]["electors"] == 5
    for citizen in (w.citizen, w.other_citizen):
        assert Follow.select().where(Follow.account == citizen, Follow.project == lamp_project).exists()
        note = Notification.get(Notification.account == citizen, Notification.kind == "candidate_elected")
        assert notify.links(note, "https://x.test")[1] == f"https://x.test/p/{lamp_project.code}"
    assert Notification.select().where(Notification.account == w.staff,
                                       Notification.kind == "candidate_not_elected").exists()

    # the re-vote of the tied: 食堂 3 of 5 passes, 公交 2 does not reach more than half of ALL deputies
    revote = ballots.revote(w.staff, ballot, window())
    assert revote.places == 1 and {i.ref for i in ballots.items(revote)} == {f"c{school.id}", f"c{bus.id}"}
    ballots.open_ballot(w.staff, revote)
    vote(revote, [["城关小学扩建食堂"], ["城关小学扩建食堂"], ["城关小学扩建食堂"], ["新增城乡公交线路"],
                  ["新增城乡公交线路"]])
    counted(w, revote)
    [school_project] = livelihood.apply_result(w.staff, revote)
    assert ProjectCandidate.get_by_id(bus.id).state == "not_elected"
    assert ProjectDeputy.select().where(ProjectDeputy.project == school_project,
                                        ProjectDeputy.deputy == w.deputy).exists()  # the proposing deputy leads it

    # plaques: the new project's plaque decodes to its public page, which tells where it came from
    plaque = client.get(f"/qr/plaque/{lamp_project.code}.png")
    assert plaque.status_code == 200
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(plaque.data)))
    assert found[0].text == f"http://daibiao.test/p/{lamp_project.code}"
    page = client.get(f"/p/{lamp_project.code}").get_data(as_text=True)
    assert "经人大代表票决产生" in page and "得票4" in page and "2条建议" in page

    # year end: the deputies rate both projects; 路灯 80 % passes, 食堂 60 % is flagged and its department told
    evaluation = livelihood.start_evaluation(w.staff, YEAR, window())
    assert evaluation.kind == "project_review" and len(ballots.items(evaluation)) == 2
    ballots.open_ballot(w.staff, evaluation)
    good = {"老街路灯改造": "good", "城关小学扩建食堂": "good"}
    vote(evaluation, [good, good, {"老街路灯改造": "fair", "城关小学扩建食堂": "poor"},
                      {"老街路灯改造": "good", "城关小学扩建食堂": "good"},
                      {"老街路灯改造": "poor", "城关小学扩建食堂": "poor"}])
    counted(w, evaluation)
    assert livelihood.apply_evaluation(w.staff, evaluation) == [school_project]
    assert livelihood.evaluation(lamp_project)["rate"] == 0.8 and not livelihood.evaluation(lamp_project)["flagged"]
    assert livelihood.evaluation(school_project)["flagged"]
    assert Notification.get(Notification.account == w.outsider_dept, Notification.kind == "project_flagged").body \
        == "城关小学扩建食堂 年终测评满意率60.0%，低于80%，请整改"
    assert "满意率 60.0%" in client.get(f"/p/{school_project.code}").get_data(as_text=True)

    figures = livelihood.figures(YEAR)
    assert figures["proposals"] == 6 and figures["candidates"] == 4 and figures["call"]["opinions"] == 5
    assert figures["call"]["by_channel"] == {"网页": 2, "小程序": 1, "公众号": 1, "座谈会（书面）": 1}
    assert figures["by_source"] == {"群众": 3, "人大代表": 1, "政府部门": 2, "人大工作人员": 0}
    assert [v["elected"] for v in figures["votes"]] == [["老街路灯改造"], ["城关小学扩建食堂"]]
    assert figures["votes"][0]["revote"] == 2 and figures["projects"] == 2 and figures["satisfaction"] == 0.7


def test_projects_done_on_time_count_in_the_figures(county):
    w = county
    for name in ("甲项目建设", "乙项目建设"):
        livelihood.propose(w.staff, {"source": "government", "name": name, "location": "县城", "reason": "群众需要",
                                     "estimate": "100", "department": "D1"})
    ballot = livelihood.start_vote(w.staff, YEAR, {"places": "1", **window()})
    ballots.open_ballot(w.staff, ballot)
    vote(ballot, [["甲项目建设"]] * 5)
    counted(w, ballot)
    [project] = livelihood.apply_result(w.staff, ballot)
    project.planned_end = dt.date(2100, 1, 1)
    project.save()
    from services import projects
    projects.add_update(w.staff, project, {"text": "已完工", "progress": 100})
    assert (livelihood.figures(YEAR)["done"], livelihood.figures(YEAR)["on_time"]) == (1, 1)
    assert Project.get_by_id(project.id).status == "completed"


def test_the_office_runs_the_call_and_the_vote_from_the_console(county, client):
    from tests.test_console import flashes, post, sign_in
    w = county
    sign_in(client, w.staff)
    path = f"/console/livelihood?year={YEAR}"
    response = post(client, path, {"action": "call", **window()})
    call = livelihood.call_of(YEAR)
    assert response.headers["Location"].endswith(f"/console/consultations/{call.code}") and call.kind == "project"
    consultations.open_consultation(w.staff, call)
    consultations.comment(call, w.citizen, {"section": consultations.sections(call)[0].id,
                                            "text": "河西镇卫生院条件太差，看病要跑县城"}, "miniprogram")
    assert "河西镇卫生院条件太差" in client.get(path).get_data(as_text=True)
    post(client, path, {"action": "adopt", "opinion": str(livelihood.waiting_opinions(YEAR)[0].id),
                        "name": "河西镇卫生院改造", "location": "河西镇"})
    for name in ("城区停车场建设", "乡村公厕改造"):
        post(client, path, {"action": "propose", "source": "government", "name": name, "location": "县城",
                            "reason": "群众反映强烈", "estimate": "500000", "department": "D1"})
    clinic = ProjectCandidate.get(ProjectCandidate.name == "河西镇卫生院改造")
    post(client, path, {"candidate": str(clinic.id), "action": "list"})
    assert ("error", "列入候选项目须填写估算预算和责任单位") in flashes(client, path)
    post(client, path, {"candidate": str(clinic.id), "action": "list", "estimate": "800000", "department": "D3"})
    page = client.get(path).get_data(as_text=True)
    assert "河西镇卫生院改造（县教育局，800,000.00 元，1条建议）" in page and "政府部门2" in page
    response = post(client, path, {"action": "vote", "places": "2", **window()})
    ballot = Ballot.get(Ballot.kind == "project_vote")
    assert response.headers["Location"].endswith(f"/console/ballots/{ballot.code}")
    ballots.open_ballot(w.staff, ballot)
    vote(ballot, [["城区停车场建设", "乡村公厕改造"]] * 4 + [["河西镇卫生院改造"]])
    counted(w, ballot)
    assert "按票决结果确定民生实事项目" in client.get(f"/console/ballots/{ballot.code}").get_data(as_text=True)
    post(client, f"/console/ballots/{ballot.code}/apply")
    assert ("ok", "已按票决结果确定2个民生实事项目，已通知提议人") in flashes(client, f"/console/ballots/{ballot.code}")
    assert Notification.get(Notification.account == w.citizen, Notification.kind == "candidate_not_elected").body \
        == "您提出的“河西镇卫生院改造”本次未当选（1票），感谢您的参与"
    sign_in(client, w.lead)
    assert client.get(path).status_code == 403
