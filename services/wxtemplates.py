"""The county's WeChat templates: read them from the accounts, propose the mapping, check it
(`flask --app app wechat templates`, docs/wechat.md).

A mapping says, for each of our templates (services/notify.py TEMPLATES) on each channel, which WeChat
template carries it and which of our values goes into each of that template's keywords ("<rule><kid>",
WeChat's key). The proposal matches keyword names against our values' labels and hints, and only where
the keyword's rule can hold the value; anything it cannot match is said, so the operator can pick
another template or edit the file.
"""
import json
from pathlib import Path

from services import notify

CHANNELS = {"subscribe": ("mp", "小程序订阅消息"), "template": ("oa", "公众号模板消息")}


def account_templates(channel):
    """The account's templates on a channel, as wechat.client reads them."""
    from wechat import client
    return client.mp_templates() if channel == "subscribe" else client.oa_templates()


def propose(key, template):
    """{keyword: value} for one account template, or None when a keyword has no value that fits it."""
    values = notify.TEMPLATES[key][1]
    mapped = {}
    for keyword, name in template["keywords"].items():
        rule = notify.rule_of(keyword)
        choice = next((value for value, (label, rules, hints) in values.items()
                       if value not in mapped.values() and rule in rules
                       and (name == label or any(h in name for h in hints))), None)
        if choice is None:
            return None
        mapped[keyword] = choice
    return mapped or None


def _likeness(key, template):
    return len(set(notify.TEMPLATES[key][0]) & set(template["title"])), len(template["keywords"])


def plan(channel, templates, picks=None):
    """{our key: (account template or None, mapping or None)}: the likeliest template whose every keyword
    takes one of our values (or the one picked by id for that key)."""
    picks = picks or {}
    result = {}
    for key in notify.TEMPLATES:
        if key in picks:
            candidates = [t for t in templates if t["id"] == picks[key]]
        else:
            candidates = sorted((t for t in templates if propose(key, t)), key=lambda t: _likeness(key, t),
                                reverse=True)
        chosen = candidates[0] if candidates else None
        result[key] = (chosen, propose(key, chosen) if chosen else None)
    return result


def entry(template, mapped):
    """The configuration entry for a chosen template (what WECHAT_*_TEMPLATES hold)."""
    return {"id": template["id"], "title": template["title"], "keywords": mapped,
            **({"long_term": True} if template.get("long_term") else {})}


def check(channel, configured, templates):
    """Problems of a configured channel mapping against the account's templates (Chinese)."""
    by_id = {t["id"]: t for t in templates}
    problems = []
    for key, item in (configured or {}).items():
        problems += notify.mapping_problems(key, item)
        if not isinstance(item, dict):
            continue
        template = by_id.get(item.get("id"))
        if template is None:
            problems.append(f"{key}：账号中没有模板 {item.get('id')}（已删除或填错）")
            continue
        keys, ours = set(template["keywords"]), set(item.get("keywords") or {})
        if ours - keys:
            problems.append(f"{key}：模板「{template['title']}」没有关键词 {'、'.join(sorted(ours - keys))}")
        if keys - ours:
            missing = "、".join(f"{k}（{template['keywords'][k]}）" for k in sorted(keys - ours))
            problems.append(f"{key}：模板「{template['title']}」的关键词 {missing} 没有对应内容")
        for keyword in keys & ours:
            if notify.rule_of(keyword) in ("enum", "const"):
                problems.append(f"{key}：{keyword} 只能填模板列出的固定值，请换一个模板")
    return problems


def needs(key):
    """What each of our templates needs, for the operator: its values and the messages that use it."""
    title, values = notify.TEMPLATES[key]
    kinds = [m.title for m in notify.MESSAGES.values() if m.template == key]
    wanted = "、".join(f"{label}（{value}：{'/'.join(rules)}）" for value, (label, rules, _) in values.items())
    return f"{key}「{title}」需要：{wanted}；用于 {len(dict.fromkeys(kinds))} 种消息：{'、'.join(dict.fromkeys(kinds))}"


def write(path, mappings):
    """Merge {"mp": {...}} / {"oa": {...}} into the mapping file (the other channel's part is kept)."""
    path = Path(path)
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update(mappings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
