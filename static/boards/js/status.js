/*
 * Presence status on the board page (SPEC §11): this tab reports `away`
 * when it is hidden or idle for IDLE_MS, and `active` again on return; the
 * presence list shows who is away (class `away`, a title with lastSeen).
 *
 * The list itself is drawn by render.js; we only decorate its items, again
 * whenever it is redrawn (a MutationObserver), so the two stay independent.
 */

import { addHandlers } from "./notify.js";

export const IDLE_MS = 60000;
const ACTIVITY_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "focus"];

/** Who is away, by name (pure). */
export class StatusBook {
  constructor() { this.byName = new Map(); } // name -> {status, lastSeen}

  reset(users) {
    this.byName.clear();
    for (const u of users || []) this.set(u);
  }

  set(user) {
    if (!user || user.id === null || user.id === undefined || !user.name) return;
    this.byName.set(user.name, { status: user.status === "away" ? "away" : "active", lastSeen: user.lastSeen || null });
  }

  of(name) { return this.byName.get(name) || { status: "active", lastSeen: null }; }
}

export function installStatus({ socket, slug }) {
  const book = new StatusBook();
  const list = document.getElementById("presence-users");
  let mine = "active";
  let idleTimer = null;

  function decorate() {
    if (!list) return;
    for (const li of list.children) {
      if (!li.dataset.name) li.dataset.name = li.textContent.trim();
      const s = book.of(li.dataset.name);
      const away = s.status === "away";
      if (li.classList.contains("away") !== away) li.classList.toggle("away", away);
      const title = away ? li.dataset.name + " is away" + (s.lastSeen ? " (last seen " + new Date(s.lastSeen).toLocaleTimeString() + ")" : "")
        : li.dataset.name + " is active";
      if (li.title !== title) li.title = title;
    }
  }
  if (list) new MutationObserver(decorate).observe(list, { childList: true });

  function report(status) {
    if (status === mine) return;
    mine = status;
    if (socket.joined) socket.send({ type: "status", status });
  }

  function wake() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => report("away"), IDLE_MS);
    if (document.visibilityState === "visible") report("active");
  }

  for (const type of ACTIVITY_EVENTS) window.addEventListener(type, wake, { passive: true, capture: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") report("away");
    else wake();
  });
  wake();

  addHandlers(socket, {
    joined(msg) {
      if (msg.boardId !== slug) return;
      book.reset(msg.users);
      decorate();
      if (mine === "away") socket.send({ type: "status", status: "away" }); // a new connection starts active
    },
    user_joined(msg) { // a fresh connection is active
      if (msg.boardId === slug && msg.user) { book.set(Object.assign({}, msg.user, { status: "active" })); decorate(); }
    },
    status_changed(msg) {
      if (msg.boardId === slug) { book.set(msg.user); decorate(); }
    },
    presence(msg) {
      if (msg.boardId !== slug) return;
      for (const u of msg.changed || []) book.set(u);
      decorate();
    },
  });
  return { book, report, get status() { return mine; } };
}
