/*
 * Liveboard board page: joins the board's room over the WebSocket and keeps
 * the columns in step with everyone else's changes (SPEC §4, §5).
 *
 * The modules, no build step, no libraries:
 *   model.js        the board as confirmed at a seq, the seq buffer, our
 *                   pending changes and the view drawn from both (pure)
 *   presence.js     who is on the board, with tab counts (pure)
 *   recovery.js     gap timer, the events endpoint, snapshot reloads
 *   socket.js       the WebSocket: backoff, ping, dispatch by frame type
 *   render.js       the DOM, reconciled from the model's view
 *   interactions.js drag and drop, inline edit, add and delete
 *   boardui.js      columns, assignees, members, activity, board settings
 * This file wires them: every server message goes to the model first
 * (model.receive), then the page does its part (status, presence, toasts).
 */

import { BoardModel } from "./model.js";
import { Presence } from "./presence.js";
import { Recovery } from "./recovery.js";
import { BoardSocket } from "./socket.js";
import { Renderer } from "./render.js";
import { installInteractions } from "./interactions.js";
import { installBoardUI } from "./boardui.js";
import { installPersonal } from "./notify.js";
import { installStatus } from "./status.js";
import { installEditing } from "./editing.js";

const ACK_TIMEOUT_MS = 20000;
const PRESENCE_REFRESH_MS = 1500;

function start() {
  const root = document.getElementById("board");
  const snapshotEl = document.getElementById("board-snapshot");
  if (!root || !snapshotEl) return;

  const SLUG = root.dataset.boardId;
  const CAN_EDIT = root.dataset.canEdit === "1";

  const model = new BoardModel({ boardId: SLUG });
  const presence = new Presence();
  const renderer = new Renderer({ root, model, canEdit: CAN_EDIT });
  const ackTimers = new Map(); // ref -> timeout of a pending change
  let refCounter = 0;
  let presenceRefreshTimer = null;
  let ui = null; // boardui.js

  const nextRef = (kind) => { refCounter += 1; return kind + "-" + Date.now().toString(36) + "-" + refCounter; };
  const toast = (text) => renderer.toast(text);

  const recovery = new Recovery({
    model,
    boardId: SLUG,
    hooks: {
      changed: afterModel,
      loaded(snap) {
        model.load(snap);
        renderer.buildColumns();
        afterModel();
      },
      lost(status) {
        toast("You can no longer see this board (HTTP " + status + ").");
        renderer.setStatus("offline");
      },
    },
  });

  // After anything changed the model: recover if it needs to, redraw.
  function afterModel() {
    recovery.sync();
    renderer.schedule();
    if (ui) ui.refresh();
  }

  function clearAckTimer(ref) {
    clearTimeout(ackTimers.get(ref));
    ackTimers.delete(ref);
  }

  const socket = new BoardSocket({
    url: (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host + "/ws/",
    hooks: {
      status: (state) => renderer.setStatus(state),
      open: () => socket.send({ type: "join", boardId: SLUG, since: model.lastSeq, ref: nextRef("join") }),
      closed(code) {
        // We cannot know which of our changes landed; the re-join replays whatever did.
        for (const ref of model.dropPending()) clearAckTimer(ref);
        renderer.schedule();
        if (code === 4401 || code === 4403) {
          renderer.setStatus("offline");
          toast(code === 4401 ? "Please log in again to watch this board." : "This page's origin was refused by the server.");
          return false;
        }
        return true;
      },
    },
    handlers: {
      joined(msg) {
        if (msg.boardId !== SLUG) return;
        model.receive(msg);
        if (socket.markJoined()) renderer.setStatus("live");
        renderer.setViewers(msg.viewers);
        presence.reset(msg.users);
        renderer.renderPeople(presence.names());
        afterModel();
      },
      resync_required(msg) { model.receive(msg); afterModel(); },
      pong(msg) { model.receive(msg); afterModel(); },
      ack(msg) {
        if (model.receive(msg).op) clearAckTimer(msg.ref);
        afterModel();
      },
      error: onError,
      user_joined(msg) {
        if (msg.boardId !== SLUG) return;
        renderer.setViewers(msg.viewers);
        presence.joined(msg.user);
        renderer.renderPeople(presence.names());
      },
      user_left(msg) {
        if (msg.boardId !== SLUG) return;
        renderer.setViewers(msg.viewers);
        if (presence.left(msg.user)) refreshPresenceSoon();
        renderer.renderPeople(presence.names());
      },
      presence(msg) { // coalesced presence on a busy board
        if (msg.boardId !== SLUG) return;
        renderer.setViewers(msg.viewers);
        for (const u of msg.joined || []) presence.joined(u);
        let dropped = false;
        for (const u of msg.left || []) if (presence.left(u)) dropped = true;
        if (dropped) refreshPresenceSoon();
        renderer.renderPeople(presence.names());
      },
      board_deleted(msg) { if (msg.boardId === SLUG) ui.boardDeleted(); },
      // Board events (task_*, and any newer kind: its seq still counts); `left` and the rest: nothing.
      default(msg) {
        if (model.receive(msg).kind === "event") afterModel();
      },
    },
  });

  function onError(msg) {
    if (ui.handleError(msg)) return;
    const ref = msg.ref;
    if (typeof ref === "string" && ref.indexOf("join-") === 0) {
      renderer.setStatus("offline");
      toast(msg.error || "Could not join this board.");
      return;
    }
    const r = model.receive(msg);
    if (!r.op) {
      if (msg.error) toast(msg.error);
      return;
    }
    clearAckTimer(ref);
    if (r.conflict) {
      toast("Someone changed “" + msg.task.title + "” first; your change was not saved.");
    } else {
      toast(msg.error || "The server refused that change.");
      if (r.op.kind !== "create" && r.op.key) recovery.reloadSnapshot();
    }
    afterModel();
  }

  // `joined` lists distinct users without tab counts, so a departure may
  // drop someone who still has another tab open. Re-joining a board we are
  // already in just returns its current presence; do that, debounced.
  function refreshPresenceSoon() {
    if (presenceRefreshTimer) return;
    presenceRefreshTimer = setTimeout(() => {
      presenceRefreshTimer = null;
      if (socket.joined) socket.send({ type: "join", boardId: SLUG, since: model.lastSeq, ref: nextRef("presence") });
    }, PRESENCE_REFRESH_MS);
  }

  // Send one of our changes; `op` is drawn optimistically until its ack.
  function sendChange(op, frame) {
    if (!socket.joined || !socket.isOpen) {
      toast("Not connected — try again in a moment.");
      return false;
    }
    const ref = nextRef(op.kind);
    frame.ref = ref;
    ackTimers.set(ref, setTimeout(() => {
      ackTimers.delete(ref);
      if (model.expire(ref)) { renderer.schedule(); recovery.reloadSnapshot(); }
    }, ACK_TIMEOUT_MS));
    model.addPending(ref, op);
    socket.send(frame);
    renderer.schedule();
    return true;
  }

  const actions = {
    toast,
    createTask(listId, title) {
      return sendChange({ kind: "create", listId }, { type: "create_task", boardId: SLUG, listId, title });
    },
    moveTask(k, listId, position) {
      const t = model.tasks[k];
      if (!t) return;
      sendChange({ kind: "move", key: k, id: t.id, listId, position }, { type: "move_task", taskId: t.id, listId, position });
    },
    deleteTask(k) {
      const t = model.tasks[k];
      if (!t) return;
      sendChange({ kind: "delete", key: k, id: t.id }, { type: "delete_task", taskId: t.id });
    },
    updateTask(k, fields, sent = fields) { // `fields` drawn until the ack, `sent` sent
      const t = model.tasks[k];
      if (!t) return;
      const frame = Object.assign({ type: "update_task", taskId: t.id, version: t.version }, sent);
      sendChange({ kind: "update", key: k, id: t.id, fields }, frame);
    },
  };

  ui = installBoardUI({ root, model, renderer, sendChange, actions, slug: SLUG, canEdit: CAN_EDIT });
  if (CAN_EDIT) installInteractions({ root, model, renderer, actions });

  renderer.adopt();
  let initial;
  try { initial = JSON.parse(snapshotEl.textContent); } catch (e) { initial = null; }
  if (initial && Array.isArray(initial.tasks)) recovery.hooks.loaded(initial);
  else recovery.reloadSnapshot();

  window.addEventListener("online", () => socket.reconnectNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    if (socket.joined) socket.send({ type: "ping" });
    else socket.reconnectNow();
  });

  // SPEC §11 on this socket: banner and bell, presence status, editing marks.
  installPersonal({ socket });
  installStatus({ socket, slug: SLUG });
  installEditing({ socket, root, slug: SLUG, username: root.dataset.username }); // viewers see marks too

  socket.connect();
}

start();
