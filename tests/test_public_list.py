"""/public/cases: only published cases, their resolution state, no personal data, per-department figures."""
from services import workflow
from tests.factories import case_in, world


def test_public_list_shows_published_cases_without_personal_data(client, app):
    w = world()
    shown = case_in(w, "closed", title="村口道路坑洼", content="村口道路坑洼严重，我家住在三组12号。")
    workflow.perform(shown, "publish", w.staff)
    hidden = case_in(w, "answered")
    page = client.get("/public/cases").get_data(as_text=True)
    assert shown.number in page and hidden.number not in page
    assert "已办结" in page and "A 已解决" in page and "满意" in page and "县交通运输局" in page
    assert "答复：</strong>已经修好了路面。" in page  # the department's answer, in public
    for secret in ("张三", "13800001111", "138****1111", "三组12号", "周建华", "您已评价"):
        assert secret not in page
    figures = page.split('id="public-figures"')[1]
    # 交通运输局 led both cases: 2 handled, both concluded, 1 rated satisfied, both class A
    assert '<div class="figure" data-department="县交通运输局">' in figures
    assert '<dd data-k="handled">2</dd>' in figures.split('data-department="县住建局"')[0]
    assert figures.count("100.0%") >= 3


def test_public_wording_for_a_rated_case(client, app):
    w = world()
    workflow.perform(case_in(w, "rated"), "publish", w.staff)
    page = client.get("/public/cases").get_data(as_text=True)
    assert "群众已评价" in page and "不满意" in page and "您已评价" not in page


def test_public_list_filters_by_department_and_flags_low_satisfaction(client, app):
    w = world()
    for value in ("unsatisfied", "unsatisfied", "satisfied"):
        case = case_in(w, "answered")
        case = workflow.perform(case, "rate", w.citizen, {"value": value})
        workflow.perform(case, "publish", w.staff)
    assert client.get("/public/cases?department=D2").get_data(as_text=True).count('class="card pub"') == 0
    page = client.get("/public/cases?department=D1").get_data(as_text=True)
    assert page.count('class="card pub"') == 3 and "33.3%" in page and "二次整改" in page
