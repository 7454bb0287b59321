"""Small helpers for talking to the consumer in tests."""


async def send(comm, **frame):
    await comm.send_json_to(frame)
    return await comm.receive_json_from(timeout=3)


async def join(comm, board="board-1", **extra):
    reply = await send(comm, type="join", boardId=board, **extra)
    assert reply["type"] == "joined", reply
    return reply


async def nothing(comm, timeout=0.2):
    assert await comm.receive_nothing(timeout=timeout), "unexpected frame"


async def request(comm, ref="req", **frame):
    """Send a request and return its reply, skipping broadcasts that arrive first."""
    await comm.send_json_to({**frame, "ref": ref})
    while True:
        reply = await comm.receive_json_from(timeout=3)
        if reply.get("ref") == ref:
            return reply
