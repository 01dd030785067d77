"""`govhall hw idcard`: read one card through the serial frame protocol and print it as one JSON object."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from typing import Any, NoReturn

import click

from .base import IdCardError
from .serial_reader import BAUD_RATES, SerialIdCardReader
from .sim import SimulatedReader, demo_card


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))


def _fail(code: str, message: str) -> NoReturn:
    _emit({"error": {"code": code, "message": message}})
    sys.exit(1)


@click.command("idcard")
@click.option("--port", required=True, metavar="DEV",
              help="Serial device of the reader (/dev/ttyUSB0, /dev/ttyACM0 …), or 'sim' for the simulator.")
@click.option("--show-id", is_flag=True, help="Print the full ID number (masked by default).")
@click.option("--timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds to wait for a card.")
@click.option("--baud", type=click.Choice([str(r) for r in BAUD_RATES]), default=None,
              help="Use this baud rate only (default: probe 115200, then 9600/57600/38400/19200).")
def command(port: str, show_id: bool, timeout: float, baud: str | None) -> None:
    """Read one ID card and print it as one JSON object; exit 1 with {"error": {...}} on failure."""
    with ExitStack() as stack:
        if port == "sim":
            port = stack.enter_context(SimulatedReader(demo_card())).port
        reader = SerialIdCardReader(port, baudrate=int(baud) if baud else None)
        stack.callback(reader.close)
        try:
            card = reader.read_card(timeout)
        except IdCardError as e:
            _fail(e.code, str(e))
        if card is None:
            _fail("no_card", f"未检测到身份证，请将身份证放在感应区 / no card within {timeout:g} s")
        out = card.to_json(show_id=show_id)
        out["baud"] = reader.baudrate
        _emit(out)
