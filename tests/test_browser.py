"""
The board page in real browsers (headless Chromium driven by Playwright)
against a real daphne: two people watch each other's changes live, drag and
drop moves a card, a REST change appears, and a server restart is healed by
the page's reconnect + replay.
"""

import json
import os
import shutil
import urllib.request

import pytest
from django.db import connections
from django.contrib.auth import get_user_model  # noqa: F401  (loads the app registry)

from boards.models import Task
from tests.support.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)

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


def open_board(browser, server, username):
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/accounts/login/?next=/boards/board-1/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "liveboard-demo")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/boards/board-1/")
    wait_live(page)
    return page


def wait_live(page, timeout=10_000):
    page.wait_for_function("document.getElementById('conn-status').textContent.trim() === 'live'", timeout=timeout)


def card(page, list_id, title):
    return page.locator(f".cards[data-list-id='{list_id}'] .card", has_text=title)


def rest_create(server, title):
    def call(path, body, token=None):
        request = urllib.request.Request(
            server.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    token = call("/api/auth/token/", {"username": "bob", "password": "liveboard-demo"})["token"]
    return call("/api/tasks/", {"title": title, "listId": "list-todo"}, token)


def test_two_browsers_see_each_other_live(browser, server, tmp_path):
    alice = open_board(browser, server, "alice")
    bob = open_board(browser, server, "bob")
    for page in (alice, bob):
        page.wait_for_function("document.getElementById('viewer-count').textContent === '2'")
    assert "bob" in alice.locator("#presence-users").inner_text()

    # bob adds a card from the page; alice sees it.
    bob.fill(".add-task[data-list-id='list-doing'] input[name=title]", "Made in a browser")
    bob.press(".add-task[data-list-id='list-doing'] input[name=title]", "Enter")
    card(alice, "list-doing", "Made in a browser").wait_for()

    # alice drags a card to Done; bob sees it move, the database agrees.
    alice.drag_and_drop(
        ".card:has-text('Write the README')", ".cards[data-list-id='list-done']"
    )
    card(bob, "list-done", "Write the README").wait_for()
    assert Task.objects.get(title="Write the README").list_id == "list-done"

    # A REST change reaches both pages.
    rest_create(server, "Made with curl")
    for page in (alice, bob):
        card(page, "list-todo", "Made with curl").wait_for()
    alice.screenshot(path=str(tmp_path / "board.png"), full_page=True)

    # bob leaves; alice's count drops.
    bob.context.close()
    alice.wait_for_function("document.getElementById('viewer-count').textContent === '1'")


def test_page_heals_after_a_server_restart(browser, server):
    page = open_board(browser, server, "alice")
    server.stop()
    page.wait_for_function("document.getElementById('conn-status').textContent.includes('reconnecting')")
    # Changed while the page was cut off: only the event log knows.
    task = Task.objects.get(title="Try it with wscat")
    task.title = "Changed while you were away"
    task.save()
    Task.objects.create(list_id="list-done", title="Created while you were away")
    restarted = Daphne(port=server.port)
    restarted.env = server.env
    with restarted:
        wait_live(page, timeout=30_000)
        card(page, "list-todo", "Changed while you were away").wait_for()
        card(page, "list-done", "Created while you were away").wait_for()
        assert page.locator(".card", has_text="Try it with wscat").count() == 0
