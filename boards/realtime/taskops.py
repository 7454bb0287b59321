"""
The task side of BoardConsumer: create, move, update, delete (SPEC §4).

Each runs boards.services in the database thread with the change attributed
to this socket (eventlog.acting_channel), so the broadcast after commit
skips us; we get an `ack` with the event's seq instead.
"""

from channels.db import database_sync_to_async

from boards import eventlog, services, validation, wire


def _run_as(channel_name, fn, *args):
    """Run a service function with the change attributed to this socket."""
    with eventlog.acting_channel(channel_name):
        return fn(*args)


@database_sync_to_async
def run_service(channel_name, fn, *args):
    return _run_as(channel_name, fn, *args)


class TaskHandlers:
    async def on_create_task(self, message, ref):
        data = self._validate(validation.CreateTaskMessage, message)
        result = await run_service(self.channel_name, services.create_task, self.user, data)
        await self._ack(ref, result, task=result["task"])

    async def on_move_task(self, message, ref):
        data = self._validate(validation.MoveTaskMessage, message)
        result = await run_service(self.channel_name, services.change_task, self.user, data["taskId"], data)
        await self._ack(ref, result, task=result["task"])

    async def on_update_task(self, message, ref):
        data = self._validate(validation.UpdateTaskMessage, message)
        result = await run_service(self.channel_name, services.change_task, self.user, data["taskId"], data)
        await self._ack(ref, result, task=result["task"])

    async def on_delete_task(self, message, ref):
        data = self._validate(validation.DeleteTaskMessage, message)
        result = await run_service(
            self.channel_name, services.delete_task, self.user, data["taskId"], data.get("version")
        )
        await self._ack(ref, result, taskId=result["taskId"])

    HANDLERS = {
        "create_task": on_create_task,
        "move_task": on_move_task,
        "update_task": on_update_task,
        "delete_task": on_delete_task,
    }

    async def _ack(self, ref, result, **body):
        await self._send(wire.ack(ref, result["boardId"], result["seq"], **body))
