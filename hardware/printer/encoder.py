"""A Document as ESC/POS bytes, built with python-escpos on a `Dummy` printer, in one of two modes.

`raster` sends the rendered image (GS v 0); `text` uses the printer's own GB18030 font, fast on slow
serial links (hardware.md §2.2).
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any

from . import render
from .escpos_lib import QR_ECLEVEL_M, Dummy, get_profile
from .layout import Align, BigNumber, Block, Cut, Document, Feed, Paper, Qr, Rule, Size, Text

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
CHINESE_ON, CHINESE_OFF = FS + b"&", FS + b"."
SLICE_ROWS = 480  # raster rows per GS v 0: some cheap printers stall on tall images (hardware.md §2.2)


class Mode(StrEnum):
    RASTER = "raster"
    TEXT = "text"


def _profile(paper: Paper) -> Any:
    """python-escpos' default profile with the roll's width, so image() neither prints nor guesses."""
    profile = get_profile("default")
    data = copy.deepcopy(profile.profile_data)
    data["media"] = {"dpi": 203, "width": {"mm": paper.value - 10, "pixels": paper.dots}}
    profile.profile_data = data
    return profile


def _gb(s: str) -> bytes:
    return CHINESE_ON + s.encode("gb18030") + CHINESE_OFF  # never text(): hardware.md §2.2 a


def columns(s: str) -> int:
    """Width in the ROM font: ASCII one column, every double-byte GB18030 character two."""
    return sum(1 if ord(c) < 0x80 else 2 for c in s)


class _TextEncoder:
    """Blocks in the printer's own font: FS & GB18030 FS ., GS ! sizes, native or image QR."""

    def __init__(self, dev: Any, paper: Paper, native_qr: bool, fonts: render.Fonts | None):
        self.dev, self.paper, self.native_qr, self.fonts = dev, paper, native_qr, fonts
        self.cols = paper.dots // 12  # font A is 12×24 dots: 32 / 48 columns

    def raw(self, data: bytes) -> None:
        self.dev._raw(data)

    def text(self, b: Text) -> None:
        # LARGE is double width and height when it fits on one line, else double height only.
        size = 0x11 if columns(b.text) * 2 <= self.cols else 0x01
        size = size if b.size is Size.LARGE else 0x00
        cols = self.cols // 2 if size == 0x11 else self.cols
        align = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}[b.align]
        self.raw(ESC + b"a" + bytes((align,)) + ESC + b"E" + bytes((b.bold,)) + GS + b"!" + bytes((size,)))
        for line in render.wrap(b.text, cols, columns, balance=b.align is Align.CENTER):
            self.raw(_gb(line) + b"\n")
        self.raw(GS + b"!\x00" + ESC + b"E\x00")

    def number(self, b: BigNumber) -> None:
        most = 4 if self.paper is Paper.MM58 else 5  # 4× = 96 dots high, 5× = 120
        mult = max(1, min(most, self.cols // max(columns(b.text), 1)))
        self.raw(ESC + b"a\x01" + ESC + b"E\x01" + GS + b"!" + bytes(((mult - 1) * 0x11,)))
        self.raw(_gb(b.text) + b"\n" + GS + b"!\x00" + ESC + b"E\x00")

    def qr(self, b: Qr) -> None:
        module = render.qr_module_size(b.data, self.paper)
        self.raw(ESC + b"a\x01")
        if self.native_qr:  # GS ( k: small and fast, but many 58 mm printers lack it (§2.3)
            self.dev.qr(b.data, ec=QR_ECLEVEL_M, size=module, native=True)
            self.raw(b"\n")
        else:
            img = render.render_blocks([Qr(b.data)], self.paper, self.fonts)
            self.dev.image(img, impl="bitImageRaster", fragment_height=SLICE_ROWS)
        if b.caption:
            self.text(Text(b.caption, bold=True, align=Align.CENTER))

    def block(self, b: Block) -> None:
        if isinstance(b, Text):
            self.text(b)
        elif isinstance(b, BigNumber):
            self.number(b)
        elif isinstance(b, Qr):
            self.qr(b)
        elif isinstance(b, Rule):
            self.raw(ESC + b"a\x00" + ("- " * (self.cols // 2) if b.dashed else "-" * self.cols).encode())
            self.raw(b"\n")
        elif isinstance(b, Feed):
            for n in range(b.dots, 0, -255):
                self.raw(ESC + b"J" + bytes((min(n, 255),)))
        elif isinstance(b, Cut):
            self.dev.cut(mode="PART" if b.partial else "FULL")


def encode(doc: Document, mode: Mode = Mode.RASTER, *, native_qr: bool = False,
           fonts: render.Fonts | None = None) -> bytes:
    """The ESC/POS bytes of `doc`, built with python-escpos on a Dummy printer."""
    dev = Dummy()
    dev.profile = _profile(doc.paper)
    dev._raw(ESC + b"@")  # initialise: clear any size/bold/alignment left by another job
    if mode is Mode.RASTER:
        for image, cut in render.render_slips(doc, fonts):
            dev.image(image, impl="bitImageRaster", fragment_height=SLICE_ROWS)
            if cut is not None:
                dev.cut(mode="PART" if cut.partial else "FULL")
    else:
        encoder = _TextEncoder(dev, doc.paper, native_qr, fonts)
        for block in doc.blocks:
            encoder.block(block)
    return bytes(dev.output)
