"""The public directory: deputies, liaison stations and projects as citizens may see them.

Labels for the codes stored on these tables live here, once (the API, the H5 pages and the console
can all use them).
"""
import re

from peewee import JOIN, fn

from models import Deputy, Milestone, Project, ProjectDeputy, ProjectUpdate, Station
from services import calendar
from services.errors import NotFound

DEPUTY_LEVELS = {"national": "全国人大代表", "provincial": "省人大代表", "city": "市人大代表",
                 "county": "县人大代表", "township": "乡镇人大代表"}
STATION_LEVELS = {"province": "省级", "city": "市级", "county": "县级", "town": "乡镇级", "village": "村（社区）级"}
STATION_KINDS = {"station": "代表联络站", "point": "代表联络点", "window": "代表联络窗", "post": "代表联络岗",
                 "congress": "人大机关"}  # congress: 市/县人大常委会, 乡镇人大 — the levels above stations (services/levels.py)
PROJECT_STATUS = {"planned": "未开工", "in_progress": "建设中", "completed": "已完成"}


def _code(value):
    return str(value or "").strip().upper()


def deputy_by_code(code):
    deputy = Deputy.get_or_none(Deputy.code == _code(code))
    if deputy is None:
        raise NotFound("deputy_not_found", "未找到这位代表，请核对代表码")
    return deputy


def station_by_code(code):
    station = Station.get_or_none(Station.code == _code(code))
    if station is None:
        raise NotFound("station_not_found", "未找到该联络站")
    return station


def term_ended(deputy):
    return bool(deputy.term_end and deputy.term_end < calendar.today())


def serving():
    """Deputies whose term has not ended."""
    return Deputy.term_end.is_null() | (Deputy.term_end >= calendar.today())


def search_deputies(station=None, q="", page=1, per_page=20):
    """Serving deputies, optionally of a station's subtree and matching a name or code. Returns (rows, total)."""
    query = Deputy.select(Deputy, Station).join(Station, on=(Deputy.station == Station.id), join_type=JOIN.LEFT_OUTER) \
        .where(serving())
    if station:
        query = query.where(Station.path.startswith(station_by_code(station).path))
    q = str(q or "").strip()[:20]
    if q:
        query = query.where(Deputy.name.contains(q) | (Deputy.code == q.upper()))
    total = query.count()
    return list(query.order_by(Deputy.code).paginate(page, per_page)), total


def station_for_place(text):
    """The most local station whose place name (its name without 联络站/联络点… ) occurs in `text`, or None:
    "城关镇" or "城关镇东门村口" → 城关镇联络站."""
    text = str(text or "").strip()
    if len(text) < 2:
        return None
    best = None
    for station in Station.select().order_by(Station.path):
        place = re.sub(r"(人大代表)?(联络总站|联络站|联络点|联络窗口?|联络岗|代表之家)$", "", station.name).strip()
        if len(place) >= 2 and (place in text or text in place) and (best is None or len(station.path) > len(best.path)):
            best = station
    return best


def root_station():
    """The county's own station (the top of the tree), for a report that names no place."""
    return Station.select().where(Station.parent.is_null()).order_by(Station.id).first()


def station_deputies(station):
    return list(Deputy.select().where(Deputy.station == station, serving()).order_by(Deputy.code))


def station_children(station):
    return list(Station.select().where(Station.parent == station).order_by(Station.code))


def station_projects(station):
    """The published projects listed at a station (its 民生实事 and 微实事), newest year first."""
    return list(Project.select().where(Project.station == station, Project.published == True)  # noqa: E712
                .order_by(Project.year.desc(), Project.code).limit(50))


def supervised_projects(deputy):
    return list(Project.select().join(ProjectDeputy).where(ProjectDeputy.deputy == deputy,
                                                           Project.published == True)  # noqa: E712
                .order_by(Project.year.desc(), Project.code))


def project_deputies(project):
    return list(Deputy.select().join(ProjectDeputy).where(ProjectDeputy.project == project)
                .order_by(ProjectDeputy.id))


def project_milestones(project):
    return list(Milestone.select().where(Milestone.project == project)
                .order_by(Milestone.sort, fn.COALESCE(Milestone.planned_date, Milestone.done_on), Milestone.id))


def project_updates(project, limit=20):
    return list(ProjectUpdate.select().where(ProjectUpdate.project == project)
                .order_by(ProjectUpdate.created_at.desc(), ProjectUpdate.id.desc()).limit(limit))
