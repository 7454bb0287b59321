"""
The board page in real browsers (headless Chromium driven by Playwright)
against a real daphne: two people watch each other's changes live, drag and
drop moves a card, a REST change appears, and a server restart is healed by
the page's reconnect + replay.
"""

import pytest

from boards.models import Task
from tests.support.browser import card, open_board, rest_create, wait_live
from tests.support.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


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
