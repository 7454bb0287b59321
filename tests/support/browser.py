"""
Browser-test helpers: log in on a page, wait for the live connection, find a
card, create a task over REST. The fixtures (`browser`, `server`) live in
tests/browser/conftest.py.
"""

import json
import urllib.request


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


def rest_post(server, username, path, body):
    """POST `body` to the server's API as `username` (a token): a change made
    through the server, which the pages then hear live."""

    def call(path, body, token=None):
        request = urllib.request.Request(
            server.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    token = call("/api/auth/token/", {"username": username, "password": "liveboard-demo"})["token"]
    return call(path, body, token)


def rest_create(server, title):
    return rest_post(server, "bob", "/api/tasks/", {"title": title, "listId": "list-todo"})
