/*
 * The page's WebSocket (SPEC §4): connects, joins through the `open` hook,
 * pings every PING_MS once joined, and after a drop reconnects with capped
 * exponential backoff and jitter — quickly (100–1000 ms) when the server
 * closed with 1012 "service restart". Frames are dispatched to
 * `handlers[type]` (or `handlers.default`).
 */

export const PING_MS = 25000;
export const CONNECT_TIMEOUT_MS = 10000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30000;
export const SERVICE_RESTART = 1012;
const QUICK_RESTARTS = 5; // quick 1012 reconnects in a row before plain backoff

/** Delay before reconnect attempt number `attempts` (0-based); `random` in [0, 1). */
export function backoffDelay(attempts, code, random = Math.random) {
  if (code === SERVICE_RESTART && attempts < QUICK_RESTARTS) return 100 + random() * 900;
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, attempts)) * (0.5 + random() * 0.5);
}

export class BoardSocket {
  /**
   * url: ws URL. handlers: {type: fn(msg)}. hooks: open() once connected
   * (send the join), closed(code) → false to stop reconnecting,
   * status(state) for "connecting" | "reconnecting".
   */
  constructor({ url, handlers, hooks }) {
    this.url = url;
    this.handlers = handlers;
    this.hooks = hooks;
    this.ws = null;
    this.joined = false;
    this.attempts = 0;
    this.reconnectTimer = null;
    this.connectTimer = null;
    this.pingTimer = null;
  }

  get isOpen() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  connect() {
    this.reconnectTimer = null;
    this.hooks.status(this.attempts ? "reconnecting" : "connecting");
    let sock;
    try {
      sock = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = sock;
    this.connectTimer = setTimeout(() => {
      if (this.ws === sock && sock.readyState === WebSocket.CONNECTING) sock.close();
    }, CONNECT_TIMEOUT_MS);
    sock.onopen = () => {
      if (this.ws !== sock) return;
      clearTimeout(this.connectTimer);
      this.hooks.open();
    };
    sock.onmessage = (e) => {
      if (this.ws !== sock || typeof e.data !== "string") return;
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg && typeof msg === "object") this.dispatch(msg);
    };
    sock.onclose = (e) => {
      clearTimeout(this.connectTimer);
      if (this.ws !== sock) return;
      this.ws = null;
      this.joined = false;
      this.stopPing();
      if (this.hooks.closed(e.code) === false) return;
      this.scheduleReconnect(e.code);
    };
  }

  dispatch(msg) {
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, msg.type)
      ? this.handlers[msg.type] : this.handlers.default;
    if (handler) handler(msg);
  }

  /** The server accepted our join: the connection counts as healthy again. */
  markJoined() {
    if (this.joined) return false;
    this.joined = true;
    this.attempts = 0;
    this.startPing();
    return true;
  }

  scheduleReconnect(code) {
    if (this.reconnectTimer) return;
    this.hooks.status("reconnecting");
    const delay = backoffDelay(this.attempts, code);
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Back online or visible again: skip the rest of the backoff wait. */
  reconnectNow() {
    if (this.ws || !this.reconnectTimer) return;
    clearTimeout(this.reconnectTimer);
    this.connect();
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_MS);
  }

  stopPing() {
    if (this.pingTimer) { clearInterval(this.pingTimer); this.pingTimer = null; }
  }
}
