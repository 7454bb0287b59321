"""
SPEC §11 in real browsers (headless Chromium) against a real daphne: the
announcement banner on every page (also for one made before the page
opened), the notification bell live in two tabs whose badges agree, a
direct message from a presence avatar, away avatars (hidden tab, idle
minute) and "bob is editing" marks with the warning before overwriting.
"""

import pytest

from boards.announcements import announce
from boards.models import Notification, Task
from tests.support.browser import card, open_board, rest_post, wait_live

pytestmark = pytest.mark.django_db(transaction=True)


def login(page, server, username, next_path="/boards/board-1/"):
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "liveboard-demo")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"**{next_path}")


def person(page, name):
    return page.locator("#presence-users li", has_text=name)


def test_announcements_show_as_a_banner_on_every_page_before_and_after_it_opened(browser, server):
    before = announce("Planned maintenance at 18:00", "warning")  # stored before any page opened
    listing = browser.new_context().new_page()  # anonymous, the board list
    listing.goto(server.url + "/")
    board = open_board(browser, server, "alice")
    for page in (listing, board):
        banner = page.locator(f".announcement[data-announcement-id='{before.pk}']")
        banner.wait_for()
        assert "announcement-warning" in banner.get_attribute("class")
        assert banner.inner_text().startswith("Planned maintenance")
    listing.wait_for_timeout(500)  # its own socket is open by now
    live = rest_post(server, "admin", "/api/announcements/", {"text": "Back to normal", "level": "critical"})
    for page in (listing, board):
        page.locator(f".announcement[data-announcement-id='{live['id']}']").wait_for()
    board.click(f".announcement[data-announcement-id='{live['id']}'] .announcement-close")
    assert board.locator(f".announcement[data-announcement-id='{live['id']}']").count() == 0


def test_the_bell_counts_live_and_both_tabs_agree_after_marking_read(browser, server):
    Notification.objects.all().delete()
    context = browser.new_context()
    tab1 = context.new_page()
    login(tab1, server, "bob")
    wait_live(tab1)
    tab2 = context.new_page()
    tab2.goto(server.url + "/")  # the board list has a bell too
    tab2.wait_for_timeout(500)
    rest_post(server, "alice", "/api/tasks/", {"title": "Review the plan", "listId": "list-todo", "assignee": "bob"})
    for tab in (tab1, tab2):
        tab.wait_for_function("document.getElementById('bell-count').textContent === '1'")
    tab1.click("#bell-button")
    item = tab1.locator("#bell-list li.unread", has_text="Review the plan")
    item.wait_for()
    item.click()
    for tab in (tab1, tab2):
        tab.wait_for_function("document.getElementById('bell-count').textContent === '0'")
    assert Notification.objects.filter(read=False).count() == 0


def test_a_direct_message_from_a_presence_avatar(browser, server):
    Notification.objects.all().delete()
    alice = open_board(browser, server, "alice")
    bob = open_board(browser, server, "bob")
    person(alice, "bob").wait_for()
    person(alice, "bob").click()
    assert alice.input_value("#dm-to") == "bob"
    alice.fill("#dm-text", "Got a minute?")
    alice.click("#dm-form button[type=submit]")
    alice.wait_for_function("document.getElementById('dm-status').textContent.includes('Sent to bob')")
    bob.wait_for_function("document.getElementById('bell-count').textContent === '1'")
    bob.click("#bell-button")
    assert "Got a minute?" in bob.locator("#bell-list li[data-kind='message']").inner_text()


def test_a_hidden_or_idle_tab_shows_as_away_on_the_others_avatars(browser, server):
    alice = open_board(browser, server, "alice")
    bob = open_board(browser, server, "bob")
    person(alice, "bob").wait_for()
    bob.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    alice.wait_for_function("document.querySelector('#presence-users li.away')?.dataset.name === 'bob'")
    bob.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    alice.wait_for_function("!document.querySelector('#presence-users li.away')")

    # Idle for a minute: carol's page (a fake clock) reports away by itself.
    page = browser.new_context().new_page()
    page.clock.install()
    login(page, server, "carol")
    wait_live(page)
    person(alice, "carol").wait_for()
    page.clock.fast_forward(61_000)
    alice.wait_for_function("document.querySelector('#presence-users li.away')?.dataset.name === 'carol'")
    assert "away" in person(alice, "carol").get_attribute("title")


def test_an_editing_mark_shows_on_the_card_and_saving_over_it_asks_first(browser, server):
    alice = open_board(browser, server, "alice")
    bob = open_board(browser, server, "bob")
    bob.dblclick(".card:has-text('Write the README') .card-title")
    target = card(alice, "list-todo", "Write the README")
    target.locator(".card-editing-by", has_text="bob is editing").wait_for()

    alice.dblclick(".card:has-text('Write the README') .card-title")
    alice.fill(".card.editing .card-edit input[type=text]", "Alice's title")
    dialogs = []
    alice.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    alice.click(".card.editing .card-edit button[type=submit]")
    alice.wait_for_timeout(300)
    assert dialogs and "bob is editing this card" in dialogs[0]
    assert Task.objects.filter(title="Alice's title").count() == 0  # not saved
    alice.once("dialog", lambda d: d.accept())
    alice.click(".card.editing .card-edit button[type=submit]")
    card(alice, "list-todo", "Alice's title").wait_for()  # a mark is not a lock: saved
    assert Task.objects.filter(title="Alice's title").count() == 1

    bob.keyboard.press("Escape")  # bob stops editing: the mark goes, his card catches up
    card(alice, "list-todo", "Alice's title").locator(".card-editing-by").wait_for(state="detached")
    card(bob, "list-todo", "Alice's title").wait_for()
