"""问题清单 / 一览表 — the case list offices pass around, as Excel (openpyxl) and as CSV.

One row per case with the columns offices use; the reporter is always masked (name and phone).
"""
import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from services.workflow import ANSWER_CLASSES, RATINGS, state_label

COLUMNS = ["编号", "反映人（脱敏）", "代表", "问题摘要", "承办单位", "时限", "状态", "答复类别", "满意度"]
WIDTHS = [14, 22, 10, 40, 22, 12, 10, 22, 10]


def mask_name(name):
    name = (name or "").strip()
    return "" if not name else name[0] + "*" * max(1, min(len(name) - 1, 2))


def reporter_label(case):
    """Never a full name or number: 匿名, or the first character and a masked phone."""
    if case.anonymous or case.reporter_id is None:
        return "匿名"
    phone = case.contact_phone or case.reporter.phone
    masked = phone[:3] + "****" + phone[-4:] if len(phone or "") >= 7 else ""
    return " ".join(p for p in (mask_name(case.reporter.display_name) or "群众", masked) if p)


def row(case):
    return [
        case.number, reporter_label(case), case.deputy.name if case.deputy_id else "",
        case.title, case.lead_department.name if case.lead_department_id else "",
        case.deadline.isoformat() if case.deadline else "", state_label(case.state),
        f"{case.answer_class} {ANSWER_CLASSES[case.answer_class]}" if case.answer_class else "",
        RATINGS.get(case.rating, "未评价" if case.state in ("answered", "closed") else ""),
    ]


def to_xlsx(cases, title="问题清单"):
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
    for case in cases:
        sheet.append(row(case))
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(cases):
    """UTF-8 with a byte-order mark so that Excel on Windows opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for case in cases:
        writer.writerow(row(case))
    return "\ufeff" + out.getvalue()
