//! Keys in dbs 1 and 5, the `fill:` keys, and function libraries.

use anyhow::Result;

use super::content::prose;
use super::filler::Filler;

/// Number of `fill:` keys.
const FILL_KEYS: usize = 60;

const LIB_READ: &str = "#!lua name=rdbkit_read\n\
redis.register_function{function_name='rdbkit_strlen', callback=function(keys, args) \
return redis.call('STRLEN', keys[1]) end, flags={'no-writes'}}\n\
redis.register_function('rdbkit_echo', function(keys, args) return args[1] end)\n";

const LIB_WRITE: &str = "#!lua name=rdbkit_write\n\
redis.register_function('rdbkit_bump', function(keys, args) \
return redis.call('INCRBY', keys[1], args[1] or 1) end)\n";

pub(super) fn build_other_dbs(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("other-dbs");

    f.select(1)?;
    f.run(redis::cmd("SET").arg("str:shared").arg("db 1's value"))?;
    for i in 0..6 {
        f.run(redis::cmd("SET").arg(format!("str:db1:{i}")).arg(format!("value {i}")))?;
    }
    f.run(redis::cmd("RPUSH").arg("list:db1").arg(&["a", "b", "c"]))?;
    f.run(redis::cmd("SADD").arg("set:db1").arg(&["1", "2", "three"]))?;
    f.run(redis::cmd("ZADD").arg("zset:db1").arg(1).arg("a").arg(2).arg("b"))?;
    f.run(redis::cmd("HSET").arg("hash:db1").arg("f").arg("v").arg(b"\xff").arg(b"\xff"))?;
    f.run(redis::cmd("XADD").arg("stream:db1").arg("10-1").arg("f").arg("v"))?;
    f.run(redis::cmd("SET").arg("ttl:db1").arg("expiring in db 1"))?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:db1", at)?;

    f.select(5)?;
    f.run(redis::cmd("SET").arg("str:shared").arg("db 5's value"))?;
    f.run(redis::cmd("HSET").arg("hash:db5").arg("k").arg("v"))?;
    f.run(redis::cmd("SADD").arg("set:db5").arg(&["5", "50", "500"]))?;
    f.run(redis::cmd("XADD").arg("stream:db5").arg("1-1").arg("f").arg("v"))?;
    f.run(redis::cmd("XGROUP").arg("CREATE").arg("stream:db5").arg("g").arg("0"))?;
    f.run(redis::cmd("XREADGROUP").arg("GROUP").arg("g").arg("c1").arg("STREAMS").arg("stream:db5").arg(">"))?;
    f.run(redis::cmd("RPUSH").arg("list:db5").arg("x"))?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("list:db5", at)?;

    f.select(0)
}

/// Small keys of rotating types; every fourth one expires.
pub(super) fn build_fill(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("fill");
    for i in 0..FILL_KEYS {
        let key = format!("fill:{i:03}");
        let n = rng.len(3, 25);
        let mut cmd;
        match i % 5 {
            0 => {
                cmd = redis::cmd("SET");
                cmd.arg(&key).arg(prose(rng.len(5, 180), &format!("fill{i}")));
            }
            1 => {
                cmd = redis::cmd("RPUSH");
                cmd.arg(&key);
                for _ in 0..n {
                    let len = rng.len(1, 16);
                    cmd.arg(rng.alnum(len));
                }
            }
            2 => {
                cmd = redis::cmd("SADD");
                cmd.arg(&key);
                for _ in 0..n {
                    if i % 2 == 1 {
                        cmd.arg(rng.below(1_000_000));
                    } else {
                        cmd.arg(rng.alnum(8));
                    }
                }
            }
            3 => {
                cmd = redis::cmd("ZADD");
                cmd.arg(&key);
                for _ in 0..n {
                    cmd.arg(rng.below(1000)).arg(rng.alnum(6));
                }
            }
            _ => {
                cmd = redis::cmd("HSET");
                cmd.arg(&key);
                for j in 0..n {
                    let len = rng.len(0, 16);
                    cmd.arg(format!("f{j}")).arg(rng.alnum(len));
                }
            }
        }
        f.run(&cmd)?;
        if i % 4 == 0 {
            let at = Filler::far_future(&mut rng);
            f.expire_at(&key, at)?;
        }
    }
    Ok(())
}

pub(super) fn build_functions(f: &mut Filler) -> Result<()> {
    if f.feat.functions() {
        f.load_function("rdbkit_read", LIB_READ)?;
        f.load_function("rdbkit_write", LIB_WRITE)?;
    }
    Ok(())
}
