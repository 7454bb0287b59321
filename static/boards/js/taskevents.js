/*
 * The model's handlers for task events (SPEC §4), pure like model.js, which
 * merges them into BoardModel.handlers: a task is placed at its `position`
 * in its list ("take it out, insert it"), or dropped.
 */

export function key(id) { return String(id); }

export function clamp(n, lo, hi) {
  n = typeof n === "number" && isFinite(n) ? Math.floor(n) : hi;
  return Math.max(lo, Math.min(hi, n));
}

export function removeKey(target, k) {
  for (const listId in target) {
    const i = target[listId].indexOf(k);
    if (i !== -1) { target[listId].splice(i, 1); return; }
  }
}

function placeTask(target, task) {
  const k = key(task.id);
  removeKey(target, k);
  const arr = target[task.listId];
  if (!arr) return false;
  arr.splice(clamp(task.position, 0, arr.length), 0, k);
  return true;
}

// --- event handlers: (model, frame) → false when the model cannot follow ---

function applyTask(model, frame) {
  const t = frame.task;
  if (!t) return true;
  const k = key(t.id);
  model.tasks[k] = t;
  if (!placeTask(model.order, t)) { delete model.tasks[k]; return false; }
  return true;
}

function applyTaskDeleted(model, frame) {
  const k = key(frame.taskId);
  removeKey(model.order, k);
  delete model.tasks[k];
  return true;
}

export const TASK_HANDLERS = {
  task_created: applyTask,
  task_moved: applyTask,
  task_updated: applyTask,
  task_deleted: applyTaskDeleted,
};
