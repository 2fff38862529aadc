"""Printables: the deputy card (代表联系卡), the project plaque (项目公示牌) and the station board (联络站牌).

Each is laid out once, in millimetres, as an SVG whose text is already turned into outlines (qr.fonts), so a
print shop needs no fonts. PNG (preview) and PDF (print) are rendered from that same drawing by cairo.
Long names shrink and wrap to fit their box: nothing overflows, nothing is cut.

Speed: the SVG a person downloads defines each glyph once and places it with <use>; the copy given to cairo
has the outlines written in place instead, because cairosvg re-parses the document for every <use>
(a card renders in about two thirds of the time). The drawing is the same.
"""
import base64
import io
import os
import re

from flask import current_app
from PIL import Image, ImageOps

from models import Deputy, ProjectDeputy, Upload
from qr import codes, fonts
from services import levels
from services.directory import DEPUTY_LEVELS, STATION_KINDS, station_deputies

RED, INK, GREY, WHITE = "#c8161d", "#1a1a1a", "#555555", "#ffffff"
FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}
PREVIEW_DPI = 150


def num(value):
    return f"{value:.3f}".rstrip("0").rstrip(".")


class Sheet:
    """A page in millimetres. Records where every text box and the code went (tests check the layout)."""

    def __init__(self, width, height, title):
        self.width, self.height, self.title = width, height, title
        self.body, self.defs = [], {}
        self.texts = []   # dicts: label, text, lines, size, box (x, y, w, h)
        self.frame = None
        self.code_box = None
        self.rect(0, 0, width, height, fill=WHITE)

    def rect(self, x, y, w, h, fill="none", stroke=None, stroke_width=0.6):
        line = f' stroke="{stroke}" stroke-width="{num(stroke_width)}"' if stroke else ""
        self.body.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{fill}"{line}/>')

    def border(self, inset, color=RED, stroke_width=1.0):
        """The frame everything stays inside."""
        self.frame = (inset, inset, self.width - 2 * inset, self.height - 2 * inset)
        self.rect(*self.frame, stroke=color, stroke_width=stroke_width)

    def text(self, text, x, y, w, h, size, min_size=None, weight="regular", color=INK, align="left",
             valign="top", label=None, max_lines=None):
        """Set `text` inside the box (x, y, w, h), shrinking and wrapping as needed. Returns the height used."""
        text = str(text or "").strip()
        if not text:
            return 0
        size, lines = fonts.fit(text, w, h, size, min_size or size * 0.5, weight, max_lines)
        face = fonts.face(weight)
        block = len(lines) * size * fonts.LINE
        top = y + {"top": 0, "middle": (h - block) / 2, "bottom": h - block}[valign]
        glyph_scale = size / face.em
        glyphs = []  # (glyph id, transform)
        for i, line in enumerate(lines):
            width = face.width(line) * size
            left = x + {"left": 0, "center": (w - width) / 2, "right": w - width}[align]
            baseline = top + (i * fonts.LINE + (fonts.LINE - 1) / 2 + fonts.ASCENT) * size
            for char in line:
                name, advance = face.glyph(char)
                gid = f"{weight[0]}{name}".replace(".", "_")
                if gid not in self.defs:
                    self.defs[gid] = face.outline(name)
                if self.defs[gid]:
                    glyphs.append((gid, f"translate({num(left)} {num(baseline)}) "
                                        f"scale({num(glyph_scale)} {num(-glyph_scale)})"))
                left += advance * size
        self.body.append(Glyphs(f'<g fill="{color}" aria-label="{codes.escape(text)}">', glyphs))
        self.texts.append({"label": label, "text": text, "lines": lines, "size": size, "box": (x, y, w, h),
                           "used": (x, top, w, block)})
        return block

    def code(self, url, x, y, size):
        """The QR code (its quiet zone included) as one square of `size` millimetres."""
        modules = codes.matrix(url, best_mask=True)
        n = len(modules) + 2 * codes.QUIET
        k = size / n
        self.body.append(f'<g transform="translate({num(x)} {num(y)}) scale({num(k)})" shape-rendering="crispEdges">'
                         f'<rect width="{n}" height="{n}" fill="{WHITE}"/>'
                         f'<path fill="#000" d="{codes.svg_path(modules)}"/></g>')
        self.code_box = (x, y, size, size)

    def image(self, data, x, y, w, h):
        """A photo cropped to the box's shape, embedded as JPEG."""
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.fit(ImageOps.exif_transpose(img).convert("RGB"), (int(w * 12), int(h * 12)))
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=88)
        href = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
        self.body.append(f'<image x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
                         f'preserveAspectRatio="none" xlink:href="{href}"/>')
        self.rect(x, y, w, h, stroke="#cccccc", stroke_width=0.3)

    def svg(self, inline=False):
        """The sheet as SVG bytes: each glyph outline defined once and placed with <use>, or (`inline`, the copy
        cairo renders fastest) written out at every place it is used."""
        defs = "" if inline else "".join(f'<path id="{gid}" d="{d}"/>' for gid, d in sorted(self.defs.items()) if d)
        body = "".join(part if isinstance(part, str) else part.svg(self.defs, inline) for part in self.body)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                f'width="{num(self.width)}mm" height="{num(self.height)}mm" '
                f'viewBox="0 0 {num(self.width)} {num(self.height)}">'
                f'<title>{codes.escape(self.title)}</title><defs>{defs}</defs>{body}</svg>\n'
                ).encode("utf-8")


class Glyphs:
    """One text block's glyphs in a sheet's body: a group tag and the placed glyphs (id, transform)."""

    def __init__(self, group, glyphs):
        self.group, self.glyphs = group, glyphs

    def svg(self, defs, inline=False):
        if inline:
            placed = (f'<path transform="{transform}" d="{defs[gid]}"/>' for gid, transform in self.glyphs)
        else:
            placed = (f'<use xlink:href="#{gid}" transform="{transform}"/>' for gid, transform in self.glyphs)
        return f'{self.group}{"".join(placed)}</g>'


def render(sheet, fmt, dpi=PREVIEW_DPI):
    """The sheet as svg, png (preview at `dpi`) or pdf bytes."""
    return sheet.svg() if fmt == "svg" else convert(sheet.svg(inline=True), fmt, dpi)


def convert(svg, fmt, dpi=PREVIEW_DPI):
    """SVG bytes as svg, png or pdf. The text is outlines already, so cairo needs no fonts."""
    if fmt == "svg":
        return svg
    import cairosvg  # needs libcairo2 (Debian), loaded only when a PNG or PDF is asked for
    if fmt == "png":
        return cairosvg.svg2png(bytestring=svg, dpi=dpi)
    if fmt == "pdf":
        # cairo stamps the time; a fixed stamp of the same length (offsets unchanged) makes the bytes repeatable
        return re.sub(rb"/CreationDate \(D:\d{14}Z\)", b"/CreationDate (D:20200101000000Z)",
                      cairosvg.svg2pdf(bytestring=svg), count=1)
    raise ValueError(fmt)


def _date(value, with_day=False):
    if not value:
        return ""
    return f"{value.year}年{value.month}月{value.day}日" if with_day else f"{value.year}年{value.month}月"


def _photo(deputy):
    """The deputy's photo bytes when it is an upload of ours ("/uploads/<token>" or the token itself)."""
    token = (deputy.photo or "").strip().rsplit("/", 1)[-1]
    upload = Upload.get_or_none(Upload.token == token) if token else None
    if upload is None:
        return None
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], upload.path)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return fh.read()


def deputy_card(deputy):
    """代表联系卡: A6 portrait (105 × 148 mm)."""
    s = Sheet(105, 148, f"{deputy.name} 人大代表联系卡")
    s.border(4)
    s.rect(4, 4, 97, 17, fill=RED)
    s.text("人大代表联系卡", 8, 6, 89, 13, 7, weight="bold", color=WHITE, align="center", valign="middle")
    photo = _photo(deputy)
    left = 10
    if photo:
        s.image(photo, 10, 26, 27, 36)
        left = 41
    width = 97 - left
    s.text(deputy.name, left, 26, width, 12.5, 9, min_size=5, weight="bold", label="name")
    s.text(levels.deputy_title(deputy, DEPUTY_LEVELS.get(deputy.level, deputy.level)), left, 39.5, width, 6, 4.5,
           label="level")
    s.text(deputy.station.name if deputy.station else "", left, 46, width, 10.5, 4, min_size=2.6, label="station")
    term = "—".join(_date(d) for d in (deputy.term_start, deputy.term_end) if d)
    s.text(f"任期：{term}" if term else "", left, 57, width, 5, 3.6, color=GREY, label="term")
    s.code(codes.public_url("d", deputy.code), 23.5, 64, 58)
    s.text("扫码找代表 反映问题", 8, 123, 89, 10, 6.5, weight="bold", color=RED, align="center", valign="middle",
           label="slogan")
    s.text(f"代表码 {deputy.code} · 微信或手机浏览器扫码均可", 8, 134, 89, 6, 3.2, color=GREY, align="center",
           label="code")
    return s


def project_plaque(project):
    """项目公示牌: A4 landscape (297 × 210 mm)."""
    s = Sheet(297, 210, f"{project.name} 民生实事项目公示牌")
    s.border(8, stroke_width=1.4)
    s.rect(8, 8, 281, 28, fill=RED)
    s.text(f"{project.year}年民生实事项目公示牌", 16, 11, 265, 22, 13, weight="bold", color=WHITE, align="center",
           valign="middle")
    s.text(project.name, 20, 44, 165, 58, 13, min_size=6, weight="bold", label="name", valign="middle")
    supervisors = "、".join(d.name for d in Deputy.select().join(ProjectDeputy)
                           .where(ProjectDeputy.project == project).order_by(ProjectDeputy.id))
    dates = "—".join(_date(d, True) for d in (project.planned_start, project.planned_end) if d)
    rows = [("承办单位", project.department.name if project.department else ""), ("计划工期", dates),
            ("项目地点", project.location), ("监督代表", supervisors)]
    y = 108
    for label, value in rows:
        if value:
            s.text(f"{label}：{value}", 20, y, 165, 19, 6.5, min_size=3.5, label=label)
            y += 21
    s.code(codes.public_url("p", project.code), 200, 46, 82)
    s.text("扫码看进展", 192, 130, 98, 16, 10, weight="bold", color=RED, align="center", valign="middle",
           label="slogan")
    s.text(f"项目编号 {project.code} · 扫码查看进度照片、反映问题", 192, 148, 98, 14, 4.2, color=GREY,
           align="center", label="code")
    return s


def station_board(station):
    """联络站牌: A4 portrait (210 × 297 mm)."""
    s = Sheet(210, 297, f"{station.name}")
    s.border(8, stroke_width=1.4)
    s.rect(8, 8, 194, 26, fill=RED)
    s.text("人大代表" + STATION_KINDS.get(station.kind, "代表联络站").replace("代表", ""), 14, 11, 182, 20, 11,
           weight="bold", color=WHITE, align="center", valign="middle")
    s.text(station.name, 18, 40, 174, 30, 11, min_size=6, weight="bold", align="center", valign="middle",
           label="name")
    s.code(codes.public_url("s", station.code), 50, 74, 110)
    s.text("扫码找代表 反映问题", 18, 186, 174, 14, 10, weight="bold", color=RED, align="center", valign="middle",
           label="slogan")
    members = "、".join(d.name for d in station_deputies(station))
    rows = [("地址", station.address), ("接待时间", station.reception_hours), ("联系电话", station.phone),
            ("驻站代表", members)]
    y = 206
    for label, value in rows:
        if value:
            s.text(f"{label}：{value}", 20, y, 170, 16, 6, min_size=3.2, label=label)
            y += 17.5
    s.text(f"站点编号 {station.code} · 微信或手机浏览器扫码均可", 18, 277, 174, 8, 3.6, color=GREY, align="center",
           valign="middle", label="code")
    return s


def binding_slip(who, code, link, expires_at):
    """微信绑定单: A6 landscape (148 × 105 mm) — whom it binds, the QR to scan in WeChat, the code to type."""
    from services.calendar import local
    s = Sheet(148, 105, f"{who} 微信绑定单")
    s.border(4)
    s.rect(4, 4, 140, 14, fill=RED)
    s.text("代表连心 · 微信绑定单", 8, 5.5, 132, 11, 6.5, weight="bold", color=WHITE, align="center", valign="middle")
    s.code(link, 8, 24, 56)
    s.text(who, 70, 24, 70, 14, 7, min_size=4, weight="bold", label="who")
    s.text("绑定码", 70, 41, 70, 6, 4, color=GREY)
    s.text(code, 70, 48, 70, 12, 9, weight="bold", color=RED, label="code")
    s.text("用微信扫左侧二维码；或关注“代表连心”公众号，发送“绑定 绑定码”。", 70, 62, 70, 16, 3.6, min_size=2.8,
           label="how")
    moment = local(expires_at)
    s.text(f"有效期至 {moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}，仅限本人使用一次", 8, 86, 132, 8, 3.4,
           color=GREY, align="center", valign="middle", label="expires")
    return s


SHEETS = {"card": ("d", deputy_card), "plaque": ("p", project_plaque), "board": ("s", station_board)}


def make(kind, code, fmt, dpi=PREVIEW_DPI):
    """Bytes of a printable by its kind (card|plaque|board), the public code and a format (svg|png|pdf)."""
    letter, build = SHEETS[kind]
    return render(build(codes.lookup(letter, code)), fmt, dpi)
