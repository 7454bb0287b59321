"""
The column side of BoardConsumer: create_list, update_list, move_list,
delete_list (SPEC §12).

Like task changes: boards.services in the database thread, attributed to
this socket so the `list_*` broadcast after commit skips us; we get an
`ack` carrying the list (or its id) and the event's seq.
"""

from boards import services, validation
from boards.realtime.taskops import run_service


class ListHandlers:
    async def on_create_list(self, message, ref):
        data = self._validate(validation.CreateList, message)
        result = await run_service(self.channel_name, services.create_list, self.user, data)
        await self._ack(ref, result, list=result["list"])

    async def on_update_list(self, message, ref):
        data = self._validate(validation.UpdateListMessage, message)
        result = await run_service(self.channel_name, services.change_list, self.user, data["listId"], data)
        await self._ack(ref, result, list=result["list"])

    async def on_move_list(self, message, ref):
        data = self._validate(validation.MoveListMessage, message)
        result = await run_service(self.channel_name, services.change_list, self.user, data["listId"], data)
        await self._ack(ref, result, list=result["list"])

    async def on_delete_list(self, message, ref):
        data = self._validate(validation.DeleteListMessage, message)
        result = await run_service(self.channel_name, services.delete_list, self.user, data["listId"])
        await self._ack(ref, result, listId=result["listId"])

    HANDLERS = {
        "create_list": on_create_list,
        "update_list": on_update_list,
        "move_list": on_move_list,
        "delete_list": on_delete_list,
    }
