"""`govhall demo`: the demo hall on the embedded SQLite database.

The database lives in instance/demo.db between runs and is seeded only when empty; `--reset` starts
over. What the demo prints is written to instance/demo.json (urls, logins, kiosk_token, sfm_key).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import func, select

from . import clock
from .db import Database
from .models import Hall, Window
from .queue.errors import QueueError
from .settings import Settings

DEMO_HALL = "demo"


@dataclass(frozen=True)
class DemoInfo:
    database_url: str
    password: str
    kiosk_token: str | None
    clerks: int
    sfm_key: str | None = None


def sfm_issuer(instance: Path, reset: bool) -> Path:
    """The demo's 苏服码 issuer key, trusted by the demo server (instance/sfm/)."""
    from . import sfm

    key = instance / "sfm-issuer.pem"
    if reset or not key.exists():
        for old in (instance / "sfm").glob("*"):
            old.unlink()
        sfm.keygen(key)
    sfm.trust(key, instance / "sfm")
    return key


def prepare(settings: Settings, reset: bool) -> tuple[Database, DemoInfo]:
    """Migrate and (when empty) seed the demo database; return it with the demo logins."""
    from .catalogue import load_catalogue, load_demo_hall
    from .migrate import upgrade
    from .seed import seed_catalogue, seed_demo

    instance = settings.instance_path
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "demo.db"
    info_path = instance / "demo.json"
    if reset:
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), info_path):
            p.unlink(missing_ok=True)
    issuer = sfm_issuer(instance, reset)
    url = f"sqlite:///{path}"
    database = Database(url)
    upgrade(database)
    with database.read() as db:
        seeded = db.scalar(select(func.count()).select_from(Hall)) > 0
        clerks = db.scalar(select(func.count()).select_from(Window)) or 0
    previous = json.loads(info_path.read_text()) if info_path.exists() else {}
    if seeded:
        password = previous.get("password") or settings.demo_password or "(unchanged since seeding)"
        return database, DemoInfo(url, password, previous.get("kiosk_token"), clerks, str(issuer))
    password = settings.demo_password or secrets.token_urlsafe(9)
    catalogue = load_catalogue()
    seed_catalogue(database, catalogue, clock.now())
    result = seed_demo(database, load_demo_hall(catalogue), password, clock.now())
    return database, DemoInfo(url, password, result.kiosk_token, result.windows, str(issuer))


def write_info(settings: Settings, info: DemoInfo, urls: dict[str, str]) -> dict[str, object]:
    data: dict[str, object] = {
        "urls": urls,
        "logins": {"manager": "manager", "admin": "admin", "assistant": "assistant1",
                   "clerks": [f"clerk{i}" for i in range(1, info.clerks + 1)],
                   "password": info.password},
        "password": info.password,
        "kiosk_token": info.kiosk_token,
        "sfm_key": info.sfm_key,
        "database_url": info.database_url,
    }
    path = settings.instance_path / "demo.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    path.chmod(0o600)
    return data


def demo_urls(base: str, info: DemoInfo) -> dict[str, str]:
    token = f"#token={info.kiosk_token}" if info.kiosk_token else ""
    return {
        "kiosk": f"{base}/kiosk/{token}",
        "hall_display": f"{base}/display/hall/{DEMO_HALL}",
        "window_display": f"{base}/display/window/1",
        "counter": f"{base}/counter/",
        "manager": f"{base}/manage/",
        "assist_console": f"{base}/assist/",
        "assist_phone": f"{base}/h/<follow_token from a 帮办代办 request>",
        "public_waits": f"{base}/w/{DEMO_HALL}",
        "phone_tracking": f"{base}/t/<track_token from a ticket's QR>",
        "citizen_code": f"{base}/demo/sfm",
        "api": f"{base}/api/v1/openapi.json",
    }


def start_demo_kiosk(settings: Settings, token: str, server_url: str, host: str, port: int) -> None:
    """A kiosk agent with simulated devices (QR, ID card reader, printer) beside the demo server."""
    import threading

    from werkzeug.serving import make_server

    from kiosk.agent import Agent, AgentConfig, create_agent_app
    from kiosk.devices import open_devices

    agent = Agent(AgentConfig(server=server_url, token=token,
                              instance=settings.instance_path / "kiosk"),
                  open_devices("sim", "sim", "sim"))
    agent.start()
    server = make_server(host, port, create_agent_app(agent), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-kiosk").start()


def run_demo(settings: Settings, host: str, port: int, reset: bool, console_only: bool) -> int:
    from .server import persistent_secret, serve

    database, info = prepare(settings, reset)
    if console_only:
        write_info(settings, info, {})
        return console_walkthrough(database, info)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a URL a person can open
    urls = demo_urls(f"http://{shown}:{port}", info)
    if info.kiosk_token:
        start_demo_kiosk(settings, info.kiosk_token, f"http://127.0.0.1:{port}", host, port + 1)
        urls["kiosk_terminal"] = f"http://{shown}:{port + 1}/kiosk/"
        urls["kiosk_simulate"] = (f"curl -X POST http://{shown}:{port + 1}/agent/sim/card "
                                  "-H 'Content-Type: application/json' -d '{\"who\": \"elderly\"}'")
    write_info(settings, info, urls)
    click.echo(f"govhall demo — {info.database_url}")
    for name, url in urls.items():
        click.echo(f"  {name:<15} {url}")
    click.echo(f"  logins          manager, admin, clerk1…clerk{info.clerks} (clerk<i> sits at window i), "
               "assistant1 (帮办代办)")
    click.echo(f"  password        {info.password}")
    click.echo(f"  苏服码 issuer   {info.sfm_key}  (govhall sfm issue --key … --id-number … --name …)")
    click.echo(f"  written to      {settings.instance_path / 'demo.json'}")
    database.dispose()
    serve(persistent_secret(settings.with_(
        database_url=info.database_url,
        demo_sfm_key=Path(info.sfm_key) if info.sfm_key else None)), host, port)
    return 0


def _show_waits(database: Database) -> None:
    from .services.common import hall_by_code
    from .services.waits import hall_waits

    with database.read() as db:
        hall = hall_by_code(db, DEMO_HALL)
        rows = hall_waits(db, hall, clock.now())
    click.echo(f"  {'事项':<16}{'等候':>6}{'预计等候(分钟)':>16}{'开放窗口':>10}")
    for r in rows:
        if r.waiting:
            wait = "—" if r.wait_min is None else str(r.wait_min)
            click.echo(f"  {r.prefix} {r.name:<14}{r.waiting:>6}{wait:>16}{r.open_windows:>10}")


def console_walkthrough(database: Database, info: DemoInfo) -> int:
    """A walk through the queue rules on the demo hall, printed step by step."""
    from .queue.priority import Identity
    from .services import calling, tickets

    now = clock.now()
    click.echo(f"govhall demo — hall '{DEMO_HALL}', database {info.database_url}")
    click.echo(f"logins: manager / clerk1…clerk{info.clerks}, password: {info.password}")
    click.echo("\n1. Kiosks issue tickets (one elderly citizen identified by ID card):")
    issued = []
    for bundle in ("newborn", "real-estate", "real-estate", "retirement", "enterprise-setup"):
        try:
            t = tickets.take_ticket(database, DEMO_HALL, bundle, now).ticket
        except QueueError as e:
            click.echo(f"  {bundle}: refused: {e}")
            continue
        issued.append(t)
        click.echo(f"  {t.number} {t.bundle_name}: 前面 {t.people_ahead} 人, 预计 {t.wait_min} 分钟")
    elder = Identity(id_hash="demo", birth_date=now.date() - timedelta(days=365 * 75), masked_name="王*")
    t = tickets.take_ticket(database, DEMO_HALL, "real-estate", now, identity=elder).ticket
    click.echo(f"  {t.number} {t.bundle_name} [{t.priority}]: 前面 {t.people_ahead} 人")
    _show_waits(database)
    click.echo("\n2. Windows call next (window 1 serves every bundle; the elderly ticket goes first):")
    for window_id in (1, 2, 1):
        try:
            acted = calling.call_next(database, window_id, clock.now())
        except QueueError as e:
            click.echo(f"  window {window_id}: {e}")
            continue
        event = acted.events[0]
        click.echo(f"  {getattr(event, 'announcement', '')}")
    click.echo("\n3. Recall, no-show, and the no-show put back in line:")
    acted = calling.recall(database, 2, clock.now())
    click.echo(f"  {getattr(acted.events[0], 'announcement', '')}")
    gone = calling.no_show(database, 2, clock.now()).ticket
    if gone is None:
        return 1
    back, _ = tickets.requeue(database, gone.id, clock.now())
    click.echo(f"  {back.number} 过号后重新排队：前面 {back.people_ahead} 人")
    click.echo("\n4. Window 1 transfers its citizen to window 9, which calls them first:")
    calling.transfer(database, 1, clock.now(), to_window=9)
    try:
        acted = calling.call_next(database, 9, clock.now())
        click.echo(f"  {getattr(acted.events[0], 'announcement', '')}")
    except QueueError as e:
        click.echo(f"  window 9: {e}")
    click.echo("\nQueue now:")
    _show_waits(database)
    click.echo("\nThe web server, displays and consoles come with `govhall serve`.")
    return 0
