// The page's other pure-enough parts: presence counts, reconnect delays, and
// gap recovery against a fake events endpoint. Run under `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BoardModel } from "../../static/boards/js/model.js";
import { Presence } from "../../static/boards/js/presence.js";
import { Recovery } from "../../static/boards/js/recovery.js";
import { backoffDelay, BACKOFF_CAP_MS, SERVICE_RESTART } from "../../static/boards/js/socket.js";

const BOARD = "board-1";

test("presence counts tabs per user and lists each name once", () => {
  const p = new Presence();
  p.reset([{ id: 2, name: "bob" }, { id: 1, name: "alice" }]);
  p.joined({ id: 1, name: "alice" });           // alice's second tab
  p.joined({ id: null, name: "anonymous" });    // not listed
  assert.deepEqual(p.names(), ["alice", "bob"]);
  assert.equal(p.left({ id: 1, name: "alice" }), false);
  assert.equal(p.left({ id: 1, name: "alice" }), true);
  assert.equal(p.left({ id: 7, name: "nobody" }), false);
  assert.deepEqual(p.names(), ["bob"]);
});

test("reconnect delays back off exponentially with jitter, capped", () => {
  const lo = () => 0, hi = () => 0.999999;
  assert.equal(backoffDelay(0, 1006, lo), 250);
  assert.ok(backoffDelay(0, 1006, hi) <= 500);
  assert.equal(backoffDelay(3, 1006, lo), 2000);
  assert.ok(backoffDelay(20, 1006, hi) <= BACKOFF_CAP_MS);
  assert.equal(backoffDelay(20, 1006, lo), BACKOFF_CAP_MS / 2);
});

test("a 1012 service restart reconnects within 100-1000 ms, jittered", () => {
  assert.equal(backoffDelay(0, SERVICE_RESTART, () => 0), 100);
  assert.ok(backoffDelay(2, SERVICE_RESTART, () => 0.999999) < 1000);
  assert.ok(backoffDelay(0, SERVICE_RESTART, () => 0.5) !== backoffDelay(0, SERVICE_RESTART, () => 0.1));
  // a server that keeps restarting falls back to plain backoff
  assert.ok(backoffDelay(8, SERVICE_RESTART, () => 0) > 1000);
});

function ev(seq) {
  return { type: "task_created", boardId: BOARD, seq, task: { id: seq, listId: "todo", title: `t${seq}`, description: "", position: 0, version: 1 } };
}

function recoveryWith(model, answer) {
  const urls = [];
  const r = new Recovery({
    model,
    boardId: BOARD,
    fetchJSON: (url) => { urls.push(url); return Promise.resolve(answer(url)); },
    hooks: { changed() {}, loaded: (s) => { model.load(s); }, lost() {} },
  });
  return { r, urls };
}

async function settle(r) {
  for (let i = 0; i < 50 && (r.fetching || r.snapshotLoading); i++) await new Promise((ok) => setImmediate(ok));
}

test("a gap is filled from the events endpoint, page after page while `more`", async () => {
  const model = new BoardModel({ boardId: BOARD });
  model.load({ seq: 0, lists: [{ id: "todo", name: "To do" }], tasks: [] });
  model.processFrame(ev(5));
  const { r, urls } = recoveryWith(model, (url) => {
    const since = Number(new URL(url, "http://x").searchParams.get("since"));
    const events = [since + 1, since + 2].filter((s) => s <= 4).map(ev);
    const more = since + 2 < 4;
    return { status: 200, ok: true, body: { events, seq: 5, ...(more ? { more: true, last: since + 2 } : {}) } };
  });
  r.fillGap();
  await settle(r);
  clearTimeout(r.gapTimer);
  assert.equal(model.lastSeq, 5);
  assert.equal(model.hasGap, false);
  assert.deepEqual(urls, ["/api/boards/board-1/events?since=0&limit=500", "/api/boards/board-1/events?since=2&limit=500"]);
});

test("events no longer kept (409) mean a snapshot reload", async () => {
  const model = new BoardModel({ boardId: BOARD });
  model.load({ seq: 0, lists: [{ id: "todo", name: "To do" }], tasks: [] });
  model.noteKnown(9000);
  const { r, urls } = recoveryWith(model, (url) => url.includes("events")
    ? { status: 409, ok: false, body: { type: "resync_required", events: [], seq: 9000 } }
    : { status: 200, ok: true, body: { seq: 9000, lists: [{ id: "todo", name: "To do" }], tasks: [] } });
  r.fillGap();
  await settle(r);
  await settle(r);
  clearTimeout(r.gapTimer);
  assert.equal(model.lastSeq, 9000);
  assert.equal(model.counts.snapshots, 2);
  assert.deepEqual(urls, ["/api/boards/board-1/events?since=0&limit=500", "/api/boards/board-1/"]);
});
