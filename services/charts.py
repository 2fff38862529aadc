"""Charts drawn on the server as inline SVG (no script, no CDN): horizontal bars and monthly columns."""
from markupsafe import Markup, escape

FONT = 'font-family="Noto Sans CJK SC, sans-serif"'
COLORS = {"ok": "#2e7d32", "warn": "#c62828", "plain": "#1565c0"}


def _fmt(value, percent):
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if percent else f"{value:g}"


def bars(rows, value, label="label", percent=False, floor=None, title="", width=560):
    """One horizontal bar per row; with `floor`, bars under it are red (e.g. 满意率 under 80 %)."""
    rows = [r for r in rows if r.get(value) is not None]
    top = 1.0 if percent else max([r[value] for r in rows] or [1]) or 1
    bar_h, gap, left, right = 22, 8, 150, 70
    height = 30 + len(rows) * (bar_h + gap) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" aria-label="{escape(title)}">',
             f'<text x="0" y="18" font-size="14" font-weight="bold" {FONT}>{escape(title)}</text>']
    span = width - left - right
    for i, r in enumerate(rows):
        y = 30 + i * (bar_h + gap)
        w = max(1, span * r[value] / top)
        color = COLORS["warn"] if floor is not None and r[value] < floor else COLORS["plain"]
        name = str(r[label] or "—")
        parts += [f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" font-size="12" {FONT}>'
                  f'{escape(name[:11])}</text>',
                  f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"><title>'
                  f'{escape(name)}：{_fmt(r[value], percent)}</title></rect>',
                  f'<text x="{left + w + 4:.1f}" y="{y + 16}" font-size="12" {FONT}>{_fmt(r[value], percent)}</text>']
    if floor is not None and percent:
        x = left + span * floor
        parts.append(f'<line x1="{x:.1f}" y1="26" x2="{x:.1f}" y2="{height - 6}" stroke="#c62828" '
                     f'stroke-dasharray="4 3"/>')
    if not rows:
        parts.append(f'<text x="0" y="46" font-size="12" fill="#777" {FONT}>暂无数据</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(rows, value, label="label", title="", width=560, height=220):
    """One column per row (e.g. per month), value printed on top."""
    top = max([r[value] or 0 for r in rows] or [1]) or 1
    n = max(len(rows), 1)
    slot = (width - 20) / n
    base = height - 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" aria-label="{escape(title)}">',
             f'<text x="0" y="18" font-size="14" font-weight="bold" {FONT}>{escape(title)}</text>',
             f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>']
    for i, r in enumerate(rows):
        h = (base - 40) * (r[value] or 0) / top
        x = 10 + i * slot + slot * 0.15
        parts += [f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                  f'fill="{COLORS["plain"]}"/>',
                  f'<text x="{x + slot * 0.35:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="11" '
                  f'{FONT}>{r[value] or 0}</text>',
                  f'<text x="{x + slot * 0.35:.1f}" y="{base + 16}" text-anchor="middle" font-size="11" '
                  f'{FONT}>{escape(str(r[label])[-5:])}</text>']
    if not rows:
        parts.append(f'<text x="10" y="60" font-size="12" fill="#777" {FONT}>暂无数据</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
