"""Draw a Document as a 1-bit image at the paper's dot width, with a CJK TrueType font.

This is what raster mode sends (GS v 0) and what the preview shows, so both are exact and do not
depend on the printer's ROM font (hardware.md §2.2 b).
"""

from __future__ import annotations

import functools
import math
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from .layout import Align, BigNumber, Block, Cut, Document, Feed, Paper, Qr, Rule, Size, Text

MIN_QR_MODULE = 4  # dots per module: 0.5 mm at 203 dpi, what a phone reads easily (hardware.md §2.3)
MIN_NUMBER_HEIGHT = 96  # dots: the number is read from a metre away
_THRESHOLD = 150  # anti-aliased grey → black below this: a touch bolder than 128, text stays crisp

# Known places of a CJK font, tried when fc-match is missing or answers with a non-CJK font.
_FALLBACK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2 = Simplified Chinese
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)


@dataclass(frozen=True, slots=True)
class _Metrics:
    """Pixel sizes for one paper width."""

    margin: int
    text: dict[Size, int]
    number: int  # target glyph height of the big number
    qr: int  # target QR side including quiet zone


_METRICS = {
    Paper.MM58: _Metrics(8, {Size.SMALL: 20, Size.NORMAL: 24, Size.LARGE: 32}, 120, 220),
    Paper.MM80: _Metrics(16, {Size.SMALL: 24, Size.NORMAL: 28, Size.LARGE: 40}, 150, 260),
}


@dataclass(frozen=True, slots=True)
class FontFile:
    path: str
    index: int = 0


def _fc_match(pattern: str) -> FontFile | None:
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell, our own pattern
            [exe, "-f", "%{file}|%{index}|%{lang}", pattern],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, rest = out.partition("|")
    index, _, langs = rest.partition("|")
    # fc-match always answers, with DejaVu when no CJK font is installed: insist on Chinese.
    if not path or "zh-cn" not in langs.split("|"):
        return None
    return FontFile(path, int(index or 0))


def find_cjk_font(override: str | None = None, *, bold: bool = False) -> FontFile:
    """The CJK font to draw with: `override` (a path, `path#index` for a TTC) or what fc-match finds."""
    if override:
        path, _, index = override.partition("#")
        if not Path(path).is_file():
            raise FileNotFoundError(f"font override {path} does not exist")
        return FontFile(path, int(index or 0))
    found = _fc_match("sans:lang=zh-cn" + (":weight=bold" if bold else ""))
    if found:
        return found
    for fallback, number in _FALLBACK_FONTS:
        if Path(fallback).is_file():
            return FontFile(fallback, number)
    raise FileNotFoundError("no CJK font found: install fonts-noto-cjk or pass a font path")


class Fonts:
    """Regular and bold faces of one CJK family, loaded once per size."""

    def __init__(self, regular: FontFile, bold: FontFile | None = None):
        self.regular = regular
        self.bold = bold if bold and bold != regular else None

    @classmethod
    def find(cls, override: str | None = None, bold_override: str | None = None) -> Fonts:
        regular = find_cjk_font(override)
        bold = find_cjk_font(bold_override, bold=True) if bold_override or not override else None
        return cls(regular, bold)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - a few Fonts objects live as long as the process
    def get(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        f = self.bold if bold and self.bold else self.regular
        return ImageFont.truetype(f.path, size, index=f.index)

    def fake_bold(self, bold: bool) -> int:
        """Stroke width that stands in for a missing bold face."""
        return 1 if bold and self.bold is None else 0


@functools.cache
def default_fonts() -> Fonts:
    return Fonts.find()


NO_LINE_START = frozenset("，。、；：！？）》」』】〕”’,.;:!?)%")
_TOKEN = re.compile(r"[A-Za-z0-9@#&_./:+\-=~%]+|\s+|.")


Measure = Callable[[str], float]


def wrap(text: str, width: float, measure: Measure, *, balance: bool = False) -> list[str]:
    """Break `text` into lines no wider than `width`: CJK anywhere, Latin words whole, no line
    starting with closing punctuation. `balance` evens the lines out (no lone last character)."""
    lines = _greedy(text, width, measure)
    if balance and len(lines) > 1:
        step, target = max(width / 64, 1.0), measure(text) / len(lines)
        while target < width:
            trial = _greedy(text, target, measure)
            if len(trial) == len(lines):
                return trial
            target += step
    return lines


def _greedy(text: str, width: float, measure: Measure) -> list[str]:
    tokens: list[str] = []
    for t in _TOKEN.findall(text):  # a word wider than the paper (a URL) breaks anywhere
        tokens += list(t) if len(t) > 1 and measure(t) > width else [t]
    lines: list[list[str]] = [[]]
    for token in tokens:
        line = lines[-1]
        if not line or measure("".join([*line, token])) <= width:
            line.append(token)
        elif token.isspace():
            lines.append([])
        elif token[0] in NO_LINE_START and len(line) > 1:  # 禁则: pull the previous one down
            lines.append([line.pop(), token])
        else:
            lines.append([token])
    return ["".join(x).strip() for x in lines if "".join(x).strip()] or [""]


def qr_matrix_image(data: str, module: int, border: int = 4) -> Image.Image:
    """The QR code of `data` at `module` dots per module, 1-bit, black on white."""
    qr = segno.make_qr(data, error="m")
    rows = list(qr.matrix_iter(scale=1, border=border))
    side = len(rows)
    img = Image.new("L", (side, side), 255)
    img.putdata([0 if dark else 255 for row in rows for dark in row])
    return img.resize((side * module, side * module), Image.Resampling.NEAREST)


def qr_module_size(data: str, paper: Paper, border: int = 4) -> int:
    """Dots per module for `data` on `paper`: near the target size, never under 4."""
    m = _METRICS[paper]
    side = int(segno.make_qr(data, error="m").symbol_size(scale=1, border=border)[0])
    fits = (paper.dots - 2 * m.margin) // side
    if fits < MIN_QR_MODULE:
        raise ValueError(f"QR data of {len(data)} characters is too long for {paper.value} mm paper")
    return max(MIN_QR_MODULE, min(fits, m.qr // side))


class _Painter:
    """Lays blocks out top to bottom on greyscale strips of the paper width."""

    def __init__(self, paper: Paper, fonts: Fonts):
        self.paper, self.fonts, self.m = paper, fonts, _METRICS[paper]
        self.width = paper.dots

    def strip(self, height: int) -> Image.Image:
        return Image.new("L", (self.width, max(height, 1)), 255)

    def text(self, block: Text) -> Image.Image:
        size = self.m.text[block.size]
        font = self.fonts.get(size, block.bold)
        stroke = self.fonts.fake_bold(block.bold)
        lines = wrap(block.text, self.width - 2 * self.m.margin, font.getlength,
                     balance=block.align is Align.CENTER)
        step = round(size * 1.4)
        img = self.strip(step * len(lines))
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            w = font.getlength(line)
            x = {
                Align.LEFT: self.m.margin,
                Align.CENTER: (self.width - w) / 2,
                Align.RIGHT: self.width - self.m.margin - w,
            }[block.align]
            # CJK glyphs sit 0.88 em above the baseline: centre the em box in the line step.
            baseline = i * step + (step - size) / 2 + size * 0.88
            draw.text((x, baseline), line, font=font, fill=0, anchor="ls", stroke_width=stroke)
        return img

    def number(self, block: BigNumber) -> Image.Image:
        probe = self.fonts.get(100, bold=True)
        left, top, right, bottom = probe.getbbox(block.text, anchor="ls")
        room = self.width - 2 * max(self.m.margin, 24)  # air at the sides: it reads as one number
        fit = min(self.m.number / max(bottom - top, 1), room / max(right - left, 1))
        size = math.ceil(100 * max(fit, MIN_NUMBER_HEIGHT / max(bottom - top, 1)))
        font = self.fonts.get(size, bold=True)
        left, top, right, bottom = font.getbbox(block.text, anchor="ls")
        glyphs = Image.new("L", (math.ceil(right - left), math.ceil(bottom - top)), 255)
        ImageDraw.Draw(glyphs).text((-left, -top), block.text, font=font, fill=0, anchor="ls",
                                    stroke_width=self.fonts.fake_bold(True))
        if glyphs.width > room:  # a long number keeps its height and gets narrower
            glyphs = glyphs.resize((room, glyphs.height), Image.Resampling.LANCZOS)
        pad = 12
        img = self.strip(glyphs.height + 2 * pad)
        img.paste(glyphs, ((self.width - glyphs.width) // 2, pad))
        return img

    def qr(self, block: Qr) -> Image.Image:
        code = qr_matrix_image(block.data, qr_module_size(block.data, self.paper))
        parts = [self.strip(code.height)]
        parts[0].paste(code, ((self.width - code.width) // 2, 0))
        if block.caption:
            parts.append(self.text(Text(block.caption, Size.NORMAL, bold=True, align=Align.CENTER)))
        return _stack(parts, self.width)

    def rule(self, block: Rule) -> Image.Image:
        img = self.strip(18)
        draw = ImageDraw.Draw(img)
        x0, x1, y = self.m.margin, self.width - self.m.margin, 8
        if not block.dashed:
            draw.rectangle((x0, y, x1, y + 1), fill=0)
        for x in range(x0, x1, 12) if block.dashed else ():
            draw.rectangle((x, y, min(x + 6, x1), y + 1), fill=0)
        return img

    def block(self, block: Block) -> Image.Image:
        if isinstance(block, Text):
            return self.text(block)
        if isinstance(block, BigNumber):
            return self.number(block)
        if isinstance(block, Qr):
            return self.qr(block)
        if isinstance(block, Rule):
            return self.rule(block)
        if isinstance(block, Feed):
            return self.strip(block.dots)
        raise TypeError(f"cannot draw {block!r}")


def _stack(parts: Iterable[Image.Image], width: int) -> Image.Image:
    parts = list(parts)
    out = Image.new("L", (width, sum(p.height for p in parts) or 1), 255)
    y = 0
    for p in parts:
        out.paste(p, (0, y))
        y += p.height
    return out


def _to_1bit(img: Image.Image) -> Image.Image:
    return img.point(lambda v: 255 if v >= _THRESHOLD else 0).convert("1", dither=Image.Dither.NONE)


def slips(doc: Document) -> list[tuple[list[Block], Cut | None]]:
    """The blocks of each slip and the Cut that ends it (None for blocks after the last Cut)."""
    out: list[tuple[list[Block], Cut | None]] = []
    current: list[Block] = []
    for b in doc.blocks:
        if isinstance(b, Cut):
            out.append((current, b))
            current = []
        else:
            current.append(b)
    if current:
        out.append((current, None))
    return out


def render_blocks(blocks: Iterable[Block], paper: Paper, fonts: Fonts | None = None) -> Image.Image:
    """Blocks (no Cut) as one 1-bit image `paper.dots` wide, with a little paper above and below."""
    painter = _Painter(paper, fonts or default_fonts())
    edge = painter.strip(12)
    return _to_1bit(_stack([edge, *(painter.block(b) for b in blocks), edge], paper.dots))


def render_slips(doc: Document, fonts: Fonts | None = None) -> list[tuple[Image.Image, Cut | None]]:
    """One image per slip and the cut after it, as raster mode sends them."""
    return [(render_blocks(blocks, doc.paper, fonts), cut) for blocks, cut in slips(doc)]


def render(doc: Document, fonts: Fonts | None = None) -> Image.Image:
    """The whole document as the preview shows it: slips one under another, a dotted line at each cut."""
    parts: list[Image.Image] = []
    for slip, cut in render_slips(doc, fonts):
        parts.append(slip.convert("L"))
        if cut is not None:
            mark = Image.new("L", (doc.width, 3), 255)
            mark.putdata([0 if x % 6 < 2 and y == 1 else 255 for y in range(3) for x in range(doc.width)])
            parts.append(mark)
    return _to_1bit(_stack(parts, doc.width))
