//! The deterministic dataset every fixture and integration test uses.
//!
//! [`fill`] writes keys of every type and every encoding the server version
//! supports into dbs 0, 1 and 5. Content comes from the seed only, and every
//! TTL is an absolute time set with `PEXPIREAT` (recorded in
//! [`Dataset::expiries`]), so the same seed gives the same data on every run.
//! Key families by prefix:
//!
//! * `str:` strings (integer widths, number look-alikes, length boundaries
//!   for embstr / RDB length prefixes / LZF, a 100 KiB value, binary and
//!   UTF-8 content, HyperLogLogs, a bitmap, values built by INCR/APPEND/...),
//!   plus odd keys (empty, control bytes, invalid UTF-8, 700 bytes long);
//! * `list:`, `set:`, `zset:`, `hash:`, `stream:` one family per type (with
//!   `HSETEX`/`HGETEX`/`HGETDEL` on Redis 8+ and Valkey 9+, stream deletion
//!   policies on Redis 8.2+ and idempotent producers on Redis 8.6+);
//! * `ttl:` keys of each type with an expiry;
//! * `fill:` many small mixed keys, every fourth with an expiry;
//! * function libraries on 7.0+.
//!
//! The sub-modules hold one family each.

mod content;
mod filler;
mod hashes;
mod lists;
mod misc;
mod sets;
mod streams;
mod streams8;
mod strings;
mod zsets;

use anyhow::{bail, Context, Result};
use redis::Connection;

use crate::expiry::ExpiryLog;
use crate::features::Features;
use crate::servers::ServerBin;

use filler::Filler;

/// A Lua function library loaded by the dataset (7.0+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionLib {
    /// Library name.
    pub name: String,
    /// The code given to `FUNCTION LOAD`.
    pub code: String,
}

/// What [`fill`] wrote, beyond the keys themselves.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Capabilities the dataset was built for.
    pub features: Features,
    /// Absolute expiry of every key that has one.
    pub expiries: ExpiryLog,
    /// Function libraries loaded (empty before 7.0).
    pub functions: Vec<FunctionLib>,
}

/// Fill an empty server with the dataset for `server`'s version.
///
/// `conn` must be connected to a server running `server` (the version is
/// checked). Config values the dataset changes temporarily (list node size,
/// compression depth) are restored, and the connection is left on db 0.
pub fn fill(conn: &mut Connection, server: &ServerBin, seed: u64) -> Result<Dataset> {
    let features = server.features();
    let running = Features::detect(conn).with_context(|| format!("filling {server}"))?;
    if running != features {
        bail!(
            "filling {server}: the connection is to a {} {}.{}.{} server",
            running.flavor,
            running.version.0,
            running.version.1,
            running.version.2
        );
    }
    features.check_commands(conn).with_context(|| format!("filling {server}"))?;
    if !crate::live::nonempty_dbs(conn)?.is_empty() {
        bail!("filling {server}: the server is not empty");
    }
    let mut f = Filler::new(conn, features, seed);
    let result = build(&mut f);
    let restore = f.restore_config();
    result.and(restore).with_context(|| format!("filling {server}"))?;
    Ok(f.finish())
}

fn build(f: &mut Filler) -> Result<()> {
    f.select(0)?;
    strings::build(f).context("strings")?;
    lists::build(f).context("lists")?;
    sets::build(f).context("sets")?;
    zsets::build(f).context("sorted sets")?;
    hashes::build(f).context("hashes")?;
    streams::build(f).context("streams")?;
    streams8::build(f).context("Redis 8 stream features")?;
    misc::build_other_dbs(f).context("dbs 1 and 5")?;
    misc::build_fill(f).context("fill keys")?;
    misc::build_functions(f).context("functions")?;
    f.select(0)
}
