"""
Django's HTTP side under ASGI, in one thread hop per request.

Every Django view here is synchronous (pages, REST API, admin); the
streaming endpoints are Channels consumers (boards/realtime/sse.py, longpoll.py). Django's
ASGIHandler still runs the middleware in async mode, where each synchronous
middleware method (process_request, process_view and process_response of
sessions, CSRF, auth, messages, ...) and then the view is its own
sync_to_async hop: 16 for a REST PATCH, and each hop waits for the event
loop's next turn. Under fan-out a turn is busy delivering a board event to
hundreds of sockets, so a REST change queued behind the loop again and
again before its transaction began: the slowest changes of the bench's
p99 were REST moves (bench/run.py splits each change's latency).

This handler loads the middleware in sync mode and runs the chain and the
view in one hop, as a WSGI server runs a request in its thread. Reading the
body, the request_started/request_finished signals, disconnect handling and
sending the response are Django's ASGIHandler's own.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import FileResponse


class OneHopASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def run_get_response(self, request):
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):  # as ASGIHandler: the server chunks
            response.block_size = self.chunk_size
        return response
