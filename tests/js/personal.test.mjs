// The pure parts of the SPEC §11 page modules: who is away (status.js), whose
// editing marks are on which card (editing.js), and how their frame handlers
// join the board page's own (notify.js). Run under `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { addHandlers } from "../../static/boards/js/notify.js";
import { StatusBook } from "../../static/boards/js/status.js";
import { Marks } from "../../static/boards/js/editing.js";

test("a status book takes joined users, status_changed users and defaults to active", () => {
  const book = new StatusBook();
  book.reset([{ id: 1, name: "alice", status: "active", lastSeen: "t1" }, { id: 2, name: "bob", status: "away", lastSeen: "t2" }]);
  assert.equal(book.of("bob").status, "away");
  assert.equal(book.of("bob").lastSeen, "t2");
  book.set({ id: 2, name: "bob", status: "active", lastSeen: "t3" });
  assert.equal(book.of("bob").status, "active");
  assert.equal(book.of("nobody").status, "active");
  book.set({ id: null, name: "anonymous", status: "away" }); // anonymous viewers have no status
  assert.equal(book.of("anonymous").status, "active");
});

test("marks are per task and user; the last one off clears the card", () => {
  const marks = new Marks();
  marks.reset([{ taskId: 5, user: { id: 2, name: "bob" } }]);
  assert.deepEqual(marks.names(5), ["bob"]);
  marks.set(5, { id: 3, name: "carol" }, true);
  marks.set("5", { id: 2, name: "bob" }, true); // a refresh: no duplicate
  assert.deepEqual(marks.names("5"), ["bob", "carol"]);
  marks.set(5, { id: 2, name: "bob" }, false);
  marks.set(5, { id: 3, name: "carol" }, false);
  assert.deepEqual(marks.names(5), []);
  assert.equal(marks.byTask.size, 0);
});

test("added handlers run after the page's own, and alone for new types", () => {
  const calls = [];
  const socket = { handlers: { joined: () => calls.push("main") } };
  addHandlers(socket, { joined: () => calls.push("status"), editing: () => calls.push("editing") });
  addHandlers(socket, { joined: () => calls.push("marks") });
  socket.handlers.joined({});
  socket.handlers.editing({});
  assert.deepEqual(calls, ["main", "status", "marks", "editing"]);
});
