/*
 * The side panel's tabs (Activity, Members, Settings): the WAI-ARIA tabs
 * pattern — click or Enter/Space picks a tab, ← → Home End move between
 * tabs, only the chosen tab is in the Tab order and only its panel is shown.
 */

export function installTabs(tablist) {
  if (!tablist) return;
  const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));

  function select(tab, focus) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
  }

  tablist.addEventListener("click", (e) => {
    const tab = e.target.closest("[role=tab]");
    if (tab) select(tab, false);
  });
  tablist.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(document.activeElement);
    if (i === -1) return;
    const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    select(tabs[(to + tabs.length) % tabs.length], true);
  });
}
