"""问题清单 / 一览表 and the other tables offices hand on, as Excel (XlsxWriter) and CSV — the one place for
how a cell is written out.

The 问题清单 has a title row, 序号 and every column leaders ask for, real date cells, widths, a frozen header
and a print set-up (A4 landscape, fit to width, the header row repeated on every page). The reporter is
always masked (name and phone). Every text cell is made safe: characters XML 1.0 forbids are dropped (an
Excel file with them would not open) and a cell that begins with = + - @ (or a tab / carriage return) is
prefixed with an apostrophe so no spreadsheet runs it as a formula.
"""
import csv
import datetime as dt
import io
import re
import tempfile
from urllib.parse import quote

import xlsxwriter
from peewee import JOIN, fn

from models import Account, Answer, Assignment, Case, Department, Deputy, Station
from models.sealing import unseal
from services import calendar, levels, paging
from services.vocab import ANSWER_CLASSES, CATEGORIES, RATINGS, SOURCES, SUGGESTION_CLASSES, state_label

CLASSES = {"report": ANSWER_CLASSES, "suggestion": SUGGESTION_CLASSES}  # the answer classes' words per kind

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000  # cases read at a time by an export


def safe(value):
    """A cell value that is only ever data: XML-illegal characters dropped, formulas neutralised."""
    if not isinstance(value, str):
        return value
    value = _XML_ILLEGAL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def attachment(name):
    """Content-Disposition for a download with a Chinese file name (and an ASCII fallback)."""
    return {"Content-Disposition": f"attachment; filename=export.{name.rsplit('.', 1)[1]}; "
                                   f"filename*=UTF-8''{quote(name)}"}


def mask_name(name):
    name = (name or "").strip()
    return "" if not name else name[0] + "*" * max(1, min(len(name) - 1, 2))


def reporter_label(case):
    """Never a full name or number: 匿名, or the first character and a masked phone (the case's contact phone,
    else the reporter's), from a row of `listed`."""
    if case.anonymous or case.reporter_id is None:
        return "匿名"
    phone = unseal(case.sealed_phone or "")
    masked = phone[:3] + "****" + phone[-4:] if len(phone or "") >= 7 else ""
    return " ".join(p for p in (mask_name(case.reporter_name) or "群众", masked) if p)


# (heading, width, how to get the value from one case and its context)
COLUMNS = [
    ("序号", 6, lambda c, x: x["index"]),
    ("编号", 13, lambda c, x: c.number),
    ("提交日期", 11, lambda c, x: calendar.local(c.submitted_at).date()),
    ("来源", 8, lambda c, x: SOURCES.get(c.source, c.source)),
    ("类别", 9, lambda c, x: CATEGORIES.get(c.category, c.category)),
    ("联络站", 16, lambda c, x: c.station_name or ""),
    ("代表", 8, lambda c, x: c.deputy_name or ""),
    ("反映人（脱敏）", 16, lambda c, x: reporter_label(c)),
    ("标题", 24, lambda c, x: c.title),
    ("反映内容", 40, lambda c, x: c.content),
    ("主办单位", 16, lambda c, x: c.lead_name or ""),
    ("协办单位", 16, lambda c, x: "、".join(x["assist"])),
    ("交办日期", 11, lambda c, x: x["assigned"]),
    ("办理时限", 11, lambda c, x: c.deadline),
    ("是否超期", 8, lambda c, x: x["overdue"]),
    ("督办", 8, lambda c, x: {1: "黄牌", 2: "红牌"}.get(c.urge_level, "")),
    ("答复日期", 11, lambda c, x: calendar.local(c.answered_at).date() if c.answered_at else None),
    ("答复类别", 16, lambda c, x: f"{c.answer_class} {CLASSES[c.kind or 'report'][c.answer_class]}"
     if c.answer_class else ""),
    ("答复内容", 40, lambda c, x: x["answer"]),
    ("满意度", 9, lambda c, x: RATINGS.get(c.rating, "未评价" if c.state in ("answered", "closed") else "")),
    ("状态", 9, lambda c, x: state_label(c.state, kind=c.kind or "report")),
]
HEADINGS = [name for name, _, _ in COLUMNS]
WRAPPED = {HEADINGS.index(name) for name in ("标题", "反映内容", "协办单位", "答复内容")}  # long texts, wrapped in print


def _context(cases):
    """What the rows need besides the case itself, fetched in two queries for a batch of cases."""
    ids = [c.id for c in cases]
    assist, assigned, answer = {}, {}, {}
    if ids:
        for a in Assignment.select(Assignment, Department.name).join(Department).where(
                Assignment.case.in_(ids)).order_by(Assignment.id):
            assigned.setdefault(a.case_id, calendar.local(a.assigned_at).date())
            if a.active and a.role == "assist":
                assist.setdefault(a.case_id, []).append(a.department.name)
        for a in Answer.select(Answer.case, Answer.text).where(Answer.case.in_(ids)).order_by(Answer.id):
            answer[a.case_id] = a.text  # the latest answer
    return assist, assigned, answer


# the case columns the 问题清单 and the console queue read: flat rows, not model objects with their joined models (building those
# was most of an export's time), and one phone decrypted only where the row shows it
LISTED = ("id", "number", "kind", "submitted_at", "source", "category", "reporter", "anonymous", "title", "content",
          "deadline", "urge_level", "answered_at", "answered_on_time", "answer_class", "rating", "state", "round",
          "flagged", "station", "deputy", "lead_department")


def listed(query):
    """The cases of `query` as flat rows with what the 问题清单 and the queue show: station_name, deputy_name, lead_name,
    reporter_name and sealed_phone (the contact phone, else the reporter's; still sealed)."""
    lead = Department.alias()
    phone = fn.COALESCE(fn.NULLIF(Case.contact_phone, ""), Account.phone).coerce(False)
    return (query.select(*[getattr(Case, f) for f in LISTED], Station.name.alias("station_name"),
                         Deputy.name.alias("deputy_name"), lead.name.alias("lead_name"),
                         Account.display_name.alias("reporter_name"), phone.alias("sealed_phone"))
            .join_from(Case, Station, JOIN.LEFT_OUTER, on=(Case.station == Station.id))
            .join_from(Case, Deputy, JOIN.LEFT_OUTER, on=(Case.deputy == Deputy.id))
            .join_from(Case, lead, JOIN.LEFT_OUTER, on=(Case.lead_department == lead.id))
            .join_from(Case, Account, JOIN.LEFT_OUTER, on=(Case.reporter == Account.id)).objects())


def rows(cases):
    """The 问题清单's rows for a query of cases, read newest first a thousand at a time."""
    today, index = calendar.today(), 0
    for batch in paging.batches(listed(cases), BATCH):
        assist, assigned, answer = _context(batch)
        for case in batch:
            index += 1
            late = case.deadline is not None and (
                case.deadline < today if case.answered_at is None else case.answered_on_time is False)
            context = {"index": index, "assist": assist.get(case.id, []), "assigned": assigned.get(case.id),
                       "answer": answer.get(case.id, ""), "overdue": "是" if late else ""}
            yield [safe(get(case, context)) for _, _, get in COLUMNS]


def county_name():
    """×× (the county) from the root station's name."""
    root = Station.select().where(Station.parent.is_null()).order_by(Station.id).first()
    return re.split(r"人大|联络", root.name)[0] if root else ""


def list_title(day=None, station=None):
    """××县人大代表联络站群众意见建议办理情况一览表（截至 2026年12月1日）: ×× from the county's root station; in a
    tree of congresses (services/levels.py) the exporting office's own congress: 白水县人大常委会群众意见…"""
    day = day or calendar.today()
    congress = levels.congress_name(station, default=None)
    if congress is None:
        congress = county_name() + "人大代表联络站"
    return f"{congress}群众意见建议办理情况一览表（截至{day.year}年{day.month}月{day.day}日）"


SUGGESTION_HEADINGS = [("编号", 8), ("建议标题", 36), ("领衔代表", 10), ("附议代表", 18), ("类别", 10), ("主办单位", 16),
                       ("协办单位", 18), ("会办单位", 16), ("办理时限", 12), ("重点建议（领衔督办）", 16), ("状态", 10)]


def suggestion_list_xlsx(cases, session=None):
    """拟办理代表建议一览表: one row per registered suggestion of a session, with a title row."""
    from models import Assignment, Signer
    from services.suggestions import number_text
    from services.vocab import session_label, state_label
    body = []
    for case in cases:
        form = case.suggestion
        if not form.seq:
            continue  # not registered: not on the list
        co = [s.deputy.name for s in Signer.select().where(Signer.case == case.id, Signer.role == "co",
                                                           Signer.confirmed_at.is_null(False)).order_by(Signer.id)]
        jobs = list(Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                              Assignment.active == True).order_by(Assignment.id))  # noqa: E712
        names = {role: "、".join(a.department.name for a in jobs if a.role == role) for role in ("lead", "assist", "joint")}
        body.append([number_text(form), safe(case.title), case.deputy.name if case.deputy_id else "", "、".join(co),
                     CATEGORIES.get(case.category, ""), names["lead"], names["assist"], names["joint"], case.deadline,
                     f"是（{form.key_leader}）" if form.key_leader else "", state_label(case.state, kind="suggestion")])
    title = f"{county_name()}人大常委会拟办理{session_label(session) if session is not None else ''}代表建议一览表"
    book = _book()
    _sheet(book, title, [h for h, _ in SUGGESTION_HEADINGS], [w for _, w in SUGGESTION_HEADINGS], body)
    return _save(book)


LINE = "#999999"  # the thin borders' colour
TITLE = {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
HEADING = {"bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1,
           "border_color": LINE}
BODY = {"border": 1, "border_color": LINE, "valign": "top", "text_wrap": True}  # borders and wrapped text
DATE, MOMENT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"


class _Looks:
    """The workbook's cell formats, each made once (a format per cell would cost more than the cell)."""

    def __init__(self, book):
        self.book, self.made = book, {}

    def __call__(self, styled, number_format=None):
        key = (styled, number_format)
        if key not in self.made:
            looks = {**(BODY if styled else {}), **({"num_format": number_format} if number_format else {})}
            self.made[key] = self.book.add_format(looks) if looks else None
        return self.made[key]


def _write(sheet, row, col, value, looks, styled):
    """One body cell as what it is: text (never a formula), a number, a real date or moment, or nothing."""
    if value is None or value == "":
        if styled:
            sheet.write_blank(row, col, None, looks(True))
    elif isinstance(value, str):
        sheet.write_string(row, col, value, looks(styled))
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, looks(styled))
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, looks(styled))
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value, looks(styled, MOMENT))
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, looks(styled, DATE))
    else:
        sheet.write_string(row, col, str(value), looks(styled))


def _sheet(book, title, headings, widths, body, styled=None):
    """A sheet with a merged title row, a bold frozen header repeated on every printed page, borders,
    widths and A4 landscape fitted to one page wide. Dates become real date cells. Rows are written as they
    come (in a book made with `_book(constant_memory=True)` each row leaves memory when the next begins).
    `styled`: the body columns (0-based) that get borders and wrapped text, every one when None — a styled
    cell costs more than a plain one, which a list of 50,000 rows feels."""
    name = re.sub(r"[\\/*?:\[\]]", "", title)[:31] or "Sheet"
    taken = {sheet.get_name() for sheet in book.worksheets()}
    while name in taken:
        name = name[:28] + f"({len(taken)})"
    sheet = book.add_worksheet(name)
    for i, width in enumerate(widths):
        sheet.set_column(i, i, width)
    sheet.freeze_panes(2, 0)
    sheet.repeat_rows(1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_row(0, 28)
    if len(headings) > 1:
        sheet.merge_range(0, 0, 0, len(headings) - 1, safe(title), book.add_format(TITLE))
    else:
        sheet.write_string(0, 0, safe(title), book.add_format(TITLE))
    heading = book.add_format(HEADING)
    for col, name in enumerate(headings):
        sheet.write_string(1, col, name, heading)
    looks = _Looks(book)
    columns = [styled is None or i in styled for i in range(len(headings))]
    for row, values in enumerate(body, start=2):
        for col, value in enumerate(values):
            _write(sheet, row, col, value, looks, columns[col] if col < len(columns) else False)
    return sheet


def _book(out=None, constant_memory=False):
    """A workbook written to `out` (a file), or kept in memory for `_save`."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    if out is None:
        out = io.BytesIO()
        options["in_memory"] = True
    else:
        options["constant_memory"] = constant_memory
    book = xlsxwriter.Workbook(out, options)
    book.out = out
    return book


def _save(book):
    book.close()
    return book.out.getvalue()


def to_xlsx(cases, title=None):
    """The 问题清单 as an open temporary file (the caller sends it): rows are written as they are read, each
    leaving memory when the next begins."""
    out = tempfile.TemporaryFile()
    book = _book(out, constant_memory=True)
    _sheet(book, title or list_title(), HEADINGS, [w for _, w, _ in COLUMNS], rows(cases), styled=WRAPPED)
    book.close()
    out.seek(0)
    return out


def to_csv(cases):
    """UTF-8 with a byte-order mark so that Excel on Windows opens the Chinese text correctly; yields the text a
    thousand rows at a time (a streamed response)."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(HEADINGS)
    for n, values in enumerate(rows(cases), start=1):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in values])
        if n % BATCH == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def table_xlsx(sheets):
    """Several tables in one workbook: [(title, headings, widths, rows)] (the statistics tables)."""
    book = _book()
    for title, headings, widths, body in sheets:
        _sheet(book, title, headings, widths, ([safe(v) for v in r] for r in body))
    return _save(book)


def audit_xlsx(entries):
    body = ([calendar.local(e.at).replace(tzinfo=None), e.actor_name or "系统", e.actor_role, e.action,
             f"{e.target_type} {e.target_id}".strip(), "；".join(f"{k}={v}" for k, v in (e.detail or {}).items()),
             e.ip] for e in entries)
    return table_xlsx([("审计日志", ["时间", "操作人", "角色", "操作", "对象", "详情", "IP"],
                        [18, 12, 10, 18, 20, 50, 16], body)])
