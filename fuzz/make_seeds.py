#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora from real servers.

Starts each server binary given on the command line on a free local port, with its
own temporary directory and `--save ''`, writes a few small datasets, SAVEs each one,
and copies the dump to corpus/rdb_reader and corpus/rdb_entries. The same servers'
DUMP payloads supply the container blobs (listpack, ziplist, intset) and LZF data.
Zipmaps (Redis 2.4) and RDB 14/15 files (Redis 8.8/8.10: arrays, NACK zones, hash
templates, GCRA) are built by hand: no server here writes them (run with no argument
to write only those).

    python3 make_seeds.py [NAME=PATH/redis-server ...]

Needs the `redis` Python package.
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    import redis
except ImportError:  # only the server-made seeds need it
    redis = None

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MAX_SEED = 20 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def version_tuple(r):
    info = r.info("server")
    v = info.get("valkey_version") or info["redis_version"]
    return info.get("server_name", "redis"), tuple(int(x) for x in v.split(".")[:2])


def write_seed(target, name, data):
    if len(data) > MAX_SEED:
        print(f"  skip {target}/{name}: {len(data)} bytes", file=sys.stderr)
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)
    print(f"  {target}/seed-{name}: {len(data)} bytes")


def read_len(buf, i):
    """An RDB length prefix at buf[i]; returns (length, next index)."""
    b = buf[i]
    t = b >> 6
    if t == 0:
        return b & 0x3F, i + 1
    if t == 1:
        return ((b & 0x3F) << 8) | buf[i + 1], i + 2
    if b == 0x80:
        return struct.unpack(">I", buf[i + 1:i + 5])[0], i + 5
    if b == 0x81:
        return struct.unpack(">Q", buf[i + 1:i + 9])[0], i + 9
    raise ValueError(f"special encoding 0x{b:02x}")


def dump_blob(r, key):
    """The blob of a DUMP payload whose value is one raw string (saved uncompressed)."""
    p = r.dump(key)
    n, i = read_len(p, 1)
    return p[0], p[i:i + n]


def quicklist_node_blobs(r, key):
    """The node blobs of a quicklist DUMP (type 14 or 18), uncompressed."""
    p = r.dump(key)
    t = p[0]
    count, i = read_len(p, 1)
    out = []
    for _ in range(count):
        if t == 18:
            _, i = read_len(p, i)  # container
        n, i = read_len(p, i)
        out.append(p[i:i + n])
        i += n
    return out


def lzf_payload(r, key):
    """ulen (u16 LE) + LZF data, from the DUMP of a compressible string."""
    p = r.dump(key)
    assert p[0] == 0 and p[1] == 0xC3, p[:4]
    clen, i = read_len(p, 2)
    ulen, i = read_len(p, i)
    return struct.pack("<H", ulen) + p[i:i + clen]


class Server:
    def __init__(self, binary, extra=()):
        self.dir = tempfile.mkdtemp(prefix="rdbkit-seeds-")
        self.port = free_port()
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--dbfilename", "dump.rdb", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{binary} did not start")

    def save(self):
        self.r.save()
        with open(os.path.join(self.dir, "dump.rdb"), "rb") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def strings_lists(r, new):
    r.set("s:i8", 7); r.set("s:i16", 300); r.set("s:i32", 70000); r.set("s:i64", 2**40)
    r.set("s:neg", -5); r.set("s:text", "hello"); r.set("s:bin", b"\x00\xff\xfe\x80")
    r.set("s:lzf", "abcabcabc" * 20); r.set("s:empty", "")
    r.set("s:exp", "x"); r.pexpireat("s:exp", 253402300799999)
    r.rpush("l:small", "a", "b", 1, 300, 70000, -1, 2**40, "x" * 70)
    r.config_set("list-max-ziplist-size", 4)
    r.config_set("list-compress-depth", 1)
    r.rpush("l:comp", *[("node%02d-" % i) * 8 for i in range(16)])
    if new:
        r.rpush("l:plain", "p" * 200)


def collections(r, new):
    r.sadd("set:i16", 1, 2, 3, -4); r.sadd("set:i64", 2**40, -(2**40))
    r.sadd("set:str", "a", "b", "c")
    r.config_set("set-max-intset-entries", 4)
    r.sadd("set:ht", *range(10))
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": float("inf"), "d": float("-inf"), "e": -0.0})
    r.config_set("zset-max-ziplist-entries", 3)
    r.zadd("z:skip", {f"m{i}": i / 3 for i in range(6)})
    r.hset("h:small", mapping={"f1": "v1", "f2": 2, "f3": "x" * 70})
    r.config_set("hash-max-ziplist-entries", 3)
    r.hset("h:ht", mapping={f"f{i}": i for i in range(6)})
    r.select(2)
    r.set("db2:k", "v")
    r.select(0)


def stream(r, new):
    for i in range(6):
        r.xadd("x:s", {"f": i, "g": "v%d" % i} if i % 2 else {"f": i}, id=f"{1000 + i}-0")
    r.xdel("x:s", "1002-0")
    r.xgroup_create("x:s", "grp", id="0")
    r.xreadgroup("grp", "alice", {"x:s": ">"}, count=3)
    r.xreadgroup("grp", "bob", {"x:s": ">"}, count=1)
    r.xack("x:s", "grp", "1000-0")
    r.xadd("x:empty", {"a": 1}, id="5-0")
    r.xdel("x:empty", "5-0")


def hash_ttl(r, new):
    r.hset("h:ttl", mapping={"a": 1, "b": 2, "c": 3})
    r.execute_command("HPEXPIREAT", "h:ttl", 253402300799999, "FIELDS", 1, "b")
    r.config_set("hash-max-listpack-entries", 2)
    r.hset("h:ttl:ht", mapping={"a": 1, "b": 2, "c": 3})
    r.execute_command("HPEXPIREAT", "h:ttl:ht", 253402300799999, "FIELDS", 2, "a", "c")


def functions(r, new):
    r.execute_command("FUNCTION", "LOAD",
                      "#!lua name=seedlib\nredis.register_function('seedfn', function() return 1 end)")
    r.set("k", "v"); r.lpush("l", "a"); r.sadd("s", "m"); r.zadd("z", {"m": 1}); r.hset("h", "f", "v")


def blobs(srv, tag):
    """Container blobs from DUMP (rdbcompression off), and LZF data (on)."""
    r = srv.r
    r.flushall()
    r.config_set("rdbcompression", "no")
    r.sadd("i16", 1, 2, 3, -4); r.sadd("i32", 1, 70000); r.sadd("i64", 5, 2**40)
    for k in ("i16", "i32", "i64"):
        t, b = dump_blob(r, k)
        assert t == 11, t
        write_seed("intset", f"{tag}-{k}", b)
    r.hset("h", mapping={"f1": "v1", "n": 300, "big": 2**40, "neg": -7, "long": "y" * 60})
    r.zadd("z", {"a": 1, "b": 2.5, "c": -3})
    r.rpush("l", "a", 1, 127, 128, 4095, 70000, 2**31, 2**40, -1, "z" * 70, "w" * 5000)
    kind = {12: "ziplist", 13: "ziplist", 16: "listpack", 17: "listpack"}
    for k in ("h", "z"):
        t, b = dump_blob(r, k)
        write_seed(kind[t], f"{tag}-{k}", b)
    nodes = quicklist_node_blobs(r, "l")
    lk = "ziplist" if r.dump("l")[0] == 14 else "listpack"
    write_seed(lk, f"{tag}-list", nodes[0])
    r.config_set("rdbcompression", "yes")
    r.set("lzf1", "abcabcabc" * 30)
    r.set("lzf2", "".join(f"{i:04d}" for i in range(200)))
    write_seed("lzf", f"{tag}-rep", lzf_payload(r, "lzf1"))
    write_seed("lzf", f"{tag}-digits", lzf_payload(r, "lzf2"))


def zipmaps():
    def zm_len(n):
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)

    def zipmap(pairs, zmlen=None, free=0):
        out = bytes([len(pairs) if zmlen is None else zmlen])
        for k, v in pairs:
            out += zm_len(len(k)) + k + zm_len(len(v) + free) + bytes([free]) + v + b"\x00" * free
        return out + b"\xff"

    write_seed("zipmap", "hand-small", zipmap([(b"a", b"1"), (b"bb", b"hello")]))
    write_seed("zipmap", "hand-free", zipmap([(b"k", b"v")], free=3))
    write_seed("zipmap", "hand-big", zipmap([(b"f", b"x" * 300), (b"g", b"")], zmlen=254))


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 2**32:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def rdb_str(b):
    return rdb_len(len(b)) + b


def lp(items):
    """A listpack of short strings and integers in -4096..4095."""
    body = b""
    for it in items:
        if isinstance(it, int):
            u = it & 0x1FFF
            e = bytes([0xC0 | (u >> 8), u & 0xFF])
        else:
            e = bytes([0x80 | len(it)]) + it
        body += e + bytes([len(e)])
    return struct.pack("<IH", 6 + len(body) + 1, len(items)) + body + b"\xff"


def stream_id(ms):
    return struct.pack(">QQ", ms, 0)


def crc64(data):
    """Redis' CRC-64 (Jones polynomial, reflected, init 0)."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def with_crc(body):
    return body + b"\xff" + struct.pack("<Q", crc64(body + b"\xff"))


def rdb14_15():
    """Hand-made RDB 14/15 seeds, with their CRC-64 (a flipped bit must be detectable)."""
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    arr = b"\x1c" + rdb_str(b"arr") + rdb_len(4) + rdb_len(1) + rdb_len(49)
    arr += rdb_len(0) + rdb_len(0) + rdb_str(b"sds value")
    arr += rdb_len(5) + rdb_len(1) + struct.pack("<q", -42)
    arr += rdb_len(70000) + rdb_len(2) + struct.pack("<d", 1.5)
    arr += rdb_len(2**40) + rdb_len(3) + rdb_str(b"small")
    node = [2, 0, 1, b"f", 0] + [2, 0, 0, b"a", 4] + [2, 1, 0, b"b", 4]
    xs = b"\x1b" + rdb_str(b"xs") + rdb_len(1) + rdb_str(stream_id(1)) + rdb_str(lp(node))
    xs += b"".join(rdb_len(n) for n in (2, 2, 0, 1, 0, 0, 0, 2))  # length, last, first, max-del, added
    xs += rdb_len(1) + rdb_str(b"g") + rdb_len(2) + rdb_len(0) + rdb_len(2)
    xs += rdb_len(2) + stream_id(1) + struct.pack("<q", 5) + rdb_len(1) + stream_id(2) + struct.pack("<q", 0)
    xs += rdb_len(1)
    xs += rdb_len(1) + rdb_str(b"c") + struct.pack("<qq", 1, 1) + rdb_len(1) + stream_id(1)
    xs += rdb_len(1) + stream_id(2)  # NACK zone
    xs += b"".join(rdb_len(n) for n in (100, 100, 0, 0, 0))  # IDMP
    v14 = with_crc(b"REDIS0014\xfe\x00" + arr + xs)
    write_seed("rdb_reader", "hand-v14.rdb", v14)
    write_seed("rdb_entries", "hand-v14.rdb", v14)
    tmpl = b"\xf2" + rdb_len(0) + rdb_len(3) + rdb_str(b"age") + rdb_str(b"city") + rdb_str(b"name")
    keys = b"\x1e" + rdb_str(b"h30") + rdb_str(lp([0, b"a1", b"c1", b"n1"]))
    keys += b"\x20" + rdb_str(b"h32") + rdb_len(0) + rdb_str(b"a2") + b"\xc1" + struct.pack("<h", 300) + rdb_str(b"")
    keys += b"\x1d" + rdb_str(b"h29") + rdb_len(0) + rdb_str(lp([b"x", b"yy"])) + rdb_str(lp([9, b"1", 2]))
    keys += b"\x1f" + rdb_str(b"h31") + rdb_len(1) + rdb_len(2) + rdb_str(b"x") + rdb_str(b"yy")
    keys += rdb_str(b"1") + rdb_str(b"2")
    keys += b"\xfc" + struct.pack("<q", 1800000000000) + b"\x21" + rdb_str(b"gcra") + rdb_len(1779000000000000)
    v15 = with_crc(b"REDIS0015" + tmpl + b"\xfe\x00" + keys + arr + xs)
    for target in ("rdb_reader", "rdb_entries", "memory"):
        write_seed(target, "hand-v15.rdb", v15)


def main():
    servers = [a.split("=", 1) for a in sys.argv[1:]]
    if servers and redis is None:
        sys.exit("make_seeds.py: the server-made seeds need the redis Python package")
    datasets = [("strlist", strings_lists), ("coll", collections), ("stream", stream), ("hashttl", hash_ttl),
                ("func", functions)]
    for name, binary in servers:
        print(name)
        srv = Server(binary)
        try:
            server, ver = version_tuple(srv.r)
            new = ver >= (7, 0) or server == "valkey"
            for ds, fill in datasets:
                if ds in ("hashttl",) and not (server == "valkey" and ver >= (9, 0) or ver >= (7, 4)):
                    continue
                if ds == "func" and not new:
                    continue
                srv.r.flushall()
                for k, v in (("list-max-ziplist-size", -2), ("list-compress-depth", 0),
                             ("set-max-intset-entries", 512), ("zset-max-ziplist-entries", 128),
                             ("hash-max-ziplist-entries", 128), ("rdbcompression", "yes")):
                    srv.r.config_set(k, v)
                if ds == "func":
                    srv.r.config_set("maxmemory-policy", "allkeys-lfu")
                fill(srv.r, new)
                data = srv.save()
                srv.r.config_set("maxmemory-policy", "noeviction")
                for target in ("rdb_reader", "rdb_entries"):
                    write_seed(target, f"{name}-{ds}.rdb", data)
            blobs(srv, name)
        finally:
            srv.stop()
    zipmaps()
    rdb14_15()


if __name__ == "__main__":
    main()
