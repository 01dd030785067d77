"""`govhall hw …`: device diagnostics for a technician installing a terminal (JSON on stdout)."""

from __future__ import annotations

import click

from .idcard.cli import command as idcard
from .printer.cli import command as printer
from .qr.cli import command as qr


@click.group()
def hw() -> None:
    """Device diagnostics: QR images, the ID card reader, the ticket printer."""


hw.add_command(qr, "qr")
hw.add_command(idcard, "idcard")
hw.add_command(printer, "printer")
