/*
 * Filling gaps in a board's seq (SPEC §5). A gap that lasts GAP_WAIT_MS is
 * fetched from GET /api/boards/<id>/events?since=N&limit=L, page by page
 * while the server says `more`; events no longer kept (409) or a gap that
 * will not close mean a fresh snapshot from GET /api/boards/<id>/.
 */

export const GAP_WAIT_MS = 1000;
export const RETRY_MS = 3000;
export const PAGE_LIMIT = 500;

export function getJSON(url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
    .then((r) => r.json().catch(() => null).then((body) => ({ status: r.status, ok: r.ok, body })));
}

export class Recovery {
  /**
   * hooks: changed() after frames were applied; loaded(snapshot) to install
   * a snapshot; lost(status) when the board can no longer be seen.
   */
  constructor({ model, boardId, hooks, fetchJSON = getJSON }) {
    this.model = model;
    this.boardId = boardId;
    this.hooks = hooks;
    this.fetchJSON = fetchJSON;
    this.api = "/api/boards/" + encodeURIComponent(boardId) + "/";
    this.gapTimer = null;
    this.fetching = false;
    this.fruitless = 0;
    this.snapshotLoading = null;
  }

  /** After any change to the model: arm the gap timer, or disarm it. */
  sync() {
    if (this.model.needsSnapshot) this.reloadSnapshot();
    if (this.model.hasGap) this.schedule(GAP_WAIT_MS);
    else if (this.gapTimer) { clearTimeout(this.gapTimer); this.gapTimer = null; }
  }

  schedule(delay) {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.model.hasGap) this.fillGap();
    }, delay);
  }

  fillGap() {
    if (this.fetching || this.snapshotLoading) { this.schedule(GAP_WAIT_MS); return; }
    this.fetching = true;
    const model = this.model;
    const before = model.lastSeq;
    let morePages = false;
    this.fetchJSON(this.api + "events?since=" + model.lastSeq + "&limit=" + PAGE_LIMIT)
      .then((res) => {
        if (res.status === 409) { this.fruitless = 0; return this.reloadSnapshot(); }
        if (!res.ok || !res.body || !Array.isArray(res.body.events)) throw new Error("HTTP " + res.status);
        for (const frame of res.body.events) {
          if (frame && frame.boardId === this.boardId) model.processFrame(frame);
        }
        model.trustServerSeq(res.body.seq);
        this.hooks.changed();
        this.fruitless = model.lastSeq > before ? 0 : this.fruitless + 1;
        if (this.fruitless >= 3) { this.fruitless = 0; return this.reloadSnapshot(); }
        // A page cut at `limit` (`more`, ending at `last`): fetch the next one now.
        morePages = res.body.more === true && model.lastSeq > before;
      })
      .catch(() => { this.schedule(RETRY_MS); })
      .then(() => {
        this.fetching = false;
        if (morePages && model.lastSeq < model.knownSeq) this.fillGap();
        else this.sync();
      });
  }

  reloadSnapshot() {
    if (this.snapshotLoading) return this.snapshotLoading;
    this.snapshotLoading = this.fetchJSON(this.api)
      .then((res) => {
        if (res.ok && res.body && Array.isArray(res.body.tasks)) {
          this.hooks.loaded(res.body);
        } else if (res.status === 401 || res.status === 403 || res.status === 404) {
          this.hooks.lost(res.status);
        } else {
          throw new Error("HTTP " + res.status);
        }
      })
      .catch(() => { setTimeout(() => this.reloadSnapshot(), RETRY_MS); })
      .then(() => { this.snapshotLoading = null; });
    return this.snapshotLoading;
  }
}
