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
