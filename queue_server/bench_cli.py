"""`govhall bench …`: the project's own benchmarks.

`govhall bench [--json] [options]` measures the server from outside (queue_server.bench);
`govhall bench qr` measures the QR decoder.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hardware.qr.bench import command as qr_bench


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object on stdout")
@click.option("--database-url", help="PostgreSQL URL: a fresh database is made on that server "
              "(default: a fresh SQLite file)")
@click.option("--redis-url", help="Redis shared by the server processes (needed with --processes > 1)")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 16))
@click.option("--async-mode", type=click.Choice(["threading", "eventlet", "gevent"]),
              help="default: the mode `govhall serve` runs in by default")
@click.option("--halls", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--screens", default=2000, show_default=True, type=click.IntRange(0, 20_000))
@click.option("--ticket-rate", default=200.0, show_default=True, type=click.FloatRange(0.1, 10_000))
@click.option("--call-rate", default=20.0, show_default=True, type=click.FloatRange(0.1, 10_000))
@click.option("--duration", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="seconds of each phase")
@click.option("--phase", type=click.Choice(["take", "call", "all"]), default="all", show_default=True)
@click.option("--no-baseline", is_flag=True, help="skip the bare-stack baseline")
@click.option("--find-peak", is_flag=True, help="search the peak sustainable ticket rate")
@click.option("--peak-duration", default=10.0, show_default=True, type=click.FloatRange(1, 600))
@click.option("--peak-p99-ms", default=50.0, show_default=True, type=click.FloatRange(1, 10_000))
@click.option("--peak-max", default=2000.0, show_default=True, type=click.FloatRange(1, 100_000))
@click.option("--kiosks-per-hall", type=click.IntRange(1, 1000),
              help="default: enough that none passes half its own rate limit")
@click.pass_context
def bench(ctx: click.Context, /, as_json: bool, async_mode: str | None, no_baseline: bool,
          **load: Any) -> None:
    """Benchmarks: without a subcommand, the server under a simulated hall's load, beside the bare stack."""
    if ctx.invoked_subcommand is not None:
        return
    from .bench.run import Options, run, stop_on_sigterm
    from .bench.servers import ServerFailed

    opts = Options(async_mode=async_mode or _serve_default(), baseline=not no_baseline, **load)
    try:
        with stop_on_sigterm():
            result = run(opts)
    except ServerFailed as e:
        click.echo(f"bench: {e}\n--- server log (tail) ---\n{e.log}", err=True)
        if as_json:
            error = {"code": "server_failed", "message": str(e), "server_log": e.log}
            click.echo(json.dumps({"error": error}, ensure_ascii=False))
        sys.exit(1)
    except Exception as e:  # a database, Redis or worker failure: said once, plainly
        if as_json:
            click.echo(json.dumps({"error": {"code": "bench_failed", "message": f"{type(e).__name__}: {e}"}},
                                  ensure_ascii=False))
        raise click.ClickException(f"{type(e).__name__}: {str(e)[:2000]}") from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        from .bench.report import table

        click.echo(table(result))


def _serve_default() -> str:
    from . import launch

    return str(getattr(launch, "SERVE_DEFAULT", "threading"))


bench.add_command(qr_bench, "qr")
