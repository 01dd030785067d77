"""The ID card reader on a serial port (USB-serial bridges included), through pyserial (hardware.md §1)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Final

import serial

from .base import FrameError, IdCard, IdCardError, ReaderTimeout, ReaderUnavailable, SamRejectedCommand
from .protocol import (
    CARD_FOUND,
    FIND_CARD,
    NO_CARD,
    OK,
    READ_BASE,
    SAM_STATUS,
    SELECT_CARD,
    Command,
    FrameDecoder,
    Response,
    split_base_message,
    status_error,
)
from .text import parse_card

# §1.1: 115200 first, then what vendor DLLs probe.
BAUD_RATES: Final = (115200, 9600, 57600, 38400, 19200)
_NOISE: Final = (0x10, 0x11)  # the SAM got our frame with a bad checksum/length: send it again


@contextmanager
def _edge(port: str) -> Iterator[None]:
    """OSError and pyserial's errors become ReaderUnavailable here, at the driver's edge."""
    try:
        yield
    except (OSError, serial.SerialException) as e:
        raise ReaderUnavailable("身份证读卡器未连接或无法打开，请联系工作人员",
                                f"serial port {port}: {e}") from e


class _Link:
    """The open port: pyserial calls only, every one behind `_edge`."""

    POLL: Final = 0.02  # the longest one read blocks, so deadlines are kept to ~20 ms

    def __init__(self, port: str, baudrate: int) -> None:
        self.port = port
        with _edge(port):
            self._serial = serial.Serial(
                port, baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE, xonxoff=False, rtscts=False, timeout=self.POLL,
                write_timeout=1.0, exclusive=True)

    def set_baudrate(self, rate: int) -> None:
        with _edge(self.port):
            self._serial.baudrate = rate

    def send(self, data: bytes) -> None:
        with _edge(self.port):
            # A USB bridge may still hold bytes of an earlier reply: a reply has no request id, so
            # only a clean input buffer ties the next reply to this request (§1.3).
            self._serial.reset_input_buffer()
            self._serial.write(data)
            self._serial.flush()

    def receive(self) -> bytes:
        """What arrived, waiting at most POLL seconds for the first byte."""
        with _edge(self.port):
            return self._serial.read(self._serial.in_waiting or 1)

    def close(self) -> None:
        with suppress(OSError, serial.SerialException):  # a port that has gone away: nothing to release
            self._serial.close()


class Debounce:
    """One placement acts once: a card id passes again only after `window` seconds without a read.

    Some readers keep finding a card that lies on them, others answer 0x80 until it is lifted and put
    back (§1.4 note): either way the id and the time decide, not find-card.
    """

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last: dict[str, float] = {}

    def accept(self, key: str) -> bool:
        now = self._clock()
        self._last = {k: t for k, t in self._last.items() if now - t < self.window}
        fresh = key not in self._last
        self._last[key] = now  # every read extends the window: a card left lying stays one placement
        return fresh

    def clear(self) -> None:
        self._last.clear()


class SerialIdCardReader:
    """`IdCardReader` over the SAM frame protocol: probe the baud rate, then find → select → read."""

    def __init__(self, port: str, *, baudrate: int | None = None, debounce: float = 3.0,
                 probe_timeout: float = 0.3, command_timeout: float = 1.0, read_timeout: float = 4.0,
                 retries: int = 2, poll_interval: float = 0.25, gap: float = 0.2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self.rates = (baudrate,) if baudrate else BAUD_RATES
        self.probe_timeout = probe_timeout if baudrate is None else command_timeout
        self.command_timeout = command_timeout
        self.read_timeout = read_timeout  # 1,295 bytes take 1.35 s at 9600, plus ~1 s of RF (§1.1)
        self.retries = retries
        self.poll_interval = poll_interval
        self.gap = gap  # silence inside a frame that means the rest will not come
        self.debounce = Debounce(debounce, clock)
        self.baudrate: int | None = None
        self._link: _Link | None = None

    def __enter__(self) -> SerialIdCardReader:
        self.open()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        """Open the port at the first baud rate the SAM answers its status probe (11 FF) on."""
        if self._link is not None:
            return
        link = _Link(self.port, self.rates[0])
        try:
            for rate in self.rates:
                link.set_baudrate(rate)
                try:
                    reply = self._exchange(link, SAM_STATUS, self.probe_timeout)
                except (ReaderTimeout, FrameError):
                    continue  # at the wrong rate the SAM hears garbage and says nothing useful
                if reply.sw3 != OK:
                    raise status_error(reply.sw3, SAM_STATUS.name)  # 0x60: self-test failed
                self._link, self.baudrate = link, rate
                return
        except BaseException:
            link.close()
            raise
        link.close()
        rates = "/".join(map(str, self.rates))
        raise ReaderTimeout("身份证读卡器无应答，请检查连接和电源",
                            f"no answer to the status probe on {self.port} at {rates} baud")

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def read_card(self, timeout: float) -> IdCard | None:
        """The next newly placed card within `timeout` s; None if none; IdCardError if reading failed."""
        deadline = time.monotonic() + timeout
        try:
            self.open()
            while True:
                card = self._read_once(deadline)
                if card is not None and self.debounce.accept(card.id_number):
                    return card
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                time.sleep(min(self.poll_interval, left))
        except ReaderUnavailable:
            self.close()  # unplugged: the next call opens the port afresh
            raise

    def _read_once(self, deadline: float) -> IdCard | None:
        """One find → select → read, retried from find on a garbled exchange; never returns bad data."""
        failures: list[IdCardError] = []
        while True:
            try:
                card = self._find_select_read(deadline)
            except (FrameError, SamRejectedCommand) as e:
                # Line noise either way: our reply garbled (FrameError) or our request (SAM's 0x10/0x11).
                if isinstance(e, SamRejectedCommand) and e.sw3 not in _NOISE:
                    raise
                failures.append(e)
                if len(failures) > self.retries:
                    if isinstance(e, SamRejectedCommand):
                        raise
                    raise FrameError("读取身份证时数据多次出错，请重新放置身份证",
                                     f"{len(failures)} attempts failed, last: {e.en}") from e
                continue
            if card is None and failures:
                # The card went away (or answers 0x80 after a read, §1.4) after a bad reply.
                raise FrameError("读取身份证时数据出错，请重新放置身份证",
                                 f"no card on retry after: {failures[-1].en}") from failures[-1]
            return card

    def _find_select_read(self, deadline: float) -> IdCard | None:
        if not self._find(deadline):
            return None
        self._command(SELECT_CARD, self.command_timeout)
        reply = self._command(READ_BASE, self.read_timeout)
        return parse_card(*split_base_message(reply.data))

    def _find(self, deadline: float) -> bool:
        # A reader that is silent must not hold the caller much past its own timeout.
        wait = min(self.command_timeout, max(deadline - time.monotonic(), 0.05))
        reply = self._command(FIND_CARD, wait, ok=(CARD_FOUND, NO_CARD))
        return reply.sw3 == CARD_FOUND

    def _command(self, command: Command, timeout: float, ok: tuple[int, ...] = (OK,)) -> Response:
        if self._link is None:
            raise ReaderUnavailable("身份证读卡器未打开", f"{self.port} is not open")
        reply = self._exchange(self._link, command, timeout)
        if reply.sw3 not in ok:
            raise status_error(reply.sw3, command.name)
        return reply

    def _exchange(self, link: _Link, command: Command, timeout: float) -> Response:
        """Send one request and wait up to `timeout` s for the next good reply frame."""
        link.send(command.frame())
        decoder = FrameDecoder(min_length=4)
        now = time.monotonic()
        deadline, last_byte = now + timeout, now
        garbled: FrameError | None = None
        received = 0
        while True:
            try:
                body = decoder.next_frame()
            except FrameError as e:
                # Garbage may have looked like a frame; a good one may still follow, briefly.
                garbled, deadline = e, min(deadline, time.monotonic() + self.gap)
                continue
            if body is not None:
                return Response.from_body(body)
            now = time.monotonic()
            if decoder.pending and now - last_byte > self.gap:
                decoder.abandon()  # a cut-off frame (leftovers): look for a whole one behind it
                continue
            if now >= deadline:
                break
            chunk = link.receive()
            if chunk:
                received += len(chunk)
                decoder.feed(chunk)
                last_byte = time.monotonic()
        if garbled is not None:
            raise garbled
        if received:
            raise FrameError("读卡器应答数据不完整",
                             f"no whole reply to {command.name} within {timeout:.2f} s ({received} bytes)")
        raise ReaderTimeout("身份证读卡器无应答，请检查连接和电源",
                            f"no reply to {command.name} within {timeout:.2f} s on {link.port}")
