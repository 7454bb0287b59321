/*
 * The board's DOM, reconciled from the model's view (confirmed board + our
 * pending changes): columns, cards, the presence list, the viewer count,
 * the connection status and toasts. User text only goes through textContent.
 */

export function makeButton(type, className, text) {
  const button = document.createElement("button");
  button.type = type;
  button.className = className;
  button.textContent = text;
  return button;
}

/** A one-field form ("Add a task…", "Add a column…"): {name, maxLength, placeholder, label}. */
export function makeOneFieldForm(className, field, buttonText) {
  const form = document.createElement("form");
  form.className = className;
  form.autocomplete = "off";
  const input = document.createElement("input");
  input.type = "text";
  input.name = field.name;
  input.maxLength = field.maxLength;
  input.required = true;
  input.placeholder = field.placeholder;
  input.setAttribute("aria-label", field.label);
  form.append(input, makeButton("submit", "button", buttonText));
  return form;
}

const STATUS_LABELS = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };
const TOAST_MS = 4500;

export class Renderer {
  constructor({ root, model, canEdit }) {
    this.root = root;
    this.model = model;
    this.canEdit = canEdit;
    this.username = root.dataset.username;
    this.columnEls = {};   // listId -> {root, cards, count, name}
    this.cardEls = {};     // taskKey -> card element
    this.dropMarker = null;
    this.queued = false;
    this.listsRevision = model.revision.lists;
    // Other modules (tasks.js, lists.js, …) push hooks here for extra parts of a card or column.
    this.cardHooks = [];   // (cardEl, task with pending edits) after each render of a card
    this.columnHooks = []; // (sectionEl) once per column element
    this.statusEl = document.getElementById("conn-status");
    this.viewersEl = document.getElementById("viewer-count");
    this.usersEl = document.getElementById("presence-users");
    this.toastsEl = document.getElementById("toasts");
  }

  /** Take over the server-rendered columns and cards. */
  adopt() {
    for (const section of this.root.querySelectorAll(".column[data-list-id]")) {
      this.columnEls[section.dataset.listId] = adoptColumn(section);
      for (const hook of this.columnHooks) hook(section);
    }
    for (const card of this.root.querySelectorAll(".card[data-task-id]")) {
      this.cardEls[card.dataset.taskId] = card;
    }
  }

  schedule() {
    if (this.queued) return;
    this.queued = true;
    Promise.resolve().then(() => this.render());
  }

  render() {
    this.queued = false;
    const model = this.model;
    const focused = document.activeElement; // moving a node blurs what is inside it
    if (model.revision.lists !== this.listsRevision) this.buildColumns();
    const view = model.view();
    const seen = new Set();
    this.removeDropMarker();
    for (const l of model.lists) {
      const col = this.columnEls[l.id];
      if (!col) continue;
      const keys = view.order[l.id] || [];
      const els = keys.map((k) => {
        seen.add(k);
        return this.cardFor(k, view.over[k], view.busy.has(k));
      });
      const box = col.cards;
      for (let i = 0; i < els.length; i++) {
        if (box.children[i] !== els[i]) box.insertBefore(els[i], box.children[i] || null);
      }
      while (box.children.length > els.length) box.removeChild(box.lastElementChild);
      col.count.textContent = String(keys.length);
    }
    for (const k of Object.keys(this.cardEls)) {
      if (!seen.has(k)) {
        const el = this.cardEls[k];
        if (el.parentNode) el.parentNode.removeChild(el);
        delete this.cardEls[k];
      }
    }
    if (model.flash.size) {
      for (const k of model.flash) {
        const el = this.cardEls[k];
        if (!el) continue;
        el.classList.remove("flash");
        void el.offsetWidth; // restart the animation
        el.classList.add("flash");
      }
      model.flash.clear();
    }
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
  }

  cardFor(k, over, busy) {
    const t = this.model.tasks[k];
    const el = this.cardEls[k] || (this.cardEls[k] = this.createCard(k));
    const title = over && over.title !== undefined ? over.title : t.title;
    const desc = over && over.description !== undefined ? over.description : t.description || "";
    if (!el.classList.contains("editing")) {
      const titleEl = el.querySelector(".card-title");
      const descEl = el.querySelector(".card-desc");
      if (titleEl.textContent !== title) titleEl.textContent = title;
      if (descEl.textContent !== desc) descEl.textContent = desc;
    }
    el.dataset.version = String(t.version);
    el.classList.toggle("pending", busy);
    if (this.cardHooks.length) {
      const shown = over ? Object.assign({}, t, over) : t;
      for (const hook of this.cardHooks) hook(el, shown);
    }
    return el;
  }

  createCard(k) {
    const el = document.createElement("article");
    el.className = "card";
    el.dataset.taskId = k;
    if (this.canEdit) el.draggable = true;
    const head = document.createElement("div");
    head.className = "card-head";
    const title = document.createElement("h3");
    title.className = "card-title";
    if (this.canEdit) title.title = "Double-click to edit";
    head.appendChild(title);
    if (this.canEdit) {
      const del = makeButton("button", "card-delete", "×");
      del.title = "Delete task";
      del.setAttribute("aria-label", "Delete task");
      head.appendChild(del);
    }
    const desc = document.createElement("p");
    desc.className = "card-desc";
    el.appendChild(head);
    el.appendChild(desc);
    return el;
  }

  createColumn(list) {
    const section = document.createElement("section");
    section.className = "column";
    section.dataset.listId = list.id;
    section.setAttribute("aria-label", list.name);
    const head = document.createElement("header");
    head.className = "column-head";
    const h2 = document.createElement("h2");
    h2.textContent = list.name;
    const count = document.createElement("span");
    count.className = "column-count";
    head.appendChild(h2);
    head.appendChild(count);
    const cards = document.createElement("div");
    cards.className = "cards";
    cards.dataset.listId = list.id;
    section.appendChild(head);
    section.appendChild(cards);
    if (this.canEdit) {
      const form = makeOneFieldForm("add-task", {
        name: "title", maxLength: 200, placeholder: "Add a task…", label: "New task title in " + list.name,
      }, "Add");
      form.dataset.listId = list.id;
      section.appendChild(form);
    }
    for (const hook of this.columnHooks) hook(section);
    return section;
  }

  /** Make the column elements match the model's lists (they change on a snapshot). */
  buildColumns() {
    this.listsRevision = this.model.revision.lists;
    const lists = this.model.lists;
    const container = this.root.querySelector(".columns");
    const wanted = new Set(lists.map((l) => l.id));
    for (const id of Object.keys(this.columnEls)) {
      if (wanted.has(id)) continue;
      const col = this.columnEls[id];
      for (const c of Array.from(col.cards.children)) col.cards.removeChild(c);
      container.removeChild(col.root);
      delete this.columnEls[id];
    }
    const empty = container.querySelector(":scope > .empty");
    if (empty && lists.length) container.removeChild(empty);
    lists.forEach((l, i) => {
      let col = this.columnEls[l.id];
      if (!col) col = this.columnEls[l.id] = adoptColumn(this.createColumn(l));
      else if (col.name && col.name.textContent !== l.name) {
        col.name.textContent = l.name;
        col.root.setAttribute("aria-label", l.name);
        const input = col.root.querySelector(".add-task input");
        if (input) input.setAttribute("aria-label", "New task title in " + l.name);
      }
      const at = container.children[i] || null;
      if (at !== col.root) container.insertBefore(col.root, at);
    });
  }

  // --- drop marker (drag and drop draws it, render clears it) -------------------

  showDropMarker(box, before) {
    if (!this.dropMarker) {
      this.dropMarker = document.createElement("div");
      this.dropMarker.className = "drop-marker";
    }
    if (this.dropMarker.parentNode !== box || this.dropMarker.nextSibling !== before) box.insertBefore(this.dropMarker, before);
  }

  removeDropMarker() {
    const m = this.dropMarker;
    if (m && m.parentNode) m.parentNode.removeChild(m);
  }

  // --- presence, status, toasts -------------------------------------------------------

  setViewers(n) {
    if (typeof n === "number") this.viewersEl.textContent = String(n);
  }

  renderPeople(names) {
    const ul = this.usersEl;
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    for (const name of names) {
      const li = document.createElement("li");
      li.textContent = name;
      if (name === this.username) li.className = "me";
      ul.appendChild(li);
    }
  }

  setStatus(state) {
    this.statusEl.textContent = STATUS_LABELS[state] || state;
    this.statusEl.className = "status status-" + state;
  }

  toast(text) {
    const el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;
    this.toastsEl.appendChild(el);
    setTimeout(() => { if (el.parentNode) el.parentNode.removeChild(el); }, TOAST_MS);
  }
}

function adoptColumn(section) {
  const cards = section.querySelector(".cards");
  // Drop the template's whitespace so `.cards:empty` styling works.
  for (const n of Array.from(cards.childNodes)) {
    if (n.nodeType !== 1) cards.removeChild(n);
  }
  return {
    root: section,
    cards,
    count: section.querySelector(".column-count"),
    name: section.querySelector(".column-head h2"),
  };
}
