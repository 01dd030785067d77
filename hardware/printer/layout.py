"""What goes on a slip of paper: a list of blocks, and the ticket, receipt and notice built from them.

The blocks say *what* to print (text with size/weight/alignment, a big number, a QR code, a rule,
blank space, a cut), never *how*: `render.py` turns them into a raster image, the ESC/POS driver
either sends that image or the printer's own GB18030 font commands (hardware.md §2.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

TICKET_NOTICE = "请留意叫号，过号请到服务台重新排队"
TRACK_CAPTION = "扫码查看排队进度"


class Paper(IntEnum):
    """Roll width in mm; `dots` is the printable width at 203 dpi (hardware.md §2.1)."""

    MM58 = 58
    MM80 = 80

    @property
    def dots(self) -> int:
        return 384 if self is Paper.MM58 else 576

    @classmethod
    def of(cls, mm: int | Paper) -> Paper:
        """The paper for a width in mm (58 or 80); ValueError for anything else."""
        try:
            return cls(int(mm))
        except ValueError:
            raise ValueError(f"paper width must be 58 or 80 mm, not {mm}") from None


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


class Size(StrEnum):
    """Text size; the renderer and the text-mode driver each map it to what the paper allows."""

    SMALL = "small"
    NORMAL = "normal"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class Text:
    """One paragraph, wrapped to the paper width."""

    text: str
    size: Size = Size.NORMAL
    bold: bool = False
    align: Align = Align.LEFT


@dataclass(frozen=True, slots=True)
class BigNumber:
    """The queue number, as large as the paper allows (at least 96 dots high when rendered)."""

    text: str


@dataclass(frozen=True, slots=True)
class Qr:
    """A centred QR code with an optional caption under it."""

    data: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal line across the paper."""

    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Feed:
    """Blank paper, in dots (8 dots = 1 mm at 203 dpi)."""

    dots: int = 16


@dataclass(frozen=True, slots=True)
class Cut:
    """Feed past the cutter and cut; the end of one slip."""

    partial: bool = False


Block = Text | BigNumber | Qr | Rule | Feed | Cut


@dataclass(frozen=True, slots=True)
class Document:
    """Everything one print job puts on paper, for one roll width."""

    paper: Paper
    blocks: tuple[Block, ...]
    title: str = field(default="", compare=False)  # for logs and the CLI, never printed

    @property
    def width(self) -> int:
        """Printable width in dots."""
        return self.paper.dots

    def texts(self) -> list[str]:
        """Every printed string, in order (for tests and logs)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text | BigNumber):
                out.append(b.text)
            elif isinstance(b, Qr) and b.caption:
                out.append(b.caption)
        return out


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:  # a naive time would print the wrong hour on a kiosk set to UTC
        raise ValueError("printed times must be timezone-aware")
    return at.strftime("%Y-%m-%d %H:%M")


def _wait_text(wait_min: int | None, wait_range: tuple[int, int] | None = None) -> str:
    if wait_min is None:
        return "预计等候时间暂无法估算"
    if wait_range is not None and wait_range[1] > max(wait_range[0], 1):
        low, high = wait_range
        return f"预计等候 {high} 分钟以内" if low <= 0 else f"预计等候 {low}–{high} 分钟"
    if wait_min < 1:
        return "预计等候不到 1 分钟"
    return f"预计等候 {wait_min} 分钟"


def ticket_layout(
    paper: int | Paper,
    *,
    hall: str,
    bundle: str,
    number: str,
    people_ahead: int,
    wait_min: int | None,
    taken_at: datetime,
    track_url: str,
    lane: str | None = None,
    notice: str = TICKET_NOTICE,
    wait_range: tuple[int, int] | None = None,
) -> Document:
    """A queue ticket: hall, 一件事, the number large, people ahead and wait, time, tracking QR, notice."""
    blocks: list[Block] = [
        Text(hall, Size.LARGE, bold=True, align=Align.CENTER),
        Feed(8),
        Text(bundle, Size.NORMAL, bold=True, align=Align.CENTER),
        Rule(),
        Feed(4),
        BigNumber(number),
    ]
    if lane:  # e.g. 绿色通道: the clerk and the citizen both see why it was called early
        blocks.append(Text(f"【{lane}】", Size.NORMAL, bold=True, align=Align.CENTER))
    blocks += [
        Feed(4),
        Text(f"前面还有 {people_ahead} 人", Size.LARGE, bold=True, align=Align.CENTER),
        Text(_wait_text(wait_min, wait_range), Size.NORMAL, align=Align.CENTER),
        Text(f"取号时间 {_stamp(taken_at)}", Size.SMALL, align=Align.CENTER),
        Rule(dashed=True),
        Qr(track_url, caption=TRACK_CAPTION),
        Rule(dashed=True),
        Text(notice, Size.SMALL, align=Align.CENTER),
        Cut(),
    ]
    return Document(Paper.of(paper), tuple(blocks), title=f"ticket {number}")


def receipt_layout(
    paper: int | Paper,
    *,
    hall: str,
    bundle: str,
    application_number: str,
    applicant: str,
    submitted_at: datetime,
    progress_url: str,
    promised: str | None = None,
    notes: Sequence[str] = (),
) -> Document:
    """An acceptance receipt (受理回执): application number, bundle, applicant (masked), QR to progress."""
    blocks: list[Block] = [
        Text(hall, Size.LARGE, bold=True, align=Align.CENTER),
        Text("受理回执", Size.NORMAL, bold=True, align=Align.CENTER),
        Rule(),
        Text("申请编号", Size.SMALL, align=Align.CENTER),
        Text(application_number, Size.LARGE, bold=True, align=Align.CENTER),
        Rule(dashed=True),
        Text(f"办理事项：{bundle}"),
        Text(f"申请人：{applicant}"),  # already masked by the server (张*三): never a full name
        Text(f"提交时间：{_stamp(submitted_at)}"),
    ]
    if promised:
        blocks.append(Text(f"承诺时限：{promised}"))
    blocks += [
        Rule(dashed=True),
        Qr(progress_url, caption="扫码查询办理进度"),
    ]
    if notes:
        blocks.append(Rule(dashed=True))
        blocks += [Text(n, Size.SMALL) for n in notes]
    blocks.append(Cut())
    return Document(Paper.of(paper), tuple(blocks), title=f"receipt {application_number}")


def notice_layout(
    paper: int | Paper,
    *,
    hall: str,
    bundle: str,
    matters: Sequence[str],
    materials: Sequence[str],
    printed_at: datetime,
    conditions: Sequence[str] = (),
    time_limit: str | None = None,
    fees: str | None = None,
    url: str | None = None,
) -> Document:
    """The one-time notice (一次告知单) of a bundle: matters, materials, conditions, limits, fees."""
    blocks: list[Block] = [
        Text(hall, Size.NORMAL, bold=True, align=Align.CENTER),
        Text("一次告知单", Size.LARGE, bold=True, align=Align.CENTER),
        Text(bundle, Size.NORMAL, bold=True, align=Align.CENTER),
        Rule(),
    ]

    def section(title: str, items: Sequence[str]) -> None:
        if items:
            blocks.append(Text(title, bold=True))
            blocks.extend(Text(f"{i}. {item}", Size.SMALL) for i, item in enumerate(items, 1))
            blocks.append(Feed(8))

    section("包含事项", matters)
    section("申请材料", materials)
    section("办理条件", conditions)
    if time_limit:
        blocks.append(Text(f"办理时限：{time_limit}"))
    if fees:
        blocks.append(Text(f"收费标准：{fees}"))
    if url:
        blocks += [Rule(dashed=True), Qr(url, caption="扫码查看完整告知内容")]
    blocks += [
        Rule(dashed=True),
        Text(f"打印时间 {_stamp(printed_at)}", Size.SMALL, align=Align.CENTER),
        Cut(),
    ]
    return Document(Paper.of(paper), tuple(blocks), title=f"notice {bundle}")
