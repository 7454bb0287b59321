// The page's model following columns, the board and its members (SPEC §12),
// and the activity sentences it shows live; run under `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BoardModel } from "../../static/boards/js/model.js";
import { sentence } from "../../static/boards/js/activitytext.js";

const BOARD = "board-1";
const alice = { id: 1, name: "alice" };
const bob = { id: 2, name: "bob" };

function snap(seq = 0) {
  return {
    id: BOARD, name: "Launch", visibility: "public", seq,
    lists: [{ id: "todo", name: "To do", position: 0 }, { id: "done", name: "Done", position: 1 }],
    tasks: [{ id: 1, listId: "todo", title: "t1", description: "", position: 0, version: 1, assignee: null }],
    members: [{ user: bob, role: "editor" }, { user: alice, role: "owner" }],
  };
}

function model() {
  const applied = [];
  const m = new BoardModel({ boardId: BOARD, onApply: (f, prior) => applied.push([f, prior]) });
  m.load(snap());
  return { m, applied };
}

const ev = (seq, type, body) => ({ type, boardId: BOARD, seq, actor: alice, ...body });
const lists = (m) => m.lists.map((l) => [l.id, l.name, l.position]);

test("a snapshot gives the board's name, visibility and members, owners first", () => {
  const { m } = model();
  assert.deepEqual(m.board, { id: BOARD, name: "Launch", visibility: "public" });
  assert.deepEqual(m.members.map((x) => [x.user.name, x.role]), [["alice", "owner"], ["bob", "editor"]]);
});

test("list_created inserts a column at its position and renumbers the others", () => {
  const { m } = model();
  const before = m.revision.lists;
  m.receive(ev(1, "list_created", { list: { id: "list-9", name: "Review", position: 1 } }));
  assert.deepEqual(lists(m), [["todo", "To do", 0], ["list-9", "Review", 1], ["done", "Done", 2]]);
  assert.deepEqual(m.view().order["list-9"], []);
  assert.ok(m.revision.lists > before);
  // A task can go into the new column at once.
  m.receive(ev(2, "task_moved", { task: { ...m.tasks["1"], listId: "list-9", position: 0, version: 2 } }));
  assert.deepEqual(m.view().order, { todo: [], "list-9": ["1"], done: [] });
  assert.equal(m.needsSnapshot, false);
});

test("list_moved and list_updated keep positions 0..n-1; list_deleted drops the column", () => {
  const { m } = model();
  m.receive(ev(1, "list_created", { list: { id: "c", name: "Later", position: 2 } }));
  m.receive(ev(2, "list_moved", { list: { id: "c", name: "Later", position: 0 } }));
  assert.deepEqual(lists(m), [["c", "Later", 0], ["todo", "To do", 1], ["done", "Done", 2]]);
  m.receive(ev(3, "list_updated", { list: { id: "c", name: "Someday", position: 0 } }));
  assert.deepEqual(lists(m)[0], ["c", "Someday", 0]);
  m.receive(ev(4, "list_deleted", { listId: "c" }));
  assert.deepEqual(lists(m), [["todo", "To do", 0], ["done", "Done", 1]]);
  assert.equal("c" in m.view().order, false);
  assert.equal(m.lastSeq, 4);
});

test("list events are ordered by seq with task events: an early one waits for the gap", () => {
  const { m } = model();
  m.receive(ev(2, "task_created", { task: { id: 5, listId: "x", title: "in x", description: "", position: 0, version: 1, assignee: null } }));
  assert.equal(m.hasGap, true);
  m.receive(ev(1, "list_created", { list: { id: "x", name: "X", position: 2 } }));
  assert.deepEqual(m.view().order.x, ["5"]);
  assert.equal(m.needsSnapshot, false);
  m.receive(ev(1, "list_created", { list: { id: "x", name: "X", position: 2 } })); // a replayed duplicate
  assert.equal(m.lists.length, 3);
});

test("an update of a column the model does not know asks for a snapshot", () => {
  const { m } = model();
  m.receive(ev(1, "list_updated", { list: { id: "nope", name: "?", position: 0 } }));
  assert.equal(m.needsSnapshot, true);
  assert.equal(m.lastSeq, 1);
});

test("the ack of our own column change applies it like the event it stands for", () => {
  const { m, applied } = model();
  m.addPending("r1", { kind: "createList" });
  const r = m.receive({ type: "ack", ref: "r1", boardId: BOARD, seq: 1, list: { id: "n", name: "New", position: 2 } });
  assert.equal(r.op.kind, "createList");
  assert.deepEqual(lists(m)[2], ["n", "New", 2]);
  m.addPending("r2", { kind: "deleteList", id: "n" });
  m.receive({ type: "ack", ref: "r2", boardId: BOARD, seq: 2, listId: "n" });
  assert.equal(m.lists.length, 2);
  assert.deepEqual(applied.map(([f]) => f.type), ["list_created", "list_deleted"]);
  assert.equal(m.pending.size, 0);
});

test("board_updated and member events change the board and its members", () => {
  const { m, applied } = model();
  m.receive(ev(1, "board_updated", { board: { id: BOARD, name: "Renamed", visibility: "private" } }));
  assert.deepEqual(m.board, { id: BOARD, name: "Renamed", visibility: "private" });
  assert.equal(applied[0][1].name, "Launch"); // the prior board, for "renamed the board"
  const carol = { id: 3, name: "carol" };
  m.receive(ev(2, "member_added", { member: { user: carol, role: "viewer" } }));
  m.receive(ev(3, "member_updated", { member: { user: bob, role: "owner" } }));
  assert.deepEqual(m.members.map((x) => [x.user.name, x.role]), [["alice", "owner"], ["bob", "owner"], ["carol", "viewer"]]);
  m.receive(ev(4, "member_removed", { user: carol }));
  assert.deepEqual(m.members.map((x) => x.user.name), ["alice", "bob"]);
});

test("board_deleted is not a board event (it has no seq)", () => {
  const { m } = model();
  assert.equal(m.receive({ type: "board_deleted", boardId: BOARD, actor: alice }).kind, "other");
  assert.equal(m.lastSeq, 0);
});

test("activity sentences match the server's, made as each event is applied", () => {
  const texts = [];
  const m = new BoardModel({ boardId: BOARD, onApply: (f, prior) => texts.push(sentence(f, prior, ctx)) });
  const ctx = { listName: (id) => (m.lists.find((l) => l.id === id) || {}).name, me: "bob" };
  m.load(snap());
  const t1 = m.tasks["1"];
  m.receive(ev(1, "task_moved", { task: { ...t1, listId: "done", version: 2 } }));
  m.receive(ev(2, "task_updated", { task: { ...t1, listId: "done", version: 3, assignee: bob } }));
  m.receive(ev(3, "list_updated", { list: { id: "done", name: "Shipped", position: 1 } }));
  m.receive(ev(4, "task_deleted", { taskId: 1 }));
  m.receive({ ...ev(5, "member_removed", { user: bob }), actor: bob });
  assert.deepEqual(texts, [
    "alice moved \u201ct1\u201d to Done",
    "alice assigned \u201ct1\u201d to bob",
    "alice renamed the column \u201cDone\u201d to \u201cShipped\u201d",
    "alice deleted \u201ct1\u201d",
    "bob left the board",
  ]);
  // Our own change (an ack, no actor) is ours.
  assert.equal(sentence({ type: "list_created", _refs: ["r"], list: { name: "X" } }, null, ctx), "bob added the column \u201cX\u201d");
});

test("an avatar shows two initials and the same colour for the same name", async () => {
  const { initials, hue } = await import("../../static/boards/js/tasks.js");
  assert.equal(initials("alice"), "AL");
  assert.equal(initials("mary jane"), "MJ");
  assert.equal(initials("j.doe"), "JD");
  assert.equal(hue("bob"), hue("bob"));
  assert.ok(hue("bob") >= 0 && hue("bob") < 360);
});
