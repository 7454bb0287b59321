/*
 * Editing marks on the board page (SPEC §11): while this tab edits a card
 * (render/interactions give it the class `editing`), it sends
 * `{"type":"editing","taskId","editing":true}` and refreshes it every
 * REFRESH_MS (the server forgets a mark after LIVEBOARD_EDITING_TTL, 30 s);
 * `editing:false` when the edit ends. Others' marks show on their cards as
 * "bob is editing", and saving over one asks first. Marks are not locks.
 *
 * Like status.js this watches the DOM instead of hooking into the modules
 * that draw and edit cards, so they stay independent.
 */

import { addHandlers } from "./notify.js";

export const REFRESH_MS = 10000;

/** Others' marks: task id -> Map(user id -> name) (pure). */
export class Marks {
  constructor() { this.byTask = new Map(); }

  reset(list) {
    this.byTask.clear();
    for (const m of list || []) this.set(m.taskId, m.user, true);
  }

  set(taskId, user, on) {
    const key = String(taskId);
    const users = this.byTask.get(key) || new Map();
    if (on) users.set(user.id, user.name);
    else users.delete(user.id);
    if (users.size) this.byTask.set(key, users);
    else this.byTask.delete(key);
  }

  names(taskId) {
    const users = this.byTask.get(String(taskId));
    return users ? Array.from(users.values()).sort() : [];
  }
}

export function installEditing({ socket, root, slug, username }) {
  const marks = new Marks();
  const mine = new Map(); // task id -> refresh interval of our own edit

  function paint() {
    for (const card of root.querySelectorAll(".card[data-task-id]")) {
      const names = marks.names(card.dataset.taskId).filter((n) => n !== username);
      let badge = card.querySelector(".card-editing-by");
      const text = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " editing" : "";
      if (!text) {
        if (badge) badge.remove();
        if (card.classList.contains("marked")) card.classList.remove("marked");
        continue;
      }
      if (!badge) {
        badge = document.createElement("p");
        badge.className = "card-editing-by";
        card.appendChild(badge);
      }
      if (badge.textContent !== text) badge.textContent = text;
      if (!card.classList.contains("marked")) card.classList.add("marked");
    }
  }

  function send(taskId, on) {
    const id = Number(taskId);
    if (!Number.isInteger(id) || id <= 0 || !socket.joined) return;
    socket.send({ type: "editing", taskId: id, editing: on });
  }

  // Our own edits: a card gains or loses the class `editing`.
  function watchOwn() {
    const now = new Set();
    for (const card of root.querySelectorAll(".card.editing[data-task-id]")) now.add(card.dataset.taskId);
    for (const id of now) {
      if (mine.has(id)) continue;
      send(id, true);
      mine.set(id, setInterval(() => send(id, true), REFRESH_MS));
    }
    for (const [id, timer] of mine) {
      if (now.has(id)) continue;
      clearInterval(timer);
      mine.delete(id);
      // A deleted card's mark went with its task on the server.
      if (root.querySelector('.card[data-task-id="' + CSS.escape(id) + '"]')) send(id, false);
    }
  }

  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    Promise.resolve().then(() => { queued = false; watchOwn(); paint(); });
  }).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });

  // Saving over someone else's edit asks first (capture: before the edit form's own handler).
  root.addEventListener("submit", (e) => {
    const card = e.target.closest ? e.target.closest(".card[data-task-id]") : null;
    if (!card || !e.target.classList.contains("card-edit")) return;
    const names = marks.names(card.dataset.taskId).filter((n) => n !== username);
    if (!names.length) return;
    if (!window.confirm(names.join(", ") + " is editing this card too. Save your change anyway?")) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  addHandlers(socket, {
    joined(msg) {
      if (msg.boardId !== slug) return;
      marks.reset(msg.editing);
      for (const id of mine.keys()) send(id, true); // a new connection: our marks again
      paint();
    },
    editing(msg) {
      if (msg.boardId !== slug || !msg.user) return;
      marks.set(msg.taskId, msg.user, msg.editing === true);
      paint();
    },
  });
  return { marks };
}
