/*
 * The model's handlers for the board events that are not about one task
 * (SPEC §12): columns (list_*), the board itself (board_updated) and its
 * members (member_*). Pure like model.js, which merges them into
 * BoardModel.handlers; each is (model, frame) → false when the model cannot
 * follow (then it reloads a snapshot).
 *
 * Columns keep positions 0..n-1 on the board, as the server does: a list
 * event carries only the list it is about, so the others are renumbered
 * here ("take it out, insert it at `position`").
 */

const ROLE_RANK = { owner: 0, editor: 1, viewer: 2 };

function renumber(lists) {
  lists.forEach((l, i) => { if (l.position !== i) lists[i] = Object.assign({}, l, { position: i }); });
}

function indexOfList(model, id) {
  for (let i = 0; i < model.lists.length; i++) if (model.lists[i].id === id) return i;
  return -1;
}

function placeList(model, list) {
  const i = indexOfList(model, list.id);
  if (i !== -1) model.lists.splice(i, 1);
  let at = typeof list.position === "number" && isFinite(list.position) ? Math.floor(list.position) : model.lists.length;
  at = Math.max(0, Math.min(model.lists.length, at));
  model.lists.splice(at, 0, Object.assign({}, list));
  renumber(model.lists);
  if (!model.order[list.id]) model.order[list.id] = [];
  model.revision.lists += 1;
}

function applyList(model, frame) {
  const list = frame.list;
  if (!list || typeof list.id !== "string") return false;
  if (frame.type !== "list_created" && indexOfList(model, list.id) === -1) return false;
  placeList(model, list);
  return true;
}

function applyListDeleted(model, frame) {
  const i = indexOfList(model, frame.listId);
  if (i === -1) return true; // already gone
  model.lists.splice(i, 1);
  renumber(model.lists);
  // The server refuses to delete a column with tasks; drop any we still drew there.
  for (const k of model.order[frame.listId] || []) delete model.tasks[k];
  delete model.order[frame.listId];
  model.revision.lists += 1;
  return true;
}

function applyBoard(model, frame) {
  const b = frame.board;
  if (!b) return true;
  model.board = Object.assign({}, model.board, b);
  model.revision.board += 1;
  return true;
}

/** Members as the snapshot lists them: owners first, then editors, viewers; by name. */
export function sortMembers(members) {
  return members.slice().sort((a, b) =>
    (ROLE_RANK[a.role] ?? 3) - (ROLE_RANK[b.role] ?? 3) || String(a.user.name).localeCompare(String(b.user.name)));
}

function applyMember(model, frame) {
  const m = frame.member;
  if (!m || !m.user) return true;
  const rest = model.members.filter((x) => x.user.id !== m.user.id);
  rest.push({ user: m.user, role: m.role });
  model.members = sortMembers(rest);
  model.revision.members += 1;
  return true;
}

function applyMemberRemoved(model, frame) {
  const u = frame.user;
  if (!u) return true;
  model.members = model.members.filter((x) => x.user.id !== u.id);
  model.revision.members += 1;
  return true;
}

export const BOARD_HANDLERS = {
  list_created: applyList,
  list_updated: applyList,
  list_moved: applyList,
  list_deleted: applyListDeleted,
  board_updated: applyBoard,
  member_added: applyMember,
  member_updated: applyMember,
  member_removed: applyMemberRemoved,
};

/**
 * What a frame's subject was before it was applied (for sentences such as
 * "renamed the column A to B" or "deleted “X”"): the task or list, or null.
 */
export function priorOf(model, frame) {
  if (frame.type === "board_updated") return Object.assign({}, model.board);
  if (frame.task || frame.taskId !== undefined) {
    const id = frame.task ? frame.task.id : frame.taskId;
    return model.tasks[String(id)] || null;
  }
  const listId = frame.list ? frame.list.id : frame.listId;
  if (listId !== undefined) {
    const i = indexOfList(model, listId);
    return i === -1 ? null : model.lists[i];
  }
  return null;
}
