/*
 * What an editor does on the page: drag a card to a place, edit a card
 * inline (double-click the title; Enter saves, Escape cancels), add a task
 * to a column, delete one. Each becomes one call of `actions`, which sends
 * it and draws it optimistically until its ack (main.js).
 */

import { makeButton } from "./render.js";

/**
 * root: the #board element. model: the BoardModel. renderer: the Renderer.
 * actions: {createTask(listId, title) → bool, moveTask(k, listId, position),
 * updateTask(k, fields), deleteTask(k), toast(text)}.
 */
export function installInteractions({ root, model, renderer, actions }) {
  let drag = null; // {key, el}

  // Where the dragged card would land: its index in the target list once it
  // has been taken out of wherever it is now (the move_task `position`).
  function dropIndex(box, clientY) {
    const cards = Array.prototype.filter.call(box.children, (c) => c.classList.contains("card") && (!drag || c !== drag.el));
    for (let i = 0; i < cards.length; i++) {
      const r = cards[i].getBoundingClientRect();
      if (clientY < r.top + r.height / 2) return { index: i, before: cards[i] };
    }
    return { index: cards.length, before: null };
  }

  function boxFromEvent(e) {
    const col = e.target && e.target.closest ? e.target.closest(".column") : null;
    return col ? col.querySelector(".cards") : null;
  }

  root.addEventListener("dragstart", (e) => {
    const card = e.target.closest ? e.target.closest(".card") : null;
    if (!card || card.classList.contains("editing") || !model.tasks[card.dataset.taskId]) return;
    drag = { key: card.dataset.taskId, el: card };
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.taskId);
    setTimeout(() => card.classList.add("dragging"), 0);
  });
  root.addEventListener("dragover", (e) => {
    if (!drag) return;
    const box = boxFromEvent(e);
    if (!box) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    renderer.showDropMarker(box, dropIndex(box, e.clientY).before);
  });
  root.addEventListener("drop", (e) => {
    if (!drag) return;
    const box = boxFromEvent(e);
    if (!box) return;
    e.preventDefault();
    renderer.removeDropMarker();
    const k = drag.key;
    const listId = box.dataset.listId;
    const index = dropIndex(box, e.clientY).index;
    const now = model.placeOf(k);
    if (now && now.listId === listId && now.index === index) return;
    actions.moveTask(k, listId, index);
  });
  root.addEventListener("dragend", () => {
    renderer.removeDropMarker();
    if (drag) drag.el.classList.remove("dragging");
    drag = null;
  });
  root.addEventListener("dragleave", (e) => {
    if (drag && !root.contains(e.relatedTarget)) renderer.removeDropMarker();
  });

  root.addEventListener("submit", (e) => {
    const form = e.target;
    if (!form.classList || !form.classList.contains("add-task")) return;
    e.preventDefault();
    const input = form.querySelector("input[name=title]");
    const title = input.value.trim();
    if (!title) return;
    if (actions.createTask(form.dataset.listId, title)) input.value = "";
  });
  root.addEventListener("click", (e) => {
    const btn = e.target.closest ? e.target.closest(".card-delete") : null;
    if (!btn) return;
    const card = btn.closest(".card");
    const t = card && model.tasks[card.dataset.taskId];
    if (t && window.confirm("Delete “" + t.title + "”?")) actions.deleteTask(card.dataset.taskId);
  });
  root.addEventListener("dblclick", (e) => {
    const title = e.target.closest ? e.target.closest(".card-title") : null;
    const card = title && title.closest(".card");
    if (card) startEdit(card);
  });

  function startEdit(card) {
    if (card.classList.contains("editing")) return;
    const k = card.dataset.taskId;
    if (!model.tasks[k]) return;
    const shownTitle = card.querySelector(".card-title").textContent;
    const shownDesc = card.querySelector(".card-desc").textContent;
    card.classList.add("editing");
    card.draggable = false;

    const form = document.createElement("form");
    form.className = "card-edit";
    const title = document.createElement("input");
    title.type = "text";
    title.maxLength = 200;
    title.required = true;
    title.value = shownTitle;
    title.setAttribute("aria-label", "Title");
    const desc = document.createElement("textarea");
    desc.rows = 3;
    desc.maxLength = 10000;
    desc.value = shownDesc;
    desc.placeholder = "Description";
    desc.setAttribute("aria-label", "Description");
    const buttons = document.createElement("div");
    buttons.className = "card-edit-actions";
    const cancel = makeButton("button", "button", "Cancel");
    buttons.appendChild(makeButton("submit", "button primary", "Save"));
    buttons.appendChild(cancel);
    form.appendChild(title);
    form.appendChild(desc);
    form.appendChild(buttons);
    card.appendChild(form);
    title.focus();
    title.select();

    function finish() {
      if (form.parentNode) form.parentNode.removeChild(form);
      card.classList.remove("editing");
      card.draggable = true; // only editors get here
      renderer.schedule();
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const newTitle = title.value.trim();
      if (!newTitle) { actions.toast("A task needs a title."); title.focus(); return; }
      const fields = {};
      if (newTitle !== shownTitle) fields.title = newTitle;
      if (desc.value !== shownDesc) fields.description = desc.value;
      finish();
      if (Object.keys(fields).length) actions.updateTask(k, fields);
    });
    cancel.addEventListener("click", finish);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); finish(); }
    });
  }
}
