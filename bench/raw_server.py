"""
The ceiling: the peer's wire served by plain `websockets`, nothing else.

    python bench/raw_server.py --port 9001 [--redis redis://127.0.0.1:6379/0]

The same subset of the socket.io wire that bench/sio_server.py answers for
the load generator (engine.io open packet, `40` connect, `join` and `change`
events with acks), parsed by hand, and a change fanned out with one
`websockets.broadcast()` — no engine.io/socket.io machinery, no database, no
framework. No one would ship it; it shows what Python on this machine
delivers to the same load generator, in the same run (BENCHMARKS.md). With
--redis, each change is also PUBLISHed once and every other process
broadcasts it to its own members, like AsyncRedisManager.
"""

import argparse
import asyncio
import itertools
import json
import uuid

from websockets.asyncio.server import broadcast, serve

OPEN = '0{"sid":"%d","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


async def serve_forever(args):
    rooms = {}  # room -> set of connections
    ids = itertools.count(1)
    origin = uuid.uuid4().hex
    redis = None
    if args.redis:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(args.redis)
        pubsub = redis.pubsub()
        await pubsub.subscribe(args.channel)

        async def relay():
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                source, room, text = message["data"].decode().split("\n", 2)
                if source != origin and rooms.get(room):
                    broadcast(rooms[room], text)

        relay_task = asyncio.create_task(relay())  # noqa: F841 - runs for the process's life

    async def handler(ws):
        sid = next(ids)
        joined = []
        await ws.send(OPEN % sid)
        try:
            async for text in ws:
                if text.startswith("40"):
                    await ws.send('40{"sid":"%d"}' % sid)
                    continue
                if not text.startswith("42"):
                    continue  # "3": pong
                start = text.index("[")
                ack = text[2:start]
                name, data = json.loads(text[start:])
                if name == "join":
                    rooms.setdefault(data, set()).add(ws)
                    joined.append(data)
                    reply = '["ok"]'
                else:  # change
                    room = data["boardId"]
                    frame = "42" + json.dumps([data["type"], data], separators=(",", ":"))
                    broadcast([member for member in rooms.get(room, ()) if member is not ws], frame)
                    if redis is not None:
                        await redis.publish(args.channel, f"{origin}\n{room}\n{frame}")
                    reply = "[%d]" % data["seq"]
                if ack:
                    await ws.send(f"43{ack}{reply}")
        finally:
            for room in joined:
                rooms[room].discard(ws)

    async with serve(handler, args.host, args.port, compression=None, ping_interval=None, backlog=4096):
        await asyncio.get_running_loop().create_future()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default="")
    parser.add_argument("--channel", default="raw-bench")
    args = parser.parse_args()
    try:
        import uvloop  # as the python-socketio peer
    except ImportError:
        uvloop = None
    (uvloop.run if uvloop else asyncio.run)(serve_forever(args))


if __name__ == "__main__":
    main()
