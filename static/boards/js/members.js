/*
 * The members panel (SPEC §12): everyone who may view the board sees who
 * its members are and their roles; owners add a member by username, change
 * a role, remove a member — over REST (…/members/), so the change reaches
 * every page, this one included, as a member_* event, and the list is drawn
 * from the model only.
 */

import { api, boardUrl, errorText } from "./http.js";
import { makeButton } from "./render.js";
import { avatar } from "./tasks.js";

const ROLES = ["viewer", "editor", "owner"];

/** panel: the #panel-members element; isOwner: this user may manage members. */
export function installMembers({ panel, model, slug, isOwner, me, toast }) {
  const list = panel.querySelector(".member-list");
  const count = document.querySelector("#tab-members .member-count");
  const form = panel.querySelector(".add-member");
  const formError = form ? form.querySelector(".form-error") : null;
  const url = (name) => boardUrl(slug, "members/" + (name ? encodeURIComponent(name) + "/" : ""));

  function render() {
    while (list.firstChild) list.removeChild(list.firstChild);
    for (const m of model.members) {
      const li = document.createElement("li");
      li.className = "member";
      li.dataset.username = m.user.name;
      const name = document.createElement("span");
      name.className = "member-name";
      name.textContent = m.user.name + (m.user.name === me ? " (you)" : "");
      li.append(avatar(m.user.name), name);
      if (isOwner) {
        const select = document.createElement("select");
        select.className = "member-role";
        select.setAttribute("aria-label", "Role of " + m.user.name);
        for (const r of ROLES) select.add(new Option(r, r, false, r === m.role));
        const remove = makeButton("button", "button member-remove", "Remove");
        remove.setAttribute("aria-label", "Remove " + m.user.name);
        li.append(select, remove);
      } else {
        const role = document.createElement("span");
        role.className = "tag member-role-tag";
        role.textContent = m.role;
        li.appendChild(role);
      }
      list.appendChild(li);
    }
    if (count) count.textContent = "(" + model.members.length + ")";
  }

  function refused(res) {
    toast(errorText(res));
    render(); // put a select back to the role the server kept
  }

  if (isOwner) {
    list.addEventListener("change", (e) => {
      if (!e.target.classList.contains("member-role")) return;
      const name = e.target.closest(".member").dataset.username;
      api("PATCH", url(name), { role: e.target.value }).then((res) => { if (!res.ok) refused(res); });
    });
    list.addEventListener("click", (e) => {
      const btn = e.target.closest(".member-remove");
      if (!btn) return;
      const name = btn.closest(".member").dataset.username;
      const what = name === me ? "Leave this board?" : "Remove " + name + " from this board?";
      if (!window.confirm(what)) return;
      api("DELETE", url(name)).then((res) => { if (!res.ok) refused(res); });
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const username = form.elements.username.value.trim();
      if (!username) return;
      formError.textContent = "";
      api("POST", url(), { username, role: form.elements.role.value }).then((res) => {
        if (res.ok) form.elements.username.value = "";
        else formError.textContent = errorText(res);
      });
    });
  }

  return { render };
}
