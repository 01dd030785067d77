"""`govhall hw printer`: ask a ticket printer for its status and print a sample ticket (JSON on stdout)."""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click

from . import open_printer
from .base import PrinterError
from .layout import Document, Paper, ticket_layout
from .render import render
from .sim import SimulatedPrinter


def sample_ticket(paper: Paper, base_url: str, token: str, now: datetime) -> Document:
    """A ticket with every element, its QR leading to `<base_url>/t/<token>`."""
    return ticket_layout(
        paper, hall="示范市政务服务中心", bundle="新生儿出生一件事", number="A012",
        people_ahead=5, wait_min=15, taken_at=now, track_url=f"{base_url.rstrip('/')}/t/{token}",
    )


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))


def _fail(error: PrinterError, **extra: Any) -> NoReturn:
    _emit({**extra, "error": error.to_json()})
    sys.exit(1)


@click.command("printer")
@click.option("--printer", "spec", required=True, metavar="SPEC",
              help="usb:VID:PID, serial:DEV[@BAUD], tcp:HOST:PORT, file:PATH or sim")
@click.option("--test", is_flag=True, help="Print a sample ticket (otherwise only ask the status).")
@click.option("--width", type=click.Choice(["58", "80"]), default="80", show_default=True,
              help="Paper roll width in mm.")
@click.option("--mode", type=click.Choice(["raster", "text"]), default=None,
              help="raster: rendered image (default); text: the printer's GB18030 font (default on serial).")
@click.option("--native-qr", is_flag=True, help="In text mode, let the printer draw the QR (GS ( k).")
@click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG of the ticket here (sim: default in the temp directory).")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Server address the ticket's QR points at.")
@click.option("--font", default=None, help="CJK font file (path or path#index); default: fc-match.")
@click.option("--timezone", "tz", default="Asia/Shanghai", show_default=True, help="Hall time zone.")
def command(spec: str, test: bool, width: str, mode: str | None, native_qr: bool, preview: Path | None,
            base_url: str, font: str | None, tz: str) -> None:
    """Ask the printer for its status; with --test, print a sample ticket with every element."""
    try:
        printer = open_printer(spec, int(width), mode, native_qr=native_qr, font=font)
    except PrinterError as e:
        _fail(e, printer=spec)
    result: dict[str, Any] = {"printer": printer.name, "paper": int(width), "mode": printer.mode.value}
    try:
        status = printer.status()
        result["status"] = status.to_json()
        click.echo(f"status: {status.state.value} {status.message} ({status.detail})", err=True)
        if not status.can_print:
            raise PrinterError.refusing(status)  # the ticket would not come out: say why, send nothing
        if not test:
            _emit(result)
            return
        url_token = "test-" + secrets.token_urlsafe(12)
        doc = sample_ticket(printer.paper, base_url, url_token, datetime.now(ZoneInfo(tz)))
        result["url"] = f"{base_url.rstrip('/')}/t/{url_token}"
        if preview is None and isinstance(printer, SimulatedPrinter):
            preview = Path(tempfile.gettempdir()) / f"govhall-ticket-{width}mm.png"
        if preview is not None:
            render(doc, printer.fonts).save(preview, format="PNG", dpi=(203, 203))
            result["preview"] = str(preview)
        printer.print_document(doc)
        result["bytes"] = len(printer.last_job)
    except PrinterError as e:
        _fail(e, **result)
    except (OSError, KeyError, ValueError) as e:  # the preview path, an unknown --timezone
        _fail(PrinterError(f"{type(e).__name__}: {e}", "cli_error"), **result)
    finally:
        printer.close()
    _emit(result)
