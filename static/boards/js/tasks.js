/*
 * The parts of a card beyond its title and description (SPEC §12): who it
 * is assigned to (initials + name), and for editors a keyboard alternative
 * to drag and drop — a "Move / assign" panel on the card (move to a column,
 * up, down; pick an assignee among the members) and Alt+arrow keys on a
 * focused card. Renderer calls decorate() (a cardHook) after each render of
 * a card; the changes go through `actions` like a drop (main.js).
 */

import { makeButton } from "./render.js";

/** "alice" → "AL", "mary jane" → "MJ". */
export function initials(name) {
  const parts = String(name || "?").trim().split(/[\s._-]+/).filter(Boolean);
  if (parts.length > 1) return (parts[0][0] + parts[1][0]).toUpperCase();
  return String(name || "?").slice(0, 2).toUpperCase();
}

/** A stable hue per name, so a person's avatar looks the same everywhere. */
export function hue(name) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

export function avatar(name) {
  const el = document.createElement("span");
  el.className = "avatar";
  el.textContent = initials(name);
  el.style.background = "hsl(" + hue(name) + " 55% 42%)";
  el.setAttribute("aria-hidden", "true");
  return el;
}

/** root, model, renderer, actions: {moveTask(k, listId, position), updateTask(k, fields, sent)}; canEdit. */
export function installTasks({ root, model, renderer, actions, canEdit }) {
  renderer.cardHooks.push(decorate);

  function decorate(el, task) {
    const name = task.assignee ? task.assignee.name : "";
    let chip = el.querySelector(":scope > .card-assignee");
    if (chip && chip.dataset.name !== name) { chip.remove(); chip = null; }
    if (!chip && name) {
      chip = document.createElement("div");
      chip.className = "card-assignee";
      chip.dataset.name = name;
      const label = document.createElement("span");
      label.className = "assignee-name";
      label.textContent = name;
      chip.append(avatar(name), label);
      chip.title = "Assigned to " + name;
      el.insertBefore(chip, el.querySelector(":scope > .card-tools"));
    }
    el.setAttribute("aria-label", task.title + (name ? ", assigned to " + name : ", unassigned"));
    if (!canEdit || el.querySelector(".card-tools-toggle")) return;
    el.tabIndex = 0;
    el.setAttribute("aria-keyshortcuts", "Alt+ArrowLeft Alt+ArrowRight Alt+ArrowUp Alt+ArrowDown");
    const toggle = makeButton("button", "card-tools-toggle", "⋯");
    toggle.title = "Move or assign (keyboard: Alt+arrows move a focused card)";
    toggle.setAttribute("aria-label", "Move or assign");
    toggle.setAttribute("aria-expanded", "false");
    const head = el.querySelector(".card-head");
    head.insertBefore(toggle, head.querySelector(".card-delete"));
  }

  if (!canEdit) return;

  // Where a card is drawn and the column next to it; positions as move_task takes them.
  function moveBy(k, dCol, dRow) {
    const at = model.placeOf(k);
    if (!at) return;
    const lists = model.lists;
    const col = lists.findIndex((l) => l.id === at.listId);
    if (dCol) {
      const to = lists[col + dCol];
      if (!to) return;
      const n = (model.view().order[to.id] || []).length;
      actions.moveTask(k, to.id, Math.min(at.index, n));
    } else {
      const n = (model.view().order[at.listId] || []).length;
      const index = at.index + dRow;
      if (index < 0 || index >= n) return;
      actions.moveTask(k, at.listId, index);
    }
  }

  function openTools(card) {
    const k = card.dataset.taskId;
    const task = model.tasks[k];
    if (!task || card.querySelector(".card-tools")) return;
    const tools = document.createElement("div");
    tools.className = "card-tools";
    const colSelect = document.createElement("select");
    colSelect.className = "card-move-list";
    for (const l of model.lists) colSelect.add(new Option(l.name, l.id, false, l.id === (model.placeOf(k) || {}).listId));
    const up = makeButton("button", "button card-up", "↑");
    up.setAttribute("aria-label", "Move up");
    const down = makeButton("button", "button card-down", "↓");
    down.setAttribute("aria-label", "Move down");
    const who = document.createElement("select");
    who.className = "card-assign";
    who.add(new Option("Unassigned", ""));
    const current = task.assignee ? task.assignee.name : "";
    for (const m of model.members) who.add(new Option(m.user.name, m.user.name, false, m.user.name === current));
    const close = makeButton("button", "button card-tools-close", "Done");
    const row1 = document.createElement("div");
    row1.className = "card-tools-row";
    row1.append(labelled("Column", colSelect), up, down);
    const row2 = document.createElement("div");
    row2.className = "card-tools-row";
    row2.append(labelled("Assignee", who), close);
    tools.append(row1, row2);
    card.appendChild(tools);
    card.draggable = false;
    card.querySelector(".card-tools-toggle").setAttribute("aria-expanded", "true");
    colSelect.focus();
  }

  function labelled(text, control) {
    const label = document.createElement("label");
    label.className = "card-tools-label";
    const span = document.createElement("span");
    span.textContent = text;
    label.append(span, control);
    return label;
  }

  function closeTools(card) {
    const tools = card.querySelector(".card-tools");
    if (!tools) return;
    tools.remove();
    card.draggable = true;
    const toggle = card.querySelector(".card-tools-toggle");
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }

  root.addEventListener("click", (e) => {
    const card = e.target.closest ? e.target.closest(".card") : null;
    if (!card) return;
    const k = card.dataset.taskId;
    if (e.target.closest(".card-tools-toggle")) {
      if (card.querySelector(".card-tools")) closeTools(card); else openTools(card);
    } else if (e.target.closest(".card-tools-close")) closeTools(card);
    else if (e.target.closest(".card-up")) moveBy(k, 0, -1);
    else if (e.target.closest(".card-down")) moveBy(k, 0, 1);
  });
  root.addEventListener("change", (e) => {
    const card = e.target.closest ? e.target.closest(".card") : null;
    if (!card || !model.tasks[card.dataset.taskId]) return;
    const k = card.dataset.taskId;
    if (e.target.classList.contains("card-move-list")) {
      const to = e.target.value;
      const n = (model.view().order[to] || []).length;
      if (to !== (model.placeOf(k) || {}).listId) actions.moveTask(k, to, n);
    } else if (e.target.classList.contains("card-assign")) {
      const username = e.target.value || null;
      const member = model.members.find((m) => m.user.name === username);
      actions.updateTask(k, { assignee: member ? member.user : null }, { assignee: username });
    }
  });
  root.addEventListener("keydown", (e) => {
    const card = e.target;
    if (!card.classList || !card.classList.contains("card") || card.classList.contains("editing")) return;
    if (e.key === "Escape") { closeTools(card); return; }
    if (!e.altKey) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const d = moves[e.key];
    if (!d) return;
    e.preventDefault();
    moveBy(card.dataset.taskId, d[0], d[1]);
  });
}
