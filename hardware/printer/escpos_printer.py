"""The ESC/POS driver: python-escpos links (USB, serial, TCP, file), status by DLE EOT, two print modes.

A job is first built on python-escpos `Dummy` (the same library calls for every link, and what the
simulator keeps), then written to the link in chunks. `raster` sends the rendered image (GS v 0);
`text` uses the printer's own GB18030 font, fast on slow serial links (hardware.md §2.2).
"""

from __future__ import annotations

import contextlib
import copy
import os
import select
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeGuard

from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb

from . import render
from .base import PrinterError, PrinterState, PrinterStatus
from .layout import Align, BigNumber, Block, Cut, Document, Feed, Paper, Qr, Rule, Size, Text

DLE_EOT = b"\x10\x04"
ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
CHINESE_ON, CHINESE_OFF = FS + b"&", FS + b"."
STATUS_TIMEOUT = 0.5  # s: a printer answers DLE EOT at once, even when busy or offline
WRITE_TIMEOUT = 10.0  # s per chunk: a slow mechanism may hold the link while it prints
CHUNK = 4096  # bytes per write, so one long raster never waits on one long timeout
SLICE_ROWS = 480  # raster rows per GS v 0: some cheap printers stall on tall images (hardware.md §2.2)


class Mode(StrEnum):
    RASTER = "raster"
    TEXT = "text"


class Link(Protocol):
    """One kind of connection: opens a python-escpos printer and asks it for a status byte."""

    persistent: bool  # keep the device open between jobs (USB: opening resets the device)

    @property
    def name(self) -> str:
        """The spec, for messages."""
        ...

    def open(self) -> Any:
        """A python-escpos printer, opened; PrinterError if the printer cannot be reached."""
        ...

    def ask(self, dev: Any, command: bytes) -> bytes | None:
        """Send a real-time query, return the answer (b"" if none came); None if this link cannot read."""
        ...

    def close(self, dev: Any) -> None: ...


def _open(dev: Any, name: str) -> Any:
    try:
        dev.open()
    except (EscposError, OSError) as e:
        raise PrinterError(f"printer {name} unreachable: {e}", PrinterError.OFFLINE) from e
    except (RuntimeError, ValueError) as e:  # pyusb/pyserial missing; pyusb: no libusb (NoBackendError)
        raise PrinterError(f"printer {name}: {type(e).__name__}: {e}", PrinterError.UNSUPPORTED) from e
    return dev


def _close(dev: Any) -> None:
    with contextlib.suppress(EscposError, OSError):
        dev.close()


@dataclass
class NetworkLink:
    host: str
    port: int = 9100
    persistent = False

    @property
    def name(self) -> str:
        return f"tcp:{self.host}:{self.port}"

    def open(self) -> Any:
        dev = Network(self.host, self.port, timeout=1)
        try:  # connect here: python-escpos' open() leaks the socket when the connect fails
            dev.device = socket.create_connection((self.host, self.port), timeout=1)  # offline told fast
        except OSError as e:
            raise PrinterError(f"printer {self.name} unreachable: {e}", PrinterError.OFFLINE) from e
        dev.device.settimeout(WRITE_TIMEOUT)
        return dev

    def ask(self, dev: Any, command: bytes) -> bytes:
        sock: socket.socket = dev.device
        _drain_socket(sock)  # python-escpos reads whatever came first: drop stale bytes (§2.4)
        sock.settimeout(STATUS_TIMEOUT)
        try:
            dev._raw(command)
            answer = sock.recv(16)
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(WRITE_TIMEOUT)
        if not answer:  # end of stream: the printer hung up, which is not "no answer"
            raise ConnectionResetError("printer closed the connection")
        return answer

    def close(self, dev: Any) -> None:
        # Unread input makes close() send RST, which may drop the end of the job: read it first.
        with contextlib.suppress(OSError):
            _drain_socket(dev.device)
        _close(dev)


def _drain_socket(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        for _ in range(64):
            if not sock.recv(256):
                raise ConnectionResetError("printer closed the connection")
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(WRITE_TIMEOUT)


@dataclass
class SerialLink:
    device: str
    baudrate: int = 9600
    persistent = False

    @property
    def name(self) -> str:
        return f"serial:{self.device}@{self.baudrate}"

    def open(self) -> Any:
        dev = _open(Serial(self.device, self.baudrate, timeout=STATUS_TIMEOUT), self.name)
        dev.device.write_timeout = WRITE_TIMEOUT  # DSR/DTR flow control could block a write forever
        return dev

    def ask(self, dev: Any, command: bytes) -> bytes:
        dev.device.reset_input_buffer()
        dev._raw(command)
        return bytes(dev.device.read(1))

    def close(self, dev: Any) -> None:
        _close(dev)


@dataclass
class UsbLink:
    vid: int
    pid: int
    in_ep: int = 0x82
    out_ep: int = 0x01
    persistent = True

    @property
    def name(self) -> str:
        return f"usb:{self.vid:04x}:{self.pid:04x}"

    def open(self) -> Any:
        # timeout in ms; python-escpos's default 0 means a write may wait forever (§2.4)
        usb = Usb(self.vid, self.pid, timeout=2000, in_ep=self.in_ep, out_ep=self.out_ep)
        return _open(usb, self.name)

    def ask(self, dev: Any, command: bytes) -> bytes:
        import usb.core  # only USB links need pyusb

        for _ in range(8):  # drain stale input
            try:
                dev.device.read(self.in_ep, 64, 10)
            except usb.core.USBTimeoutError:
                break
        dev._raw(command)
        try:
            return bytes(dev.device.read(self.in_ep, 16, int(STATUS_TIMEOUT * 1000)))
        except usb.core.USBTimeoutError:
            return b""

    def close(self, dev: Any) -> None:
        _close(dev)


@dataclass
class FileLink:
    """A device node (/dev/usb/lp0) or a plain file; a character device may answer status reads."""

    path: str
    persistent = False

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    def open(self) -> Any:
        return _open(File(self.path), self.name)

    def ask(self, dev: Any, command: bytes) -> bytes | None:
        # python-escpos File cannot read (issue #622); usblp nodes usually can, read-write.
        try:
            if not stat.S_ISCHR(os.stat(self.path).st_mode):
                return None
            fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            return None
        try:
            with contextlib.suppress(BlockingIOError):
                while os.read(fd, 256):
                    pass
            os.write(fd, command)
            ready, _, _ = select.select([fd], [], [], STATUS_TIMEOUT)
            return os.read(fd, 16) if ready else b""
        except OSError:
            return None
        finally:
            os.close(fd)

    def close(self, dev: Any) -> None:
        _close(dev)


def parse_spec(spec: str) -> Link:
    """`usb:VID:PID[:IN:OUT]` (hex), `serial:DEV[@BAUD]`, `tcp:HOST[:PORT]` or `file:PATH`."""
    kind, _, rest = spec.partition(":")
    try:
        if kind == "usb":
            parts = [int(p, 16) for p in rest.split(":")]
            if len(parts) not in (2, 4):
                raise ValueError("usb:VID:PID or usb:VID:PID:IN_EP:OUT_EP")
            return UsbLink(*parts)
        if kind == "serial" and rest:
            dev, _, baud = rest.partition("@")
            return SerialLink(dev, int(baud or 9600))
        if kind == "tcp" and rest:
            host, _, port = rest.rpartition(":") if ":" in rest.rpartition("]")[2] else (rest, "", "9100")
            return NetworkLink(host.strip("[]"), int(port))
        if kind == "file" and rest:
            return FileLink(rest)
    except ValueError as e:
        raise PrinterError(f"bad printer spec {spec!r}: {e}", PrinterError.BAD_SPEC) from e
    raise PrinterError(
        f"bad printer spec {spec!r}: use usb:VID:PID, serial:DEV, tcp:HOST:PORT, file:PATH or sim",
        PrinterError.BAD_SPEC,
    )


def _valid(b: int | None) -> TypeGuard[int]:
    return b is not None and b & 0x93 == 0x12  # fixed bits of every DLE EOT answer


def status_from_bytes(online: int | None, paper: int | None, cause: int | None = None) -> PrinterStatus:
    """Map DLE EOT 1 (printer), 4 (paper sensor) and 2 (offline cause) answers; None = no answer."""
    def hexa(b: int | None) -> str:
        return "none" if b is None else f"{b:02x}"

    raw = f"EOT1={hexa(online)} EOT4={hexa(paper)}" + (f" EOT2={hexa(cause)}" if cause is not None else "")
    if not _valid(online):
        return PrinterStatus.of(PrinterState.UNKNOWN, raw, "打印机未应答状态查询" if online is None else None)
    if (_valid(paper) and paper & 0x60) or (_valid(cause) and cause & 0x20):
        return PrinterStatus.of(PrinterState.PAPER_OUT, raw)
    if online & 0x08:
        c = cause if _valid(cause) else 0
        why = "打印机盖未合上" if c & 0x04 else "打印机故障，请联系工作人员" if c & 0x40 else None
        return PrinterStatus.of(PrinterState.OFFLINE, raw, why)
    if not _valid(paper):
        return PrinterStatus.of(PrinterState.UNKNOWN, raw, "无法确认打印纸状态")
    if paper & 0x0C:
        return PrinterStatus.of(PrinterState.PAPER_LOW, raw)
    return PrinterStatus.of(PrinterState.OK, raw)


def read_status(link: Link, dev: Any) -> PrinterStatus:
    """Ask DLE EOT 1, 4 (and 2 when offline) on an open device; "no answer" is unknown, never ok."""
    first = link.ask(dev, DLE_EOT + b"\x01")
    if first is None:
        return PrinterStatus.of(PrinterState.UNKNOWN, f"{link.name} cannot read status",
                                "此连接无法读取打印机状态")

    def ask(n: int) -> int | None:
        answer = link.ask(dev, DLE_EOT + bytes((n,)))
        return answer[0] if answer else None

    online = first[0] if first else None
    paper = ask(4) if online is not None else None
    cause = ask(2) if online is not None and online & 0x08 else None
    return status_from_bytes(online, paper, cause)


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


class EscposPrinter:
    """A TicketPrinter on one python-escpos link; every failure comes out as PrinterError."""

    def __init__(self, link: Link, paper: int | Paper = Paper.MM80, mode: Mode | str | None = None,
                 *, native_qr: bool = False, fonts: render.Fonts | None = None):
        self.link, self._paper = link, Paper.of(paper)
        default = Mode.TEXT if isinstance(link, SerialLink) else Mode.RASTER  # raster is ~60 kB
        self.mode = Mode(mode) if mode else default
        self.native_qr, self.fonts = native_qr, fonts
        self._dev: Any = None
        self._lock = threading.Lock()  # the kiosk polls status while a job may be printing
        self.last_job = b""

    @property
    def paper(self) -> Paper:
        return self._paper

    @property
    def name(self) -> str:
        return self.link.name

    @contextlib.contextmanager
    def _device(self) -> Iterator[Any]:
        with self._lock:
            if self._dev is None:
                try:
                    self._dev = self.link.open()
                except PrinterError as e:  # the kiosk shows the status of every failure
                    e.status = e.status or PrinterStatus.of(PrinterState.OFFLINE, str(e))
                    raise
            broken = False
            try:
                yield self._dev
            except (OSError, EscposError):  # the link is broken: open a fresh one next time
                broken = True
                raise
            finally:
                if broken or not self.link.persistent:
                    self._drop()

    def _drop(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            self.link.close(dev)

    def status(self) -> PrinterStatus:
        """Ask the printer now; offline when it cannot be reached, never an exception."""
        try:
            with self._device() as dev:
                return read_status(self.link, dev)
        except PrinterError as e:
            return e.status or PrinterStatus.of(PrinterState.OFFLINE, str(e))
        except (OSError, EscposError) as e:
            return PrinterStatus.of(PrinterState.OFFLINE, f"{self.name}: {e}")

    def print_document(self, doc: Document) -> None:
        """Check the status, then send the job; PrinterError, with nothing sent, if it cannot print."""
        if doc.paper is not self.paper:
            raise PrinterError(f"document laid out for {doc.paper.value} mm, printer has "
                               f"{self.paper.value} mm paper", PrinterError.BAD_DOCUMENT)
        try:
            job = encode(doc, self.mode, native_qr=self.native_qr, fonts=self.fonts)
        except (OSError, ValueError, EscposError) as e:  # no CJK font, a QR too long for the paper
            raise PrinterError(f"cannot lay out {doc.title}: {e}", PrinterError.RENDER_FAILED) from e
        sent = False
        try:
            with self._device() as dev:
                status = read_status(self.link, dev)
                if not status.can_print:
                    raise PrinterError.refusing(status)
                sent = True
                for i in range(0, len(job), CHUNK):
                    dev._raw(job[i:i + CHUNK])
        except (OSError, EscposError) as e:
            code = PrinterError.WRITE_FAILED if sent else PrinterError.OFFLINE
            lost = PrinterStatus.of(PrinterState.OFFLINE, f"{self.name}: {e}")
            raise PrinterError(f"{self.name}: {e}", code, lost) from e
        self.last_job = job

    def close(self) -> None:
        with self._lock:
            self._drop()
