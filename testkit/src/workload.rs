//! A randomized write workload for AOF tests: overwrites, deletes, expiries, counters,
//! every collection type with its edit commands, streams with consumer groups, hash
//! field TTLs, transactions, scripts and functions, geo searches and SORT that STORE, and
//! the newer servers' commands, with a `BGREWRITEAOF` half way.
//!
//! The same seed gives the same commands. Every TTL is far in the future (or in the
//! past, which deletes the key at once), so nothing expires while a test runs; on
//! servers without `PEXPIRETIME` (before 7.0) only absolute times are used and recorded
//! in the returned [`ExpiryLog`].

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use redis::{Connection, Value};

use crate::expiry::ExpiryLog;
use crate::features::Features;
use crate::rng::Rng;

mod newer;

/// A far-future absolute time in ms (year 2100 and later).
const FAR_MS: i64 = 4_102_444_800_000;

/// A Lua library for FCALL (7.0+).
pub const LIBRARY: &str = "#!lua name=wlib\nredis.register_function('wset', function(keys, args) \
redis.call('SET', keys[1], args[1]) return redis.call('INCR', keys[2]) end)";

/// Options of [`run`].
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Seed of the command stream.
    pub seed: u64,
    /// Rounds per phase (each round is a few dozen commands).
    pub rounds: usize,
    /// Run `BGREWRITEAOF` between the two phases.
    pub rewrite_midway: bool,
    /// Sleep a little over a second this many times in phase 2 (new `#TS:` marks).
    pub clock_ticks: usize,
}

impl Default for Workload {
    fn default() -> Self {
        Workload { seed: 1, rounds: 60, rewrite_midway: true, clock_ticks: 0 }
    }
}

fn cmd(conn: &mut Connection, args: &[&str]) -> Result<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query::<Value>(conn).with_context(|| format!("{args:?}"))
}

struct Gen<'a> {
    conn: &'a mut Connection,
    f: Features,
    r: Rng,
    expiries: ExpiryLog,
    db: u32,
}

impl Gen<'_> {
    fn select(&mut self, db: u32) -> Result<()> {
        cmd(self.conn, &["SELECT", &db.to_string()])?;
        self.db = db;
        Ok(())
    }

    fn far(&mut self) -> i64 {
        FAR_MS + self.r.range(0, 1_000_000_000)
    }

    fn pexpireat(&mut self, key: &str) -> Result<()> {
        let t = self.far();
        cmd(self.conn, &["PEXPIREAT", key, &t.to_string()])?;
        self.expiries.record(self.db, key.as_bytes(), t);
        Ok(())
    }

    fn strings(&mut self, i: usize) -> Result<()> {
        let k = format!("s:{}", self.r.below(40));
        let v = format!("v{i}:{}", self.r.below(1_000_000));
        cmd(self.conn, &["SET", &k, &v])?;
        cmd(self.conn, &["INCR", "s:counter"])?;
        cmd(self.conn, &["INCRBY", "s:counter", &self.r.range(-50, 50).to_string()])?;
        cmd(self.conn, &["DECR", "s:counter2"])?;
        cmd(self.conn, &["INCRBYFLOAT", "s:float", "0.1"])?;
        cmd(self.conn, &["APPEND", "s:append", &format!("+{i}")])?;
        cmd(self.conn, &["SETRANGE", "s:range", &self.r.below(30).to_string(), "xyz"])?;
        cmd(self.conn, &["SETBIT", "s:bits", &self.r.below(500).to_string(), &self.r.below(2).to_string()])?;
        cmd(self.conn, &["GETSET", "s:getset", &v])?;
        cmd(self.conn, &["MSET", "s:m1", &v, "s:m2", &k])?;
        cmd(self.conn, &["SETNX", &format!("s:nx:{}", self.r.below(10)), "first"])?;
        cmd(
            self.conn,
            &["BITFIELD", "s:bitfield", "SET", "u8", "#1", &self.r.below(256).to_string(), "INCRBY", "i5", "100", "3"],
        )?;
        if self.f.v70() {
            cmd(self.conn, &["SET", &format!("s:ex:{}", self.r.below(5)), &v, "EX", "100000000"])?;
            cmd(self.conn, &["SET", &k, "kept", "KEEPTTL"])?;
            cmd(self.conn, &["GETEX", &format!("s:ex:{}", self.r.below(5)), "PX", "200000000000"])?;
            cmd(self.conn, &["SETEX", "s:setex", "100000000", &v])?;
        } else {
            let key = format!("s:ex:{}", self.r.below(5));
            cmd(self.conn, &["SET", &key, &v])?;
            self.pexpireat(&key)?;
        }
        if self.f.stream_62() {
            cmd(self.conn, &["GETDEL", &format!("s:{}", self.r.below(40))])?;
        }
        Ok(())
    }

    fn keyspace(&mut self, i: usize) -> Result<()> {
        let k = format!("s:{}", self.r.below(40));
        match self.r.below(8) {
            0 => drop(cmd(self.conn, &["DEL", &k, "missing"])?),
            1 => drop(cmd(self.conn, &["UNLINK", &k])?),
            2 => self.pexpireat(&k)?,
            3 => {
                cmd(self.conn, &["PERSIST", &k])?;
            }
            4 => {
                cmd(self.conn, &["SET", "k:from", "x"])?;
                cmd(self.conn, &["RENAME", "k:from", &format!("k:to:{}", self.r.below(5))])?;
                cmd(self.conn, &["RENAMENX", "s:m1", "s:m1:renamed"])?;
            }
            5 => {
                cmd(self.conn, &["SET", "k:mv", &i.to_string()])?;
                cmd(self.conn, &["MOVE", "k:mv", "1"])?;
            }
            6 if self.f.stream_62() => {
                cmd(self.conn, &["COPY", "l:0", "k:copy", "REPLACE"])?;
                cmd(self.conn, &["COPY", "h:0", "k:copy:db2", "DB", "2", "REPLACE"])?;
            }
            _ => {
                cmd(self.conn, &["SET", "k:gone", "x"])?;
                cmd(self.conn, &["PEXPIREAT", "k:gone", "1000"])?;
            }
        }
        if i.is_multiple_of(10) {
            self.select(3)?;
            cmd(self.conn, &["SET", "tmp", "x"])?;
            cmd(self.conn, &["FLUSHDB"])?;
            self.select(4)?;
            cmd(self.conn, &["SET", &format!("swap:{i}"), "x"])?;
            cmd(self.conn, &["SWAPDB", "4", "5"])?;
            self.select(0)?;
        }
        if self.f.v70() && i.is_multiple_of(3) {
            cmd(self.conn, &["EXPIRE", &format!("s:{}", self.r.below(40)), "100000000", "NX"])?;
        }
        Ok(())
    }

    fn lists(&mut self, i: usize) -> Result<()> {
        let k = format!("l:{}", self.r.below(3));
        let items: Vec<String> = (0..self.r.below(6) + 1).map(|j| format!("e{i}.{j}")).collect();
        let mut args = vec!["RPUSH", &k];
        args.extend(items.iter().map(String::as_str));
        cmd(self.conn, &args)?;
        cmd(self.conn, &["LPUSH", &k, &format!("head{i}")])?;
        cmd(self.conn, &["LPUSHX", &k, "px"])?;
        cmd(self.conn, &["LINSERT", &k, "BEFORE", "px", "ins"])?;
        cmd(self.conn, &["LSET", &k, "0", &format!("set{i}")])?;
        cmd(self.conn, &["LREM", &k, "1", "ins"])?;
        cmd(self.conn, &["LTRIM", &k, "0", "40"])?;
        cmd(self.conn, &["RPOP", &k])?;
        cmd(self.conn, &["RPOPLPUSH", &k, "l:dst"])?;
        if self.f.stream_62() {
            cmd(self.conn, &["LPOP", &k, "2"])?;
            cmd(self.conn, &["LMOVE", "l:dst", &k, "LEFT", "RIGHT"])?;
            cmd(self.conn, &["BLMOVE", &k, "l:dst", "RIGHT", "LEFT", "0.01"])?;
        }
        cmd(self.conn, &["BLPOP", "l:missing", &k, "0.01"])?;
        Ok(())
    }

    fn sets(&mut self, i: usize) -> Result<()> {
        let k = format!("set:{}", self.r.below(3));
        cmd(
            self.conn,
            &["SADD", &k, &self.r.below(30).to_string(), &format!("m{}", self.r.below(30)), &i.to_string()],
        )?;
        cmd(self.conn, &["SREM", &k, &self.r.below(30).to_string()])?;
        cmd(self.conn, &["SMOVE", &k, "set:dst", &format!("m{}", self.r.below(30))])?;
        cmd(self.conn, &["SPOP", &k])?;
        cmd(self.conn, &["SINTERSTORE", "set:inter", "set:0", "set:1"])?;
        cmd(self.conn, &["SUNIONSTORE", "set:union", "set:1", "set:2"])?;
        cmd(self.conn, &["SDIFFSTORE", "set:diff", "set:0", "set:2"])?;
        if i.is_multiple_of(5) {
            cmd(self.conn, &["SPOP", &k, "2"])?;
        }
        Ok(())
    }

    fn zsets(&mut self, i: usize) -> Result<()> {
        let k = format!("z:{}", self.r.below(3));
        let s = self.r.range(-100, 100).to_string();
        cmd(self.conn, &["ZADD", &k, &s, &format!("m{}", self.r.below(30)), "1.5", &format!("i{i}")])?;
        cmd(self.conn, &["ZADD", &k, "XX", "CH", "2.5", &format!("m{}", self.r.below(30))])?;
        cmd(self.conn, &["ZADD", &k, "NX", "INCR", "3", &format!("m{}", self.r.below(30))])?;
        cmd(self.conn, &["ZINCRBY", &k, "0.25", &format!("m{}", self.r.below(30))])?;
        cmd(self.conn, &["ZREM", &k, &format!("m{}", self.r.below(30))])?;
        if i.is_multiple_of(4) {
            cmd(self.conn, &["ZREMRANGEBYRANK", &k, "0", "0"])?;
            cmd(self.conn, &["ZREMRANGEBYSCORE", &k, "-100", "-90"])?;
            cmd(self.conn, &["ZREMRANGEBYLEX", "z:lex", "[a", "[c"])?;
            cmd(self.conn, &["ZPOPMIN", &k])?;
            cmd(self.conn, &["ZPOPMAX", &k, "2"])?;
        }
        cmd(self.conn, &["ZADD", "z:lex", "0", &format!("{}", (b'a' + self.r.below(6) as u8) as char)])?;
        cmd(self.conn, &["ZUNIONSTORE", "z:union", "2", "z:0", "z:1", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"])?;
        cmd(self.conn, &["ZINTERSTORE", "z:inter", "2", "z:1", "z:2"])?;
        if self.f.stream_62() {
            cmd(self.conn, &["ZADD", &k, "GT", "50", &format!("m{}", self.r.below(30))])?;
            cmd(self.conn, &["ZDIFFSTORE", "z:diff", "2", "z:0", "z:2"])?;
            cmd(self.conn, &["ZRANGESTORE", "z:range", &k, "0", "5"])?;
            cmd(self.conn, &["ZRANGESTORE", "z:range2", &k, "(0", "+inf", "BYSCORE", "LIMIT", "1", "3"])?;
        }
        Ok(())
    }

    fn hashes(&mut self, i: usize) -> Result<()> {
        let k = format!("h:{}", self.r.below(3));
        let f = format!("f{}", self.r.below(20));
        cmd(self.conn, &["HSET", &k, &f, &i.to_string(), "g", "x"])?;
        cmd(self.conn, &["HSETNX", &k, &format!("f{}", self.r.below(20)), "nx"])?;
        cmd(self.conn, &["HDEL", &k, &format!("f{}", self.r.below(20))])?;
        cmd(self.conn, &["HINCRBY", &k, "count", "3"])?;
        cmd(self.conn, &["HINCRBYFLOAT", &k, "float", "1.25"])?;
        cmd(self.conn, &["HMSET", "h:m", "a", &i.to_string(), "b", "2"])?;
        if self.f.hash_field_ttl() {
            let t = self.far().to_string();
            cmd(self.conn, &["HSET", "h:ttl", &f, "v", "keep", "k"])?;
            cmd(self.conn, &["HPEXPIREAT", "h:ttl", &t, "FIELDS", "1", &f])?;
            cmd(self.conn, &["HEXPIRE", "h:ttl", "100000000", "FIELDS", "2", "keep", "missing"])?;
            if i.is_multiple_of(3) {
                cmd(self.conn, &["HPERSIST", "h:ttl", "FIELDS", "1", "keep"])?;
            }
            if self.hgetex() {
                cmd(self.conn, &["HSETEX", "h:ttl2", "PX", "200000000000", "FIELDS", "1", &f, "v"])?;
                cmd(self.conn, &["HGETEX", "h:ttl2", "PERSIST", "FIELDS", "1", &format!("f{}", self.r.below(20))])?;
            }
        }
        Ok(())
    }

    /// HSETEX / HGETEX: Redis 8.0+, Valkey 9.0+.
    fn hgetex(&self) -> bool {
        match self.f.flavor {
            crate::servers::Flavor::Redis => self.f.version >= (8, 0, 0),
            crate::servers::Flavor::Valkey => self.f.version >= (9, 0, 0),
        }
    }

    fn streams(&mut self, i: usize) -> Result<()> {
        let f = i.to_string();
        cmd(self.conn, &["XADD", "x:main", "*", "i", &f, "p", "v"])?;
        cmd(self.conn, &["XADD", "x:capped", "MAXLEN", "10", "*", "i", &f])?;
        if i == 0 {
            cmd(self.conn, &["XGROUP", "CREATE", "x:main", "g1", "0"])?;
            cmd(self.conn, &["XGROUP", "CREATE", "x:main", "g2", "$"])?;
        }
        let consumer = format!("c{}", self.r.below(3));
        cmd(self.conn, &["XREADGROUP", "GROUP", "g1", &consumer, "COUNT", "2", "STREAMS", "x:main", ">"])?;
        if i.is_multiple_of(3) {
            cmd(self.conn, &["XCLAIM", "x:main", "g1", "claimer", "0", "0-1", "RETRYCOUNT", "2"])?;
            cmd(self.conn, &["XTRIM", "x:capped", "MAXLEN", "5"])?;
        }
        if i % 5 == 4 {
            cmd(self.conn, &["XGROUP", "SETID", "x:main", "g2", "0"])?;
            cmd(self.conn, &["XREADGROUP", "GROUP", "g2", "c9", "COUNT", "1", "STREAMS", "x:main", ">"])?;
        }
        if self.f.stream_62() && i.is_multiple_of(4) {
            cmd(self.conn, &["XAUTOCLAIM", "x:main", "g1", "auto", "0", "0", "COUNT", "2"])?;
            cmd(self.conn, &["XGROUP", "CREATECONSUMER", "x:main", "g1", &format!("idle{i}")])?;
        }
        if i % 6 == 5 {
            cmd(self.conn, &["XGROUP", "DELCONSUMER", "x:main", "g1", &format!("c{}", self.r.below(3))])?;
        }
        Ok(())
    }

    fn transactions_and_scripts(&mut self, i: usize) -> Result<()> {
        if i.is_multiple_of(4) {
            cmd(self.conn, &["MULTI"])?;
            cmd(self.conn, &["SET", "tx:a", &i.to_string()])?;
            cmd(self.conn, &["INCR", "tx:n"])?;
            cmd(self.conn, &["LPUSH", "tx:l", &i.to_string()])?;
            cmd(self.conn, &["EXEC"])?;
        }
        if i.is_multiple_of(5) {
            cmd(
                self.conn,
                &[
                    "EVAL",
                    "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])",
                    "2",
                    "lua:a",
                    "lua:n",
                    &i.to_string(),
                ],
            )?;
        }
        if self.f.functions() && i % 5 == 2 {
            cmd(self.conn, &["FCALL", "wset", "2", "fn:a", "fn:n", &i.to_string()])?;
        }
        Ok(())
    }

    fn round(&mut self, i: usize) -> Result<()> {
        self.strings(i)?;
        self.keyspace(i)?;
        self.lists(i)?;
        self.sets(i)?;
        self.zsets(i)?;
        self.hashes(i)?;
        self.streams(i)?;
        self.transactions_and_scripts(i)?;
        self.newer(i)?;
        if i.is_multiple_of(9) {
            self.select(1)?;
            cmd(self.conn, &["SET", &format!("db1:{}", self.r.below(5)), &i.to_string()])?;
            cmd(self.conn, &["INCR", "db1:n"])?;
            self.select(0)?;
        }
        Ok(())
    }
}

/// Waits until no rewrite is running or scheduled.
pub fn wait_rewrite(conn: &mut Connection) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(conn)?;
        let busy = info.lines().any(|l| {
            matches!(l.trim(), "aof_rewrite_in_progress:1" | "aof_rewrite_scheduled:1" | "rdb_bgsave_in_progress:1")
        });
        if !busy {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("BGREWRITEAOF did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the workload on a server started with `--appendonly yes`; returns the absolute
/// expiries it set (all of them on servers before 7.0).
pub fn run(conn: &mut Connection, features: Features, w: &Workload) -> Result<ExpiryLog> {
    let mut g = Gen { conn, f: features, r: Rng::new(w.seed, "aof-workload"), expiries: ExpiryLog::new(), db: 0 };
    if features.functions() {
        cmd(g.conn, &["FUNCTION", "LOAD", "REPLACE", LIBRARY])?;
        cmd(
            g.conn,
            &["FUNCTION", "LOAD", "#!lua name=gone\nredis.register_function('gone', function() return 1 end)"],
        )?;
    }
    for i in 0..w.rounds {
        g.round(i)?;
    }
    if w.rewrite_midway {
        cmd(g.conn, &["BGREWRITEAOF"])?;
        wait_rewrite(g.conn)?;
    }
    if features.functions() {
        cmd(g.conn, &["FUNCTION", "DELETE", "gone"])?;
    }
    for i in w.rounds..2 * w.rounds {
        if w.clock_ticks > 0 && (i - w.rounds).is_multiple_of((w.rounds / w.clock_ticks).max(1)) {
            std::thread::sleep(Duration::from_millis(1100));
        }
        g.round(i)?;
    }
    Ok(g.expiries)
}
