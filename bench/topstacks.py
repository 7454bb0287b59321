"""Summarise py-spy raw (collapsed) stacks: self time and inclusive time per function.

    python bench/topstacks.py bench/profiles/lb-embedded-burst-0.txt [--top 30] [--match consumers]
"""

import argparse
import collections
import re


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    own, incl, total = collections.Counter(), collections.Counter(), 0
    for path in args.files:
        for line in open(path):
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = [re.sub(r" \(.*?:\d+\)$", lambda m: m.group(0).split("/")[-1], f) for f in stack.split(";")]
            frames = [re.sub(r"\s*\((.*?)\)", r" (\1)", f) for f in frames]
            own[frames[-1]] += n
            for f in set(frames):
                incl[f] += n
    print(f"{total} samples")
    print("-- self")
    for f, n in own.most_common(args.top):
        print(f"{100 * n / total:5.1f}%  {f}")
    print("-- inclusive")
    for f, n in incl.most_common(args.top):
        print(f"{100 * n / total:5.1f}%  {f}")


if __name__ == "__main__":
    main()
