"""
Channel-layer fan-out: RedisChannelLayer vs RedisPubSubChannelLayer.

One group of N member channels in this process (as one daphne process with N
sockets on a board); each round is one group_send followed by every member
receiving it. Prints deliveries/s per layer (median of --runs) and the ratio.

    .venv/bin/python bench/layer_fanout.py --members 1000 --rounds 30 --runs 5
"""

import argparse
import asyncio
import statistics
import time

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

LAYERS = {
    "RedisChannelLayer": lambda url: RedisChannelLayer(hosts=[url], prefix="bench-core", capacity=10_000),
    "RedisPubSubChannelLayer": lambda url: RedisPubSubChannelLayer(hosts=[url], prefix="bench-pubsub"),
}


async def one_run(make_layer, url, members, rounds):
    layer = make_layer(url)
    channels = [await layer.new_channel() for _ in range(members)]
    for name in channels:
        await layer.group_add("board.bench", name)
    text = '{"type":"task_moved","boardId":"bench","seq":1,"task":{"id":1,"title":"x"}}'
    # warm-up round
    await layer.group_send("board.bench", {"type": "board.event", "text": text})
    await asyncio.gather(*(layer.receive(c) for c in channels))
    start = time.perf_counter()
    for seq in range(rounds):
        await layer.group_send("board.bench", {"type": "board.event", "seq": seq, "text": text})
        await asyncio.gather(*(layer.receive(c) for c in channels))
    elapsed = time.perf_counter() - start
    discard_start = time.perf_counter()
    await asyncio.gather(*(layer.group_discard("board.bench", c) for c in channels))
    discard = time.perf_counter() - discard_start
    await layer.flush()
    return members * rounds / elapsed, discard


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for name, make in LAYERS.items():
        rates, discards = [], []
        for _ in range(args.runs):
            rate, discard = asyncio.run(one_run(make, args.url, args.members, args.rounds))
            rates.append(rate)
            discards.append(discard)
        results[name] = statistics.median(rates)
        print(
            f"{name:25s} {results[name]:10,.0f} deliveries/s (median of {args.runs}; runs: "
            f"{', '.join(f'{r:,.0f}' for r in rates)}); {args.members} concurrent group_discard: "
            f"{statistics.median(discards) * 1000:.0f} ms"
        )
    ratio = results["RedisPubSubChannelLayer"] / results["RedisChannelLayer"]
    print(f"PubSub / core = {ratio:.2f}x at {args.members} members")


if __name__ == "__main__":
    main()
