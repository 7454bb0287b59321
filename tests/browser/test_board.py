"""
The board page's SPEC §12 half in Chromium against a real daphne: creating
a board on `/`, columns, assignees, members, activity, the owner's
settings, the narrow layout and the read-only view. Each change is made on
one page and checked on another (and in the database).

LIVEBOARD_SCREENSHOTS=1 also writes docs/board.png and docs/board-narrow.png.
"""

import os
from pathlib import Path

import pytest

from boards.models import Board, List, Membership, Task
from tests.support.browser import card, wait_live

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = os.environ.get("LIVEBOARD_SCREENSHOTS") == "1"


def login(browser, server, username, path="/boards/board-1/", viewport=None):
    context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() says yes
    if username is None:
        page.goto(server.url + path)
    else:
        page.goto(f"{server.url}/accounts/login/?next={path}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "liveboard-demo")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url("**" + path)
    if path.startswith("/boards/"):
        wait_live(page)
    return page


def column_names(page):
    return page.locator(".columns > .column .column-head h2").all_inner_texts()


def wait_columns(page, names):
    page.wait_for_function(
        "names => JSON.stringify([...document.querySelectorAll('.columns > .column .column-head h2')]"
        ".map(h => h.textContent)) === JSON.stringify(names)",
        arg=names,
    )


def column(page, name):
    return page.locator(".columns > .column", has=page.locator(".column-head h2", has_text=name))


def test_a_logged_in_user_creates_a_board_on_the_list_page_and_lands_on_it(browser, server):
    page = login(browser, server, "carol", path="/")
    page.fill("#new-board-name", "Garden plans")
    page.select_option("#new-board-visibility", "public")
    page.click("#new-board button[type=submit]")
    page.wait_for_url("**/boards/garden-plans/")
    wait_live(page)
    assert column_names(page) == ["To do", "Doing", "Done"]
    assert page.locator("#board-name").inner_text() == "Garden plans"
    board = Board.objects.get(slug="garden-plans")
    assert board.visibility == "public"
    assert Membership.objects.get(board=board, user__username="carol").role == "owner"
    page.goto(server.url + "/")
    assert page.locator(".board-list a", has_text="Garden plans").count() == 1


def test_a_bad_new_board_gets_a_clear_message_and_creates_nothing(browser, server):
    page = login(browser, server, "carol", path="/")
    before = Board.objects.count()
    page.fill("#new-board-name", "x" * 200)
    page.evaluate("document.getElementById('new-board-name').value = 'x'.repeat(201)")
    page.click("#new-board button[type=submit]")
    page.locator("#new-board .form-error").filter(has_text="name").wait_for()
    assert Board.objects.count() == before


def test_a_column_added_renamed_and_deleted_on_one_page_changes_on_the_other(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")

    alice.fill(".add-column input[name=name]", "Review")
    alice.press(".add-column input[name=name]", "Enter")
    wait_columns(bob, ["To do", "Doing", "Done", "Review"])

    column(alice, "Review").locator(".column-rename").click()
    alice.fill(".column-rename-input", "QA")
    alice.press(".column-rename-input", "Enter")
    wait_columns(bob, ["To do", "Doing", "Done", "QA"])
    assert List.objects.filter(board__slug="board-1", name="QA").count() == 1

    # bob adds a card to the new column from his page; alice sees it there.
    qa = List.objects.get(name="QA").pk
    bob.fill(f".add-task[data-list-id='{qa}'] input[name=title]", "Check the release")
    bob.press(f".add-task[data-list-id='{qa}'] input[name=title]", "Enter")
    card(alice, qa, "Check the release").wait_for()

    # A column with tasks is not deleted, with a message that says why.
    column(alice, "To do").locator(".column-delete").click()
    alice.locator(".toast", has_text="still has 2 tasks").wait_for()
    assert List.objects.filter(pk="list-todo").exists()

    # An empty one is: on both pages.
    card(bob, qa, "Check the release").hover()
    card(bob, qa, "Check the release").locator(".card-delete").click()
    card(alice, qa, "Check the release").wait_for(state="detached")
    column(alice, "QA").locator(".column-delete").click()
    wait_columns(bob, ["To do", "Doing", "Done"])
    wait_columns(alice, ["To do", "Doing", "Done"])


def test_columns_reorder_with_the_keyboard_and_by_drag_on_every_page(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")

    button = column(alice, "To do").locator(".column-right")
    button.focus()
    alice.keyboard.press("Enter")
    wait_columns(bob, ["Doing", "To do", "Done"])
    wait_columns(alice, ["Doing", "To do", "Done"])
    # The button kept the focus through the move, so Enter again moves it on.
    assert alice.evaluate("document.activeElement.classList.contains('column-right')")
    alice.keyboard.press("Enter")
    wait_columns(bob, ["Doing", "Done", "To do"])

    # Drag Done's header onto the left edge of Doing.
    alice.drag_and_drop(
        ".column[data-list-id='list-done'] .column-head", ".column[data-list-id='list-doing']",
        target_position={"x": 5, "y": 40},
    )
    wait_columns(bob, ["Done", "Doing", "To do"])
    assert list(List.objects.filter(board__slug="board-1").order_by("position").values_list("pk", flat=True)) == [
        "list-done", "list-doing", "list-todo",
    ]


def test_an_assignee_set_on_one_page_shows_on_the_other_and_cards_move_by_keyboard(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")

    readme = card(alice, "list-todo", "Write the README")
    readme.hover()  # the card's buttons show on hover or focus
    readme.locator(".card-tools-toggle").click()
    readme.locator(".card-assign").select_option("bob")
    card(bob, "list-todo", "Write the README").locator(".card-assignee", has_text="bob").wait_for()
    assert Task.objects.get(title="Write the README").assignee.username == "bob"
    assert card(bob, "list-todo", "Write the README").locator(".avatar").inner_text() == "BO"

    # Move to a column with the panel's select, then with Alt+arrows on the focused card.
    readme.locator(".card-move-list").select_option("list-doing")
    card(bob, "list-doing", "Write the README").wait_for()
    moved = card(alice, "list-doing", "Write the README")
    moved.locator(".card-tools-close").click()
    moved.focus()
    alice.keyboard.press("Alt+ArrowRight")
    card(bob, "list-done", "Write the README").wait_for()
    alice.keyboard.press("Alt+ArrowUp")  # already the top of Done? then it stays
    alice.keyboard.press("Alt+ArrowDown")
    bob.wait_for_function(
        "() => [...document.querySelectorAll(\".cards[data-list-id='list-done'] .card-title\")]"
        ".map(e => e.textContent).join('|') === 'Run manage.py demo|Write the README'"
    )
    # Alt+ArrowLeft moves the card, not the browser back a page.
    alice.keyboard.press("Alt+ArrowLeft")
    card(bob, "list-doing", "Write the README").wait_for()
    assert alice.url.endswith("/boards/board-1/")

    # Unassign: bob's page loses the chip.
    card(alice, "list-doing", "Write the README").hover()
    card(alice, "list-doing", "Write the README").locator(".card-tools-toggle").click()
    alice.locator(".card-assign").select_option("")
    card(bob, "list-doing", "Write the README").locator(".card-assignee").wait_for(state="detached")
    assert Task.objects.get(title="Write the README").assignee is None


def test_an_owner_manages_members_from_the_panel_and_every_page_sees_it(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")
    for page in (alice, bob):
        page.click("#tab-members")

    alice.fill(".add-member input[name=username]", "carol")
    alice.select_option(".add-member select[name=role]", "viewer")
    alice.click(".add-member button[type=submit]")
    bob.locator(".member[data-username=carol] .member-role-tag", has_text="viewer").wait_for()
    assert Membership.objects.get(board__slug="board-1", user__username="carol").role == "viewer"

    alice.select_option(".member[data-username=carol] .member-role", "editor")
    bob.locator(".member[data-username=carol] .member-role-tag", has_text="editor").wait_for()

    alice.click(".member[data-username=carol] .member-remove")
    bob.locator(".member[data-username=carol]").wait_for(state="detached")

    # Unknown users get a clear message, and nothing changes.
    alice.fill(".add-member input[name=username]", "nobody-here")
    alice.click(".add-member button[type=submit]")
    alice.locator(".add-member .form-error", has_text="nobody-here").wait_for()
    assert Membership.objects.filter(board__slug="board-1").count() == 2


def test_a_member_whose_role_changes_gets_the_controls_of_the_new_role(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")
    assert bob.locator(".add-task").count() == 3
    alice.click("#tab-members")
    alice.select_option(".member[data-username=bob] .member-role", "viewer")
    bob.locator(".tag-readonly").wait_for()  # the page redrew itself for a viewer
    wait_live(bob)
    assert bob.locator(".add-task, .add-column, .card-tools-toggle").count() == 0
    alice.select_option(".member[data-username=bob] .member-role", "editor")
    bob.locator(".add-column").wait_for()


def test_a_viewer_removed_from_a_private_board_is_sent_away(browser, server):
    Membership.objects.create(board=Board.objects.get(slug="board-2"), user_id=_user("alice"), role="viewer")
    alice = login(browser, server, "alice", path="/boards/board-2/")
    carol = login(browser, server, "carol", path="/boards/board-2/")
    carol.click("#tab-members")
    carol.click(".member[data-username=alice] .member-remove")
    alice.wait_for_url("**/?gone=board-2&why=removed")
    assert "no longer have access" in alice.locator(".notice").inner_text()


def test_the_owner_renames_and_deletes_the_board_and_every_page_follows(browser, server):
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")
    anonymous = login(browser, server, None)
    alice.click("#tab-settings")
    alice.fill("#board-settings-name", "Launch, renamed")
    alice.click(".board-settings button[type=submit]")
    bob.wait_for_function("document.getElementById('board-name').textContent === 'Launch, renamed'")
    assert bob.title() == "Launch, renamed · Liveboard"
    assert bob.locator("#tab-settings").count() == 0  # editors do not get the settings

    alice.select_option("#board-settings-visibility", "private")
    alice.click(".board-settings button[type=submit]")
    bob.locator("#board-visibility", has_text="private").wait_for()
    anonymous.wait_for_url("**/?gone=board-1&why=removed")  # not a member: out at once
    assert "no longer have access" in anonymous.locator(".notice").inner_text()

    alice.click(".board-delete")
    bob.wait_for_url("**/?gone=board-1&why=deleted")
    assert "was deleted" in bob.locator(".notice").inner_text()
    alice.wait_for_url("**/?gone=board-1&why=deleted")
    assert not Board.objects.filter(slug="board-1").exists()


def test_the_activity_panel_pages_back_and_grows_live(browser, server):
    todo = List.objects.get(pk="list-todo")
    for i in range(25):
        Task.objects.create(list=todo, title=f"Bulk {i}")
    alice = login(browser, server, "alice")
    bob = login(browser, server, "bob")
    entries = alice.locator(".activity-list .activity-entry")
    entries.nth(19).wait_for()
    assert entries.count() == 20
    alice.click(".activity-more")
    entries.nth(20).wait_for()

    bob.fill(".add-task[data-list-id='list-doing'] input[name=title]", "Live one")
    bob.press(".add-task[data-list-id='list-doing'] input[name=title]", "Enter")
    first = alice.locator(".activity-list .activity-entry").first
    first.locator(".activity-text", has_text="bob added \u201cLive one\u201d to Doing").wait_for()
    # The sender's own panel has it too (from the ack).
    bob.locator(".activity-list .activity-entry").first.locator(
        ".activity-text", has_text="bob added \u201cLive one\u201d to Doing"
    ).wait_for()

    alice.drag_and_drop(".card:has-text('Live one')", ".cards[data-list-id='list-done']")
    bob.locator(".activity-list .activity-entry").first.locator(
        ".activity-text", has_text="alice moved \u201cLive one\u201d to Done"
    ).wait_for()
    texts = bob.locator(".activity-list .activity-text").all_inner_texts()
    assert len(texts) == len(set(bob.locator(".activity-list .activity-entry").evaluate_all(
        "els => els.map(e => e.dataset.seq)")))


def test_on_a_narrow_screen_columns_stack_and_nothing_scrolls_sideways(browser, server):
    page = login(browser, server, "alice", viewport={"width": 390, "height": 844})
    boxes = [page.locator(f".column[data-list-id='{c}']").bounding_box() for c in ("list-todo", "list-doing", "list-done")]
    assert boxes[0]["x"] == boxes[1]["x"] == boxes[2]["x"]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert all(b["width"] > 300 for b in boxes)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The card buttons do not hide behind a hover a phone cannot do.
    assert card(page, "list-todo", "Write the README").locator(".card-tools-toggle").is_visible()
    panel = page.locator(".side-panel").bounding_box()
    assert panel["y"] > boxes[2]["y"]
    if SCREENSHOTS:
        card(page, "list-todo", "Write the README").locator(".card-tools-toggle").click()
        page.screenshot(path=str(DOCS / "board-narrow.png"), full_page=True)


def test_a_viewer_sees_the_board_read_only(browser, server):
    for who in (None, "carol"):  # anonymous on a public board; a viewer member
        if who:
            Membership.objects.create(board=Board.objects.get(slug="board-1"), user_id=_user(who), role="viewer")
        page = login(browser, server, who)
        assert page.locator(".tag-readonly").is_visible()
        for control in (".add-task", ".add-column", ".column-tools", ".card-tools-toggle", ".card-delete",
                        "#tab-settings", ".member-role", ".member-remove", ".add-member"):
            assert page.locator(control).count() == 0, control
        assert page.locator(".card[draggable=true]").count() == 0
        page.focus("#tab-activity")
        page.keyboard.press("ArrowRight")  # the tabs follow the arrow keys
        assert page.evaluate("document.activeElement.id") == "tab-members"
        page.locator(".member[data-username=alice] .member-role-tag", has_text="owner").wait_for()
        page.click("#tab-activity")
        page.locator(".activity-list .activity-entry").first.wait_for()
        page.context.close()


def test_a_wide_screenshot_of_the_board_for_the_readme(browser, server):
    if not SCREENSHOTS:
        pytest.skip("set LIVEBOARD_SCREENSHOTS=1 to write docs/board.png")
    Task.objects.filter(title="Write the README").update(assignee_id=_user("bob"))
    alice = login(browser, server, "alice", viewport={"width": 1360, "height": 720})
    bob = login(browser, server, "bob")
    bob.fill(".add-task[data-list-id='list-doing'] input[name=title]", "Review the page on a phone")
    bob.press(".add-task[data-list-id='list-doing'] input[name=title]", "Enter")
    card(alice, "list-doing", "Review the page on a phone").wait_for()
    bob.drag_and_drop(".card:has-text('Try it with wscat')", ".cards[data-list-id='list-doing']")
    alice.locator(".activity-text", has_text="bob moved").wait_for()
    alice.wait_for_timeout(4500)  # let the live highlights fade
    alice.screenshot(path=str(DOCS / "board.png"))


def _user(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name).pk


def test_the_board_list_says_why_a_page_came_back_but_echoes_only_a_board_id(client, demo):
    page = client.get("/?gone=board-9&why=deleted").content.decode()
    assert "The board \u201cboard-9\u201d was deleted." in page
    for query in ("gone=Call+us+now&why=deleted", "gone=board-9&why=whatever", "gone=%3Cb%3E&why=removed"):
        assert 'class="notice"' not in client.get("/?" + query).content.decode(), query
