//! What a server version can do, as far as the dataset and the reader care.

use anyhow::{bail, Context, Result};
use redis::Connection;

use crate::servers::{parse_version, Flavor};

/// Version-derived capabilities of one server.
///
/// Valkey forked from Redis 7.2.4, so every Valkey release has at least the
/// Redis 7.2 feature set; hash field TTLs arrived in Redis 7.4 and Valkey 9.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// `(major, minor, patch)`.
    pub version: (u32, u32, u32),
}

impl Features {
    /// Capabilities of `flavor` at `version`.
    pub fn new(flavor: Flavor, version: (u32, u32, u32)) -> Self {
        Features { flavor, version }
    }

    /// Read the flavor and version of the server behind `conn` (`INFO server`;
    /// Valkey reports `server_name:valkey` and `valkey_version`).
    pub fn detect(conn: &mut Connection) -> Result<Self> {
        let info: Vec<u8> = redis::cmd("INFO").arg("server").query(conn).context("INFO server")?;
        let info = String::from_utf8_lossy(&info);
        let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')).map(str::trim);
        let (flavor, version) = match field("server_name") {
            Some("valkey") => (Flavor::Valkey, field("valkey_version")),
            _ => (Flavor::Redis, field("redis_version")),
        };
        let Some(version) = version.and_then(parse_version) else {
            bail!("INFO server has no parseable version");
        };
        Ok(Features::new(flavor, version))
    }

    /// Check the version-derived gating against the commands the server
    /// actually has (`COMMAND INFO`), so that a wrong assumption about a new
    /// release fails loudly instead of silently leaving keys out.
    pub fn check_commands(&self, conn: &mut Connection) -> Result<()> {
        let probes = [
            ("PEXPIRETIME", self.pexpiretime()),
            ("FUNCTION", self.functions()),
            ("HPEXPIREAT", self.hash_field_ttl()),
            ("HPEXPIRETIME", self.hash_field_ttl()),
            ("HSETEX", self.hash_field_commands()),
            ("HGETDEL", self.hash_field_commands()),
            ("XDELEX", self.stream_ref_policies()),
            ("XCFGSET", self.stream_idmp()),
        ];
        for (name, expected) in probes {
            let reply: Vec<redis::Value> = redis::cmd("COMMAND")
                .arg("INFO")
                .arg(name)
                .query(conn)
                .with_context(|| format!("COMMAND INFO {name}"))?;
            let present = matches!(reply.first(), Some(v) if *v != redis::Value::Nil);
            if present != expected {
                bail!(
                    "{} {}.{}.{}: {name} is {} but the version table says it is {}",
                    self.flavor,
                    self.version.0,
                    self.version.1,
                    self.version.2,
                    if present { "available" } else { "missing" },
                    if expected { "available" } else { "missing" },
                );
            }
        }
        Ok(())
    }

    /// The Redis release whose features this server has.
    fn redis_equivalent(&self) -> (u32, u32, u32) {
        match self.flavor {
            Flavor::Redis => self.version,
            Flavor::Valkey => (7, 2, u32::MAX).max(self.version),
        }
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.redis_equivalent() >= (major, minor, 0)
    }

    /// `--enable-debug-command` exists (Redis 7.0+, Valkey); older servers
    /// refuse to start when given it.
    pub fn debug_command_flag(&self) -> bool {
        self.at_least(7, 0)
    }

    /// `XINFO STREAM key FULL` (6.0+).
    pub fn xinfo_full(&self) -> bool {
        self.at_least(6, 0)
    }

    /// `XGROUP CREATECONSUMER` and `XTRIM MINID` (6.2+).
    pub fn stream_62(&self) -> bool {
        self.at_least(6, 2)
    }

    /// Listpacks replace ziplists; `XSETID ENTRIESADDED/MAXDELETEDID`,
    /// `XGROUP CREATE ... ENTRIESREAD`, consumer group `entries-read`,
    /// plain quicklist nodes, `PEXPIRETIME`, functions (7.0+).
    pub fn v70(&self) -> bool {
        self.at_least(7, 0)
    }

    /// `PEXPIRETIME` (7.0+).
    pub fn pexpiretime(&self) -> bool {
        self.v70()
    }

    /// `FUNCTION LOAD` (7.0+).
    pub fn functions(&self) -> bool {
        self.v70()
    }

    /// Small sets of strings are listpacks (7.2+); before that they are
    /// hashtables (or intsets when all members are integers).
    pub fn set_listpack(&self) -> bool {
        self.at_least(7, 2)
    }

    /// Small lists are a plain listpack instead of a one-node quicklist (7.2+).
    pub fn list_listpack(&self) -> bool {
        self.at_least(7, 2)
    }

    /// Hash field TTLs (`HPEXPIREAT`, `HPEXPIRETIME`): Redis 7.4+, Valkey 9+.
    pub fn hash_field_ttl(&self) -> bool {
        match self.flavor {
            Flavor::Redis => self.version >= (7, 4, 0),
            Flavor::Valkey => self.version >= (9, 0, 0),
        }
    }

    /// The key is stored inside the value object (Redis 8.2+, Valkey 8.1+), which
    /// moves the `embstr` limit of strings.
    pub fn key_in_object(&self) -> bool {
        match self.flavor {
            Flavor::Redis => self.version >= (8, 2, 0),
            Flavor::Valkey => self.version >= (8, 1, 0),
        }
    }

    /// `HSETEX`, `HGETEX`, `HGETDEL`: Redis 8.0+, Valkey 9+.
    pub fn hash_field_commands(&self) -> bool {
        match self.flavor {
            Flavor::Redis => self.version >= (8, 0, 0),
            Flavor::Valkey => self.version >= (9, 0, 0),
        }
    }

    /// `XDELEX`, `XACKDEL` and the `KEEPREF`/`DELREF`/`ACKED` options (Redis 8.2+).
    pub fn stream_ref_policies(&self) -> bool {
        self.flavor == Flavor::Redis && self.version >= (8, 2, 0)
    }

    /// Idempotent stream producers (`XADD ... IDMP`, `XCFGSET`), saved as RDB 13
    /// stream type 26 (Redis 8.6+).
    pub fn stream_idmp(&self) -> bool {
        self.flavor == Flavor::Redis && self.version >= (8, 6, 0)
    }

    /// `CLUSTER ADDSLOTSRANGE` (Redis 7.0+, Valkey); used for the cluster fixture.
    pub fn cluster_addslotsrange(&self) -> bool {
        self.v70()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gating_by_version() {
        let r5 = Features::new(Flavor::Redis, (5, 0, 10));
        let r62 = Features::new(Flavor::Redis, (6, 2, 14));
        let r70 = Features::new(Flavor::Redis, (7, 0, 15));
        let r74 = Features::new(Flavor::Redis, (7, 4, 1));
        let v81 = Features::new(Flavor::Valkey, (8, 1, 8));
        let v91 = Features::new(Flavor::Valkey, (9, 1, 2));
        let r80 = Features::new(Flavor::Redis, (8, 0, 6));
        let r86 = Features::new(Flavor::Redis, (8, 6, 3));
        assert!(!r5.xinfo_full() && !r5.debug_command_flag() && !r5.stream_62());
        assert!(r62.stream_62() && !r62.v70());
        assert!(r70.v70() && r70.functions() && !r70.set_listpack());
        assert!(r74.hash_field_ttl() && r74.set_listpack());
        assert!(v81.set_listpack() && v81.functions() && !v81.hash_field_ttl());
        assert!(v91.hash_field_ttl() && v91.debug_command_flag());
        assert!(!r80.key_in_object() && r86.key_in_object() && v81.key_in_object());
        assert!(r80.hash_field_commands() && v91.hash_field_commands() && !r74.hash_field_commands());
        assert!(!r80.stream_ref_policies() && r86.stream_ref_policies() && !v91.stream_ref_policies());
        assert!(!r80.stream_idmp() && r86.stream_idmp() && !v91.stream_idmp());
    }
}
