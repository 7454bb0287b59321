"""
The python-socketio peer: a relay with the same room semantics as a board.

    python bench/sio_server.py --port 9001 [--redis redis://127.0.0.1:6379/0]

A client `join`s a room (acknowledged); a `change` {type, boardId, seq, task}
is re-emitted to the room under its `type`, skipping the sender (like
Liveboard's sender exclusion), and acknowledged with its seq. With --redis,
python-socketio's AsyncRedisManager shares rooms across processes (one
PUBLISH per emit, each process fans out to its own members) — the peer of
Liveboard's scaled mode. Served by aiohttp, python-socketio's first-listed
async server.
"""

import argparse

import socketio
from aiohttp import web


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default="")
    parser.add_argument("--channel", default="socketio-bench")
    args = parser.parse_args()

    try:
        import uvloop  # the peer gets the faster loop too, if installed

        uvloop.install()
    except ImportError:
        pass

    manager = socketio.AsyncRedisManager(args.redis, channel=args.channel) if args.redis else None
    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=manager, cors_allowed_origins="*", max_http_buffer_size=1 << 20
    )

    @sio.on("join")
    async def join(sid, room):
        await sio.enter_room(sid, room)
        return "ok"

    @sio.on("change")
    async def change(sid, data):
        await sio.emit(data["type"], data, room=data["boardId"], skip_sid=sid)
        return data["seq"]

    app = web.Application()
    sio.attach(app)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
