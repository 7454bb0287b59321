// The page's board model (static/boards/js/model.js), run under `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BoardModel } from "../../static/boards/js/model.js";

const BOARD = "board-1";
const LISTS = [
  { id: "todo", name: "To do", position: 0 },
  { id: "done", name: "Done", position: 1 },
];

function task(id, listId, position, extra = {}) {
  return { id, listId, title: `t${id}`, description: "", position, version: 1, assignee: null, ...extra };
}

function snap(seq, tasks = []) {
  return { id: BOARD, seq, lists: LISTS, tasks };
}

function created(seq, t) { return { type: "task_created", boardId: BOARD, seq, task: t }; }
function moved(seq, t) { return { type: "task_moved", boardId: BOARD, seq, task: t }; }
function deleted(seq, taskId) { return { type: "task_deleted", boardId: BOARD, seq, taskId }; }

function model(seq = 0, tasks = []) {
  const applied = [];
  const m = new BoardModel({ boardId: BOARD, onApply: (f) => applied.push(f.seq) });
  m.load(snap(seq, tasks));
  return { m, applied };
}

const ids = (m) => Object.fromEntries(Object.entries(m.view().order).map(([l, ks]) => [l, ks.map(Number)]));

test("a snapshot loads lists in order and tasks sorted by position", () => {
  const { m } = model(7, [task(2, "todo", 1), task(1, "todo", 0), task(3, "done", 0)]);
  assert.equal(m.lastSeq, 7);
  assert.equal(m.knownSeq, 7);
  assert.deepEqual(ids(m), { todo: [1, 2], done: [3] });
  assert.equal(m.hasGap, false);
});

test("events in seq order are applied once each, in order", () => {
  const { m, applied } = model(0);
  m.processFrame(created(1, task(1, "todo", 0)));
  m.processFrame(created(2, task(2, "todo", 0)));
  m.processFrame(moved(3, task(1, "done", 0, { version: 2 })));
  m.processFrame(deleted(4, 2));
  assert.deepEqual(applied, [1, 2, 3, 4]);
  assert.deepEqual(ids(m), { todo: [], done: [1] });
  assert.equal(m.tasks["1"].version, 2);
  assert.equal(m.tasks["2"], undefined);
});

test("a duplicate seq is dropped, live or replayed", () => {
  const { m, applied } = model(0);
  m.processFrame(created(1, task(1, "todo", 0)));
  assert.equal(m.processFrame(created(1, task(1, "todo", 0, { title: "again" }))), "duplicate");
  assert.deepEqual(applied, [1]);
  assert.equal(m.tasks["1"].title, "t1");
  assert.equal(m.counts.duplicates, 1);
});

test("early frames wait for the gap and then drain in order", () => {
  const { m, applied } = model(0);
  assert.equal(m.processFrame(created(3, task(3, "todo", 2))), "early");
  assert.equal(m.processFrame(created(2, task(2, "todo", 1))), "early");
  assert.equal(m.hasGap, true);
  assert.equal(m.knownSeq, 3);
  assert.deepEqual(applied, []);
  m.processFrame(created(1, task(1, "todo", 0)));
  assert.deepEqual(applied, [1, 2, 3]);
  assert.deepEqual(ids(m), { todo: [1, 2, 3], done: [] });
  assert.equal(m.hasGap, false);
  assert.equal(m.buffer.size, 0);
});

test("reordering inside a list and across lists follows each event's position", () => {
  const { m } = model(0, [task(1, "todo", 0), task(2, "todo", 1), task(3, "todo", 2)]);
  m.processFrame(moved(1, task(3, "todo", 0)));
  assert.deepEqual(ids(m).todo, [3, 1, 2]);
  m.processFrame(moved(2, task(1, "done", 99))); // past the end: clamped
  assert.deepEqual(ids(m), { todo: [3, 2], done: [1] });
});

test("a seq the server has but we have not seen is a gap", () => {
  const { m } = model(5);
  m.noteKnown(6); // e.g. pong {seqs: {board-1: 6}}
  assert.equal(m.hasGap, true);
  m.processFrame(created(6, task(1, "todo", 0)));
  assert.equal(m.hasGap, false);
});

test("the events endpoint's seq is trusted, but never below what is buffered", () => {
  const { m } = model(1);
  m.noteKnown(50);
  m.processFrame(created(4, task(4, "todo", 0)));
  m.trustServerSeq(2);
  assert.equal(m.knownSeq, 4);
});

test("a snapshot reload resets the board and drops what it already covers", () => {
  const { m, applied } = model(0);
  m.processFrame(created(1, task(1, "todo", 0)));
  m.processFrame(created(4, task(4, "todo", 0)));
  m.processFrame(created(6, task(6, "done", 0)));
  m.load(snap(5, [task(9, "done", 0), task(4, "todo", 0)]));
  assert.equal(m.lastSeq, 6); // 6 was held and drains on top of the snapshot
  assert.deepEqual(applied, [1, 6]);
  assert.deepEqual(ids(m), { todo: [4], done: [6, 9] });
  assert.equal(m.buffer.size, 0);
  assert.equal(m.counts.snapshots, 2);
});

test("an event naming an unknown list asks for a snapshot but still takes its seq", () => {
  const { m } = model(0);
  m.processFrame(created(1, task(1, "list-new", 0)));
  assert.equal(m.lastSeq, 1);
  assert.equal(m.needsSnapshot, true);
  assert.equal(m.tasks["1"], undefined);
  m.load(snap(1, []));
  assert.equal(m.needsSnapshot, false);
});

test("an unknown event type takes its seq and changes nothing", () => {
  const { m, applied } = model(0, [task(1, "todo", 0)]);
  m.processFrame({ type: "board_renamed_someday", boardId: BOARD, seq: 2 });
  m.processFrame({ type: "list_created_someday", boardId: BOARD, seq: 1, list: { id: "x" } });
  assert.deepEqual(applied, [1, 2]);
  assert.deepEqual(ids(m), { todo: [1], done: [] });
});

test("a new event kind is one entry in the handler table", () => {
  class WithLists extends BoardModel {
    static handlers = {
      ...BoardModel.handlers,
      list_created(model, frame) {
        model.lists.push(frame.list);
        model.order[frame.list.id] = [];
        return true;
      },
    };
  }
  const m = new WithLists({ boardId: BOARD });
  m.load(snap(0));
  m.processFrame({ type: "list_created", boardId: BOARD, seq: 1, list: { id: "later", name: "Later" } });
  m.processFrame(created(2, task(1, "later", 0)));
  assert.deepEqual(ids(m).later, [1]);
  assert.equal(m.needsSnapshot, false);
});

test("pending changes are drawn on top of the confirmed board", () => {
  const { m } = model(0, [task(1, "todo", 0), task(2, "todo", 1), task(3, "done", 0)]);
  m.addPending("move-1", { kind: "move", key: "1", id: 1, listId: "done", position: 1 });
  m.addPending("update-2", { kind: "update", key: "2", id: 2, fields: { title: "mine" } });
  m.addPending("delete-3", { kind: "delete", key: "3", id: 3 });
  const view = m.view();
  assert.deepEqual(ids(m), { todo: [2], done: [1] });
  assert.deepEqual(view.over, { 2: { title: "mine" } });
  assert.deepEqual([...view.busy].sort(), ["1", "2", "3"]);
  assert.equal(m.viewTasks().todo[0].title, "mine");
  // the confirmed board is untouched
  assert.deepEqual(m.order, { todo: ["1", "2"], done: ["3"] });
  assert.deepEqual(m.placeOf("1"), { listId: "done", index: 0 }); // 3 is being deleted
});

test("others' events land under our pending move without corrupting it", () => {
  const { m } = model(0, [task(1, "todo", 0), task(2, "todo", 1)]);
  m.addPending("move-1", { kind: "move", key: "1", id: 1, listId: "done", position: 0 });
  m.processFrame(created(1, task(3, "todo", 0)));
  assert.deepEqual(ids(m), { todo: [3, 2], done: [1] });
});

test("an ack with a seq is applied as our event, in seq order, and settles the change", () => {
  const { m, applied } = model(0, [task(1, "todo", 0)]);
  m.addPending("move-1", { kind: "move", key: "1", id: 1, listId: "done", position: 0 });
  const r = m.receive({ type: "ack", ref: "move-1", seq: 2, task: task(1, "done", 0, { version: 2 }) });
  assert.equal(r.kind, "ack");
  assert.equal(r.op.kind, "move");
  // seq 1 (someone else's) has not arrived: the ack waits, the change stays drawn
  assert.deepEqual(applied, []);
  assert.equal(m.pending.size, 1);
  assert.deepEqual(ids(m).done, [1]);
  m.receive(created(1, task(5, "todo", 0)));
  assert.deepEqual(applied, [1, 2]);
  assert.equal(m.pending.size, 0);
  assert.deepEqual(ids(m), { todo: [5], done: [1] });
  assert.equal(m.flash.has("1"), false); // our own change does not flash
  assert.equal(m.flash.has("5"), true);
});

test("an ack of a seq already seen (replayed first) just settles the change", () => {
  const { m, applied } = model(0);
  m.addPending("create-1", { kind: "create", listId: "todo" });
  m.receive(created(1, task(1, "todo", 0)));
  m.receive({ type: "ack", ref: "create-1", seq: 1, task: task(1, "todo", 0) });
  assert.deepEqual(applied, [1]);
  assert.equal(m.pending.size, 0);
});

test("an ack of a delete builds a task_deleted frame", () => {
  const { m } = model(0, [task(1, "todo", 0)]);
  m.addPending("delete-1", { kind: "delete", key: "1", id: 1 });
  m.receive({ type: "ack", ref: "delete-1", seq: 1, taskId: 1 });
  assert.deepEqual(ids(m).todo, []);
  assert.equal(m.lastSeq, 1);
});

test("an ack without a seq changed nothing on the server: the reply is the current task", () => {
  const { m } = model(3, [task(1, "todo", 0)]);
  m.addPending("update-1", { kind: "update", key: "1", id: 1, fields: { title: "t1" } });
  m.receive({ type: "ack", ref: "update-1", seq: null, task: task(1, "todo", 0, { version: 4 }) });
  assert.equal(m.pending.size, 0);
  assert.equal(m.tasks["1"].version, 4);
  assert.equal(m.lastSeq, 3);
});

test("an ack of a ref that is not pending is ignored", () => {
  const { m, applied } = model(0);
  assert.equal(m.receive({ type: "ack", ref: "nope", seq: 1, task: task(1, "todo", 0) }).op, null);
  assert.deepEqual(applied, []);
});

test("a conflict drops our change and takes the newer task, expecting its event", () => {
  const { m } = model(2, [task(1, "todo", 0)]);
  m.addPending("update-1", { kind: "update", key: "1", id: 1, fields: { title: "mine" } });
  const r = m.receive({ type: "error", code: "conflict", ref: "update-1", error: "stale", task: task(1, "todo", 0, { title: "theirs", version: 3 }) });
  assert.equal(r.conflict, true);
  assert.equal(m.pending.size, 0);
  assert.equal(m.viewTasks().todo[0].title, "theirs");
  assert.equal(m.knownSeq, 3);
  assert.equal(m.hasGap, true);
});

test("a refused change is dropped from the view", () => {
  const { m } = model(0, [task(1, "todo", 0)]);
  m.addPending("delete-1", { kind: "delete", key: "1", id: 1 });
  const r = m.receive({ type: "error", code: "not_found", ref: "delete-1", error: "gone" });
  assert.equal(r.op.kind, "delete");
  assert.equal(r.conflict, false);
  assert.deepEqual(ids(m).todo, [1]);
});

test("a dropped connection forgets every pending change; an ack timeout forgets one", () => {
  const { m } = model(0, [task(1, "todo", 0)]);
  m.addPending("a", { kind: "delete", key: "1", id: 1 });
  m.addPending("b", { kind: "create", listId: "todo" });
  assert.equal(m.expire("b"), true);
  assert.equal(m.expire("b"), false);
  assert.deepEqual(m.dropPending(), ["a"]);
  assert.deepEqual(ids(m).todo, [1]);
});

test("receive: joined and pong reveal seqs, resync asks for a snapshot, other boards are ignored", () => {
  const { m } = model(2);
  m.receive({ type: "joined", boardId: BOARD, seq: 4, viewers: 1, users: [] });
  assert.equal(m.knownSeq, 4);
  m.receive({ type: "pong", seqs: { [BOARD]: 6, other: 99 } });
  assert.equal(m.knownSeq, 6);
  m.receive(created(3, task(1, "todo", 0)));
  assert.equal(m.lastSeq, 3);
  assert.equal(m.receive({ ...created(4, task(2, "todo", 0)), boardId: "other" }).kind, "other");
  assert.equal(m.lastSeq, 3);
  assert.equal(m.receive({ type: "user_joined", boardId: BOARD, viewers: 2, user: { id: 1, name: "a" } }).kind, "other");
  assert.equal(m.receive({ type: "presence", boardId: BOARD, seq: 4, viewers: 60, joined: [], left: [] }).kind, "other");
  assert.equal(m.lastSeq, 3);
  assert.equal(m.receive({ type: "resync_required", boardId: BOARD }).kind, "resync");
  assert.equal(m.needsSnapshot, true);
});
