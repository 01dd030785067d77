"""The `govhall` console script: patches the standard library for gevent or eventlet, then runs the CLI.

A cooperative async mode has to patch sockets, threads and time before anything imports them, so
this entry point looks at the command line (and GOVHALL_ASYNC_MODE) before importing the rest.
Only `govhall serve` runs in a cooperative mode; every other command keeps the standard library.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

MODES = ("threading", "eventlet", "gevent")
# Chosen from `govhall bench` figures (README, "Performance"): gevent holds 2,000 screens in the least
# memory with one OS thread, cooperates with psycopg, and serves on gevent's production WSGI server.
SERVE_DEFAULT = "gevent"


def serve_mode(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The async mode `govhall serve` will run in, or None for any other command."""
    if not argv or argv[0] != "serve":
        return None
    for i, arg in enumerate(argv):
        if arg == "--async-mode" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--async-mode="):
            return arg.split("=", 1)[1]
    return env.get("GOVHALL_ASYNC_MODE") or SERVE_DEFAULT


def patch(mode: str | None) -> None:
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def main() -> None:
    mode = serve_mode(sys.argv[1:], os.environ)
    patch(mode)
    from .cli import main as cli

    cli(default_map={"serve": {"async_mode": mode}} if mode else None)


if __name__ == "__main__":
    main()
