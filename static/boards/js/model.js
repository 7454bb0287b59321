/*
 * The board page's model of one board (SPEC §4, §5). Pure: no DOM, no
 * timers, no network — the page (main.js) and Node (tests/js/) import it.
 *
 * `lists`/`order`/`tasks` hold the board exactly as the server had it at
 * `lastSeq`. Every board event — live, replayed, or built from the ack of one
 * of our own changes, which the server does not echo — goes through
 * processFrame(): applied strictly in seq order, duplicates dropped, early
 * frames held in `buffer` until the gap before them is filled. `knownSeq` is
 * the highest seq the server is known to have; `hasGap` says recovery is due.
 * Our own unacknowledged changes live in `pending` and are drawn on top of
 * the confirmed model by view(), so an optimistic move never corrupts the
 * order of other cards.
 *
 * Event kinds: BoardModel.handlers maps a frame `type` to a function
 * (model, frame) → false when the frame names something the model does not
 * know (then `needsSnapshot` is set); columns, the board and its members are
 * handled in boardevents.js. A frame of a type with no handler still takes
 * its seq: every board event shares one gap-free seq per board.
 */

import { BOARD_HANDLERS, priorOf, sortMembers } from "./boardevents.js";
import { TASK_HANDLERS, clamp, key, removeKey } from "./taskevents.js";

export { clamp, key };

// Frames that are not board events (some carry a `seq` that is not theirs);
// any other frame with this board's `boardId` and a numeric `seq` is one.
export const CONTROL_TYPES = new Set([
  "joined", "left", "pong", "ack", "error", "resync_required", "user_joined", "user_left", "presence",
  "board_deleted",
]);

// Our change's kind → the event its ack stands for, and what the ack carries.
export const ACK_TYPES = {
  create: "task_created", move: "task_moved", update: "task_updated", "delete": "task_deleted",
  createList: "list_created", updateList: "list_updated", moveList: "list_moved", deleteList: "list_deleted",
};
const ACK_FIELDS = ["task", "taskId", "list", "listId"];

export class BoardModel {
  static handlers = {
    ...TASK_HANDLERS,
    ...BOARD_HANDLERS,
  };

  /** @param {{boardId?: string, onApply?: (frame: object) => void}} options */
  constructor({ boardId = null, onApply = null } = {}) {
    this.boardId = boardId;
    this.onApply = onApply;   // (frame, prior) once per applied seq, in order
    this.board = { id: boardId, name: "", visibility: "" };
    this.members = [];        // [{user: {id, name}, role}], owners first
    this.revision = { lists: 0, members: 0, board: 0 }; // bumped on each change, for the page
    this.lists = [];          // [{id, name, position}] in display order
    this.order = {};          // listId -> [taskKey] (confirmed, at lastSeq)
    this.tasks = {};          // taskKey -> task (wire shape)
    this.lastSeq = 0;         // highest seq applied to the model
    this.knownSeq = 0;        // highest seq the server is known to have
    this.buffer = new Map();  // seq -> frame that arrived ahead of a gap
    this.pending = new Map(); // ref -> our change awaiting its ack
    this.flash = new Set();   // task keys changed by others since the last render
    this.needsSnapshot = false;
    this.counts = { applied: 0, duplicates: 0, early: 0, snapshots: 0 };
  }

  get hasGap() { return this.buffer.size > 0 || this.lastSeq < this.knownSeq; }

  /** Replace the confirmed board with a snapshot (GET /api/boards/<id>/). */
  load(snap) {
    this.lists = (snap.lists || []).slice();
    if (snap.name !== undefined) this.board = { id: snap.id || this.boardId, name: snap.name, visibility: snap.visibility };
    if (Array.isArray(snap.members)) this.members = sortMembers(snap.members);
    for (const part in this.revision) this.revision[part] += 1;
    this.order = {};
    this.tasks = {};
    for (const l of this.lists) this.order[l.id] = [];
    const sorted = (snap.tasks || []).slice().sort((a, b) => a.position - b.position);
    for (const t of sorted) {
      this.tasks[key(t.id)] = t;
      if (this.order[t.listId]) this.order[t.listId].push(key(t.id));
    }
    this.lastSeq = snap.seq || 0;
    if (this.lastSeq > this.knownSeq) this.knownSeq = this.lastSeq;
    this.needsSnapshot = false;
    this.counts.snapshots += 1;
    this.drain();
  }

  /** Apply one event's change without touching seqs (conflict and no-op replies). */
  applyChange(frame) {
    const handler = Object.prototype.hasOwnProperty.call(this.constructor.handlers, frame.type)
      ? this.constructor.handlers[frame.type] : null;
    return handler ? handler(this, frame) !== false : true;
  }

  /** Every frame that carries a board seq comes through here, live or replayed. */
  processFrame(frame) {
    const seq = frame.seq;
    if (typeof seq !== "number") return "ignored";
    if (seq <= this.lastSeq) { // duplicate
      this.counts.duplicates += 1;
      this.settleRefs(frame);
      return "duplicate";
    }
    if (seq > this.lastSeq + 1) {
      const held = this.buffer.get(seq);
      if (held) held._refs = (held._refs || []).concat(frame._refs || []);
      else { this.buffer.set(seq, frame); this.counts.early += 1; }
      this.noteKnown(seq);
      return "early";
    }
    this.applySeq(frame);
    this.drain();
    return "applied";
  }

  applySeq(frame) {
    const prior = this.onApply ? priorOf(this, frame) : null;
    const ok = this.applyChange(frame);
    this.lastSeq = frame.seq;
    if (this.lastSeq > this.knownSeq) this.knownSeq = this.lastSeq;
    this.counts.applied += 1;
    this.settleRefs(frame);
    if (!frame._refs && frame.task) this.flash.add(key(frame.task.id));
    if (!ok) this.needsSnapshot = true;
    if (this.onApply) this.onApply(frame, prior);
  }

  drain() {
    let next;
    while ((next = this.buffer.get(this.lastSeq + 1))) {
      this.buffer.delete(this.lastSeq + 1);
      this.applySeq(next);
    }
    for (const [seq, frame] of this.buffer) {
      if (seq <= this.lastSeq) { this.buffer.delete(seq); this.settleRefs(frame); }
    }
  }

  settleRefs(frame) {
    for (const ref of frame._refs || []) this.pending.delete(ref);
  }

  /** The server has at least `seq` (joined, pong, an early frame). */
  noteKnown(seq) {
    if (typeof seq === "number" && seq > this.knownSeq) this.knownSeq = seq;
  }

  /** The events endpoint's `seq`: trust the server about how far the board has got. */
  trustServerSeq(seq) {
    if (typeof seq !== "number") return;
    let m = 0;
    for (const s of this.buffer.keys()) if (s > m) m = s;
    this.knownSeq = Math.max(seq, m, this.lastSeq);
  }

  // --- our own changes ------------------------------------------------------

  /** op: {kind: create|move|update|delete, key?, id?, listId?, position?, fields?} */
  addPending(ref, op) { this.pending.set(ref, op); }

  /** Forget one pending change (its ack never came); true if it was pending. */
  expire(ref) { return this.pending.delete(ref); }

  /** The connection is gone: we cannot know which of our changes landed. */
  dropPending() {
    const refs = [...this.pending.keys()];
    this.pending.clear();
    return refs;
  }

  /** The ack of one of our changes; returns its op, or null when it was not ours. */
  ack(msg) {
    const op = msg.ref ? this.pending.get(msg.ref) : null;
    if (!op) return null;
    const frame = { type: ACK_TYPES[op.kind], boardId: this.boardId, seq: msg.seq, _refs: [msg.ref] };
    for (const f of ACK_FIELDS) if (msg[f] !== undefined) frame[f] = msg[f];
    if (op.kind === "delete" && frame.taskId === undefined) frame.taskId = op.id;
    if (op.kind === "deleteList" && frame.listId === undefined) frame.listId = op.id;
    if (op.kind === "create" && msg.task) this.flash.add(key(msg.task.id));
    if (typeof msg.seq === "number") {
      this.processFrame(frame);
    } else {
      // Nothing changed on the server (no event); the reply is the current state.
      this.pending.delete(msg.ref);
      if (frame.task && this.tasks[key(frame.task.id)]) this.applyChange(frame);
    }
    return op;
  }

  /** An error reply to one of our changes: {op, conflict} or null when not ours. */
  reject(msg) {
    const op = msg.ref ? this.pending.get(msg.ref) : null;
    if (!op) return null;
    this.pending.delete(msg.ref);
    let conflict = false;
    if (msg.code === "conflict" && msg.task) {
      conflict = true;
      const cur = this.tasks[key(msg.task.id)];
      if (cur && msg.task.version > cur.version) {
        this.applyChange({ type: "task_updated", task: msg.task });
        this.noteKnown(this.lastSeq + 1); // the change that beat us has a seq we have not seen yet
      }
    }
    return { op, conflict };
  }

  /**
   * The model's part of any server message: {kind, op, conflict} where kind
   * is "event" | "ack" | "error" | "known" | "resync" | "other" and `op` is
   * our pending change an ack or error settled (null when it was not ours).
   */
  receive(msg) {
    const mine = msg.boardId === this.boardId;
    switch (msg.type) {
      case "joined":
        if (mine) this.noteKnown(msg.seq);
        return { kind: "known", op: null };
      case "pong":
        if (msg.seqs && typeof msg.seqs[this.boardId] === "number") this.noteKnown(msg.seqs[this.boardId]);
        return { kind: "known", op: null };
      case "resync_required":
        if (msg.boardId === undefined || mine) this.needsSnapshot = true;
        return { kind: "resync", op: null };
      case "ack":
        return { kind: "ack", op: this.ack(msg) };
      case "error": {
        const r = this.reject(msg);
        return { kind: "error", op: r ? r.op : null, conflict: !!(r && r.conflict) };
      }
      default:
        if (mine && typeof msg.seq === "number" && !CONTROL_TYPES.has(msg.type)) {
          this.processFrame(msg);
          return { kind: "event", op: null };
        }
        return { kind: "other", op: null };
    }
  }

  // --- the view: confirmed model + our pending changes ------------------------

  view() {
    const order = {};
    for (const l of this.lists) order[l.id] = (this.order[l.id] || []).slice();
    const over = {};
    const busy = new Set();
    for (const op of this.pending.values()) {
      if (!op.key) continue;
      busy.add(op.key);
      if (op.kind === "move") {
        if (this.tasks[op.key] && order[op.listId]) {
          removeKey(order, op.key);
          order[op.listId].splice(clamp(op.position, 0, order[op.listId].length), 0, op.key);
        }
      } else if (op.kind === "update") {
        over[op.key] = Object.assign(over[op.key] || {}, op.fields);
      } else if (op.kind === "delete") {
        removeKey(order, op.key);
      }
    }
    return { order, over, busy };
  }

  /** The view as tasks: listId -> [task with pending edits drawn on top]. */
  viewTasks() {
    const { order, over } = this.view();
    const out = {};
    for (const listId in order) {
      out[listId] = order[listId].map((k) => Object.assign({}, this.tasks[k], over[k] || {}));
    }
    return out;
  }

  /** Where a task is drawn now: {listId, index} or null. */
  placeOf(k) {
    const order = this.view().order;
    for (const listId in order) {
      const i = order[listId].indexOf(k);
      if (i !== -1) return { listId, index: i };
    }
    return null;
  }
}
