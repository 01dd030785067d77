"""The connections a ticket printer is reached by: USB, serial, TCP and file, named by a spec string.

Each link opens a python-escpos printer and can ask it a real-time question (DLE EOT), with short
timeouts so an unplugged printer is reported at once rather than waited for.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import stat
from dataclasses import dataclass
from typing import Any, Protocol

from .base import PrinterError
from .escpos_lib import EscposError, File, Network, Serial, Usb

STATUS_TIMEOUT = 0.5  # s: a printer answers DLE EOT at once, even when busy or offline
WRITE_TIMEOUT = 10.0  # s per chunk: a slow mechanism may hold the link while it prints


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
