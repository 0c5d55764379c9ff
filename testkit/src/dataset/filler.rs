//! The state shared by the dataset builders: connection, current db,
//! random streams, recorded expiries and config to restore.

use anyhow::{bail, Context, Result};
use redis::{Cmd, Connection, Value};

use super::{Dataset, FunctionLib};
use crate::expiry::ExpiryLog;
use crate::features::Features;
use crate::record::show_bytes;
use crate::rng::Rng;

/// 2100-01-01T00:00:00Z in Unix milliseconds.
const FAR_FUTURE_START_MS: i64 = 4_102_444_800_000;
/// 2200-01-01T00:00:00Z. Kept well below the year-4199 cap Redis 7.4 puts
/// on hash field TTLs.
const FAR_FUTURE_END_MS: i64 = 7_258_118_400_000;

pub(super) struct Filler<'a> {
    conn: &'a mut Connection,
    pub(super) feat: Features,
    seed: u64,
    db: u32,
    expiries: ExpiryLog,
    functions: Vec<FunctionLib>,
    /// `(name, original value)` of every config changed with `config_set`.
    saved_config: Vec<(String, String)>,
}

impl<'a> Filler<'a> {
    pub(super) fn new(conn: &'a mut Connection, feat: Features, seed: u64) -> Self {
        Filler { conn, feat, seed, db: 0, expiries: ExpiryLog::new(), functions: Vec::new(), saved_config: Vec::new() }
    }

    pub(super) fn finish(self) -> Dataset {
        Dataset { features: self.feat, expiries: self.expiries, functions: self.functions }
    }

    /// The random stream for one part of the dataset.
    pub(super) fn rng(&self, label: &str) -> Rng {
        Rng::new(self.seed, label)
    }

    /// A random absolute time between 2100 and 2200.
    pub(super) fn far_future(rng: &mut Rng) -> i64 {
        rng.range(FAR_FUTURE_START_MS, FAR_FUTURE_END_MS)
    }

    pub(super) fn select(&mut self, db: u32) -> Result<()> {
        crate::live::select(self.conn, db)?;
        self.db = db;
        Ok(())
    }

    /// Run one command in the current db; errors name the command and key.
    pub(super) fn run(&mut self, cmd: &Cmd) -> Result<Value> {
        cmd.query::<Value>(self.conn).with_context(|| format!("db {}: {}", self.db, describe(cmd)))
    }

    /// `PEXPIREAT key at_ms` in the current db, remembered for readers
    /// without `PEXPIRETIME`.
    pub(super) fn expire_at(&mut self, key: impl AsRef<[u8]>, at_ms: i64) -> Result<()> {
        let key = key.as_ref();
        let set = self.run(redis::cmd("PEXPIREAT").arg(key).arg(at_ms))?;
        if set != Value::Int(1) {
            bail!("PEXPIREAT {} did not set a TTL ({set:?})", show_bytes(key));
        }
        self.expiries.record(self.db, key, at_ms);
        Ok(())
    }

    /// `CONFIG SET`, remembering the first original value for
    /// [`Self::restore_config`].
    pub(super) fn config_set(&mut self, name: &str, value: &str) -> Result<()> {
        if !self.saved_config.iter().any(|(n, _)| n == name) {
            let (_, old): (String, String) = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query(self.conn)
                .with_context(|| format!("CONFIG GET {name}"))?;
            self.saved_config.push((name.to_owned(), old));
        }
        self.run(redis::cmd("CONFIG").arg("SET").arg(name).arg(value))?;
        Ok(())
    }

    /// Put back every config value changed by [`Self::config_set`].
    pub(super) fn restore_config(&mut self) -> Result<()> {
        for (name, value) in std::mem::take(&mut self.saved_config) {
            redis::cmd("CONFIG")
                .arg("SET")
                .arg(&name)
                .arg(&value)
                .query::<()>(self.conn)
                .with_context(|| format!("restoring config {name} to {value:?}"))?;
        }
        Ok(())
    }

    /// `FUNCTION LOAD code` and remember the library.
    pub(super) fn load_function(&mut self, name: &str, code: &str) -> Result<()> {
        self.run(redis::cmd("FUNCTION").arg("LOAD").arg(code))?;
        self.functions.push(FunctionLib { name: name.to_owned(), code: code.to_owned() });
        Ok(())
    }
}

/// `NAME first-arg` of a command, for error messages.
fn describe(cmd: &Cmd) -> String {
    let parts: Vec<String> = cmd
        .args_iter()
        .take(3)
        .enumerate()
        .map(|(i, a)| match a {
            redis::Arg::Simple(b) if i == 0 => String::from_utf8_lossy(b).into_owned(),
            redis::Arg::Simple(b) => show_bytes(b),
            _ => "<cursor>".to_owned(),
        })
        .collect();
    parts.join(" ")
}
