/*
 * Columns for editors and owners (SPEC §12): add one, rename it inline
 * (✎ or double-click its name; Enter saves, Escape cancels), delete an empty
 * one, reorder by dragging its header or with the ← → buttons. Each is one
 * WebSocket change through `actions` (create_list, update_list, move_list,
 * delete_list); the columns redraw from the model when the ack or others'
 * list_* events arrive, not before.
 */

import { makeButton, makeOneFieldForm } from "./render.js";

function listOf(model, id) { return model.lists.find((l) => l.id === id) || null; }

/** root, model, renderer, actions: {createList(name), renameList(id, name), moveList(id, position), deleteList(id), toast}. */
export function installLists({ root, model, renderer, actions }) {
  const container = root.querySelector(".columns");

  renderer.columnHooks.push((section) => {
    const head = section.querySelector(".column-head");
    if (head.querySelector(".column-tools")) return;
    head.draggable = true;
    head.title = "Drag to reorder the column";
    const tools = document.createElement("div");
    tools.className = "column-tools";
    const buttons = [
      ["column-left", "←", "Move column left"], ["column-right", "→", "Move column right"],
      ["column-rename", "✎", "Rename column"], ["column-delete", "×", "Delete column"],
    ];
    for (const [cls, text, label] of buttons) {
      const b = makeButton("button", "column-tool " + cls, text);
      b.title = label;
      b.setAttribute("aria-label", label);
      tools.appendChild(b);
    }
    head.appendChild(tools);
  });

  // The "add a column" form closes the row of columns.
  const form = makeOneFieldForm("add-column", {
    name: "name", maxLength: 100, placeholder: "Add a column…", label: "New column name",
  }, "Add column");
  const input = form.elements.name;
  container.appendChild(form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (name && actions.createList(name)) input.value = "";
  });

  function startRename(section) {
    const h2 = section.querySelector(".column-head h2");
    const list = listOf(model, section.dataset.listId);
    if (!list || section.querySelector(".column-rename-input")) return;
    const field = document.createElement("input");
    field.type = "text";
    field.className = "column-rename-input";
    field.maxLength = 100;
    field.value = list.name;
    field.setAttribute("aria-label", "Column name");
    h2.hidden = true;
    h2.after(field);
    field.focus();
    field.select();
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      const name = field.value.trim();
      field.remove();
      h2.hidden = false;
      if (save && name && name !== list.name) actions.renameList(list.id, name);
      else if (save && !name) actions.toast("A column needs a name.");
    };
    field.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); finish(true); section.querySelector(".column-rename").focus(); }
      if (e.key === "Escape") { e.preventDefault(); finish(false); section.querySelector(".column-rename").focus(); }
    });
    field.addEventListener("blur", () => finish(true));
  }

  function remove(list) {
    const n = (model.order[list.id] || []).length;
    if (n) {
      actions.toast("\u201c" + list.name + "\u201d still has " + n + " task" + (n === 1 ? "" : "s") + ": move or delete them before deleting the column.");
      return;
    }
    if (window.confirm("Delete the column \u201c" + list.name + "\u201d?")) actions.deleteList(list.id);
  }

  root.addEventListener("click", (e) => {
    const btn = e.target.closest ? e.target.closest(".column-tool") : null;
    if (!btn) return;
    const section = btn.closest(".column");
    const list = listOf(model, section.dataset.listId);
    if (!list) return;
    const i = model.lists.indexOf(list);
    if (btn.classList.contains("column-left") && i > 0) actions.moveList(list.id, i - 1);
    else if (btn.classList.contains("column-right") && i < model.lists.length - 1) actions.moveList(list.id, i + 1);
    else if (btn.classList.contains("column-rename")) startRename(section);
    else if (btn.classList.contains("column-delete")) remove(list);
  });
  root.addEventListener("dblclick", (e) => {
    const h2 = e.target.closest ? e.target.closest(".column-head h2") : null;
    if (h2) startRename(h2.closest(".column"));
  });

  // --- drag a column by its header ---------------------------------------------
  let dragging = null; // listId

  function dropIndex(clientX) {
    const cols = model.lists.filter((l) => l.id !== dragging);
    for (let i = 0; i < cols.length; i++) {
      const el = renderer.columnEls[cols[i].id];
      if (!el) continue;
      const r = el.root.getBoundingClientRect();
      if (clientX < r.left + r.width / 2) return i;
    }
    return cols.length;
  }

  root.addEventListener("dragstart", (e) => {
    const head = e.target.closest && e.target.classList && e.target.classList.contains("column-head") ? e.target : null;
    if (!head) return;
    dragging = head.closest(".column").dataset.listId;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", "column:" + dragging);
    head.closest(".column").classList.add("dragging");
  });
  // Where it would land: a bar before that column (or before the add form, at the end).
  let marked = null;
  function mark(el) {
    if (marked === el) return;
    if (marked) marked.classList.remove("column-drop-before");
    marked = el;
    if (el) el.classList.add("column-drop-before");
  }
  container.addEventListener("dragover", (e) => {
    if (!dragging) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    const rest = model.lists.filter((l) => l.id !== dragging);
    const at = rest[dropIndex(e.clientX)];
    mark(at && renderer.columnEls[at.id] ? renderer.columnEls[at.id].root : form);
  });
  container.addEventListener("drop", (e) => {
    if (!dragging) return;
    e.preventDefault();
    mark(null);
    const id = dragging;
    const to = dropIndex(e.clientX);
    if (to !== model.lists.findIndex((l) => l.id === id)) actions.moveList(id, to);
  });
  root.addEventListener("dragend", () => {
    if (!dragging) return;
    mark(null);
    const col = renderer.columnEls[dragging];
    if (col) col.root.classList.remove("dragging");
    dragging = null;
  });
}
