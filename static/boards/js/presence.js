/*
 * Who is on the board (SPEC §4), pure like model.js: `joined` lists
 * distinct users; user_joined/user_left and coalesced `presence` frames
 * count their tabs.
 */

/** People by user id with their tab count; anonymous viewers are not listed. */
export class Presence {
  constructor() { this.people = new Map(); } // user id -> {name, n}

  reset(users) {
    this.people.clear();
    for (const u of users || []) this.joined(u);
  }

  joined(user) {
    if (!user || user.id === null || user.id === undefined) return;
    const p = this.people.get(user.id);
    if (p) p.n += 1;
    else this.people.set(user.id, { name: user.name, n: 1 });
  }

  /** True when a name dropped off the list. */
  left(user) {
    if (!user || user.id === null || user.id === undefined) return false;
    const p = this.people.get(user.id);
    if (!p) return false;
    p.n -= 1;
    if (p.n > 0) return false;
    this.people.delete(user.id);
    return true;
  }

  names() {
    const names = [];
    for (const p of this.people.values()) if (names.indexOf(p.name) === -1) names.push(p.name);
    return names.sort((a, b) => a.localeCompare(b));
  }
}
