//! The commands whose replay re-runs a server computation, against every installed AOF
//! server: geo searches that STORE (the server logs them verbatim), SORT ... STORE, and
//! the newer commands (BITOP DIFF/DIFF1/ANDOR/ONE, conditional SET, XDELEX/XACKDEL)
//! where the server has them. The AOF the server writes must survive `aof rewrite` and
//! `convert --to rdb` with the same DEBUG DIGEST as the server loading it.

mod util;

use std::path::Path;

use testkit::servers::Flavor;
use testkit::{ServerBin, ServerGuard, StartOptions};
use util::aof::{load_aof, servers};
use util::{describe, path_str, rdbkit};

/// A small deterministic generator (the test must write the same AOF every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn s(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Centres the geo points cluster around: Palermo, the antimeridian at the equator, the
/// southern hemisphere, above the arctic circle, next to the latitude limit.
const CENTRES: [(f64, f64); 5] = [(13.36, 38.11), (179.95, 0.05), (-58.38, -34.6), (25.0, 70.5), (-10.0, 84.9)];

fn geo(out: &mut Vec<Vec<String>>, f: &testkit::Features) {
    let mut r = Lcg(7);
    for (c, &(long, lat)) in CENTRES.iter().enumerate() {
        let mut add = s(&["GEOADD", "geo:a"]);
        for i in 0..40 {
            let dl = (r.next() - 0.5) * 4.0;
            let dt = (r.next() - 0.5) * 2.0;
            let long = (long + dl).clamp(-180.0, 180.0);
            let lat = (lat + dt).clamp(-85.05, 85.05);
            add.extend([format!("{long:.6}"), format!("{lat:.6}"), format!("p{c}.{i}")]);
        }
        out.push(add);
    }
    out.push(s(&["GEOADD", "geo:a", "NX", "CH", "1", "1", "p0.0", "2", "2", "new"]));
    out.push(s(&["GEOADD", "geo:a", "XX", "13.5", "38.2", "p0.1", "3", "3", "absent"]));
    out.push(s(&["GEOADD", "geo:a", "200", "0", "bad"]));
    for (c, &(long, lat)) in CENTRES.iter().enumerate() {
        let (lo, la) = (format!("{long}"), format!("{lat}"));
        for (n, radius) in ["0", "5", "40", "150", "600", "5000", "20000"].iter().enumerate() {
            let dst = format!("geo:r:{c}:{n}");
            out.push(s(&["GEORADIUS", "geo:a", &lo, &la, radius, "km", "STORE", &dst]));
            out.push(s(&["GEORADIUS", "geo:a", &lo, &la, radius, "mi", "STOREDIST", &format!("{dst}:d")]));
            out.push(s(&["GEORADIUS", "geo:a", &lo, &la, radius, "km", "COUNT", "3", "STORE", &format!("{dst}:c")]));
            out.push(s(&[
                "GEORADIUS",
                "geo:a",
                &lo,
                &la,
                radius,
                "km",
                "DESC",
                "COUNT",
                "4",
                "STOREDIST",
                &format!("{dst}:cd"),
            ]));
            out.push(s(&[
                "GEORADIUSBYMEMBER",
                "geo:a",
                &format!("p{c}.3"),
                radius,
                "km",
                "STORE",
                &format!("{dst}:m"),
            ]));
            if f.stream_62() {
                out.push(s(&[
                    "GEORADIUS",
                    "geo:a",
                    &lo,
                    &la,
                    radius,
                    "km",
                    "COUNT",
                    "2",
                    "ANY",
                    "STORE",
                    &format!("{dst}:any"),
                ]));
                out.push(s(&[
                    "GEOSEARCHSTORE",
                    &format!("{dst}:b"),
                    "geo:a",
                    "FROMLONLAT",
                    &lo,
                    &la,
                    "BYBOX",
                    radius,
                    "100",
                    "km",
                ]));
                out.push(s(&[
                    "GEOSEARCHSTORE",
                    &format!("{dst}:bm"),
                    "geo:a",
                    "FROMMEMBER",
                    &format!("p{c}.5"),
                    "BYRADIUS",
                    radius,
                    "km",
                    "ASC",
                    "COUNT",
                    "5",
                    "STOREDIST",
                ]));
                out.push(s(&[
                    "GEOSEARCHSTORE",
                    &format!("{dst}:bb"),
                    "geo:a",
                    "FROMMEMBER",
                    &format!("p{c}.6"),
                    "BYBOX",
                    "300",
                    radius,
                    "ft",
                    "DESC",
                ]));
            }
        }
    }
    out.push(s(&["SET", "geo:gone", "x"]));
    out.push(s(&["GEORADIUS", "geo:missing", "1", "1", "10", "km", "STORE", "geo:gone"]));
    out.push(s(&["GEORADIUS", "geo:a", "0", "0", "1", "m", "STORE", "geo:r:0:0"]));
}

fn sort(out: &mut Vec<Vec<String>>) {
    let mut r = Lcg(11);
    let mut push = s(&["RPUSH", "sort:l"]);
    let mut sadd = s(&["SADD", "sort:s"]);
    let mut zadd = s(&["ZADD", "sort:z"]);
    for i in 0..30 {
        let v = ((r.next() * 100.0) as i64 - 30).to_string();
        push.push(v.clone());
        sadd.push(format!("m{i}"));
        zadd.extend([format!("{}", (r.next() * 10.0) as i64), format!("z{i}")]);
        out.push(s(&["SET", &format!("w_{v}"), &format!("{}", (r.next() * 50.0) as i64)]));
        // Unique per member: the tie order of a set is its hash table's (even the server's
        // own reload may change it).
        out.push(s(&[
            "HSET",
            &format!("h_m{i}"),
            "f",
            &format!("hv{}", (r.next() * 9.0) as i64),
            "u",
            &format!("{:03}", (i * 7) % 30),
        ]));
        out.push(s(&["RPUSH", "sort:lm", &format!("m{}", (r.next() * 30.0) as i64)]));
        out.push(s(&["SET", &format!("s_z{i}"), &format!("sv{i}")]));
    }
    out.extend([push, sadd, zadd]);
    let stores: &[&[&str]] = &[
        &["SORT", "sort:l", "STORE", "sort:o1"],
        &["SORT", "sort:l", "DESC", "LIMIT", "2", "5", "STORE", "sort:o2"],
        &["SORT", "sort:l", "ALPHA", "STORE", "sort:o3"],
        &["SORT", "sort:l", "BY", "w_*", "STORE", "sort:o4"],
        &["SORT", "sort:l", "BY", "w_*", "LIMIT", "0", "4", "GET", "#", "GET", "w_*", "STORE", "sort:o5"],
        &["SORT", "sort:l", "BY", "nosort", "DESC", "LIMIT", "3", "6", "STORE", "sort:o6"],
        &["SORT", "sort:s", "BY", "nosort", "STORE", "sort:o7"],
        &["SORT", "sort:s", "BY", "h_*->u", "ALPHA", "DESC", "GET", "h_*->f", "GET", "#", "STORE", "sort:o8"],
        // Ties of a list keep the list's order (the servers' qsort is glibc's stable one).
        &["SORT", "sort:lm", "BY", "h_*->f", "ALPHA", "GET", "#", "GET", "h_*->f", "STORE", "sort:o13"],
        &["SORT", "sort:lm", "BY", "h_*->f", "LIMIT", "2", "9", "STORE", "sort:o14"],
        &["SORT", "sort:s", "ALPHA", "LIMIT", "5", "100", "GET", "missing_*", "STORE", "sort:o9"],
        &["SORT", "sort:z", "BY", "nosort", "DESC", "LIMIT", "1", "7", "GET", "s_*", "STORE", "sort:o10"],
        &["SORT", "sort:z", "ALPHA", "STORE", "sort:o11"],
        &["SORT", "sort:s", "STORE", "sort:o12"],
        &["SORT", "sort:missing", "STORE", "sort:o1"],
        &["SORT", "sort:z", "LIMIT", "100", "5", "STORE", "sort:o2"],
    ];
    out.extend(stores.iter().map(|c| s(c)));
}

fn newer(out: &mut Vec<Vec<String>>, f: &testkit::Features) {
    let redis = |v| f.flavor == Flavor::Redis && f.version >= v;
    if redis((8, 2, 0)) {
        out.push(s(&["SET", "b:1", "\u{0f}\u{f0}ab"]));
        out.push(s(&["SET", "b:2", "\u{33}\u{55}"]));
        out.push(s(&["SET", "b:3", "xyzzy!"]));
        for op in ["DIFF", "DIFF1", "ANDOR", "ONE"] {
            out.push(s(&["BITOP", op, &format!("b:{op}"), "b:1", "b:2", "b:3"]));
            out.push(s(&["BITOP", op, &format!("b:{op}:2"), "b:3", "b:missing"]));
        }
        out.push(s(&["BITOP", "ONE", "b:one1", "b:1"]));
        out.push(s(&["BITOP", "DIFF", "b:DIFF", "b:missing", "b:missing2"]));
    }
    if redis((8, 4, 0)) || (f.flavor == Flavor::Valkey && f.version >= (8, 1, 0)) {
        out.push(s(&["SET", "c:1", "old"]));
        out.push(s(&["SET", "c:1", "new", "IFEQ", "old"]));
        out.push(s(&["SET", "c:1", "newer", "IFEQ", "old"]));
        out.push(s(&["SET", "c:2", "v", "IFEQ", "x"]));
        out.push(s(&["SET", "c:3", "v", "IFEQ", "x", "EX", "100000"]));
    }
    if redis((8, 4, 0)) {
        let digest = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(b"new"));
        out.push(s(&["SET", "c:1", "d1", "IFDEQ", &digest]));
        out.push(s(&["SET", "c:4", "a", "IFNE", "x"]));
        out.push(s(&["SET", "c:4", "b", "IFNE", "a"]));
        out.push(s(&["SET", "c:5", "a", "IFDNE", "0000000000000000"]));
        out.push(s(&["SET", "c:1", "d2", "IFDNE", &format!("{:016X}", xxhash_rust::xxh3::xxh3_64(b"d1"))]));
    }
    if redis((8, 4, 0)) || (f.flavor == Flavor::Valkey && f.version >= (9, 1, 0)) {
        out.push(s(&["MSETEX", "2", "m:1", "a", "m:2", "b", "EX", "100000"]));
        out.push(s(&["MSETEX", "1", "m:1", "c", "NX", "PX", "100000"]));
        out.push(s(&["MSETEX", "2", "m:1", "d", "m:3", "e", "XX", "KEEPTTL"]));
        out.push(s(&["MSETEX", "1", "m:1", "f", "XX", "KEEPTTL"]));
        out.push(s(&["MSETEX", "1", "m:4", "g", "NX", "EXAT", "4102444800"]));
        out.push(s(&["MSETEX", "1", "m:2", "h"]));
    }
    if f.flavor == Flavor::Valkey && f.version >= (9, 0, 0) {
        out.push(s(&["SET", "d:1", "v"]));
        out.push(s(&["DELIFEQ", "d:1", "other"]));
        out.push(s(&["SET", "d:2", "v"]));
        out.push(s(&["DELIFEQ", "d:2", "v"]));
        out.push(s(&["RPUSH", "d:l", "v"]));
        out.push(s(&["DELIFEQ", "d:l", "v"]));
        out.push(s(&["HSETEX", "hx:1", "XX", "FIELDS", "1", "a", "1"]));
        out.push(s(&["HSETEX", "hx:1", "NX", "EX", "100000", "FIELDS", "2", "a", "1", "b", "2"]));
        out.push(s(&["HSETEX", "hx:1", "XX", "FXX", "KEEPTTL", "FIELDS", "1", "a", "3"]));
        out.push(s(&["HSETEX", "hx:1", "FNX", "FIELDS", "1", "a", "4"]));
    }
    if redis((8, 4, 0)) {
        out.push(s(&["SET", "d:3", "v"]));
        out.push(s(&["DELEX", "d:3", "IFNE", "v"]));
        out.push(s(&["DELEX", "d:3", "IFEQ", "v"]));
        out.push(s(&["SET", "d:4", "v"]));
        out.push(s(&["DELEX", "d:4"]));
    }
    if f.stream_ref_policies() {
        for i in 1..=12 {
            out.push(s(&["XADD", "x:r", &format!("{i}-1"), "f", &i.to_string()]));
        }
        out.push(s(&["XGROUP", "CREATE", "x:r", "g1", "0"]));
        out.push(s(&["XGROUP", "CREATE", "x:r", "g2", "0"]));
        out.push(s(&["XREADGROUP", "GROUP", "g1", "c", "COUNT", "8", "STREAMS", "x:r", ">"]));
        out.push(s(&["XREADGROUP", "GROUP", "g2", "c", "COUNT", "4", "STREAMS", "x:r", ">"]));
        out.push(s(&["XACKDEL", "x:r", "g1", "ACKED", "IDS", "3", "1-1", "2-1", "9-1"]));
        out.push(s(&["XACK", "x:r", "g2", "1-1", "2-1"]));
        out.push(s(&["XACKDEL", "x:r", "g1", "KEEPREF", "IDS", "1", "3-1"]));
        out.push(s(&["XACKDEL", "x:r", "g1", "DELREF", "IDS", "1", "4-1"]));
        out.push(s(&["XDELEX", "x:r", "ACKED", "IDS", "2", "5-1", "11-1"]));
        out.push(s(&["XDELEX", "x:r", "DELREF", "IDS", "1", "6-1"]));
        out.push(s(&["XDELEX", "x:r", "IDS", "1", "7-1"]));
        out.push(s(&["XADD", "x:r", "MAXLEN", "=", "3", "ACKED", "20-1", "f", "v"]));
        out.push(s(&["XTRIM", "x:r", "MAXLEN", "2", "DELREF"]));
    }
    if f.stream_idmp() {
        out.push(s(&["XADD", "x:i", "IDMP", "p1", "a", "*", "f", "1"]));
        out.push(s(&["XADD", "x:i", "IDMP", "p1", "a", "*", "f", "2"]));
        out.push(s(&["XADD", "x:i", "IDMPAUTO", "p2", "*", "f", "1", "g", "2"]));
        out.push(s(&["XADD", "x:i", "IDMPAUTO", "p2", "*", "g", "2", "f", "1"]));
        out.push(s(&["XADD", "x:i", "IDMPAUTO", "p2", "*", "f", "1", "g", "3"]));
        out.push(s(&["XCFGSET", "x:i", "IDMP-MAXSIZE", "2"]));
        out.push(s(&["XCFGSET", "x:i", "IDMP-MAXSIZE", "2"]));
        for i in 0..5 {
            out.push(s(&[
                "XADD",
                "x:i",
                "MAXLEN",
                "3",
                "IDMP",
                "p3",
                &format!("i{}", i % 3),
                "*",
                "n",
                &i.to_string(),
            ]));
        }
        out.push(s(&["XADD", "x:j", "IDMPAUTO", "p", "*", "a", "b"]));
        out.push(s(&["XCFGSET", "x:j", "IDMP-DURATION", "500"]));
        out.push(s(&["XADD", "x:j", "IDMPAUTO", "p", "*", "a", "b"]));
    }
}

/// Writes an AOF with `server` running `commands` (errors are part of the test).
fn write_aof(server: &ServerBin, commands: &[Vec<String>], into: &Path) -> std::path::PathBuf {
    let args = ["--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no"];
    let opts = StartOptions { extra_args: args.iter().map(|a| a.to_string()).collect(), ..StartOptions::default() };
    let guard = ServerGuard::start_with(server, &opts).expect("start");
    let mut conn = guard.conn().expect("conn");
    for c in commands {
        let mut cmd = redis::cmd(&c[0]);
        for a in &c[1..] {
            cmd.arg(a.as_bytes());
        }
        let _: redis::RedisResult<redis::Value> = cmd.query(&mut conn);
    }
    let dest = into.join(server.name());
    std::fs::create_dir_all(&dest).expect("mkdir");
    let multi = guard.dir().join("appendonlydir");
    if multi.is_dir() {
        testkit::guard::copy_aof(&multi, &dest).expect("copy");
        dest.join("appendonlydir")
    } else {
        testkit::guard::copy_aof(&guard.dir().join("appendonly.aof"), &dest).expect("copy");
        dest.join("appendonly.aof")
    }
}

/// DEBUG DIGEST-VALUE of every key of database 0.
fn key_digests(g: &ServerGuard) -> std::collections::BTreeMap<String, String> {
    let mut c = g.conn().expect("conn");
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).expect("KEYS");
    keys.into_iter()
        .map(|k| {
            let mut d: Vec<String> =
                redis::cmd("DEBUG").arg("DIGEST-VALUE").arg(&k).query(&mut c).expect("DIGEST-VALUE");
            let ty: String = redis::cmd("TYPE").arg(&k).query(&mut c).expect("TYPE");
            if ty == "stream" && g.server().features().stream_idmp() {
                // The digest leaves the idempotent-producer state out; XINFO shows it.
                let info: Vec<redis::Value> = redis::cmd("XINFO").arg("STREAM").arg(&k).query(&mut c).expect("XINFO");
                for pair in info.chunks(2) {
                    if let [redis::Value::BulkString(name), redis::Value::Int(n)] = pair {
                        if name.starts_with(b"idmp") || name.starts_with(b"iids") || name.starts_with(b"pids") {
                            d.push(format!(" {}={n}", String::from_utf8_lossy(name)));
                        }
                    }
                }
            }
            (k, d.concat())
        })
        .collect()
}

/// Fails with the keys whose values differ.
fn same(server: &ServerBin, what: &str, want: &std::collections::BTreeMap<String, String>, got: &ServerGuard) {
    let got = key_digests(got);
    let differ: Vec<&String> = want.keys().chain(got.keys()).filter(|k| want.get(*k) != got.get(*k)).collect();
    let show: Vec<_> = differ.iter().map(|k| (k, want.get(*k), got.get(*k))).collect();
    assert!(differ.is_empty(), "{server}: {what}: these keys differ: {show:?}");
}

#[test]
fn searches_sorts_and_newer_commands_replay_to_the_servers_digest() {
    let work = tempfile::tempdir().expect("tmp");
    for server in servers() {
        let f = server.features();
        let mut commands = Vec::new();
        geo(&mut commands, &f);
        sort(&mut commands);
        newer(&mut commands, &f);
        let aof = write_aof(&server, &commands, work.path());
        let original = load_aof(&server, &aof);
        let digest = original.digest().expect("digest");
        let keys = key_digests(&original);
        drop(original);
        let target = format!("{}-{}.{}", server.flavor, server.version.0, server.version.1);

        let new = aof.parent().expect("parent").join("rewritten");
        let out = rdbkit(&["aof", "rewrite", path_str(&aof), "-o", path_str(&new), "--target", &target]);
        assert_eq!(out.status.code(), Some(0), "{server}: rewrite: {}", describe(&out));
        let new_aof = if new.join("appendonly.aof").is_file() { new.join("appendonly.aof") } else { new.clone() };
        let rewritten = load_aof(&server, &new_aof);
        same(&server, "rewrite", &keys, &rewritten);
        assert_eq!(rewritten.digest().expect("digest"), digest, "{server}: DEBUG DIGEST after the rewrite");
        drop(rewritten);

        let rdb = aof.parent().expect("parent").join("converted.rdb");
        let out = rdbkit(&["convert", "--to", "rdb", path_str(&aof), "-o", path_str(&rdb), "--target", &target]);
        assert_eq!(out.status.code(), Some(0), "{server}: convert --to rdb: {}", describe(&out));
        let from_rdb = ServerGuard::start_with_rdb(&server, &rdb).expect("load the RDB");
        same(&server, "convert --to rdb", &keys, &from_rdb);
        assert_eq!(from_rdb.digest().expect("digest"), digest, "{server}: DEBUG DIGEST of convert --to rdb");
    }
}
