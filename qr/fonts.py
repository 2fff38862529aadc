"""Noto Sans CJK SC (Debian's fonts-noto-cjk) for the printables: text measured and turned into outlines.

Printables carry their text as vector outlines, so a print shop needs no fonts and every renderer (cairo for
PNG/PDF, Illustrator, a browser) draws exactly the same shapes.
"""
import os
import threading

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.ttLib import TTCollection

FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/local/share/fonts")
FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}
FAMILY = "Noto Sans CJK SC"
ASCENT, LINE = 0.88, 1.32  # baseline below the line top, and line height, in ems (CJK ideographic box)


class FontMissing(RuntimeError):
    pass


class Face:
    """One weight of the font: advance widths and glyph outlines, looked up lazily and cached."""

    def __init__(self, path):
        collection = TTCollection(path, lazy=True)
        self.font = next((f for f in collection.fonts if f["name"].getDebugName(1) == FAMILY), None)
        if self.font is None:
            raise FontMissing(f"{FAMILY} not in {path}")
        self.em = self.font["head"].unitsPerEm
        self.cmap = self.font.getBestCmap()
        self.glyphs = self.font.getGlyphSet()
        self.metrics = self.font["hmtx"].metrics
        self.outlines = {}
        self.lock = threading.Lock()

    def glyph(self, char):
        """(glyph name, advance in ems); unknown characters fall back to the font's '?'."""
        name = self.cmap.get(ord(char)) or self.cmap.get(ord("?"))
        return name, self.metrics[name][0] / self.em

    def width(self, text):
        return sum(self.glyph(c)[1] for c in text)

    def outline(self, name):
        """SVG path data of a glyph in font units (y up)."""
        with self.lock:
            if name not in self.outlines:
                pen = SVGPathPen(self.glyphs)
                self.glyphs[name].draw(pen)
                self.outlines[name] = pen.getCommands()
            return self.outlines[name]


_faces = {}
_faces_lock = threading.Lock()


def face(weight="regular"):
    with _faces_lock:
        if weight not in _faces:
            path = next((os.path.join(d, FILES[weight]) for d in FONT_DIRS
                         if os.path.exists(os.path.join(d, FILES[weight]))), None)
            if path is None:
                raise FontMissing(f"{FILES[weight]} not found: install Debian's fonts-noto-cjk (make run does)")
            _faces[weight] = Face(path)
        return _faces[weight]


NO_LINE_START = set("，。、；：！？）》」』”’,.;:!?)%")


def wrap(text, width, size, weight="regular"):
    """Break text into lines no wider than `width` at font size `size` (same units). Chinese breaks between any
    two characters, Latin words and numbers stay whole when they fit, and no line starts with closing
    punctuation. Explicit newlines are kept."""
    f = face(weight)
    lines = []
    for paragraph in str(text).split("\n"):
        tokens = _tokens(paragraph)
        line, used = "", 0.0
        for token in tokens:
            w = f.width(token) * size
            if line and used + w > width:
                lines.append(line.rstrip())
                line, used = "", 0.0
                if token.isspace():
                    continue
            if w > width and len(token) > 1:  # a word longer than the line: split it by character
                for char in token:
                    cw = f.width(char) * size
                    if line and used + cw > width:
                        lines.append(line)
                        line, used = "", 0.0
                    line, used = line + char, used + cw
                continue
            line, used = line + token, used + w
        lines.append(line.rstrip())
    return lines


def _tokens(text):
    """Words of ASCII letters/digits stay together; every other character is its own token; a closing
    punctuation mark sticks to the character before it."""
    tokens = []
    for char in text:
        if tokens and char.isascii() and char.isalnum() and tokens[-1][-1].isascii() and tokens[-1][-1].isalnum():
            tokens[-1] += char
        elif tokens and char in NO_LINE_START:
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def fit(text, width, height, size, min_size, weight="regular", max_lines=None):
    """The largest font size (from `size` down) at which `text` wraps into the box; returns (size, lines).
    Below `min_size` it keeps shrinking rather than cut anything: the text always fits."""
    while True:
        lines = wrap(text, width, size, weight)
        fits = len(lines) * size * LINE <= height + 1e-6 and all(face(weight).width(l) * size <= width + 1e-6
                                                                  for l in lines)
        if fits and (max_lines is None or len(lines) <= max_lines or size < min_size):
            return size, lines
        if size < 0.5:
            raise ValueError(f"text cannot fit into {width}x{height}: {text[:20]}…")
        size = round(size * 0.94, 3)
