"""`govhall bench …`: the project's own benchmarks."""

from __future__ import annotations

import click

from hardware.qr.bench import command as qr_bench


@click.group()
def bench() -> None:
    """Benchmarks the hall's owners can run themselves."""


bench.add_command(qr_bench, "qr")
