#!/usr/bin/env python3
"""Write a RESP stream of writes that makes an AOF grow far beyond its dataset:
overwrites of a bounded key space, counters, hash/list/set/zset edits, stream
appends with trimming, and expiries. Pipe it into `redis-cli --pipe` against a
server started with `--appendonly yes`.

    python3 bench/gen_aof_workload.py --mb 1024 --seed 1 | redis-cli -p PORT --pipe

--mb is the approximate size of the stream (the AOF ends up about as large).
Deterministic for a given seed. Commands are generated in batches of similar
shape, so generation stays well ahead of redis-cli.
"""

import argparse
import random
import sys


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keys", type=int, default=200_000, help="distinct string keys")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    target = int(args.mb * 1024 * 1024)
    out = sys.stdout.buffer
    written = 0
    far = 4_102_444_800_000
    values = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(8, 120))) for _ in range(512)]
    seq = 0
    while written < target:
        buf = []
        for _ in range(2000):
            seq += 1
            r = rng.random()
            k = rng.randrange(args.keys)
            if r < 0.45:
                buf.append(cmd(b"SET", b"user:%d" % k, values[seq % 512]))
            elif r < 0.60:
                buf.append(cmd(b"INCR", b"counter:%d" % (k % 5000)))
            elif r < 0.70:
                buf.append(cmd(b"HSET", b"profile:%d" % (k % 20000), b"f%d" % (seq % 16), values[(seq * 7) % 512]))
            elif r < 0.77:
                buf.append(cmd(b"LPUSH", b"queue:%d" % (k % 100), values[seq % 512]))
                if seq % 8 == 0:
                    buf.append(cmd(b"LTRIM", b"queue:%d" % (k % 100), 0, 200))
            elif r < 0.83:
                buf.append(cmd(b"SADD", b"tags:%d" % (k % 3000), b"t%d" % (seq % 300)))
            elif r < 0.89:
                buf.append(cmd(b"ZADD", b"board:%d" % (k % 200), rng.randint(0, 10**6), b"p%d" % (k % 5000)))
            elif r < 0.93:
                buf.append(cmd(b"XADD", b"events:%d" % (k % 20), b"MAXLEN", b"=", 1000, b"*", b"k", b"%d" % k, b"v", values[seq % 512][:20]))
            elif r < 0.97:
                buf.append(cmd(b"PEXPIREAT", b"user:%d" % k, far + k))
            else:
                buf.append(cmd(b"DEL", b"user:%d" % k))
        chunk = b"".join(buf)
        out.write(chunk)
        written += len(chunk)


if __name__ == "__main__":
    main()
