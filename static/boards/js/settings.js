/*
 * The board itself on its page (SPEC §12): its name and visibility drawn
 * from the model (so board_updated shows on every open page), the owner's
 * settings form (PATCH /api/boards/<id>/) and delete button (DELETE, after
 * a confirm). When the board is deleted, or this user may no longer see it
 * (evicted from a private board), the page goes back to the board list,
 * which says why (?gone=<id>&why=deleted|removed, boards/views.py).
 */

import { api, boardUrl, errorText } from "./http.js";

let leaving = false;

/** Go back to the board list, once (a removal brings member_removed and the eviction). */
export function leaveBoard(slug, why) {
  if (leaving) return;
  leaving = true;
  window.location.assign("/?gone=" + encodeURIComponent(slug) + "&why=" + why);
}

/** panel: the #panel-settings element, or null for non-owners. */
export function installSettings({ panel, model, slug, toast }) {
  const nameEl = document.getElementById("board-name");
  const tagEl = document.getElementById("board-visibility");
  const form = panel ? panel.querySelector(".board-settings") : null;

  function render() {
    const b = model.board;
    if (!b.name) return;
    if (nameEl.textContent !== b.name) nameEl.textContent = b.name;
    document.title = b.name + " · Liveboard";
    tagEl.textContent = b.visibility;
    tagEl.className = "tag tag-" + b.visibility;
    if (form && !form.contains(document.activeElement)) {
      form.elements.name.value = b.name;
      form.elements.visibility.value = b.visibility;
    }
  }

  if (form) {
    const formError = form.querySelector(".form-error");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = {};
      const name = form.elements.name.value.trim();
      if (name !== model.board.name) body.name = name;
      if (form.elements.visibility.value !== model.board.visibility) body.visibility = form.elements.visibility.value;
      formError.textContent = "";
      if (!Object.keys(body).length) { formError.textContent = "Nothing to change."; return; }
      if (body.visibility === "private" && !window.confirm("Make the board private? People who are not members stop seeing it at once.")) return;
      api("PATCH", boardUrl(slug), body).then((res) => {
        if (res.ok) toast("Board saved.");
        else formError.textContent = errorText(res);
      });
    });
    panel.querySelector(".board-delete").addEventListener("click", () => {
      const what = model.board.name || slug;
      if (!window.confirm("Delete the board \u201c" + what + "\u201d with all its columns and tasks? This cannot be undone.")) return;
      api("DELETE", boardUrl(slug)).then((res) => {
        if (res.ok) leaveBoard(slug, "deleted");
        else toast(errorText(res));
      });
    });
  }

  return { render };
}
