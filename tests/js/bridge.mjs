// The page's real board model (static/boards/js/model.js) behind a pipe, for
// tests written in Python (tests/test_chaos.py). One process serves many
// pages, keyed by `page`.
//
// Requests, one JSON object a line on stdin: {"id", "op", "page", ...}
//   new      {boardId}           a fresh page model
//   load     {snapshot}          GET /api/boards/<id>/ body → model.load
//   message  {msg}               any server frame off the socket → model.receive
//   frame    {frame}             one event from the events endpoint → model.processFrame
//   trust    {seq}               the events endpoint's `seq` → model.trustServerSeq
//   pending  {ref, change}       one of our changes was sent → model.addPending
//   drop     {}                  the socket closed → model.dropPending
//   view     {}                  {listId: [[id, title, description, version], …]}
//   state    {applied?}          seqs, buffer, pending refs, counts (and every applied seq)
// Replies, one a line on stdout: {"id", "ok": true, "result"} or {"id", "ok": false, "error"}.
import readline from "node:readline";

import { BoardModel } from "../../static/boards/js/model.js";

const pages = new Map(); // page -> {model, applied: [seq]}

function page(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`no page ${JSON.stringify(name)}: send "new" first`);
  return p;
}

function state(p, withApplied) {
  const m = p.model;
  const out = {
    lastSeq: m.lastSeq,
    knownSeq: m.knownSeq,
    hasGap: m.hasGap,
    needsSnapshot: m.needsSnapshot,
    buffer: [...m.buffer.keys()].sort((a, b) => a - b),
    pending: [...m.pending.keys()],
    counts: { ...m.counts },
    appliedCount: p.applied.length,
  };
  if (withApplied) out.applied = p.applied;
  return out;
}

const ops = {
  new(req) {
    const applied = [];
    const model = new BoardModel({ boardId: req.boardId, onApply: (frame) => applied.push(frame.seq) });
    pages.set(req.page, { model, applied });
    return null;
  },
  load(req) { page(req.page).model.load(req.snapshot); return null; },
  message(req) {
    const r = page(req.page).model.receive(req.msg);
    return { kind: r.kind, op: r.op ? r.op.kind : null, conflict: !!r.conflict };
  },
  frame(req) { return page(req.page).model.processFrame(req.frame); },
  trust(req) { page(req.page).model.trustServerSeq(req.seq); return null; },
  pending(req) { page(req.page).model.addPending(req.ref, req.change); return null; },
  drop(req) { return page(req.page).model.dropPending(); },
  view(req) {
    const tasks = page(req.page).model.viewTasks();
    const out = {};
    for (const listId in tasks) out[listId] = tasks[listId].map((t) => [t.id, t.title, t.description, t.version]);
    return out;
  },
  state(req) { return state(page(req.page), !!req.applied); },
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let req = null;
  let reply;
  try {
    req = JSON.parse(line);
    const op = Object.prototype.hasOwnProperty.call(ops, req.op) ? ops[req.op] : null;
    if (!op) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
    reply = { id: req.id, ok: true, result: op(req) };
  } catch (err) {
    reply = { id: req && req.id, ok: false, error: String((err && err.stack) || err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
