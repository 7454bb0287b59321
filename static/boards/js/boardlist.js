/*
 * The board list's "New board" form (SPEC §12): POST /api/boards/ {name,
 * visibility}; the new board joins the list and the page goes to it.
 */

import { api, errorText } from "./http.js";

function addToList(board) {
  const ul = document.querySelector(".board-list");
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = "/boards/" + encodeURIComponent(board.id) + "/";
  a.textContent = board.name;
  const slug = document.createElement("span");
  slug.className = "board-slug";
  slug.textContent = board.id;
  const tag = document.createElement("span");
  tag.className = "tag tag-" + board.visibility;
  tag.textContent = board.visibility;
  li.append(a, slug, tag);
  ul.appendChild(li);
  ul.hidden = false;
  const empty = document.querySelector(".panel > .empty");
  if (empty) empty.remove();
  return a.href;
}

const form = document.getElementById("new-board");
if (form) {
  const error = form.querySelector(".form-error");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) return;
    error.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "/api/boards/", { name, visibility: form.elements.visibility.value }).then((res) => {
      button.disabled = false;
      if (!res.ok || !res.body) { error.textContent = errorText(res); return; }
      form.reset();
      window.location.assign(addToList(res.body));
    });
  });
}
