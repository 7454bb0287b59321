/*
 * On every page (SPEC §11): announcements as a banner, the notification bell
 * (unread count, the list, mark read — every tab's badge agrees through
 * `notifications_read`) and direct messages.
 *
 * The board page shares its socket (main.js calls installPersonal); other
 * pages (the board list) open one of their own (startPersonal, from
 * base.html). User text only goes through textContent.
 */

import { BoardSocket } from "./socket.js";

const DISMISSED_KEY = "liveboard.dismissedAnnouncements";

/** Add `handlers` to a socket's, after any it already has for the same type. */
export function addHandlers(socket, handlers) {
  for (const type of Object.keys(handlers)) {
    const before = Object.prototype.hasOwnProperty.call(socket.handlers, type) ? socket.handlers[type] : null;
    const mine = handlers[type];
    socket.handlers[type] = before ? (msg) => { before(msg); mine(msg); } : mine;
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function getJson(path) {
  const resp = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!resp.ok) throw new Error("HTTP " + resp.status);
  return resp.json();
}

async function postJson(path, body) {
  const resp = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.detail || "HTTP " + resp.status);
  return data;
}

// --- announcements -------------------------------------------------------------------

class Banner {
  constructor(box) {
    this.box = box;
    this.shown = new Set();
    try { this.dismissed = new Set(JSON.parse(localStorage.getItem(DISMISSED_KEY) || "[]")); } catch (e) { this.dismissed = new Set(); }
  }

  show(a) {
    if (!this.box || this.shown.has(a.id) || this.dismissed.has(a.id)) return;
    this.shown.add(a.id);
    const item = el("div", "announcement announcement-" + (["info", "warning", "critical"].includes(a.level) ? a.level : "info"));
    item.setAttribute("role", a.level === "critical" ? "alert" : "status");
    item.dataset.announcementId = String(a.id);
    item.appendChild(el("span", "announcement-text", a.text));
    const close = el("button", "announcement-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss announcement");
    close.addEventListener("click", () => {
      this.dismissed.add(a.id);
      try { localStorage.setItem(DISMISSED_KEY, JSON.stringify(Array.from(this.dismissed).slice(-50))); } catch (e) { /* private mode */ }
      item.remove();
    });
    item.appendChild(close);
    this.box.prepend(item);
  }
}

// --- the bell ----------------------------------------------------------------------------

class Bell {
  constructor(root, send) {
    this.root = root;
    this.send = send; // (frame) → true if sent over the socket
    this.button = root.querySelector("#bell-button");
    this.count = root.querySelector("#bell-count");
    this.panel = root.querySelector("#bell-panel");
    this.list = root.querySelector("#bell-list");
    this.status = root.querySelector("#dm-status");
    this.items = new Map(); // id -> {note, li}
    this.unread = 0;
    this.refs = 0;
    this.pending = new Map(); // ref -> callback(reply)
    this.button.addEventListener("click", () => this.toggle());
    root.querySelector("#bell-read-all").addEventListener("click", () => this.markRead(null));
    root.querySelector("#dm-form").addEventListener("submit", (e) => { e.preventDefault(); this.sendDirect(); });
  }

  toggle(open) {
    const show = open === undefined ? this.panel.hidden : open;
    this.panel.hidden = !show;
    this.button.setAttribute("aria-expanded", show ? "true" : "false");
  }

  setUnread(n) {
    if (typeof n !== "number") return;
    this.unread = n;
    this.count.textContent = String(n);
    this.count.hidden = n === 0;
    this.button.classList.toggle("has-unread", n > 0);
  }

  load(body) {
    for (const note of (body.notifications || []).slice().reverse()) this.add(note, false);
    this.setUnread(body.unread);
  }

  add(note, live) {
    if (this.items.has(note.id)) return;
    const li = el("li", "note" + (note.read ? "" : " unread"));
    li.dataset.notificationId = String(note.id);
    li.dataset.kind = note.kind;
    li.appendChild(el("span", "note-text", note.text));
    const when = el("time", "note-time", new Date(note.createdAt).toLocaleTimeString());
    when.dateTime = note.createdAt;
    li.appendChild(when);
    if (note.kind === "message" && note.actor) {
      const reply = el("button", "link-button note-reply", "Reply");
      reply.type = "button";
      reply.addEventListener("click", (e) => { e.stopPropagation(); this.compose(note.actor.name); });
      li.appendChild(reply);
    }
    li.addEventListener("click", () => { if (li.classList.contains("unread")) this.markRead([note.id]); });
    this.list.prepend(li);
    this.items.set(note.id, { note, li });
    if (live && !note.read) this.setUnread(this.unread + 1);
  }

  /** Marked read here or in another tab: `ids` a list, or "all". */
  applyRead(ids, unread) {
    for (const [id, item] of this.items) {
      if (ids === "all" || (Array.isArray(ids) && ids.indexOf(id) !== -1)) {
        item.note.read = true;
        item.li.classList.remove("unread");
      }
    }
    this.setUnread(unread);
  }

  request(frame, done) {
    this.refs += 1;
    frame.ref = "personal-" + this.refs;
    if (!this.send(frame)) return false;
    this.pending.set(frame.ref, done);
    return true;
  }

  reply(msg) {
    const done = this.pending.get(msg.ref);
    if (!done) return false;
    this.pending.delete(msg.ref);
    done(msg);
    return true;
  }

  markRead(ids) {
    const body = ids ? { ids } : { all: true };
    const done = (r) => { if (r.type === "ack") this.applyRead(ids || "all", r.unread); };
    if (!this.request(Object.assign({ type: "read_notifications" }, body), done)) {
      postJson("/api/notifications/read/", body).then((r) => this.applyRead(ids || "all", r.unread)).catch(() => {});
    }
  }

  compose(name) {
    this.toggle(true);
    this.root.querySelector("#dm-to").value = name;
    this.root.querySelector("#dm-text").focus();
  }

  sendDirect() {
    const to = this.root.querySelector("#dm-to").value.trim();
    const textEl = this.root.querySelector("#dm-text");
    const text = textEl.value;
    if (!to || !text.trim()) { this.status.textContent = "Give a name and a message."; return; }
    const done = (r) => {
      if (r.type === "ack") { textEl.value = ""; this.status.textContent = "Sent to " + to + "."; }
      else this.status.textContent = r.error || "Not sent.";
    };
    if (!this.request({ type: "direct", to, text }, done)) {
      postJson("/api/messages/", { to, text }).then(() => done({ type: "ack" })).catch((e) => done({ error: e.message }));
    }
  }
}

// --- wiring -------------------------------------------------------------------------------

let installed = false;

/** Hook the banner and the bell onto `socket` (a BoardSocket). */
export function installPersonal({ socket }) {
  if (installed) return null;
  installed = true;
  const banner = new Banner(document.getElementById("announcements"));
  const bellRoot = document.getElementById("bell");
  const bell = bellRoot ? new Bell(bellRoot, (frame) => socket.send(frame)) : null;
  getJson("/api/announcements/").then((b) => (b.announcements || []).slice().reverse().forEach((a) => banner.show(a))).catch(() => {});
  if (bell) getJson("/api/notifications/").then((b) => bell.load(b)).catch(() => {});
  addHandlers(socket, {
    announcement: (msg) => banner.show(msg),
    notification: (msg) => { if (bell && msg.notification) bell.add(msg.notification, true); },
    notifications_read: (msg) => { if (bell) bell.applyRead(msg.ids, msg.unread); },
    ack: (msg) => { if (bell) bell.reply(msg); },
    error: (msg) => { if (bell) bell.reply(msg); },
  });
  // Clicking someone on the board's presence list starts a message to them.
  const people = document.getElementById("presence-users");
  if (people && bell) {
    people.addEventListener("click", (e) => {
      const li = e.target.closest ? e.target.closest("li") : null;
      const name = li && (li.dataset.name || li.textContent.trim());
      if (name && !li.classList.contains("me")) bell.compose(name);
    });
  }
  return { banner, bell };
}

/** Pages without a board socket (the board list): a socket of our own. */
export function startPersonal() {
  if (installed || document.getElementById("board")) return;
  const socket = new BoardSocket({
    url: (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host + "/ws/",
    handlers: {},
    hooks: {
      status() {},
      open() { socket.markJoined(); },
      closed(code) { return code !== 4401 && code !== 4403; },
    },
  });
  installPersonal({ socket });
  socket.connect();
}
