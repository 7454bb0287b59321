/*
 * The activity panel (SPEC §12): GET /api/boards/<id>/activity pages back
 * through the board's log, newest first ("Load more" asks for the page
 * before the oldest shown); every event the model applies after that —
 * live, replayed after a reconnect, or our own acked change — adds its
 * sentence (activitytext.js) at the top. Entries are kept by seq, so one the
 * log and the live stream both bring is shown once.
 */

import { sentence } from "./activitytext.js";
import { api, boardUrl } from "./http.js";

export const PAGE = 20;
const LIVE_MARK_MS = 3000;

function timeText(at) {
  const d = at ? new Date(at) : new Date();
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString();
}

/** panel: the #panel-activity element. */
export function installActivity({ panel, model, slug, me }) {
  const list = panel.querySelector(".activity-list");
  const more = panel.querySelector(".activity-more");
  const empty = panel.querySelector(".activity-empty");
  const shown = new Map(); // seq -> li
  let oldest = null;       // smallest seq of the log pages loaded
  let loading = false;

  function add(entry, live) {
    if (shown.has(entry.seq)) return;
    const li = document.createElement("li");
    li.className = "activity-entry" + (live ? " live" : "");
    li.dataset.seq = String(entry.seq);
    const text = document.createElement("span");
    text.className = "activity-text";
    text.textContent = entry.text;
    const time = document.createElement("time");
    time.dateTime = entry.at || new Date().toISOString();
    time.textContent = timeText(entry.at);
    li.append(text, time);
    // Newest first: before the first entry with a smaller seq.
    let before = null;
    for (const el of list.children) if (Number(el.dataset.seq) < entry.seq) { before = el; break; }
    list.insertBefore(li, before);
    shown.set(entry.seq, li);
    empty.hidden = true;
    if (live) setTimeout(() => li.classList.remove("live"), LIVE_MARK_MS);
  }

  // newest: the latest page again (after a snapshot reload skipped events), else the page before `oldest`.
  function loadPage(newest) {
    if (loading) return;
    loading = true;
    more.disabled = true;
    list.setAttribute("aria-busy", "true"); // one announcement for the page, not one per entry
    const q = "activity?limit=" + PAGE + (oldest !== null && newest !== true ? "&before=" + oldest : "");
    api("GET", boardUrl(slug, q)).then((res) => {
      loading = false;
      more.disabled = false;
      list.removeAttribute("aria-busy");
      if (!res.ok || !res.body || !Array.isArray(res.body.activity)) {
        more.hidden = false;
        more.textContent = "Retry loading activity";
        return;
      }
      more.textContent = "Load more";
      for (const entry of res.body.activity) {
        add(entry, false);
        if (oldest === null || entry.seq < oldest) oldest = entry.seq;
      }
      if (newest !== true) more.hidden = !res.body.more;
      empty.hidden = shown.size > 0;
    });
  }

  more.addEventListener("click", () => loadPage(false));
  loadPage();

  const ctx = {
    me,
    listName: (id) => { const l = model.lists.find((x) => x.id === id); return l ? l.name : undefined; },
  };
  return {
    /** The board was reloaded from a snapshot: its events were not applied one by one. */
    catchUp() { loadPage(true); },
    /** BoardModel's onApply: one applied event and its subject before it. */
    applied(frame, prior) {
      add({ seq: frame.seq, text: sentence(frame, prior, ctx), at: null }, true);
    },
  };
}
