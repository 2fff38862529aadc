"""表决: counting rules on hand-made electorates, secrecy of the tables, the window and electorate rules, and the
office's set-up → vote → close → publish → correct → export through the real app (fresh database, no seed)."""
import datetime as dt
import io

import openpyxl
import pytest
from peewee import ForeignKeyField

from handlers import webauth
from models import (ALL_MODELS, Account, Ballot, BallotResult, Deputy, Notification, Paper, Participation, db,
                    utcnow)
from services import ballots
from services.errors import ServiceError
from tests.factories import csrf_of, world

A, B, C, D = (1, "甲"), (2, "乙"), (3, "丙"), (4, "丁")


# --- counting rules (pure) --------------------------------------------------------------------------

def choose(papers, electors=10, places=1, items=(A, B, C), **rules):
    return ballots.tally("choose", places, rules, list(items), electors, papers)


def by_id(result):
    return {row["id"]: row for row in result["items"]}


def test_threshold_of_all_electors_differs_from_threshold_of_those_voting():
    papers = [[1]] * 4 + [[2]] * 2  # 6 of 10 electors vote; 甲 has 4
    assert not by_id(choose(papers, base="all"))[1]["elected"]      # 4 is not more than half of 10
    assert by_id(choose(papers, base="voting"))[1]["elected"]       # 4 is more than half of 6
    assert choose(papers)["turnout"] == 0.6


def test_quorum_not_met_elects_nothing_and_flags_nothing():
    result = choose([[1]] * 4, quorum=0.5)  # 4 of 10 hand in papers
    assert not result["quorum_met"] and not any(r["elected"] for r in result["items"])
    rated = ballots.tally("rate", 1, {"quorum": 0.5}, [A], 10, [{"1": "poor"}] * 4)
    assert not rated["quorum_met"] and not rated["items"][0]["flagged"]


def test_over_voting_makes_the_paper_invalid_and_it_counts_for_no_one():
    papers = [[1, 2], [1, 2], [1, 2, 3], [3], [1]]  # places 2: the third paper marks three
    result = choose(papers, electors=5, places=2, base="voting")
    assert (result["valid"], result["invalid"]) == (4, 1)
    assert by_id(result)[3]["votes"] == 1 and by_id(result)[1]["votes"] == 3


def test_a_tie_for_the_last_place_goes_to_a_revote_of_the_tied_items():
    papers = [[1, 2]] * 4 + [[1, 3]] * 4 + [[1]] * 1  # places 2: 甲 9, 乙 4, 丙 4 — 乙 and 丙 tie for place 2
    result = choose(papers, electors=9, places=2, items=(A, B, C, D), base="voting", threshold=0.4)
    assert [r["id"] for r in result["items"] if r["elected"]] == [1]
    assert sorted(result["revote"]) == [2, 3]
    clear = choose(papers + [[2]], electors=10, places=2, items=(A, B, C, D), base="voting", threshold=0.3)
    assert sorted(r["id"] for r in clear["items"] if r["elected"]) == [1, 2] and clear["revote"] == []


def test_satisfaction_rate_is_satisfied_plus_basic_over_valid_marks_and_flags_under_the_line():
    papers = [{"1": "good", "2": "poor"}, {"1": "fair", "2": "poor"}, {"1": "poor", "2": "good"},
              {"1": "good", "2": "fair"}, {"1": "great"}]  # the last paper marks an unknown value: invalid
    result = ballots.tally("rate", 1, {"pass_rate": 0.8}, [A, B], 5, papers)
    rows = by_id(result)
    assert result["invalid"] == 1
    assert (rows[1]["good"], rows[1]["fair"], rows[1]["poor"], rows[1]["rate"]) == (2, 1, 1, 0.75)
    assert rows[2]["rate"] == 0.5 and rows[1]["flagged"] and rows[2]["flagged"]
    assert [r["id"] for r in result["items"]] == [1, 2] and rows[1]["rank"] == 1


# --- secrecy ----------------------------------------------------------------------------------------

def test_no_table_links_a_voter_to_a_choice():
    """Participation knows who and nothing of the choice; Paper knows the choice and nothing of who or when;
    no other table points at either, and nothing orders papers by insertion."""
    voter_tables = {Participation, Account, Deputy}
    for model in ALL_MODELS:
        fields = model._meta.fields.values()
        refs = {f.rel_model for f in fields if isinstance(f, ForeignKeyField)}
        if model is not Paper:
            assert Paper not in refs and "marks" not in model._meta.fields, model
        assert not (refs & {Participation}) or model is Participation, model
    paper = Paper._meta.fields
    assert set(paper) == {"id", "ballot", "marks", "comment"}
    assert not ({f.rel_model for f in paper.values() if isinstance(f, ForeignKeyField)} & voter_tables)
    assert set(Participation._meta.fields) == {"id", "ballot", "voter"}


def test_papers_are_stored_in_random_key_order_not_in_voting_order(app):
    w = world()
    ballot = _open_rate_ballot(w, electorate="public")
    for n in range(30):
        ballots.cast(ballot, {str(ballots.items(ballot)[0].id): "good"}, openid=f"oa-{n}")
    keys = [row[0] for row in db.execute_sql("SELECT id FROM paper")]  # physical order, as a dump would show
    assert len(set(keys)) == 30 and keys == sorted(keys)
    if not app.config["DATABASE_URL"].startswith("mysql"):
        assert "WITHOUT ROWID" in db.execute_sql("SELECT sql FROM sqlite_master WHERE name='paper'").fetchone()[0]


# --- the window, the electorate, bad input ------------------------------------------------------------

def _open_rate_ballot(w, electorate="deputies", **extra):
    now = utcnow() + dt.timedelta(hours=8)  # local time of the form
    data = {"title": "2026年度部门工作评议", "kind": "review", "method": "rate", "electorate": electorate,
            "opens_at": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "departments": [d.code for d in w.depts], "deputies": [w.deputy.code, w.other_deputy.code], **extra}
    ballot = ballots.create(w.staff, data)
    return ballots.open_ballot(w.staff, ballot)


def nothing_counted(ballot):
    return Paper.select().where(Paper.ballot == ballot).count(), Participation.select().where(
        Participation.ballot == ballot).count()


def test_bad_votes_are_refused_in_chinese_and_nothing_is_counted(app, client):
    w = world()
    ballot = _open_rate_ballot(w)
    marks = {str(i.id): "good" for i in ballots.items(ballot)}
    outsider = Deputy.create(code="DEP009", name="郑一", level="county")
    with pytest.raises(ServiceError, match="不在本次表决的投票人名单"):
        ballots.cast(ballot, marks, deputy=outsider)
    ballots.cast(ballot, marks, deputy=w.deputy)
    with pytest.raises(ServiceError, match="已经投过票"):
        ballots.cast(ballot, marks, deputy=w.deputy)
    assert nothing_counted(ballot) == (1, 1)
    Ballot.update(closes_at=utcnow() - dt.timedelta(seconds=1)).where(Ballot.id == ballot.id).execute()
    with pytest.raises(ServiceError, match="投票已经结束"):
        ballots.cast(Ballot.get_by_id(ballot.id), marks, deputy=w.other_deputy)
    assert nothing_counted(ballot) == (1, 1)
    later = ballots.create(w.staff, {**_form_of(w), "opens_at": "2099-01-01T09:00", "closes_at": "2099-01-01T10:00"})
    with pytest.raises(ServiceError, match="尚未开始"):
        ballots.cast(later, marks, deputy=w.deputy)
    assert client.get("/v/BFORGED1").status_code == 404
    assert "没有找到这次表决" in client.get("/v/BFORGED1").get_data(as_text=True)


def _form_of(w, **extra):
    now = utcnow() + dt.timedelta(hours=8)
    return {"title": "民生实事项目票决", "kind": "project_vote", "method": "choose", "places": "2",
            "electorate": "deputies", "items": "老旧小区改造\n农村饮水提升\n城区停车场",
            "opens_at": (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "deputies": [w.deputy.code, w.other_deputy.code], **extra}


def _phone_session(client, account):
    with client.session_transaction() as s:
        s.update({"m_account": account.id, "m_via": "password", "m_v": account.session_version, "csrf": "t"})


def test_more_than_n_on_the_phone_page_is_refused_and_nothing_counted(app, client):
    w = world()
    ballot = ballots.open_ballot(w.staff, ballots.create(w.staff, _form_of(w)))
    _phone_session(client, w.deputy_account)
    ids = [str(i.id) for i in ballots.items(ballot)]
    response = client.post(f"/m/ballots/{ballot.code}", data={"csrf_token": "t", "item": ids})
    assert response.status_code == 400 and "最多只能选择2项" in response.get_data(as_text=True)
    assert nothing_counted(ballot) == (0, 0)
    response = client.post(f"/m/ballots/{ballot.code}", data={"csrf_token": "t", "item": ids[:2]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "投票成功" in page
    assert "已经投过票" in client.get(f"/m/ballots/{ballot.code}").get_data(as_text=True)
    assert nothing_counted(ballot) == (1, 1)


def test_public_vote_needs_a_wechat_identity_and_counts_one_per_identity(app, client):
    w = world()
    ballot = _open_rate_ballot(w, electorate="public")
    item = ballots.items(ballot)[0]
    form = {"csrf_token": "t", **{f"mark_{i.id}": "fair" for i in ballots.items(ballot)}}
    with client.session_transaction() as s:
        s["csrf"] = "t"
    response = client.post(f"/v/{ballot.code}", data=form)
    assert response.status_code == 403 and "请在微信中打开" in response.get_data(as_text=True)
    with client.session_transaction() as s:
        s[webauth.SESSION_KEY] = "oa-voter-1"
    assert client.post(f"/v/{ballot.code}", data={"csrf_token": "t", f"mark_{item.id}": "fair"}).status_code == 400
    assert client.post(f"/v/{ballot.code}", data=form).status_code == 303
    assert client.post(f"/v/{ballot.code}", data=form).status_code == 409
    assert nothing_counted(ballot) == (1, 1)


# --- the office's whole run ---------------------------------------------------------------------------

def _login(client, username):
    client.get("/console/login")
    with client.session_transaction() as s:
        token = s.get("csrf")
    from werkzeug.security import generate_password_hash

    from services.accounts import hash_method
    Account.update(password_hash=generate_password_hash("Qingshan#2026pw", method=hash_method())).where(Account.username == username).execute()
    assert client.post("/console/login", data={"username": username, "password": "Qingshan#2026pw",
                                               "csrf_token": token}).status_code == 302


def test_office_runs_a_department_review_to_a_frozen_published_exported_result(app, client):
    w = world()
    _login(client, "staff")
    form = client.get("/console/ballots/new")
    now = utcnow() + dt.timedelta(hours=8)
    response = client.post("/console/ballots/new", data={
        "csrf_token": csrf_of(form), "title": "2026年度部门工作评议", "kind": "review", "method": "rate",
        "electorate": "deputies", "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "quorum": "50%", "base": "voting",
        "threshold": "0.5", "pass_rate": "80%", "departments": [d.code for d in w.depts[:2]],
        "deputies": [w.deputy.code, w.other_deputy.code]})
    assert response.status_code == 302
    ballot = Ballot.get()
    page = client.get(f"/console/ballots/{ballot.code}")
    client.post(f"/console/ballots/{ballot.code}/open", data={"csrf_token": csrf_of(page)})
    assert Notification.select().where(Notification.kind == "ballot_open").count() == 2  # both listed deputies
    first, second = ballots.items(ballot)
    ballots.cast(Ballot.get_by_id(ballot.id), {str(first.id): "good", str(second.id): "poor"}, deputy=w.deputy)
    assert "已投票 1" in client.get(f"/v/{ballot.code}/live").get_data(as_text=True)
    assert "满意率" not in client.get(f"/v/{ballot.code}/live").get_data(as_text=True)  # no counts before the end
    client.post(f"/console/ballots/{ballot.code}/close", data={"csrf_token": csrf_of(page)})
    frozen = BallotResult.get(BallotResult.ballot == ballot)
    assert frozen.data["papers"] == 1 and frozen.data["turnout"] == 0.5 and frozen.data["quorum_met"]
    with pytest.raises(ServiceError, match="投票已经结束"):
        ballots.cast(Ballot.get_by_id(ballot.id), {str(first.id): "good"}, deputy=w.other_deputy)
    client.post(f"/console/ballots/{ballot.code}/publish", data={"csrf_token": csrf_of(page)})
    public = client.get(f"/v/{ballot.code}/live").get_data(as_text=True)
    assert "县交通运输局" in public and "100.0%" in public and "须整改" in public
    # a correction is a new, explained entry; the first stays as it was
    client.post(f"/console/ballots/{ballot.code}/correct", data={"csrf_token": csrf_of(page), "note": "整改线应为60%",
                                                               "pass_rate": "0.6"})
    client.post(f"/console/ballots/{ballot.code}/correct", data={"csrf_token": csrf_of(page), "note": ""})
    entries = list(BallotResult.select().where(BallotResult.ballot == ballot).order_by(BallotResult.seq))
    assert [e.seq for e in entries] == [1, 2] and entries[0].data == frozen.data
    assert entries[1].note == "整改线应为60%"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/console/ballots/{ballot.code}/results.xlsx").data))
    rows = [[c.value for c in r] for r in sheet["测评结果"].iter_rows(min_row=3)]
    assert rows[0][1] == "县交通运输局" and rows[0][6] == "100.0%"
    assert rows[1][1] == "县住建局" and rows[1][6] == "0.0%" and rows[1][7] == "是"
    assert client.get(f"/console/ballots/{ballot.code}/qr.png").mimetype == "image/png"


def test_a_comment_too_long_or_on_a_choice_ballot_is_refused_and_nothing_counted(app, client):
    w = world()
    rate = _open_rate_ballot(w)
    _phone_session(client, w.deputy_account)
    form = {"csrf_token": "t", **{f"mark_{i.id}": "good" for i in ballots.items(rate)}}
    response = client.post(f"/m/ballots/{rate.code}", data={**form, "comment": "长" * 301})
    assert response.status_code == 400 and "不超过300字" in response.get_data(as_text=True)
    assert nothing_counted(rate) == (0, 0)
    assert client.post(f"/m/ballots/{rate.code}", data={**form, "comment": "希望多下基层"}).status_code == 303
    assert Paper.get(Paper.ballot == rate).comment == "希望多下基层"
    with pytest.raises(ServiceError, match="不收集意见"):
        ballots.clean_comment(ballots.create(w.staff, _form_of(w)), "意见")


def test_setup_mistakes_are_refused_in_chinese(app):
    w = world()
    for change, message in [({"title": ""}, "请填写表决名称"), ({"closes_at": "2000-01-01T00:00"}, "截止时间须晚于"),
                            ({"places": "9"}, "应选名额"), ({"deputies": []}, "请选择参加表决的代表"),
                            ({"quorum": "150%"}, "0到1之间"), ({"items": "甲"}, "请填写表决事项")]:
        with pytest.raises(ServiceError, match=message):
            ballots.create(w.staff, _form_of(w, **change))
    with pytest.raises(ServiceError, match="只有人大工作人员"):
        ballots.create(w.deputy_account, _form_of(w))
    assert Ballot.select().count() == 0


def test_the_scheduler_closes_and_counts_a_ballot_whose_time_is_up(app, runner):
    w = world()
    ballot = _open_rate_ballot(w)
    ballots.cast(ballot, {str(i.id): "good" for i in ballots.items(ballot)}, deputy=w.deputy)
    assert ballots.close_due() == 0 and ballots.result(ballot) is None
    Ballot.update(closes_at=utcnow() - dt.timedelta(minutes=1)).where(Ballot.id == ballot.id).execute()
    assert runner.invoke(args=["run-jobs", "close_due_ballots", "--once"]).exit_code == 0
    ballot = Ballot.get_by_id(ballot.id)
    assert ballot.state == "closed" and ballots.result(ballot).data["papers"] == 1
