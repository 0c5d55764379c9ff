#!/usr/bin/env python3
"""Write a RESP command stream that fills a Redis 7.0 server with a mixed,
production-like dataset. Pipe it into `redis-cli --pipe`.

    python3 bench/gen_resp.py --scale 1.0 --seed 1 | redis-cli -p PORT --pipe

--scale 1.0 aims at a dump of about 1 GiB (with rdbcompression on); every
count below is multiplied by it. The output is deterministic for a given
seed and scale. Which step runs is chosen with --part so that make-dump.sh
can change server settings between parts (list-compress-depth).

Encodings are those of Redis 7.0 with its default thresholds:
hash/zset listpack up to 128 entries and 64-byte values, set intset up to
512 integers, list quicklist nodes of 8 KiB.
"""

import argparse
import math
import os
import random
import sys

WORDS = (
    b"the of and to in is you that it he was for on are as with his they at be "
    b"this have from or one had by word but not what all were we when your can "
    b"said there use an each which she do how their if will up other about out "
    b"many then them these so some her would make like him into time has look "
    b"two more write go see number no way could people my than first water been "
    b"call who oil its now find long down day did get come made may part order "
    b"customer checkout payment shipped pending active inactive session cart "
    b"product price quantity region europe america asia mobile desktop tablet"
).split()
FIRST = b"alice bob carol dave erin frank grace heidi ivan judy mallory nia oscar peggy rupert sybil trent victor walter".split()
DOMAINS = b"example.com mail.test corp.example shop.test".split()
COUNTRIES = b"FR DE US GB JP BR IN ES IT NL SE PL".split()
HASH_FIELDS = (
    b"name email age country created_at updated_at last_login plan visits score "
    b"status referrer locale timezone device theme newsletter balance currency "
    b"phone city zip street company title avatar bio flags version"
).split()
LOG_LEVELS = b"INFO WARN ERROR DEBUG".split()
PATHS = b"/ /home /search /cart /checkout /product /api/v1/items /api/v1/users /login /logout /static/app.js".split()


class Out:
    """Buffered RESP writer."""

    def __init__(self):
        self.buf = []
        self.size = 0
        self.w = sys.stdout.buffer

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self._add(b"".join(parts))

    def cmdv(self, head, items):
        """A variadic command: head args followed by a list of bulk strings."""
        n = len(head) + len(items)
        parts = [b"*%d\r\n" % n]
        for a in head:
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        parts.extend(b"$%d\r\n%s\r\n" % (len(a), a) for a in items)
        self._add(b"".join(parts))

    def _add(self, b):
        self.buf.append(b)
        self.size += len(b)
        if self.size >= 1 << 20:
            self.flush()

    def flush(self):
        self.w.write(b"".join(self.buf))
        self.buf = []
        self.size = 0


def n_of(base, scale):
    return max(1, int(base * scale))


class Gen:
    def __init__(self, seed, scale, functions=True):
        self.functions = functions
        self.r = random.Random(seed)
        self.scale = scale
        self.o = Out()
        # Pools of pre-made pieces keep the per-item cost low.
        r = self.r
        self.sentences = [b" ".join(r.choice(WORDS) for _ in range(r.randint(3, 14))) for _ in range(4096)]
        self.hexes = [b"%032x" % r.getrandbits(128) for _ in range(8192)]

    def text(self, lo, hi):
        """Compressible English-like text of lo..hi bytes."""
        r = self.r
        n = r.randint(lo, hi)
        parts = []
        got = 0
        while got < n:
            s = self.sentences[r.getrandbits(12)]
            parts.append(s)
            got += len(s) + 1
        return b" ".join(parts)[:n]

    def ttl_args(self):
        # 1 to 30 days in the future: nothing expires before SAVE.
        return (b"PX", b"%d" % self.r.randint(86_400_000, 30 * 86_400_000))

    # --- strings ---------------------------------------------------------
    def strings(self, count, db_prefix=b""):
        r, o = self.r, self.o
        for i in range(count):
            kind = r.getrandbits(4)  # 0..15
            if kind < 4:  # counters: int-encoded
                key = b"%scounter:%d:%s" % (db_prefix, i, r.choice(PATHS))
                val = b"%d" % r.randint(-(10**9), 10**12)
            elif kind < 9:  # short text, < 20 bytes (stored raw)
                key = b"%suser:%d:name" % (db_prefix, i)
                val = b"%s %s" % (r.choice(FIRST), r.choice(FIRST).capitalize())
            elif kind < 14:  # cached fragments, compressible (LZF)
                key = b"%scache:%s:%d" % (db_prefix, r.choice(PATHS), i)
                val = b'{"id":%d,"title":"%s","body":"%s","tags":["%s","%s"]}' % (
                    i, self.text(8, 40), self.text(20, 400), r.choice(WORDS), r.choice(WORDS))
            else:  # tokens: 32+ bytes of hex
                key = b"%ssession:%s" % (db_prefix, self.hexes[r.getrandbits(13)][:16] + b"%d" % i)
                val = self.hexes[r.getrandbits(13)] + self.hexes[r.getrandbits(13)][:r.randint(0, 32)]
            if r.random() < 0.3:
                o.cmd(b"SET", key, val, *self.ttl_args())
            else:
                o.cmd(b"SET", key, val)

    def big_strings(self, count):
        r, o = self.r, self.o
        for i in range(count):
            size = r.randint(1 << 20, 5 << 20)
            if i % 2 == 0:
                # Incompressible: stored raw.
                val = r.randbytes(size)
                key = b"blob:image:%d" % i
            else:
                # Text: LZF compresses it.
                val = self.text(size, size)
                key = b"blob:report:%d" % i
            o.cmd(b"SET", key, val)

    # --- hashes ----------------------------------------------------------
    def hash_value(self, field, i):
        r = self.r
        if field in (b"age", b"visits", b"score", b"balance", b"version", b"zip"):
            return b"%d" % r.randint(0, 100000)
        if field == b"email":
            return b"%s.%d@%s" % (r.choice(FIRST), i, r.choice(DOMAINS))
        if field in (b"created_at", b"updated_at", b"last_login"):
            return b"%d" % (1_600_000_000 + r.getrandbits(26))
        if field == b"country":
            return r.choice(COUNTRIES)
        if field == b"bio":
            return self.text(10, 60)
        return r.choice(WORDS) + b"-" + r.choice(WORDS)

    def small_hashes(self, count):
        r, o = self.r, self.o
        for i in range(count):
            fields = r.sample(HASH_FIELDS, r.randint(4, 24))
            items = []
            for f in fields:
                items.append(f)
                items.append(self.hash_value(f, i))
            o.cmdv((b"HSET", b"user:%d:profile" % i), items)
            if r.random() < 0.1:
                o.cmd(b"PEXPIRE", b"user:%d:profile" % i, self.ttl_args()[1])

    def wide_value_hashes(self, count):
        """Few fields, but one value > 64 bytes: hashtable encoding."""
        r, o = self.r, self.o
        for i in range(count):
            items = []
            for j in range(r.randint(3, 10)):
                items.append(b"section%d" % j)
                items.append(self.text(70, 300) if j == 0 else self.text(5, 40))
            o.cmdv((b"HSET", b"doc:%d" % i), items)

    def large_hashes(self, count, fields):
        r, o = self.r, self.o
        for i in range(count):
            key = b"index:%d" % i
            n = r.randint(fields // 2, fields * 3 // 2)
            for start in range(0, n, 1000):
                items = []
                for j in range(start, min(n, start + 1000)):
                    items.append(b"item:%d" % j)
                    items.append(self.text(5, 50) if j % 3 else b"%d" % r.getrandbits(40))
                o.cmdv((b"HSET", key), items)

    # --- lists -----------------------------------------------------------
    def log_line(self, i):
        r = self.r
        return b"%d %s %s %s" % (1_700_000_000_000 + i, r.choice(LOG_LEVELS), r.choice(PATHS), self.sentences[r.getrandbits(12)])

    def small_lists(self, count, prefix):
        r, o = self.r, self.o
        for i in range(count):
            if r.random() < 0.5:
                items = [b"%d" % r.getrandbits(32) for _ in range(r.randint(3, 60))]
            else:
                items = [self.log_line(j) for j in range(r.randint(3, 40))]
            o.cmdv((b"RPUSH", b"%s:%d" % (prefix, i)), items)

    def large_lists(self, count, length, prefix):
        r, o = self.r, self.o
        for i in range(count):
            key = b"%s:%d" % (prefix, i)
            n = r.randint(length // 2, length * 3 // 2)
            for start in range(0, n, 1000):
                items = [self.log_line(j) for j in range(start, min(n, start + 1000))]
                o.cmdv((b"RPUSH", key), items)

    # --- sets ------------------------------------------------------------
    def int_sets(self, count):
        r, o = self.r, self.o
        for i in range(count):
            width = r.choice((15, 31, 31, 62))
            items = [b"%d" % r.getrandbits(width) for _ in range(r.randint(5, 300))]
            o.cmdv((b"SADD", b"followers:%d" % i), items)

    def str_sets(self, count):
        r, o = self.r, self.o
        for i in range(count):
            items = [b"tag:%s:%d" % (r.choice(WORDS), r.getrandbits(16)) for _ in range(r.randint(5, 100))]
            o.cmdv((b"SADD", b"tags:%d" % i), items)

    def large_sets(self, count, size):
        r, o = self.r, self.o
        for i in range(count):
            key = b"members:%d" % i
            n = r.randint(size // 2, size * 3 // 2)
            numeric = i % 3 == 0  # big integer sets: past 512 entries, hashtable
            for start in range(0, n, 1000):
                if numeric:
                    items = [b"%d" % r.getrandbits(40) for _ in range(start, min(n, start + 1000))]
                else:
                    items = [b"m:%s" % self.hexes[r.getrandbits(13)][:12] + b"%d" % j for j in range(start, min(n, start + 1000))]
                o.cmdv((b"SADD", key), items)

    # --- sorted sets -----------------------------------------------------
    def small_zsets(self, count):
        r, o = self.r, self.o
        for i in range(count):
            items = []
            for _ in range(r.randint(5, 100)):
                if r.getrandbits(1):
                    items.append(b"%d" % r.getrandbits(20))
                else:
                    items.append(b"%.3f" % (r.random() * 1000))
                items.append(b"player:%d" % r.getrandbits(24))
            o.cmdv((b"ZADD", b"leaderboard:%d" % i), items)

    def large_zsets(self, count, size):
        r, o = self.r, self.o
        for i in range(count):
            key = b"ranking:%d" % i
            n = r.randint(size // 2, size * 3 // 2)
            for start in range(0, n, 1000):
                items = []
                for j in range(start, min(n, start + 1000)):
                    items.append(b"%.6f" % (r.random() * 1e6))
                    items.append(b"user:%d" % j)
                o.cmdv((b"ZADD", key), items)

    # --- streams ---------------------------------------------------------
    def streams(self, count, entries, prefix=b"events"):
        r, o = self.r, self.o
        for s in range(count):
            key = b"%s:%d" % (prefix, s)
            base = 1_700_000_000_000 + s * 10_000_000
            ids = []
            for j in range(entries):
                eid = b"%d-%d" % (base + j // 3, j % 3)
                ids.append(eid)
                o.cmd(b"XADD", key, eid, b"type", r.choice((b"click", b"view", b"buy", b"login")),
                      b"user", b"%d" % r.getrandbits(20), b"path", r.choice(PATHS),
                      b"amount", b"%d" % r.getrandbits(12))
            # Deleted entries inside the listpacks.
            for j in range(0, entries, 97):
                o.cmd(b"XDEL", key, ids[j])
            for g in range(r.randint(1, 3)):
                group = b"group%d" % g
                o.cmd(b"XGROUP", b"CREATE", key, group, b"0")
                # Read part of the stream with a few consumers: pending entries.
                for c in range(r.randint(1, 4)):
                    o.cmd(b"XREADGROUP", b"GROUP", group, b"consumer%d" % c, b"COUNT", b"%d" % (entries // 10),
                          b"STREAMS", key, b">")
                # Acknowledge about half of what was delivered.
                delivered = [x for k, x in enumerate(ids) if k % 97 != 0][: entries // 10]
                acks = delivered[::2]
                for start in range(0, len(acks), 1000):
                    o.cmdv((b"XACK", key, group), acks[start:start + 1000])

    def function(self):
        code = (b"#!lua name=benchlib\n"
                b"redis.register_function('bench_get', function(keys, args) return redis.call('GET', keys[1]) end)\n")
        self.o.cmd(b"FUNCTION", b"LOAD", b"REPLACE", code)

    # --- the parts -------------------------------------------------------
    def part_main(self):
        s = self.scale
        self.o.cmd(b"SELECT", b"0")
        if self.functions:
            self.function()
        self.strings(n_of(2_600_000, s))
        self.big_strings(n_of(48, s))
        self.small_hashes(n_of(520_000, s))
        self.wide_value_hashes(n_of(25_000, s))
        self.large_hashes(n_of(300, s), 3000)
        self.small_lists(n_of(90_000, s), b"recent")
        self.large_lists(n_of(150, s), 8000, b"log")
        self.int_sets(n_of(90_000, s))
        self.str_sets(n_of(45_000, s))
        self.large_sets(n_of(120, s), 15_000)
        self.small_zsets(n_of(90_000, s))
        self.large_zsets(n_of(200, s), 8000)
        # Bigger scales add streams, not entries: a stream of 40,000 entries takes about
        # 30 MB in the server, and the memory target only holds for keys under 64 MB.
        self.streams(n_of(6, s) * max(1, math.ceil(s)), n_of(40_000, min(s, 1.0)))
        # A second database, with a bit of everything.
        self.o.cmd(b"SELECT", b"1")
        self.strings(n_of(200_000, s), b"db1:")
        self.small_hashes(n_of(20_000, s))
        self.o.cmd(b"SELECT", b"0")

    def part_streams(self):
        """Many small streams with consumer groups (queues), for a dump of streams."""
        self.o.cmd(b"SELECT", b"0")
        self.streams(n_of(1_000_000, self.scale), 20, b"queue")

    def part_compressed(self):
        """Run while list-compress-depth is 1: quicklists with LZF nodes."""
        s = self.scale
        self.o.cmd(b"SELECT", b"0")
        self.large_lists(n_of(100, s), 8000, b"archive")
        self.small_lists(n_of(10_000, s), b"recentz")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--part", choices=("main", "compressed", "streams"), default="main")
    ap.add_argument("--no-functions", action="store_true", help="no FUNCTION LOAD (servers before 7.0)")
    a = ap.parse_args()
    part_seed = a.seed * 2 + {"main": 0, "compressed": 1, "streams": 1 << 20}[a.part]
    g = Gen(part_seed, a.scale, functions=not a.no_functions)
    getattr(g, "part_" + a.part)()
    g.o.flush()
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
