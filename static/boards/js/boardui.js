/*
 * The board page beyond tasks (SPEC §12), wired in one call from main.js:
 * columns (lists.js), assignees and keyboard moves on cards (tasks.js), the
 * side panel's tabs (panels.js), members (members.js), activity
 * (activity.js), the board's name, settings and deletion (settings.js).
 *
 * What each role gets follows SPEC §7: editors and owners change columns
 * and tasks, owners the board and its members; everyone who may view sees
 * the rest read-only. The template draws the role's controls; when this
 * user's own role changes (a member_* event about them) the page reloads to
 * redraw them, or leaves a private board it may no longer see.
 */

import { installActivity } from "./activity.js";
import { installLists } from "./lists.js";
import { installMembers } from "./members.js";
import { installTabs } from "./panels.js";
import { installSettings, leaveBoard } from "./settings.js";
import { installTasks } from "./tasks.js";

/**
 * sendChange(op, frame) → bool sends one of our changes (main.js);
 * actions gets the column changes added.
 */
export function installBoardUI({ root, model, renderer, sendChange, actions, slug, canEdit }) {
  const role = root.dataset.role || "";
  const me = root.dataset.username || "";
  const myId = root.dataset.userId ? Number(root.dataset.userId) : null;

  Object.assign(actions, {
    createList(name) {
      return sendChange({ kind: "createList" }, { type: "create_list", boardId: slug, name });
    },
    renameList(id, name) {
      return sendChange({ kind: "updateList", id }, { type: "update_list", listId: id, name });
    },
    moveList(id, position) {
      return sendChange({ kind: "moveList", id }, { type: "move_list", listId: id, position });
    },
    deleteList(id) {
      return sendChange({ kind: "deleteList", id }, { type: "delete_list", listId: id });
    },
  });

  installTasks({ root, model, renderer, actions, canEdit });
  if (canEdit) installLists({ root, model, renderer, actions });
  installTabs(root.querySelector(".panel-tabs"));
  const members = installMembers({
    panel: document.getElementById("panel-members"), model, slug, isOwner: role === "owner", me, toast: actions.toast,
  });
  const settings = installSettings({ panel: document.getElementById("panel-settings"), model, slug, toast: actions.toast });
  const activity = installActivity({ panel: document.getElementById("panel-activity"), model, slug, me });
  model.onApply = (frame, prior) => activity.applied(frame, prior);

  const seen = { members: -1, board: -1, snapshots: model.counts.snapshots };

  function myRoleChanged() {
    if (myId === null) return false;
    const mine = model.members.find((m) => m.user.id === myId);
    const now = mine ? mine.role : "";
    if (now === role) return false;
    if (!now && model.board.visibility === "private") leaveBoard(slug, "removed");
    else window.location.reload();
    return true;
  }

  return {
    /** After anything changed the model. */
    refresh() {
      if (model.counts.snapshots !== seen.snapshots) {
        if (seen.snapshots > 0) activity.catchUp(); // a resync, not the page's first snapshot
        seen.snapshots = model.counts.snapshots;
      }
      if (model.revision.board !== seen.board) {
        seen.board = model.revision.board;
        settings.render();
      }
      if (model.revision.members !== seen.members) {
        seen.members = model.revision.members;
        if (!myRoleChanged()) members.render();
      }
    },
    boardDeleted() { leaveBoard(slug, "deleted"); },
    /** An error frame main.js should not handle itself: evicted from this board. */
    handleError(msg) {
      if (msg.code !== "forbidden" || msg.boardId !== slug || msg.ref) return false;
      leaveBoard(slug, "removed");
      return true;
    },
  };
}
