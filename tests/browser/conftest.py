"""
Fixtures for the browser tests: headless Debian Chromium driven by Playwright
(skipped without it, failed under CI), and a real daphne on the demo data.
"""

import os
import shutil

import pytest
from django.db import connections

from tests.support.servers import Daphne

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop on this thread; the ORM calls
    # in these tests are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required under CI (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop ran got their own connection
        # slot; close it here, or PostgreSQL cannot drop the test database.
        connections.close_all()


@pytest.fixture
def server(production_passwords):
    with Daphne() as server:
        yield server
