"""民情分析 — what the county's own reports say, always as a suggestion that a person accepts or ignores.

- Words: a report is segmented with jieba (its dictionary and IDF table ship inside the package, so nothing is
  downloaded), common variants are folded into one word (SYNONYMS), and the words weighted by TF-IDF; Chinese
  character bigrams are added at a lower weight, so short texts and words jieba cuts differently still meet.
  The unit vector is stored beside the report (CaseTerms) when it is filed.
- Duplicates at the door (`similar`): open reports near in place — the same station (else the same deputy),
  or within DUPLICATE_NEAR_METRES when both have coordinates — whose cosine similarity reaches
  DUPLICATE_THRESHOLD. A citizen may follow one ("我也遇到", `support`, once per person) instead of filing.
- Routing (`train`, `suggest`): a multinomial naive Bayes over the words of past assigned reports gives the
  likely category and lead department of a new one; retrained nightly (jobs), accuracy on held-out cases.
- Topics (`topics`, `clusters`, `dashboard`, `monthly_report`): keywords and near-duplicate clusters of a
  period with counts, trend and rising flags; places; category × township; a .docx 每月一题 report.
"""
import datetime as dt
import functools
import io
import math
import re
from collections import Counter, defaultdict

from peewee import IntegrityError, fn

from models import (AnalysisModel, Answer, Case, CaseTerms, CaseWord, Department, Station, Support, create_row, db,
                    insert_rows, retried, utcnow)
from services import calendar
from services.errors import InvalidInput, NotFound
from services.vocab import ANSWER_CLASSES, CATEGORIES, OPEN_STATES, RATINGS, setting

THRESHOLD = 0.25       # cosine similarity from which an open report is offered as the same problem
NEAR_METRES = 500      # "near" when both reports carry coordinates
BIGRAM_WEIGHT = 0.1    # a character bigram counts this much of an average word (0.35 before: docs/performance.md)
KEYWORDS = 5           # strongest words kept per report for topics
REPORT = "report"      # the kind analysed: citizens' reports (not deputies' suggestions)
OFFERED = 5            # at most this many similar reports offered
INDEXED = 10           # a report's strongest words in the inverted index (CaseWord)
CANDIDATES = 60        # reports sharing the most (weight of) indexed words, then compared in full
POSTINGS = 300         # newest index rows read per word and place (a rare word has fewer: all of them)
BOXED = 1000           # newest reports with coordinates inside the box read

# Variants villagers write for the same thing, folded into one word before weighting.
SYNONYMS = {
    "路": ("道路", "马路", "公路", "路面", "村道", "水泥路", "柏油路", "乡道", "土路", "小路", "通村路"),
    "破损": ("坏", "坑洼", "坑坑洼洼", "坑", "大坑", "损坏", "烂", "破烂", "坏掉", "坏了", "塌陷", "开裂", "裂缝",
          "烂路", "坑洞", "凹凸不平", "不平"),
    "路灯": ("灯", "照明", "灯泡", "电灯"),
    "不亮": ("黑", "黑漆漆", "黑灯瞎火", "熄", "灭"),
    "垃圾": ("废物", "垃圾堆", "生活垃圾", "垃圾桶", "垃圾站"),
    "臭": ("臭味", "异味", "恶臭", "气味", "难闻", "熏"),
    "停水": ("没水", "断水", "缺水", "自来水"),
    "漏水": ("渗水", "冒水", "爆管", "水管"),
    "噪音": ("噪声", "吵", "太吵", "吵闹", "轰鸣"),
    "学校": ("小学", "中学", "学堂", "校门", "校门口"),
    "孩子": ("小孩", "娃", "娃娃", "学生", "小朋友"),
    "医保": ("医疗保险", "合作医疗", "新农合"),
    "养老金": ("退休金", "养老保险"),
    "排水": ("下水道", "排水沟", "水沟", "阴沟", "积水", "淹"),
    "停车": ("乱停", "乱停车", "占道", "停放"),
    "桥": ("桥梁", "便桥", "石桥", "小桥"),
    "公交": ("公交车", "班车", "客车", "大巴"),
}
CANONICAL = {variant: word for word, variants in SYNONYMS.items() for variant in variants}
KEEP_SINGLE = set(SYNONYMS) | {"水", "电", "桥", "灯", "臭", "吵", "脏", "堵", "漏", "塌", "摔"}
STOPWORDS = set("""的 了 是 在 我 我们 你 你们 他 她 他们 这 那 这个 那个 这里 那里 有 没有 也 都 就 还 又 和 与 及 或
着 过 吧 呢 啊 吗 嘛 呀 哦 哈 很 太 非常 特别 一直 已经 现在 今天 昨天 每天 天天 时候 问题 情况 希望 请 麻烦 能 能否
可以 能够 要 需要 一下 一个 一些 什么 怎么 为什么 因为 所以 但是 可是 然后 而且 如果 就是 还是 不是 真的 根本 实在
反映 领导 政府 相关 部门 尽快 解决 处理 一点 好几 几次 好 多 大家 老百姓 群众 村民 居民 附近 那条 这条 几个 好几个
月 年 天 啥 咋 么 给 让 被 把 对 从 到 去 来 说 看 想 会 得 地 之 其 该 此 并 等 等等 该 谢谢""".split())
PLACE = re.compile(r"[\u4e00-\u9fff]{2}(?:村|社区|小区|镇|乡|街)")  # village and community names jieba cuts apart
PLACE_WEIGHT = 1.5  # a place named in the text counts this much more than a word of the same rarity
WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
HAN = re.compile(r"[\u4e00-\u9fff]+")


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.analyse
    jieba.setLogLevel(60)
    for word in CANONICAL:
        jieba.add_word(word)
    return jieba, jieba.analyse.default_tfidf.idf_freq, jieba.analyse.default_tfidf.median_idf


def tokens(text):
    """The report's words: jieba's segmentation, variants folded (SYNONYMS), stop words and punctuation out."""
    jieba, _, _ = _jieba()
    out = []
    for token in jieba.lcut(str(text or "")):
        token = token.strip().lower()
        if not WORD.fullmatch(token):
            continue
        token = CANONICAL.get(token, token)
        if token in STOPWORDS or (len(token) < 2 and token not in KEEP_SINGLE) or token.isdigit():
            continue
        out.append(token)
    return out + PLACE.findall(str(text or ""))


def bigrams(text):
    return [run[i:i + 2] for run in HAN.findall(str(text or "")) for i in range(len(run) - 1)]


def vector(text):
    """{term: weight} of unit length: TF-IDF of the words, plus character bigrams (prefixed "~") at BIGRAM_WEIGHT."""
    _, idf, median = _jieba()
    weights = defaultdict(float)
    places = set(PLACE.findall(str(text or "")))
    for token, n in Counter(tokens(text)).items():
        weights[token] = (1 + math.log(n)) * idf.get(token, median) * (PLACE_WEIGHT if token in places else 1)
    for gram, n in Counter(bigrams(text)).items():
        weights["~" + gram] = (1 + math.log(n)) * median * BIGRAM_WEIGHT
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {term: round(w / norm, 4) for term, w in weights.items()}


def cosine(a, b):
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())


def keywords(vec, n=KEYWORDS):
    return [t for t, _ in sorted(((t, w) for t, w in vec.items() if not t.startswith("~")),
                                 key=lambda tw: -tw[1])[:n]]


def case_text(case):
    return text_of(case.title, case.content, case.location)


def text_of(title, content, location):
    return "\n".join(filter(None, [title, content, location]))


def index_rows(case_id, station_id, vec):
    """The CaseWord rows of one report."""
    return [{"word": word[:32], "case": case_id, "station": station_id or 0}
            for word in dict.fromkeys(w[:32] for w in keywords(vec, INDEXED))]


def index(case, new=False, vec=None):
    """Store (or refresh) a report's vector and indexed words; called with every report filed, in its
    transaction (`new`: just inserted, so there is nothing of it to replace; `vec`: its vector, worked out
    before the transaction so that the segmenting is not done holding the write lock)."""
    vec = vec if vec is not None else vector(case_text(case))
    row = dict(station=case.station_id or 0, latitude=case.latitude, longitude=case.longitude, vector=vec,
               keywords=keywords(vec))
    if new or CaseTerms.update(**row).where(CaseTerms.case == case.id).execute() == 0:
        create_row(CaseTerms, case=case.id, **row)
    if not new:
        CaseWord.delete().where(CaseWord.case == case.id).execute()
    insert_rows(CaseWord, index_rows(case.id, case.station_id, vec))


def reindex(query=None):
    """Vectors for every report (or `query`'s) that has none: migrations and the nightly job (each runs it in
    its own transaction)."""
    query = query if query is not None else Case.select()
    missing = query.where(Case.kind == REPORT, Case.id.not_in(CaseTerms.select(CaseTerms.case)))
    done = 0
    for case in list(missing):
        index(case)
        done += 1
    return done


def prune():
    """The nightly job's tidy-up of the inverted index, which only open reports need: the words of reports
    closed since are dropped, and a report opened again (二次办理) gets its words back. Returns (dropped, added)."""
    closed = Case.select(Case.id).where(Case.kind == REPORT, Case.state.not_in(OPEN_STATES))
    dropped = CaseWord.delete().where(CaseWord.case.in_(closed)).execute()
    reopened = (CaseTerms.select(CaseTerms.case, CaseTerms.station, CaseTerms.vector).join(
        Case, on=(Case.id == CaseTerms.case)).where(Case.kind == REPORT, Case.state.in_(OPEN_STATES), Case.id.not_in(
            CaseWord.select(CaseWord.case))))
    added = 0
    for case_id, station_id, vec in list(reopened.tuples()):
        rows = index_rows(case_id, station_id, vec if isinstance(vec, dict) else CaseTerms.vector.python_value(vec))
        if rows:
            CaseWord.insert_many(rows).execute()
            added += 1
    return dropped, added


# --- duplicates at the door ------------------------------------------------------------------------

def metres(lat1, lng1, lat2, lng2):
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 6371000 * 2 * math.asin(math.sqrt(min(1.0, a)))


def _postings(words, station_id, before):
    """[(case id, word)] from the newest POSTINGS index rows of each word at one station (0: reports with no
    station) — one UNION ALL of index range scans, so the work is capped by the words, not by the table: a rare
    word (a village's name) brings every report that has it, a common one (路, 破损) only its newest."""
    p = db.param
    older = f" AND case_id < {p}" if before is not None else ""
    sql = " UNION ALL ".join(
        f"SELECT case_id, {n} FROM (SELECT case_id FROM case_word WHERE word = {p} AND station = {p}{older} "
        f"ORDER BY case_id DESC LIMIT {POSTINGS}) w{n}" for n in range(len(words)))
    params = [x for word in words for x in ((word, station_id, before.id) if before is not None
                                            else (word, station_id))]
    return [(case_id, words[int(n)]) for case_id, n in db.execute_sql(sql, params).fetchall()]


def _in_box(words, box, before):
    """[(case id, word)] of the newest BOXED reports with coordinates inside the box."""
    near = CaseTerms.select(CaseTerms.case).where(box)
    if before is not None:
        near = near.where(CaseTerms.case < before.id)
    ids = [i for (i,) in near.order_by(CaseTerms.case.desc()).limit(BOXED).tuples()]
    return list(CaseWord.select(CaseWord.case, CaseWord.word).where(
        CaseWord.case.in_(ids), CaseWord.word.in_(words)).tuples()) if ids else []


def _candidates(weights, station_id, by_deputy, box, before):
    """The CANDIDATES reports near in place whose indexed words carry most of the new text's weight (its
    strongest words, `weights`), best first, newest first."""
    words = list(weights)
    rows = _postings(words, station_id, before) if station_id or by_deputy else []
    if box is not None:
        rows = set(rows) | set(_in_box(words, box, before))
    shared = defaultdict(float)
    for case_id, word in rows:
        shared[case_id] += weights[word]
    return [i for i, _ in sorted(shared.items(), key=lambda kv: (-kv[1], -kv[0]))[:CANDIDATES]]


def similar(text, station=None, deputy=None, latitude=None, longitude=None, exclude=None, before=None,
            threshold=None, limit=OFFERED):
    """[(case, score)] — open reports near in place whose words match `text`, best first.

    Near: the same station (else, with no station, the same deputy), or within DUPLICATE_NEAR_METRES when
    coordinates are known. `exclude` leaves one case out; `before` keeps only reports filed before it."""
    threshold = setting("DUPLICATE_THRESHOLD", THRESHOLD) if threshold is None else threshold
    vec = vector(text)
    if not vec:
        return []
    station_id = getattr(station, "id", station) or 0
    deputy_id = getattr(deputy, "id", deputy)
    near = setting("DUPLICATE_NEAR_METRES", NEAR_METRES)
    box = None
    if latitude is not None and longitude is not None:
        dlat = near / 111320.0
        dlng = dlat / max(0.01, math.cos(math.radians(latitude)))
        box = CaseTerms.latitude.between(latitude - dlat, latitude + dlat) & \
            CaseTerms.longitude.between(longitude - dlng, longitude + dlng)
    weights = {}
    for word in keywords(vec, INDEXED * 2):
        weights.setdefault(word[:32], vec[word])
    if not weights or not (station_id or deputy_id is not None or box is not None):
        return []
    ids = _candidates(weights, station_id, deputy_id is not None, box, before)
    if not ids:
        return []
    # the candidates still open and public, compared in full (plain SQL: building these statements with the
    # ORM cost more than running them)
    p, case_table = db.param, db.quote[0] + Case._meta.table_name + db.quote[1]
    sql = (f"SELECT t.case_id, t.vector, t.station, t.latitude, t.longitude, c.deputy_id FROM case_terms t "
           f"JOIN {case_table} c ON c.id = t.case_id WHERE t.case_id IN ({', '.join([p] * len(ids))}) "
           f"AND c.kind = {p} AND c.state IN ({', '.join([p] * len(OPEN_STATES))}) AND c.review <> {p}")
    params = [*ids, REPORT, *OPEN_STATES, "withheld"]
    if exclude is not None:
        sql += f" AND t.case_id <> {p}"
        params.append(getattr(exclude, "id", exclude))
    if before is not None:
        sql += f" AND c.submitted_at <= {p}"
        params.append(Case.submitted_at.db_value(before.submitted_at))
    scored = []
    for case_id, stored, row_station, lat, lng, row_deputy in db.execute_sql(sql, params).fetchall():
        same_place = row_station == station_id and (station_id or deputy_id is not None and row_deputy == deputy_id)
        if not same_place and (box is None or lat is None or metres(latitude, longitude, lat, lng) > near):
            continue
        score = cosine(vec, CaseTerms.vector.python_value(stored))
        if score >= threshold:
            scored.append((score, case_id))
    scored.sort(reverse=True)
    top = scored[:limit]
    cases = {c.id: c for c in Case.raw(f"SELECT * FROM {case_table} WHERE id IN ({', '.join([p] * len(top))})",
                                       *[i for _, i in top])} if top else {}
    return [(cases[i], round(s, 3)) for s, i in top if i in cases]


def offers_for_report(args):
    """附近有相同的反映 for a report being written — `args` as the report form sends them: its deputy, station or
    project code, `text`, optional latitude/longitude — as what the citizen is shown (`offered`, with a score).
    Fewer than five characters of text: nothing."""
    from services.workflow import _coordinate, resolve_target
    text = str(args.get("text") or "")[:2000]
    data = {k: args.get(k) for k in ("deputy", "station", "project", "latitude", "longitude") if args.get(k)}
    deputy, station, _ = resolve_target(data)
    latitude, longitude = _coordinate(data, "latitude", 90), _coordinate(data, "longitude", 180)
    if len(text.strip()) < 5:
        return []
    found = similar(text, station=station, deputy=deputy, latitude=latitude, longitude=longitude)
    counts = support_counts(c.id for c, _ in found)
    return [{**offered(c, counts.get(c.id, 0)), "score": score} for c, score in found]


def supporters(case):
    return Support.select().where(Support.case == case).count()


def support_counts(case_ids):
    ids = list(case_ids)
    if not ids:
        return {}
    return dict(Support.select(Support.case, fn.COUNT(Support.id)).where(Support.case.in_(ids))
                .group_by(Support.case).tuples())


@retried
def support(case, account):
    """我也遇到: `account` met the same problem as open report `case`. Once per person: a second time changes
    nothing. Returns (count, added)."""
    if case.kind != REPORT:
        raise NotFound("case_not_found", "未找到这条反映")
    if case.state not in OPEN_STATES:
        raise InvalidInput("case_not_open", "这条反映已经办结，如果问题还在，请重新反映")
    if account is None or account.role != "citizen":
        raise InvalidInput("not_citizen", "只有群众可以点“我也遇到”")
    if case.reporter_id == account.id:
        raise InvalidInput("own_case", "这是您自己的反映")
    try:
        with db.atomic():
            Support.create(case=case, account=account)
        added = True
    except IntegrityError:  # counted already (a second click, or two racing): the unique key keeps one
        added = False
    return supporters(case), added


def offered(case, supported=0):
    """What a citizen sees of someone else's open report: its title, place, date, state — never who."""
    from services.vocab import state_label
    return {"number": case.number, "title": case.title, "location": case.location,
            "submitted": calendar.local(case.submitted_at).strftime("%Y-%m-%d"),
            "state": state_label(case.state, for_public=True), "supporters": supported}


# --- routing suggestion ------------------------------------------------------------------------------

HOLDOUT = 0.2  # the newest fifth of assigned reports measures the model; then it is trained on all


def _training_rows():
    query = (Case.select(Case.category, Case.lead_department, CaseTerms.vector)
             .join(CaseTerms, on=(CaseTerms.case == Case.id))
             .where(Case.kind == REPORT, Case.lead_department.is_null(False)).order_by(Case.submitted_at, Case.id))
    rows = []
    for category, department, vec in query.tuples().iterator():
        vec = vec if isinstance(vec, dict) else CaseTerms.vector.python_value(vec)
        words = [t for t in vec if not t.startswith("~")]
        rows.append((words, category, department))
    return rows


def _fit(rows, label):
    """Multinomial naive Bayes counts: {"classes": {c: docs}, "words": {c: total}, "counts": {w: {c: n}}}."""
    classes, totals, counts = Counter(), Counter(), defaultdict(Counter)
    for row in rows:
        cls = str(row[label])
        classes[cls] += 1
        for word in row[0]:
            counts[word][cls] += 1
            totals[cls] += 1
    return {"classes": dict(classes), "words": dict(totals), "counts": {w: dict(c) for w, c in counts.items()}}


def _rank(model, words):
    classes = model["classes"]
    if not classes:
        return []
    docs, vocab = sum(classes.values()), max(1, len(model["counts"]))
    scores = {}
    for cls, n in classes.items():
        denominator = model["words"].get(cls, 0) + vocab
        score = math.log(n / docs)
        for word in words:
            if word in model["counts"]:
                score += math.log((model["counts"][word].get(cls, 0) + 1) / denominator)
        scores[cls] = score
    top = max(scores.values())
    exp = {cls: math.exp(s - top) for cls, s in scores.items()}
    total = sum(exp.values())
    return sorted(((cls, p / total) for cls, p in exp.items()), key=lambda cp: -cp[1])


def _accuracy(train_rows, test_rows, label):
    model = _fit(train_rows, label)
    top1 = top3 = 0
    for row in test_rows:
        ranked = [cls for cls, _ in _rank(model, row[0])[:3]]
        top1 += bool(ranked) and ranked[0] == str(row[label])
        top3 += str(row[label]) in ranked
    n = len(test_rows)
    return {"top1": round(top1 / n, 3) if n else None, "top3": round(top3 / n, 3) if n else None, "n": n}


@retried
def train(rows=None, name="routing"):
    """Retrain the routing model on every assigned report; accuracy on the newest HOLDOUT share first."""
    rows = _training_rows() if rows is None else rows
    cut = len(rows) - max(1, int(len(rows) * HOLDOUT)) if len(rows) >= 5 else len(rows)
    accuracy = {"category": _accuracy(rows[:cut], rows[cut:], 1), "department": _accuracy(rows[:cut], rows[cut:], 2),
                "train": cut, "test": len(rows) - cut}
    data = {"category": _fit(rows, 1), "department": _fit(rows, 2)}
    row = dict(data=data, accuracy=accuracy, cases=len(rows), trained_at=utcnow())
    with db.atomic():
        if AnalysisModel.update(**row).where(AnalysisModel.name == name).execute() == 0:
            AnalysisModel.create(name=name, **row)
    _loaded.cache_clear()
    return accuracy


@functools.lru_cache(maxsize=2)
def _loaded(name, trained_at):
    found = AnalysisModel.get_or_none(AnalysisModel.name == name)
    return found.data if found else None


def routing_model():
    """The stored routing model's header (accuracy, cases, trained_at), or None before the first training."""
    return AnalysisModel.select(AnalysisModel.name, AnalysisModel.accuracy, AnalysisModel.cases,
                                AnalysisModel.trained_at).where(AnalysisModel.name == "routing").first()


def suggest(case, n=3):
    """{"category": [(key, label, p)], "department": [(Department, p)], "model": header} or None without a model."""
    header = routing_model()
    if header is None or not header.cases:
        return None
    data = _loaded("routing", header.trained_at)
    words = keywords(vector(case_text(case)), n=50)
    categories = [(c, CATEGORIES.get(c, c), round(p, 3)) for c, p in _rank(data["category"], words)[:n]]
    ranked = _rank(data["department"], words)[:n]
    departments = {str(d.id): d for d in Department.select().where(Department.id.in_([int(c) for c, _ in ranked]))}
    return {"category": categories, "department": [(departments[c], round(p, 3)) for c, p in ranked
                                                   if c in departments], "model": header}


# --- topics, places, the monthly report ----------------------------------------------------------------

def period(days=30, end=None):
    """(start, end, previous start) in UTC for the `days` before `end` (default: now, this second included) and
    the period before."""
    end = end or utcnow() + dt.timedelta(seconds=1)
    return end - dt.timedelta(days=days), end, end - dt.timedelta(days=2 * days)


def _scoped(query, station=None):
    if station is not None:
        query = query.where(Case.station.in_(Station.select(Station.id).where(Station.path.startswith(station.path))))
    return query


def _rows(start, end, station=None):
    query = (Case.select(Case, CaseTerms.keywords, CaseTerms.vector).join(CaseTerms, on=(CaseTerms.case == Case.id))
             .where(Case.kind == REPORT, Case.submitted_at >= start, Case.submitted_at < end)
             .order_by(Case.submitted_at, Case.id))
    return list(_scoped(query, station).objects())


def topics(days=30, end=None, station=None, limit=15, rising_ratio=2.0, rising_floor=3):
    """The period's keywords: reports mentioning each, the count in the period before, trend and a rising flag
    (at least `rising_floor` reports and `rising_ratio` times the period before)."""
    start, end, before = period(days, end)
    current, previous = Counter(), Counter()
    numbers = defaultdict(list)
    for case in _rows(start, end, station):
        for word in case.keywords or []:
            current[word] += 1
            numbers[word].append(case.number)
    for case in _rows(before, start, station):
        for word in case.keywords or []:
            previous[word] += 1
    out = []
    for word, count in current.most_common():
        if len(out) == limit:
            break
        if any(word in kept["word"] and set(numbers[word]) <= set(kept["cases"]) for kept in out):
            continue  # a piece of a longer word already listed for the same reports ("塘村" of "南塘村")
        prior = previous.get(word, 0)
        out.append({"word": word, "count": count, "previous": prior,
                    "trend": None if not prior else round((count - prior) / prior, 2),
                    "rising": count >= rising_floor and count >= rising_ratio * max(prior, 1) if prior
                    else count >= rising_floor, "cases": numbers[word]})
    return out


def _town(station_id, stations):
    """The township (level town) a station belongs to, else the station itself."""
    station = stations.get(station_id)
    if station is None:
        return None
    for part in station.path.strip("/").split("/"):
        above = stations.get(int(part)) if part.isdigit() else None
        if above is not None and above.level == "town":
            return above
    return station


def clusters(days=30, end=None, station=None, threshold=None, minimum=2):
    """Groups of reports about one problem in one place (each joins the first group whose lead report it
    matches, within the same station), biggest first, with the previous period's count of similar reports."""
    threshold = setting("DUPLICATE_THRESHOLD", THRESHOLD) if threshold is None else threshold
    start, end, before = period(days, end)
    groups = []
    by_station = defaultdict(list)
    for case in _rows(start, end, station):
        vec = case.vector if isinstance(case.vector, dict) else CaseTerms.vector.python_value(case.vector)
        for group in by_station[case.station_id]:
            if cosine(vec, group["vector"]) >= threshold:
                group["cases"].append(case)
                break
        else:
            group = {"vector": vec, "cases": [case], "station": case.station}
            by_station[case.station_id].append(group)
            groups.append(group)
    previous = _rows(before, start, station)
    out = []
    for group in groups:
        if len(group["cases"]) < minimum:
            continue
        words = Counter(w for c in group["cases"] for w in (c.keywords or []))
        prior = sum(1 for c in previous if c.station_id == group["cases"][0].station_id
                    and cosine(group["vector"], c.vector if isinstance(c.vector, dict)
                               else CaseTerms.vector.python_value(c.vector)) >= threshold)
        lead = group["cases"][0]
        out.append({"title": lead.title, "keywords": [w for w, _ in words.most_common(4)],
                    "count": len(group["cases"]), "previous": prior, "rising": len(group["cases"]) >= 3
                    and len(group["cases"]) >= 2 * max(prior, 1), "station": group["station"],
                    "cases": group["cases"],
                    "category": Counter(c.category for c in group["cases"]).most_common(1)[0][0]})
    out.sort(key=lambda g: (-g["count"], g["cases"][0].submitted_at))
    return out


def dashboard(days=30, end=None, station=None):
    """Everything the 民情 page shows: topics, clusters, points for the map, category × township."""
    start, end, _ = period(days, end)
    rows = _rows(start, end, station)
    stations = {s.id: s for s in Station.select()}
    table, towns, by_place = defaultdict(Counter), {}, Counter()
    for case in rows:
        town = _town(case.station_id, stations)
        key = town.id if town else 0
        towns[key] = town.name if town else "未指定"
        table[key][case.category] += 1
        by_place[towns[key]] += 1
    points = [{"lat": c.latitude, "lng": c.longitude, "title": c.title, "number": c.number}
              for c in rows if c.latitude is not None and c.longitude is not None]
    return {"start": start, "end": end, "days": days, "total": len(rows), "topics": topics(days, end, station),
            "clusters": clusters(days, end, station), "points": points, "by_place": by_place.most_common(),
            "categories": CATEGORIES, "towns": sorted(towns.items(), key=lambda kv: -sum(table[kv[0]].values())),
            "table": table}


def suggestion_from(numbers, actor):
    """民意转化: the fields of a 代表建议 draft made from a cluster of reports (services/suggestions.draft takes them
    with the lead deputy): a title naming the place and the problem, the reports listed as the 理由和现状, the
    reports attached; the measures are left for the deputy to write."""
    from services.vocab import LIMITS
    from services.workflow import can_view
    cases = [c for c in Case.select().where(Case.number.in_(list(numbers)[:50]), Case.kind == REPORT)
             .order_by(Case.submitted_at) if can_view(c, actor)]
    if not cases:
        raise InvalidInput("no_reports", "请选择要转为代表建议的群众反映", field="numbers")
    words = Counter(w for c in cases for w in (CaseTerms.get_or_none(CaseTerms.case == c.id) or CaseTerms()).keywords
                    or [])
    place = cases[0].station.name.replace("联络站", "") if cases[0].station_id else ""
    topic = "、".join(w for w, _ in words.most_common(2)) or cases[0].title
    supported = sum(support_counts(c.id for c in cases).values())
    lines = [f"{c.number} {c.title}" + (f"（{c.location}）" if c.location else "") for c in cases]
    reasons = (f"{calendar.local(cases[0].submitted_at):%Y年%m月%d日}以来，{place or '本地'}共有 {len(cases)} 件群众反映"
               f"同一问题" + (f"，另有 {supported} 人点了“我也遇到”" if supported else "") + "：\n" + "\n".join(lines))
    return {"title": f"关于解决{place}{topic}问题的建议"[:LIMITS["title"]], "cause": f"{place}群众集中反映{topic}问题"[
        :LIMITS["cause"]], "reasons": reasons[:LIMITS["reasons"]], "measures": "（请领衔代表调研、面商后填写具体建议）",
        "category": Counter(c.category for c in cases).most_common(1)[0][0], "session": 0,
        "from_reports": [c.number for c in cases]}


def month_bounds(month):
    """(start, end) in UTC of a local calendar month "YYYY-MM"."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError):
        raise InvalidInput("invalid_month", "月份格式应为 2026-11", field="month") from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return calendar.utc_start(first.date()), calendar.utc_start(following.date())


def monthly_report(month, station=None):
    """每月一题 candidates for a month as a .docx (bytes): the recurring problems, where, which departments,
    how they were answered."""
    from docx import Document
    start, end = month_bounds(month)
    days = (end - start).days
    found = clusters(days=days, end=end, station=station)
    month_reports = _scoped(Case.select().where(Case.kind == REPORT, Case.submitted_at >= start,
                                                Case.submitted_at < end), station)
    if not found and not month_reports.exists():
        raise NotFound("no_reports", "这个月没有群众反映")
    doc = Document()
    doc.add_heading(f"{month[:4]}年{int(month[5:])}月民情分析 · 每月一题候选", 0)
    total = month_reports.count()
    doc.add_paragraph(f"本月共收到群众反映 {total} 件；以下是同一地点多人反映的问题，按反映人数排列，供确定“每月一题”参考。"
                      "（系统自动归纳，仅供参考，请工作人员核实。）")
    for rank, group in enumerate(found[:10], 1):
        cases = group["cases"]
        ids = [c.id for c in cases]
        doc.add_heading(f"{rank}. {group['title']}（{group['count']} 件）", level=1)
        towns = Counter(c.station.name for c in cases if c.station_id)
        departments = Counter(c.lead_department.name for c in cases if c.lead_department_id)
        answers = Counter(a.answer_class for a in Answer.select().where(Answer.case.in_(ids)))
        ratings = Counter(c.rating for c in cases if c.rating)
        supported = sum(support_counts(ids).values())
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in (
                ("关键词", "、".join(group["keywords"])),
                ("类别", CATEGORIES.get(group["category"], group["category"])),
                ("地点", "、".join(f"{n}（{k}件）" for n, k in towns.most_common()) or "未指定"),
                ("反映与附议", f"{group['count']} 件反映，{supported} 人点了“我也遇到”；上期相似反映 {group['previous']} 件"
                 + ("，呈上升趋势" if group["rising"] else "")),
                ("承办单位", "、".join(f"{n}（{k}件）" for n, k in departments.most_common()) or "尚未交办"),
                ("答复情况", "、".join(f"{k}类 {ANSWER_CLASSES[k]} {n}件" for k, n in sorted(answers.items()))
                 or "尚未答复"),
                ("群众评价", "、".join(f"{RATINGS[k]} {n}件" for k, n in ratings.most_common()) or "尚无评价"),
                ("案件", "、".join(c.number for c in cases))):
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
    if not found:
        doc.add_paragraph("本月没有同一地点多人反映的问题。")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
