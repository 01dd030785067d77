"""A simulated reader: a thread that answers SAM frames on a pseudo-terminal, byte for byte (§1.4–1.6).

The real driver opens `.port` with pyserial, so everything from frames to termios is exercised.
Faults are set on `.faults` at any time; `place`/`remove` move the card.
"""

from __future__ import annotations

import hashlib
import os
import pty
import random
import select
import termios
import threading
import time
import tty
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final

from .base import CardKind, FrameError, IdCard
from .protocol import (
    CARD_FOUND,
    NO_CARD,
    OK,
    FrameDecoder,
    Request,
    base_message_data,
    response,
)
from .text import encode_text, parse_card

_NOT_FOUND: Final = {0x20: {0x01: NO_CARD, 0x02: 0x81}, 0x30: {0x01: 0x41, 0x03: 0x41, 0x10: 0x41}}
_SPEEDS: Final = {getattr(termios, f"B{r}"): r for r in (9600, 19200, 38400, 57600, 115200, 230400)}


def dummy_photo(seed: str) -> bytes:
    """1,024 stand-in WLT bytes, stable per seed (the real format is closed, §1.7)."""
    out = b""
    while len(out) < 1024:
        out += hashlib.sha256(f"{seed}:{len(out)}".encode()).digest()
    return out[:1024]


def make_card(values: dict[str, str], kind: CardKind = CardKind.RESIDENT) -> IdCard:
    """A card as the driver would decode it from the text block `values` make (plus a dummy photo)."""
    return parse_card(encode_text(values, kind), dummy_photo(values.get("id_number", "")))


def demo_card() -> IdCard:
    """张三, a made-up Nanjing resident (hardware.md §1.9 worked example C)."""
    return make_card({
        "name": "张三", "sex": "1", "nation": "01", "birth": "19900307",
        "address": "江苏省南京市玄武区北京东路41号", "id_number": "320102199003071239",
        "authority": "南京市公安局玄武分局", "valid_from": "20200101", "valid_to": "20400101",
    })


@dataclass
class Faults:
    """What the simulated SAM does wrong; tests change these while it runs."""

    corrupt: int = 0  # flip a byte in the next N replies (-1: every reply), keeping the old checksum
    corrupt_command: int | None = None  # only replies to this CMD (0x30 = read); None: any
    split: bool = False  # write replies in random 1–32 byte pieces with pauses of up to 2 ms
    garbage: bytes = b""  # written before every reply
    # (CMD, PARA) → SW3 answered instead of the normal reply, e.g. {(0x30, 0x01): 0x41}
    status: dict[tuple[int, int], int] = field(default_factory=dict)
    silent: bool = False  # answer nothing at all


class SimulatedReader:
    """A SAM behind a pty: `port` is the device path for pyserial.

    With `baudrate` set, frames arriving while the pty is configured at another rate are dropped, as a
    UART at the wrong rate receives only garbage: the driver's fallback is then what finds it.
    """

    def __init__(self, card: IdCard | None = None, *, baudrate: int | None = None,
                 faults: Faults | None = None, seed: int = 0, read_delay: float = 0.0) -> None:
        self.card = card
        self.baudrate = baudrate
        self.faults = faults or Faults()
        self.read_delay = read_delay  # the card-to-SAM RF read (~0.5–1 s on real readers, §1.1)
        self.requests: list[Request] = []  # every frame answered, for tests
        self.ignored = 0  # frames dropped for a baud mismatch
        self._rng = random.Random(seed)  # noqa: S311 - chunking and garbage, not security
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo or newline mangling before the driver configures it
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-sim", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> SimulatedReader:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> SimulatedReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with suppress(OSError):  # closed already
                os.close(fd)

    def place(self, card: IdCard) -> None:
        with self._lock:
            self.card = card

    def remove(self) -> None:
        with self._lock:
            self.card = None

    def current_baudrate(self) -> int | None:
        """The rate the pty is configured at now (nominal: a pty moves bytes at any rate)."""
        return _SPEEDS.get(termios.tcgetattr(self._slave)[5])

    def _run(self) -> None:
        decoder = FrameDecoder(min_length=3)
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.01)  # EIO while no slave is open: nothing to read
                continue
            if self.baudrate is not None and self.current_baudrate() != self.baudrate:
                self.ignored += 1
                decoder.clear()
                continue
            decoder.feed(data)
            self._answer_all(decoder)

    def _answer_all(self, decoder: FrameDecoder) -> None:
        while True:
            try:
                body = decoder.next_frame()
            except FrameError:  # the request failed its checksum: answer as the SAM does
                self._send(0x00, response(0x10))
                continue
            if body is None:
                return
            request = Request.from_body(body)
            self.requests.append(request)
            if not self.faults.silent:
                self._send(request.cmd, self._reply(request))

    def _reply(self, req: Request) -> bytes:
        key = (req.cmd, req.para)
        if key in self.faults.status:
            return response(self.faults.status[key])
        with self._lock:
            card = self.card
        if card is None and req.cmd in _NOT_FOUND:
            return response(_NOT_FOUND[req.cmd].get(req.para, 0x21))
        if key in ((0x10, 0xFF), (0x11, 0xFF), (0x61, 0xFF)):
            return response(OK)
        if key == (0x12, 0xFF):
            return response(OK, bytes(range(16)))
        if key == (0x20, 0x01):
            return response(CARD_FOUND, bytes(4))
        if key == (0x20, 0x02):
            return response(OK, bytes(8))
        if key == (0x30, 0x01) and card is not None:
            time.sleep(self.read_delay)
            return response(OK, base_message_data(card.text_raw, card.photo_wlt))
        if req.cmd == 0x30:
            return response(0x91)  # fingerprint / appended address: this card has none
        return response(0x21)

    def _send(self, cmd: int, reply: bytes) -> None:
        f = self.faults
        if f.corrupt and f.corrupt_command in (None, cmd):
            if f.corrupt > 0:
                f.corrupt -= 1
            spot = 14 if len(reply) > 20 else 9  # first name character, or SW3
            reply = reply[:spot] + bytes([reply[spot] ^ 0x5A]) + reply[spot + 1:]
        out = f.garbage + reply
        if not f.split:
            self._write(out)
            return
        i = 0
        while i < len(out):
            n = self._rng.randint(1, 32)
            self._write(out[i:i + n])
            i += n
            time.sleep(self._rng.uniform(0, 0.002))

    def _write(self, data: bytes) -> None:
        with suppress(OSError):  # the pty is closing
            os.write(self._master, data)
