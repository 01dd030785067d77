"""Playwright for Python driving Debian's chromium (no browser download) against a real server.

Browser tests are skipped when chromium or Playwright is missing, unless
GOVHALL_TEST_REQUIRE_SERVICES=1 (CI), where that fails the run. Each test saves screenshots of the
pages it opens under docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import service_missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--mute-audio"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        service_missing("Debian chromium", "not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        service_missing("Playwright", e)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page_at(browser):
    """page_at(width, height) -> a fresh page of that viewport, closed after the test."""
    contexts = []

    def _page(width: int = 1920, height: int = 1080, **options: object):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      **options)
        contexts.append(context)
        return context.new_page()

    yield _page
    for c in contexts:
        c.close()


def screenshot(page, name: str) -> Path:
    """Save docs/screenshots/<name>.png of the page as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
