"""The `govhall` commands of the queue core: db upgrade, seed, seed --demo, demo --console."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from sqlalchemy import func, select

from queue_server.catalogue import DEFAULT_ROOT
from queue_server.cli import main
from queue_server.db import Database
from queue_server.models import Bundle, Staff, Window


def test_upgrade_seed_and_demo_seed(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    refused = runner.invoke(main, ["seed", "--database-url", url])
    assert refused.exit_code != 0 and "govhall db upgrade" in refused.output
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    seeded = runner.invoke(main, ["seed", "--database-url", url])
    assert seeded.exit_code == 0, seeded.output
    again = runner.invoke(main, ["seed", "--database-url", url])  # seeding twice updates in place
    assert again.exit_code == 0, again.output
    demo = runner.invoke(main, ["seed", "--demo", "--database-url", url],
                         env={"GOVHALL_DEMO_PASSWORD": "pw-123"})
    assert demo.exit_code == 0, demo.output
    printed = json.loads(demo.output[demo.output.index("{"):])
    assert printed["password"] == "pw-123" and "clerk1" in printed["logins"]
    database = Database(url)
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(Bundle)) >= 15
        assert db.scalar(select(func.count()).select_from(Window)) >= 24
        clerk3 = db.scalar(select(Staff).where(Staff.username == "clerk3"))
        window3 = db.get(Window, clerk3.window_id)
        assert window3.number == 3 and window3.open
    database.dispose()


def test_seed_names_the_broken_file_and_entry(tmp_path):
    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_ROOT, root)
    target = next((root / "bundles").glob("A-*.yaml"))
    target.write_text(target.read_text(encoding="utf-8").replace("prefix: A", "prefix: B"),
                      encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade", "--database-url", url])
    result = runner.invoke(main, ["seed", "--database-url", url, "--catalogue", str(root)])
    assert result.exit_code != 0
    assert "prefix" in result.output and ".yaml" in result.output


def test_console_demo_walks_through_the_rules(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--console"],
                                env={"GOVHALL_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "请" in result.output and "号窗口办理" in result.output
    info = json.loads((tmp_path / "demo.json").read_text())
    assert set(info) >= {"urls", "logins", "kiosk_token", "sfm_key"}
