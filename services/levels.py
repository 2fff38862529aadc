"""Levels (省 / 市 / 县 / 乡镇): one deployment serves a whole city or province as one tree.

The tree is `Station`: the congress organisations (kind "congress": 市人大常委会, 县人大常委会, 乡镇人大) with
their liaison stations, points and posts below them. Every office (staff account) and department belongs to a
node of it (`Account.station`, `Department.station`; none: the whole deployment) and sees and acts on that
node's subtree — the scope check itself is `workflow.in_scope`, the figures' `stats.scoped`; this module
says what the tree means: which congress a node belongs to, where a deputy's reports go, which departments
may take a case, and where a case may be handed (转办 up or down). A deployment without congress nodes (one
county, as before) behaves exactly as it did.
"""
import re

from models import Department, Station, db, retried
from services.errors import Forbidden, InvalidInput, NotFound
from wechat.prepared import Prepared

DEPUTY_LEVELS = {"provincial": "province", "city": "city", "county": "county", "township": "town"}  # Deputy.level
CONGRESS = "congress"  # Station.kind of an organisation


def path_ids(station):
    return [int(part) for part in station.path.strip("/").split("/") if part]


def ancestors(station):
    """The node and every node above it, nearest first."""
    ids = path_ids(station)
    found = {s.id: s for s in _nodes(len(ids)).rows(**{f"i{n}": i for n, i in enumerate(ids)})}
    return [found[i] for i in reversed(ids) if i in found]


_NODES = {}


def _nodes(count):
    """The nodes of `count` ids, with its SQL built once per count (wechat/prepared.py)."""
    found = _NODES.get(count)
    if found is None:
        found = _NODES[count] = Prepared(lambda: Station.select().where(
            Station.id.in_([Prepared.arg(f"i{n}") for n in range(count)])))
    return found


def congress_of(station):
    """The congress organisation a node belongs to (itself when it is one), or None in a tree without them."""
    return next((s for s in ancestors(station) if s.kind == CONGRESS), None) if station is not None else None


def root_congress():
    return Station.select().where(Station.kind == CONGRESS).order_by(Station.path).first()


def congress_name(station=None, default="县人大常委会"):
    """The congress whose name a page, card or export carries: the node's own congress, else the top one;
    `default` in a tree without congress nodes (one county, as before)."""
    congress = congress_of(station) if station is not None else None
    congress = congress or root_congress()
    return congress.name if congress is not None else default


def home_station(deputy, station):
    """Where a report to `deputy`, made at `station`, is handled: the station itself when its congress is of the
    deputy's level (or the tree has no congress of that level); else the deputy's own congress above it — a
    county deputy's report made at a township station goes to the county office, not the township's."""
    if station is None:
        return None
    level = DEPUTY_LEVELS.get(deputy.level) if deputy is not None else None
    chain = [s for s in ancestors(station) if s.kind == CONGRESS]
    if level is None or not chain or chain[0].level == level:
        return station
    return next((s for s in chain if s.level == level), station)


def deputy_title(deputy, plain):
    """What a card calls the deputy: 青山县人大代表 when the tree has the deputy's congress, else `plain` (县人大代表)."""
    level = DEPUTY_LEVELS.get(deputy.level)
    chain = [s for s in ancestors(deputy.station) if s.kind == CONGRESS] if deputy.station_id else []
    congress = next((s for s in chain if s.level == level), None)
    return congress.name.split("人大")[0] + "人大代表" if congress is not None else plain


def department_fits(department, station):
    """A department may take a case of its own area: its node lies on the case's path (its own level or one
    above the case's) — a county's bureau never gets a neighbouring county's case. Unplaced: any case."""
    if department.station_id is None or station is None:
        return True
    return department.station_id in path_ids(station)


def require_department(department, station):
    if not department_fits(department, station):
        raise InvalidInput("department_out_of_area", f"{department.name}不负责该地区，不能交其办理",
                           department=department.code)


def departments_for(station):
    """The departments that may take a case of `station`'s area (all when it has none), by code."""
    query = Department.select().where(Department.active == True)  # noqa: E712
    if station is not None:
        query = query.where(Department.station.is_null() | Department.station.in_(path_ids(station)))
    return query.order_by(Department.code)


def _office(actor):
    account = getattr(actor, "account", actor)
    return account.station if account is not None and account.station_id else None


def hand_over_options(case, actor):
    """Where this office may hand the case (转办): the congresses above the case's node, then the congresses and
    stations inside the office's own subtree — not the node the case is at."""
    here = case.station if case.station_id else None
    office = _office(actor)
    up = [s for s in ancestors(here) if s.kind == CONGRESS and s.id != here.id] if here else []
    down = Station.select().where(Station.path.startswith(office.path if office else "/"),
                                  Station.kind.in_((CONGRESS, "station"))).order_by(Station.path)
    return up + [s for s in down if here is None or s.id != here.id and s not in up]


def hand_over_target(case, actor, data):
    """The node a case is handed to (转办): up to a congress above the case's, or down into the acting office's
    own subtree; never sideways to a neighbour."""
    code = str(data.get("to_station") or "").strip().upper()
    if not code:
        raise InvalidInput("missing_field", "请选择转办到哪一级", field="to_station")
    target = Station.get_or_none(Station.code == code)
    if target is None:
        raise NotFound("station_not_found", "未找到该单位", field="to_station")
    here = case.station if case.station_id else None
    if here is not None and target.id == here.id:
        raise InvalidInput("same_station", "案件已在该单位办理", field="to_station")
    office = _office(actor)
    up = here is not None and target.kind == CONGRESS and target.id in path_ids(here)
    inside = office is None or target.path.startswith(office.path)
    if not (up or inside):
        raise Forbidden("out_of_scope", "只能转办给上级人大或本辖区内的下级单位", field="to_station")
    return target


def department_nodes(actor):
    """The nodes a department may be placed at by this office: the congresses (levels) of its own subtree."""
    office = _office(actor)
    return Station.select().where(Station.kind == CONGRESS, Station.path.startswith(office.path if office else "/")
                                  ).order_by(Station.path)


@retried
def save_department(actor, data):
    """Add or change a department (by its code): name, phone, in use, and the level it belongs to (its node:
    a congress of the office's own subtree; none: the whole deployment, for the top office only). An office
    changes only its own subtree's departments; every change is audited with what it was before."""
    from services import audit
    from services.workflow import as_actor, in_scope, text
    actor = as_actor(actor)
    if actor.role not in ("staff", "admin"):
        raise Forbidden("not_permitted", "只有人大工作人员可以维护承办单位")
    code = str(data.get("code") or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{2,16}", code):
        raise InvalidInput("invalid_code", "编码应为2到16位大写字母或数字", field="code")
    name = text(data, "name", "单位名称", limit=100)
    phone = text(data, "phone", "电话", required=False, limit=32)
    node_code = str(data.get("station") or "").strip().upper()
    node = Station.get_or_none(Station.code == node_code) if node_code else None
    if node_code and node is None:
        raise NotFound("station_not_found", "未找到该层级", field="station")
    if node is not None and node.kind != CONGRESS:
        raise InvalidInput("not_a_level", "承办单位只能属于某一级人大（市、县、乡镇）", field="station")
    if not in_scope(actor, node.id if node else None):
        raise Forbidden("out_of_scope", "只能把承办单位设在本辖区（本级或下级）", field="station")
    with db.atomic():
        found = Department.get_or_none(Department.code == code)
        if found is not None and not in_scope(actor, found.station_id):
            raise Forbidden("out_of_scope", f"{found.name}不在您的辖区（本级或下级），您不能修改", field="code")
        if Department.select().where(Department.name == name, Department.code != code).exists():
            raise InvalidInput("duplicate", "同名的承办单位已存在", field="name")
        before = {"name": found.name, "phone": found.phone, "active": found.active,
                  "station": found.station.code if found.station_id else None} if found else None
        row = found or Department(code=code)
        row.name, row.phone, row.active, row.station = name, phone, bool(data.get("active")), node
        row.save()
        after = {"name": name, "phone": phone, "active": row.active, "station": node.code if node else None}
        audit.record(actor, "department.create" if before is None else "department.edit", ("department", code),
                     {"before": before, "after": after} if before else {"after": after})
    return row
