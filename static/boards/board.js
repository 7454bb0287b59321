/*
 * Liveboard board page: joins the board's room over the WebSocket and keeps
 * the columns in step with everyone else's changes (SPEC §4, §5).
 *
 * Model: `order`/`tasks` hold the board exactly as the server had it at
 * `lastSeq`. Events (and the acks of our own changes, which the server does
 * not echo) are applied strictly in seq order: duplicates are dropped, early
 * ones wait in `buffer` until the gap is filled (live, or from the events
 * endpoint after GAP_WAIT_MS). Our own unacknowledged changes live in
 * `pending` and are drawn on top of the confirmed model, so an optimistic
 * move never corrupts the order of other cards. The DOM is reconciled from
 * that view; user text only ever goes through textContent.
 *
 * Plain ES2017, no build step, no libraries.
 */
(function () {
  "use strict";

  var root = document.getElementById("board");
  var snapshotEl = document.getElementById("board-snapshot");
  if (!root || !snapshotEl) return;

  var SLUG = root.dataset.boardId;
  var CAN_EDIT = root.dataset.canEdit === "1";
  var API_BOARD = "/api/boards/" + encodeURIComponent(SLUG) + "/";
  var GAP_WAIT_MS = 1000;
  var PING_MS = 25000;
  var ACK_TIMEOUT_MS = 20000;
  var CONNECT_TIMEOUT_MS = 10000;
  var ACK_TYPES = { create: "task_created", move: "task_moved", update: "task_updated", "delete": "task_deleted" };

  // --- state ------------------------------------------------------------------

  var lists = [];            // [{id, name, position}] in display order
  var order = {};            // listId -> [taskKey] (confirmed, at lastSeq)
  var tasks = {};            // taskKey -> task (wire shape)
  var lastSeq = 0;           // highest seq applied to the model
  var knownSeq = 0;          // highest seq the server is known to have
  var buffer = new Map();    // seq -> frame that arrived ahead of a gap
  var pending = new Map();   // ref -> our change awaiting its ack
  var refCounter = 0;

  var ws = null;
  var joined = false;
  var attempts = 0;
  var reconnectTimer = null;
  var connectTimer = null;
  var pingTimer = null;
  var gapTimer = null;
  var gapFetching = false;
  var fruitlessFills = 0;
  var snapshotLoading = null;
  var presenceRefreshTimer = null;
  var people = new Map();    // user id -> {name, n}
  var flashKeys = new Set();
  var renderQueued = false;

  var columnEls = {};        // listId -> {root, cards, count}
  var cardEls = {};          // taskKey -> card element
  var dropMarker = null;
  var drag = null;           // {key, el}

  var statusEl = document.getElementById("conn-status");
  var viewersEl = document.getElementById("viewer-count");
  var usersEl = document.getElementById("presence-users");
  var toastsEl = document.getElementById("toasts");

  function makeButton(type, className, text) {
    var button = document.createElement("button");
    button.type = type;
    button.className = className;
    button.textContent = text;
    return button;
  }

  function key(id) { return String(id); }
  function clamp(n, lo, hi) {
    n = typeof n === "number" && isFinite(n) ? Math.floor(n) : hi;
    return Math.max(lo, Math.min(hi, n));
  }
  function nextRef(kind) { refCounter += 1; return kind + "-" + Date.now().toString(36) + "-" + refCounter; }

  // --- model -----------------------------------------------------------------

  function removeKey(target, k) {
    for (var listId in target) {
      var i = target[listId].indexOf(k);
      if (i !== -1) { target[listId].splice(i, 1); return; }
    }
  }

  function placeTask(target, task) {
    var k = key(task.id);
    removeKey(target, k);
    var arr = target[task.listId];
    if (!arr) return false;
    arr.splice(clamp(task.position, 0, arr.length), 0, k);
    return true;
  }

  function loadSnapshot(snap) {
    lists = (snap.lists || []).slice();
    order = {};
    tasks = {};
    lists.forEach(function (l) { order[l.id] = []; });
    var sorted = (snap.tasks || []).slice().sort(function (a, b) { return a.position - b.position; });
    sorted.forEach(function (t) {
      tasks[key(t.id)] = t;
      if (order[t.listId]) order[t.listId].push(key(t.id));
    });
    lastSeq = snap.seq || 0;
    if (lastSeq > knownSeq) knownSeq = lastSeq;
    buildColumns();
    drain();
    scheduleRender();
  }

  // Apply one event to the confirmed model. False: it names a column we do not know.
  function applyToModel(frame) {
    if (frame.type === "task_deleted") {
      var dk = key(frame.taskId);
      removeKey(order, dk);
      delete tasks[dk];
      return true;
    }
    var t = frame.task;
    if (!t) return true;
    tasks[key(t.id)] = t;
    if (!placeTask(order, t)) { delete tasks[key(t.id)]; return false; }
    return true;
  }

  function settleRefs(frame) {
    (frame._refs || []).forEach(function (ref) { pending.delete(ref); });
  }

  // Every frame that carries a board seq comes through here, live or replayed.
  function processFrame(frame) {
    var seq = frame.seq;
    if (typeof seq !== "number") return;
    if (seq <= lastSeq) { settleRefs(frame); scheduleRender(); return; } // duplicate
    if (seq > lastSeq + 1) {
      var held = buffer.get(seq);
      if (held) held._refs = (held._refs || []).concat(frame._refs || []);
      else buffer.set(seq, frame);
      noteKnown(seq);
      return;
    }
    applySeq(frame);
    drain();
  }

  function applySeq(frame) {
    var ok = applyToModel(frame);
    lastSeq = frame.seq;
    settleRefs(frame);
    if (!frame._refs && frame.task) flashKeys.add(key(frame.task.id));
    if (!ok) reloadSnapshot();
    scheduleRender();
  }

  function drain() {
    var next;
    while ((next = buffer.get(lastSeq + 1))) {
      buffer.delete(lastSeq + 1);
      applySeq(next);
    }
    buffer.forEach(function (frame, seq) {
      if (seq <= lastSeq) { buffer.delete(seq); settleRefs(frame); }
    });
    if (!buffer.size && lastSeq >= knownSeq) {
      if (gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
    } else {
      scheduleGapCheck(GAP_WAIT_MS);
    }
  }

  function noteKnown(seq) {
    if (typeof seq === "number" && seq > knownSeq) knownSeq = seq;
    if (knownSeq > lastSeq || buffer.size) scheduleGapCheck(GAP_WAIT_MS);
  }

  function scheduleGapCheck(delay) {
    if (gapTimer) return;
    gapTimer = setTimeout(function () {
      gapTimer = null;
      if (lastSeq < knownSeq || buffer.size) fillGap();
    }, delay);
  }

  function maxBuffered() {
    var m = 0;
    buffer.forEach(function (_, seq) { if (seq > m) m = seq; });
    return m;
  }

  function fillGap() {
    if (gapFetching || snapshotLoading) { scheduleGapCheck(GAP_WAIT_MS); return; }
    gapFetching = true;
    var before = lastSeq;
    var morePages = false;
    getJSON(API_BOARD + "events?since=" + lastSeq)
      .then(function (res) {
        if (res.status === 409) { fruitlessFills = 0; return reloadSnapshot(); }
        if (!res.ok || !res.body || !Array.isArray(res.body.events)) throw new Error("HTTP " + res.status);
        res.body.events.forEach(function (frame) {
          if (frame && frame.boardId === SLUG) processFrame(frame);
        });
        // Trust the server about how far the board has got.
        if (typeof res.body.seq === "number") knownSeq = Math.max(res.body.seq, maxBuffered());
        fruitlessFills = lastSeq > before ? 0 : fruitlessFills + 1;
        if (fruitlessFills >= 3) { fruitlessFills = 0; return reloadSnapshot(); }
        // A page cut at the server's limit: fetch the next one now, not after GAP_WAIT_MS.
        morePages = res.body.more === true && lastSeq > before;
      })
      .catch(function () { scheduleGapCheck(3000); })
      .then(function () {
        gapFetching = false;
        if (morePages && lastSeq < knownSeq) fillGap();
        else drain();
      });
  }

  function reloadSnapshot() {
    if (snapshotLoading) return snapshotLoading;
    snapshotLoading = getJSON(API_BOARD)
      .then(function (res) {
        if (res.ok && res.body && Array.isArray(res.body.tasks)) {
          loadSnapshot(res.body);
        } else if (res.status === 401 || res.status === 403 || res.status === 404) {
          toast("You can no longer see this board (HTTP " + res.status + ").");
          setStatus("offline");
        } else {
          throw new Error("HTTP " + res.status);
        }
      })
      .catch(function () {
        setTimeout(reloadSnapshot, 3000);
      })
      .then(function () { snapshotLoading = null; });
    return snapshotLoading;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          return { status: r.status, ok: r.ok, body: body };
        });
      });
  }

  // --- view: confirmed model + our pending changes --------------------------

  function computeView() {
    var view = {};
    lists.forEach(function (l) { view[l.id] = (order[l.id] || []).slice(); });
    var over = {};
    var busy = new Set();
    pending.forEach(function (op) {
      if (!op.key) return;
      busy.add(op.key);
      if (op.kind === "move") {
        if (tasks[op.key] && view[op.listId]) {
          removeKey(view, op.key);
          view[op.listId].splice(clamp(op.position, 0, view[op.listId].length), 0, op.key);
        }
      } else if (op.kind === "update") {
        over[op.key] = Object.assign(over[op.key] || {}, op.fields);
      } else if (op.kind === "delete") {
        removeKey(view, op.key);
      }
    });
    return { order: view, over: over, busy: busy };
  }

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    Promise.resolve().then(render);
  }

  function render() {
    renderQueued = false;
    var view = computeView();
    var seen = new Set();
    removeDropMarker();
    lists.forEach(function (l) {
      var col = columnEls[l.id];
      if (!col) return;
      var keys = view.order[l.id] || [];
      var els = keys.map(function (k) {
        seen.add(k);
        return cardFor(k, view.over[k], view.busy.has(k));
      });
      var box = col.cards;
      for (var i = 0; i < els.length; i++) {
        if (box.children[i] !== els[i]) box.insertBefore(els[i], box.children[i] || null);
      }
      while (box.children.length > els.length) box.removeChild(box.lastElementChild);
      col.count.textContent = String(keys.length);
    });
    Object.keys(cardEls).forEach(function (k) {
      if (!seen.has(k)) {
        var el = cardEls[k];
        if (el.parentNode) el.parentNode.removeChild(el);
        delete cardEls[k];
      }
    });
    if (flashKeys.size) {
      flashKeys.forEach(function (k) {
        var el = cardEls[k];
        if (!el) return;
        el.classList.remove("flash");
        void el.offsetWidth; // restart the animation
        el.classList.add("flash");
      });
      flashKeys.clear();
    }
  }

  function cardFor(k, over, busy) {
    var t = tasks[k];
    var el = cardEls[k] || (cardEls[k] = createCard(k));
    var title = over && over.title !== undefined ? over.title : t.title;
    var desc = over && over.description !== undefined ? over.description : t.description || "";
    if (!el.classList.contains("editing")) {
      var titleEl = el.querySelector(".card-title");
      var descEl = el.querySelector(".card-desc");
      if (titleEl.textContent !== title) titleEl.textContent = title;
      if (descEl.textContent !== desc) descEl.textContent = desc;
    }
    el.dataset.version = String(t.version);
    el.classList.toggle("pending", busy);
    return el;
  }

  function createCard(k) {
    var el = document.createElement("article");
    el.className = "card";
    el.dataset.taskId = k;
    if (CAN_EDIT) el.draggable = true;
    var head = document.createElement("div");
    head.className = "card-head";
    var title = document.createElement("h3");
    title.className = "card-title";
    if (CAN_EDIT) title.title = "Double-click to edit";
    head.appendChild(title);
    if (CAN_EDIT) {
      var del = makeButton("button", "card-delete", "×");
      del.title = "Delete task";
      del.setAttribute("aria-label", "Delete task");
      head.appendChild(del);
    }
    var desc = document.createElement("p");
    desc.className = "card-desc";
    el.appendChild(head);
    el.appendChild(desc);
    return el;
  }

  function createColumn(list) {
    var section = document.createElement("section");
    section.className = "column";
    section.dataset.listId = list.id;
    var head = document.createElement("header");
    head.className = "column-head";
    var h2 = document.createElement("h2");
    h2.textContent = list.name;
    var count = document.createElement("span");
    count.className = "column-count";
    head.appendChild(h2);
    head.appendChild(count);
    var cards = document.createElement("div");
    cards.className = "cards";
    cards.dataset.listId = list.id;
    section.appendChild(head);
    section.appendChild(cards);
    if (CAN_EDIT) {
      var form = document.createElement("form");
      form.className = "add-task";
      form.dataset.listId = list.id;
      form.autocomplete = "off";
      var input = document.createElement("input");
      input.type = "text";
      input.name = "title";
      input.maxLength = 200;
      input.required = true;
      input.placeholder = "Add a task…";
      input.setAttribute("aria-label", "New task title in " + list.name);
      var btn = makeButton("submit", "button", "Add");
      form.appendChild(input);
      form.appendChild(btn);
      section.appendChild(form);
    }
    return section;
  }

  function adoptColumn(section) {
    var cards = section.querySelector(".cards");
    // Drop the template's whitespace so `.cards:empty` styling works.
    Array.prototype.slice.call(cards.childNodes).forEach(function (n) {
      if (n.nodeType !== 1) cards.removeChild(n);
    });
    return {
      root: section,
      cards: cards,
      count: section.querySelector(".column-count"),
      name: section.querySelector(".column-head h2"),
    };
  }

  // Make the column elements match `lists` (they only change on a snapshot).
  function buildColumns() {
    var container = root.querySelector(".columns");
    var wanted = new Set(lists.map(function (l) { return l.id; }));
    Object.keys(columnEls).forEach(function (id) {
      if (!wanted.has(id)) {
        var col = columnEls[id];
        Array.prototype.slice.call(col.cards.children).forEach(function (c) { col.cards.removeChild(c); });
        container.removeChild(col.root);
        delete columnEls[id];
      }
    });
    var empty = container.querySelector(":scope > .empty");
    if (empty && lists.length) container.removeChild(empty);
    lists.forEach(function (l, i) {
      var col = columnEls[l.id];
      if (!col) col = columnEls[l.id] = adoptColumn(createColumn(l));
      else if (col.name && col.name.textContent !== l.name) col.name.textContent = l.name;
      var at = container.children[i] || null;
      if (at !== col.root) container.insertBefore(col.root, at);
    });
  }

  // --- presence ----------------------------------------------------------------

  function setViewers(n) {
    if (typeof n === "number") viewersEl.textContent = String(n);
  }

  function renderPeople() {
    var names = [];
    people.forEach(function (p) { if (names.indexOf(p.name) === -1) names.push(p.name); });
    names.sort(function (a, b) { return a.localeCompare(b); });
    while (usersEl.firstChild) usersEl.removeChild(usersEl.firstChild);
    names.forEach(function (name) {
      var li = document.createElement("li");
      li.textContent = name;
      if (name === root.dataset.username) li.className = "me";
      usersEl.appendChild(li);
    });
  }

  function personJoined(user) {
    if (!user || user.id === null || user.id === undefined) return;
    var p = people.get(user.id);
    if (p) p.n += 1;
    else people.set(user.id, { name: user.name, n: 1 });
  }

  // Returns true when a name dropped off the list.
  function personLeft(user) {
    if (!user || user.id === null || user.id === undefined) return false;
    var p = people.get(user.id);
    if (!p) return false;
    p.n -= 1;
    if (p.n > 0) return false;
    people.delete(user.id);
    return true;
  }

  // `joined` lists distinct users without tab counts, so a departure may
  // drop someone who still has another tab open. Re-joining a board we are
  // already in just returns its current presence; do that, debounced.
  function refreshPresenceSoon() {
    if (presenceRefreshTimer) return;
    presenceRefreshTimer = setTimeout(function () {
      presenceRefreshTimer = null;
      if (joined) send({ type: "join", boardId: SLUG, since: lastSeq, ref: nextRef("presence") });
    }, 1500);
  }

  // --- socket --------------------------------------------------------------------

  function setStatus(state) {
    var labels = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };
    statusEl.textContent = labels[state] || state;
    statusEl.className = "status status-" + state;
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    reconnectTimer = null;
    setStatus(attempts ? "reconnecting" : "connecting");
    var url = (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host + "/ws/";
    var sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    connectTimer = setTimeout(function () {
      if (ws === sock && sock.readyState === WebSocket.CONNECTING) sock.close();
    }, CONNECT_TIMEOUT_MS);
    sock.onopen = function () {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      send({ type: "join", boardId: SLUG, since: lastSeq, ref: nextRef("join") });
    };
    sock.onmessage = function (e) {
      if (ws !== sock || typeof e.data !== "string") return;
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg && typeof msg === "object") handle(msg);
    };
    sock.onclose = function (e) {
      clearTimeout(connectTimer);
      if (ws !== sock) return;
      ws = null;
      joined = false;
      stopPing();
      dropPending();
      if (e.code === 4401 || e.code === 4403) {
        setStatus("offline");
        toast(e.code === 4401 ? "Please log in again to watch this board." : "This page's origin was refused by the server.");
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    setStatus("reconnecting");
    var delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.5 + Math.random() * 0.5);
    attempts += 1;
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (ws || !reconnectTimer) return;
    clearTimeout(reconnectTimer);
    connect();
  }

  function startPing() {
    stopPing();
    pingTimer = setInterval(function () { send({ type: "ping" }); }, PING_MS);
  }

  function stopPing() {
    if (pingTimer) { clearInterval(pingTimer); pingTimer = null; }
  }

  // The connection is gone: we cannot know which of our changes landed. The
  // re-join replays whatever did (it carries seqs we have not seen).
  function dropPending() {
    if (!pending.size) return;
    pending.forEach(function (op) { clearTimeout(op.timer); });
    pending.clear();
    scheduleRender();
  }

  function handle(msg) {
    switch (msg.type) {
      case "joined":
        if (msg.boardId !== SLUG) return;
        if (!joined) {
          joined = true;
          attempts = 0;
          setStatus("live");
          startPing();
        }
        setViewers(msg.viewers);
        people.clear();
        (msg.users || []).forEach(personJoined);
        renderPeople();
        noteKnown(msg.seq);
        return;
      case "resync_required":
        if (msg.boardId === undefined || msg.boardId === SLUG) reloadSnapshot();
        return;
      case "task_created":
      case "task_moved":
      case "task_updated":
      case "task_deleted":
        if (msg.boardId === SLUG) processFrame(msg);
        return;
      case "user_joined":
        if (msg.boardId !== SLUG) return;
        setViewers(msg.viewers);
        personJoined(msg.user);
        renderPeople();
        return;
      case "user_left":
        if (msg.boardId !== SLUG) return;
        setViewers(msg.viewers);
        if (personLeft(msg.user)) refreshPresenceSoon();
        renderPeople();
        return;
      case "presence":
        if (msg.boardId !== SLUG) return;
        setViewers(msg.viewers);
        (msg.joined || []).forEach(personJoined);
        var dropped = false;
        (msg.left || []).forEach(function (u) { if (personLeft(u)) dropped = true; });
        if (dropped) refreshPresenceSoon();
        renderPeople();
        return;
      case "pong":
        if (msg.seqs && typeof msg.seqs[SLUG] === "number") noteKnown(msg.seqs[SLUG]);
        return;
      case "ack":
        onAck(msg);
        return;
      case "error":
        onError(msg);
        return;
      default:
        return; // `left` and anything newer: nothing to do
    }
  }

  function onAck(msg) {
    var op = msg.ref ? pending.get(msg.ref) : null;
    if (!op) return;
    clearTimeout(op.timer);
    var frame = { type: ACK_TYPES[op.kind], boardId: SLUG, seq: msg.seq, _refs: [msg.ref] };
    if (op.kind === "delete") frame.taskId = msg.taskId !== undefined ? msg.taskId : op.id;
    else frame.task = msg.task;
    if (op.kind === "create" && msg.task) flashKeys.add(key(msg.task.id));
    if (typeof msg.seq === "number") {
      processFrame(frame);
    } else {
      // Nothing changed on the server (no event); the reply is the current state.
      pending.delete(msg.ref);
      if (frame.task && tasks[key(frame.task.id)]) applyToModel(frame);
      scheduleRender();
    }
  }

  function onError(msg) {
    var ref = msg.ref;
    if (typeof ref === "string" && ref.indexOf("join-") === 0) {
      setStatus("offline");
      toast(msg.error || "Could not join this board.");
      return;
    }
    var op = ref ? pending.get(ref) : null;
    if (!op) {
      if (msg.error) toast(msg.error);
      return;
    }
    clearTimeout(op.timer);
    pending.delete(ref);
    if (msg.code === "conflict" && msg.task) {
      var cur = tasks[key(msg.task.id)];
      if (cur && msg.task.version > cur.version) {
        applyToModel({ type: "task_updated", task: msg.task });
        noteKnown(lastSeq + 1); // the change that beat us has a seq we have not seen yet
      }
      toast("Someone changed “" + msg.task.title + "” first; your change was not saved.");
    } else {
      toast(msg.error || "The server refused that change.");
      if (op.kind !== "create") reloadSnapshot();
    }
    scheduleRender();
  }

  // Send one of our changes; `op` is drawn optimistically until its ack.
  function sendChange(op, frame) {
    if (!joined || !ws || ws.readyState !== WebSocket.OPEN) {
      toast("Not connected — try again in a moment.");
      return false;
    }
    var ref = nextRef(op.kind);
    frame.ref = ref;
    op.timer = setTimeout(function () {
      if (pending.delete(ref)) { scheduleRender(); reloadSnapshot(); }
    }, ACK_TIMEOUT_MS);
    pending.set(ref, op);
    send(frame);
    scheduleRender();
    return true;
  }

  // --- user actions ----------------------------------------------------------------

  function toast(text) {
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;
    toastsEl.appendChild(el);
    setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, 4500);
  }

  function createTask(listId, title) {
    return sendChange(
      { kind: "create", listId: listId },
      { type: "create_task", boardId: SLUG, listId: listId, title: title }
    );
  }

  function moveTask(k, listId, position) {
    var t = tasks[k];
    if (!t) return;
    sendChange(
      { kind: "move", key: k, id: t.id, listId: listId, position: position },
      { type: "move_task", taskId: t.id, listId: listId, position: position }
    );
  }

  function deleteTask(k) {
    var t = tasks[k];
    if (!t) return;
    sendChange({ kind: "delete", key: k, id: t.id }, { type: "delete_task", taskId: t.id });
  }

  function updateTask(k, fields) {
    var t = tasks[k];
    if (!t) return;
    var frame = { type: "update_task", taskId: t.id, version: t.version };
    Object.keys(fields).forEach(function (f) { frame[f] = fields[f]; });
    sendChange({ kind: "update", key: k, id: t.id, fields: fields }, frame);
  }

  function startEdit(card) {
    if (card.classList.contains("editing")) return;
    var k = card.dataset.taskId;
    if (!tasks[k]) return;
    var shownTitle = card.querySelector(".card-title").textContent;
    var shownDesc = card.querySelector(".card-desc").textContent;
    card.classList.add("editing");
    card.draggable = false;

    var form = document.createElement("form");
    form.className = "card-edit";
    var title = document.createElement("input");
    title.type = "text";
    title.maxLength = 200;
    title.required = true;
    title.value = shownTitle;
    title.setAttribute("aria-label", "Title");
    var desc = document.createElement("textarea");
    desc.rows = 3;
    desc.maxLength = 10000;
    desc.value = shownDesc;
    desc.placeholder = "Description";
    desc.setAttribute("aria-label", "Description");
    var actions = document.createElement("div");
    actions.className = "card-edit-actions";
    var save = makeButton("submit", "button primary", "Save");
    var cancel = makeButton("button", "button", "Cancel");
    actions.appendChild(save);
    actions.appendChild(cancel);
    form.appendChild(title);
    form.appendChild(desc);
    form.appendChild(actions);
    card.appendChild(form);
    title.focus();
    title.select();

    function finish() {
      if (form.parentNode) form.parentNode.removeChild(form);
      card.classList.remove("editing");
      card.draggable = CAN_EDIT;
      scheduleRender();
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var newTitle = title.value.trim();
      if (!newTitle) { toast("A task needs a title."); title.focus(); return; }
      var fields = {};
      if (newTitle !== shownTitle) fields.title = newTitle;
      if (desc.value !== shownDesc) fields.description = desc.value;
      finish();
      if (Object.keys(fields).length) updateTask(k, fields);
    });
    cancel.addEventListener("click", finish);
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); finish(); }
    });
  }

  // --- drag and drop ----------------------------------------------------------------

  function removeDropMarker() {
    if (dropMarker && dropMarker.parentNode) dropMarker.parentNode.removeChild(dropMarker);
  }

  // Where the dragged card would land: its index in the target list once it
  // has been taken out of wherever it is now (the move_task `position`).
  function dropIndex(box, clientY) {
    var cards = Array.prototype.filter.call(box.children, function (c) {
      return c.classList.contains("card") && (!drag || c !== drag.el);
    });
    for (var i = 0; i < cards.length; i++) {
      var r = cards[i].getBoundingClientRect();
      if (clientY < r.top + r.height / 2) return { index: i, before: cards[i] };
    }
    return { index: cards.length, before: null };
  }

  function boxFromEvent(e) {
    var col = e.target && e.target.closest ? e.target.closest(".column") : null;
    return col ? col.querySelector(".cards") : null;
  }

  function currentPlace(k) {
    var view = computeView().order;
    for (var listId in view) {
      var i = view[listId].indexOf(k);
      if (i !== -1) return { listId: listId, index: i };
    }
    return null;
  }

  if (CAN_EDIT) {
    root.addEventListener("dragstart", function (e) {
      var card = e.target.closest ? e.target.closest(".card") : null;
      if (!card || card.classList.contains("editing") || !tasks[card.dataset.taskId]) return;
      drag = { key: card.dataset.taskId, el: card };
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.dataset.taskId);
      setTimeout(function () { card.classList.add("dragging"); }, 0);
    });
    root.addEventListener("dragover", function (e) {
      if (!drag) return;
      var box = boxFromEvent(e);
      if (!box) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      if (!dropMarker) { dropMarker = document.createElement("div"); dropMarker.className = "drop-marker"; }
      var at = dropIndex(box, e.clientY);
      if (dropMarker.parentNode !== box || dropMarker.nextSibling !== at.before) box.insertBefore(dropMarker, at.before);
    });
    root.addEventListener("drop", function (e) {
      if (!drag) return;
      var box = boxFromEvent(e);
      if (!box) return;
      e.preventDefault();
      removeDropMarker();
      var k = drag.key;
      var listId = box.dataset.listId;
      var index = dropIndex(box, e.clientY).index;
      var now = currentPlace(k);
      if (now && now.listId === listId && now.index === index) return;
      moveTask(k, listId, index);
    });
    root.addEventListener("dragend", function () {
      removeDropMarker();
      if (drag) drag.el.classList.remove("dragging");
      drag = null;
    });
    root.addEventListener("dragleave", function (e) {
      if (drag && !root.contains(e.relatedTarget)) removeDropMarker();
    });

    root.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.classList || !form.classList.contains("add-task")) return;
      e.preventDefault();
      var input = form.querySelector("input[name=title]");
      var title = input.value.trim();
      if (!title) return;
      if (createTask(form.dataset.listId, title)) input.value = "";
    });
    root.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest(".card-delete") : null;
      if (!btn) return;
      var card = btn.closest(".card");
      var t = card && tasks[card.dataset.taskId];
      if (t && window.confirm("Delete “" + t.title + "”?")) deleteTask(card.dataset.taskId);
    });
    root.addEventListener("dblclick", function (e) {
      var title = e.target.closest ? e.target.closest(".card-title") : null;
      var card = title && title.closest(".card");
      if (card) startEdit(card);
    });
  }

  // --- start ------------------------------------------------------------------------

  Array.prototype.forEach.call(root.querySelectorAll(".column[data-list-id]"), function (section) {
    columnEls[section.dataset.listId] = adoptColumn(section);
  });
  Array.prototype.forEach.call(root.querySelectorAll(".card[data-task-id]"), function (card) {
    cardEls[card.dataset.taskId] = card;
  });

  var initial;
  try { initial = JSON.parse(snapshotEl.textContent); } catch (e) { initial = null; }
  if (initial && Array.isArray(initial.tasks)) loadSnapshot(initial);
  else reloadSnapshot();

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (joined) send({ type: "ping" });
    else reconnectNow();
  });

  connect();
})();
