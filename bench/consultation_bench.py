"""征集 at the scale of a county's draft regulation: a .docx draft of 120 articles in 12 chapters (made here with
python-docx) is imported; 2,000 opinions (BENCH_OPINIONS) arrive from 40 stations (the service's `comment`, the mini-program's
path minus HTTP: every check, the content check skipped by accounts without a WeChat identity) and 100 座谈会
entries from paper; every opinion is answered; the replies are published (one notice per commenter); the
.docx and .xlsx summaries are built and read back. On SQLite and on MariaDB (a throwaway server, tests/mariadb.py).
Checked: 120 articles found, every opinion written, the published totals equal what was answered, both exports
open and list every opinion."""
import datetime as dt
import io
import os
import sys
import tempfile
import time

import docx
import openpyxl

OPINIONS, PAPER, STATIONS, CHAPTERS, PER_CHAPTER = (int(os.environ.get("BENCH_OPINIONS", 2000)), 100, 40, 12, 10)
DIGITS = "一二三四五六七八九"


def cn(n):
    """1..999 in Chinese numerals, as a draft numbers its articles (第一百二十条)."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    text = (DIGITS[hundreds - 1] + "百" if hundreds else "")
    if tens:
        text += ("" if tens == 1 and not hundreds else DIGITS[tens - 1]) + "十"
    elif hundreds and ones:
        text += "零"
    return text + (DIGITS[ones - 1] if ones else "")


def draft():
    document = docx.Document()
    document.add_heading("青山县某某条例（草案）", 0)
    article = 0
    for chapter in range(1, CHAPTERS + 1):
        document.add_paragraph(f"第{cn(chapter)}章 第{chapter}部分")
        for _ in range(PER_CHAPTER):
            article += 1
            document.add_paragraph(f"第{cn(article)}条 本条规定第{article}项事务的办理要求和监督责任。")
            document.add_paragraph("有关部门应当按照职责分工做好相关工作。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def timed(label, rows, work, note=""):
    started = time.perf_counter()
    result = work()
    rows.append([f"征集 {label}", "", f"{time.perf_counter() - started:.2f} s", "", note])
    print("  ".join(rows[-1]), file=sys.stderr, flush=True)
    return result


def one_database(url, name):
    from app import create_app
    from models import Account, Notification, Opinion, Station, db
    from models.migrate import migrate
    from services import consultations
    from tests.factories import station
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "OPINION_RATE_LIMIT": (10 ** 6, 3600)})
    rows = []
    with app.test_request_context(), db.connection_context():
        migrate()
        staff = Account.create(role="staff", username="bench-staff", display_name="工作人员")
        county = station("XQS", "青山县联络总站", level="county")
        towns = [station(f"T{i:02d}", f"第{i}联络站", county) for i in range(STATIONS)]
        now = dt.datetime.now() + dt.timedelta(hours=8)
        form = {"title": "某某条例（草案）征求意见", "kind": "law", "mode": "articles", "audience": "stations",
                "stations": [t.code for t in towns],
                "opens_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "closes_at": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")}
        data = draft()
        found = timed(f"{name}: import a 120-article .docx", rows, lambda: consultations.create(staff, form, data),
                      f"{len(data) // 1024} KB")
        articles = consultations.sections(found)
        assert len(articles) == CHAPTERS * PER_CHAPTER, len(articles)
        consultations.open_consultation(staff, found)
        people = [Account.create(role="citizen", display_name=f"群众{i}") for i in range(OPINIONS // 5)]

        def comment_all():
            for i in range(OPINIONS):
                consultations.comment(found, people[i % len(people)], {
                    "section": articles[i % len(articles)].id, "text": f"第{i}条意见：建议进一步明确责任主体。",
                            "station": towns[i % STATIONS].code, "name": "群众"}, "miniprogram")
            for i in range(PAPER):
                consultations.enter_paper(staff, found, {"station": towns[i % STATIONS].code, "name": f"座谈会{i}",
                                                         "people": 12, "text": "与会群众建议细化条款。",
                                                         "section": str(articles[i % len(articles)].id)})
        timed(f"{name}: {OPINIONS:,} opinions + {PAPER} from paper", rows, comment_all,
              "one by one, every check; per opinion in the note below")
        rows[-1][4] = f"{float(rows[-1][2].split()[0]) * 1000 / (OPINIONS + PAPER):.1f} ms an opinion"
        consultations.close(staff, found)

        def answer_all():
            for i, opinion in enumerate(Opinion.select().where(Opinion.consultation == found)):
                consultations.answer(staff, opinion, {"decision": ("adopted", "partly", "rejected")[i % 3],
                                                      "reason": "" if i % 3 == 0 else "已研究"})
        timed(f"{name}: answer every opinion", rows, answer_all)
        timed(f"{name}: publish (tell commenters)", rows,
              lambda: consultations.publish(staff, consultations.get(found.code)))
        rows[-1][4] = f"{Notification.select().count()} notices"
        summary = consultations.summary(found)
        assert summary["total"]["opinions"] == OPINIONS + PAPER and summary["total"]["waiting"] == 0
        xlsx = timed(f"{name}: summary.xlsx", rows, lambda: consultations.export_xlsx(found))
        word = timed(f"{name}: summary.docx", rows, lambda: consultations.export_docx(found))
        every = openpyxl.load_workbook(io.BytesIO(xlsx))["全部意见"].max_row
        paragraphs = len(docx.Document(io.BytesIO(word)).paragraphs)
        rows[-2][4] = f"{len(xlsx) // 1024} KB, sheet 全部意见 {every:,} rows"
        rows[-1][4] = f"{len(word) // 1024} KB, {paragraphs:,} paragraphs"
        assert Station.select().count() == STATIONS + 1
    return rows


def run():
    from tests.mariadb import MariaDB
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += one_database(f"sqlite:///{os.path.join(folder, 'bench.db')}", "SQLite")
    server = MariaDB().start()
    try:
        rows += one_database(server.url, "MariaDB")
    finally:
        server.stop()
    return rows
