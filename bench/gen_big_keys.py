#!/usr/bin/env python3
"""Write a RESP command stream that makes one big key of each type, each close to
but under 64 MiB of MEMORY USAGE on Redis 7.0 (the premise of the 100 MB RSS
target: no single key larger than 64 MB). Pipe it into `redis-cli --pipe`.

    python3 bench/gen_big_keys.py --seed 1 | redis-cli -p PORT --pipe

The string is random bytes (base64 in JSON, the largest text); collections hold
short members, the most elements per megabyte. make-dump.sh --big-keys checks
the sizes with MEMORY USAGE after filling.
"""

import argparse
import random
import sys

BATCH = 1000


def command(out, *args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))


def batched(out, head, items):
    for i in range(0, len(items), BATCH):
        command(out, *head, *[x for item in items[i : i + BATCH] for x in item])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout.buffer
    # Appended in 1 MiB pieces: one 55 MiB argument would be slow to build in Python.
    for i in range(55):
        command(out, b"APPEND", b"big:string", rng.randbytes(1 << 20))
    batched(out, [b"SADD", b"big:set"], [[b"member:%09d" % i] for i in range(860_000)])
    batched(out, [b"HSET", b"big:hash"], [[b"field:%08d" % i, b"value:%08d" % i] for i in range(950_000)])
    batched(out, [b"ZADD", b"big:zset"], [[b"%d" % rng.randrange(10**6), b"m:%09d" % i] for i in range(560_000)])
    batched(out, [b"RPUSH", b"big:list"], [[b"item:%07d" % i] for i in range(4_400_000)])
    for i in range(2_800_000):
        command(out, b"XADD", b"big:stream", b"%d-1" % (i + 1), b"sensor", b"%d" % (i % 97), b"reading", b"%d" % i)


if __name__ == "__main__":
    main()
