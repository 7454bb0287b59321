/*
 * One human sentence for a board event as the page applies it live, the
 * same sentences GET /api/boards/<id>/activity gives for the log
 * (boards/activity.py): "bob moved “Write the README” to Done". Pure, so
 * Node tests it (tests/js/activity.test.mjs).
 *
 * `prior` is the event's subject before it was applied (BoardModel's
 * onApply gives it): the old task for a move within a column or an edit,
 * the old column name for a rename, a deleted task's title.
 */

const ROLE_ARTICLE = { owner: "an owner", editor: "an editor", viewer: "a viewer" };

export function quoted(text) {
  text = String(text || "");
  if (text.length > 60) text = text.slice(0, 59) + "…";
  return "\u201c" + text + "\u201d";
}

/** ctx: {listName(id) → string|undefined, me: our username (our own acks carry no actor)}. */
export function sentence(frame, prior, ctx) {
  const who = (frame.actor && frame.actor.name) || (frame._refs && ctx.me) || "Someone";
  const task = frame.task || {};
  const column = ctx.listName(task.listId) || "a deleted column";
  const title = quoted(task.title);
  const list = frame.list || {};
  switch (frame.type) {
    case "task_created": return who + " added " + title + " to " + column;
    case "task_moved":
      if (prior && prior.listId === task.listId) return who + " reordered " + title + " in " + column;
      return who + " moved " + title + " to " + column;
    case "task_updated": return taskEdit(who, title, task, prior);
    case "task_deleted": return who + " deleted " + quoted(prior ? prior.title : "a task");
    case "list_created": return who + " added the column " + quoted(list.name);
    case "list_updated": return who + " renamed the column " + quoted(prior ? prior.name : "") + " to " + quoted(list.name);
    case "list_moved": return who + " moved the column " + quoted(list.name);
    case "list_deleted": return who + " deleted the column " + quoted(prior ? prior.name : "");
    case "board_updated": {
      const board = frame.board || {};
      if (prior && board.name !== undefined && board.name !== prior.name) return who + " renamed the board to " + quoted(board.name);
      return who + " made the board " + board.visibility;
    }
    case "member_added":
    case "member_updated": {
      const m = frame.member || {};
      const name = (m.user && m.user.name) || "someone";
      const role = ROLE_ARTICLE[m.role] || m.role;
      return who + (frame.type === "member_added" ? " added " + name + " as " : " made " + name + " ") + role;
    }
    case "member_removed": {
      const name = (frame.user && frame.user.name) || "someone";
      return name === who ? who + " left the board" : who + " removed " + name;
    }
    default: return who + " changed the board";
  }
}

function taskEdit(who, title, task, prior) {
  const was = prior || {};
  const assignee = task.assignee ? task.assignee.name : null;
  const wasAssignee = was.assignee ? was.assignee.name : null;
  if (prior && assignee !== wasAssignee) {
    if (assignee === null) return who + " unassigned " + title;
    if (assignee === who) return who + " took " + title;
    return who + " assigned " + title + " to " + assignee;
  }
  if (prior && task.title !== was.title) return who + " renamed a task to " + title;
  if (prior && task.description !== was.description) return who + " edited the description of " + title;
  return who + " edited " + title;
}
