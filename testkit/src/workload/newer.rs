//! Workload commands whose replay re-runs a server computation or that newer servers
//! added: geo searches that STORE, SORT ... STORE, BITOP's Redis 8.2 operations,
//! conditional SET / DELEX / MSETEX, XDELEX / XACKDEL and idempotent producers, each
//! where the server has it.

use anyhow::Result;

use super::{cmd, Gen};
use crate::servers::Flavor;

/// Geo points cluster around these (longitude, latitude): one per hemisphere corner.
const CENTRES: [(f64, f64); 3] = [(13.36, 38.11), (-58.38, -34.6), (179.9, 0.1)];

impl Gen<'_> {
    fn redis_at_least(&self, v: (u32, u32, u32)) -> bool {
        self.f.flavor == Flavor::Redis && self.f.version >= v
    }

    fn valkey_at_least(&self, v: (u32, u32, u32)) -> bool {
        self.f.flavor == Flavor::Valkey && self.f.version >= v
    }

    fn geo(&mut self, i: usize) -> Result<()> {
        let (long, lat) = CENTRES[i % CENTRES.len()];
        let point = |r: &mut crate::rng::Rng| {
            let long = (long + r.range(-20_000, 20_000) as f64 / 10_000.0).clamp(-180.0, 180.0);
            (format!("{long:.5}"), format!("{:.5}", lat + r.range(-10_000, 10_000) as f64 / 10_000.0))
        };
        // Distinct points: members at equal distances would tie where COUNT cuts, and
        // the server breaks such ties with its own partial quicksort.
        let (a, b, c) = (point(&mut self.r), point(&mut self.r), point(&mut self.r));
        let m = format!("g{}", self.r.below(60));
        cmd(self.conn, &["GEOADD", "geo:w", &a.0, &a.1, &m, &b.0, &b.1, &format!("g{}", self.r.below(60))])?;
        cmd(self.conn, &["GEOADD", "geo:w", "XX", "CH", &c.0, &c.1, &m])?;
        let radius = ["15", "80", "300", "7000"][i % 4];
        let (lo, la) = (long.to_string(), lat.to_string());
        cmd(self.conn, &["GEORADIUS", "geo:w", &lo, &la, radius, "km", "STORE", "geo:s1"])?;
        cmd(self.conn, &["GEORADIUS", "geo:w", &lo, &la, radius, "mi", "DESC", "COUNT", "3", "STOREDIST", "geo:s2"])?;
        cmd(self.conn, &["GEORADIUSBYMEMBER", "geo:w", &m, radius, "km", "ASC", "STORE", "geo:s3"])?;
        if self.f.stream_62() {
            cmd(self.conn, &["GEOSEARCHSTORE", "geo:s4", "geo:w", "FROMMEMBER", &m, "BYBOX", radius, "120", "km"])?;
            cmd(
                self.conn,
                &[
                    "GEOSEARCHSTORE",
                    "geo:s5",
                    "geo:w",
                    "FROMLONLAT",
                    &lo,
                    &la,
                    "BYRADIUS",
                    radius,
                    "km",
                    "COUNT",
                    "2",
                    "ANY",
                ],
            )?;
        }
        Ok(())
    }

    fn sort(&mut self, i: usize) -> Result<()> {
        cmd(self.conn, &["RPUSH", "sort:n", &self.r.range(-500, 500).to_string(), &format!("{}.5", self.r.below(50))])?;
        cmd(self.conn, &["SET", &format!("sort:w_{}", self.r.below(20)), &self.r.below(100).to_string()])?;
        let limit = (i % 7).to_string();
        cmd(self.conn, &["SORT", "sort:n", "DESC", "LIMIT", &limit, "10", "STORE", "sort:o1"])?;
        cmd(self.conn, &["SORT", "l:0", "ALPHA", "STORE", "sort:o2"])?;
        cmd(self.conn, &["SORT", "set:0", "BY", "nosort", "GET", "#", "GET", "sort:w_*", "STORE", "sort:o3"])?;
        cmd(self.conn, &["SORT", "z:0", "BY", "nosort", "DESC", "LIMIT", "1", "4", "STORE", "sort:o4"])?;
        Ok(())
    }

    fn newer_strings(&mut self, i: usize) -> Result<()> {
        if self.redis_at_least((8, 2, 0)) {
            let op = ["DIFF", "DIFF1", "ANDOR", "ONE"][i % 4];
            cmd(self.conn, &["BITOP", op, &format!("bitop:{op}"), "s:bits", "s:range", "s:append"])?;
        }
        if self.redis_at_least((8, 4, 0)) || self.valkey_at_least((8, 1, 0)) {
            let k = format!("s:{}", self.r.below(40));
            cmd(self.conn, &["SET", &k, &format!("c{i}"), "IFEQ", &format!("v{}", self.r.below(3))])?;
        }
        if self.redis_at_least((8, 4, 0)) || self.valkey_at_least((9, 1, 0)) {
            let t = self.far().to_string();
            let (k1, k2) = (format!("mx:{}", self.r.below(4)), format!("mx:{}", self.r.below(4) + 4));
            let cond = ["NX", "XX"][i % 2];
            // Servers with MSETEX have PEXPIRETIME: the expiry is read back, not logged.
            cmd(self.conn, &["MSETEX", "2", &k1, "a", &k2, "b", cond, "PXAT", &t])?;
        }
        if self.redis_at_least((8, 4, 0)) {
            cmd(self.conn, &["DELEX", &format!("s:{}", self.r.below(40)), "IFNE", "kept"])?;
        }
        Ok(())
    }

    fn newer_streams(&mut self, i: usize) -> Result<()> {
        if self.f.stream_ref_policies() && i % 3 == 1 {
            let policy = ["KEEPREF", "DELREF", "ACKED"][i % 3];
            let first: Vec<redis::Value> =
                redis::cmd("XRANGE").arg("x:main").arg("-").arg("+").arg("COUNT").arg(2).query(self.conn)?;
            let ids: Vec<String> = first
                .iter()
                .filter_map(|e| match e {
                    redis::Value::Array(v) => match v.first() {
                        Some(redis::Value::BulkString(id)) => Some(String::from_utf8_lossy(id).into_owned()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            if let [a, b] = ids.as_slice() {
                cmd(self.conn, &["XACKDEL", "x:main", "g1", policy, "IDS", "1", a])?;
                cmd(self.conn, &["XDELEX", "x:main", policy, "IDS", "1", b])?;
            }
            cmd(self.conn, &["XADD", "x:capped", "MAXLEN", "4", policy, "*", "i", &i.to_string()])?;
        }
        if self.f.stream_idmp() {
            let p = format!("p{}", self.r.below(2));
            cmd(
                self.conn,
                &["XADD", "x:idmp", "IDMP", &p, &format!("i{}", self.r.below(6)), "*", "n", &i.to_string()],
            )?;
            cmd(self.conn, &["XADD", "x:idmp", "IDMPAUTO", &p, "*", "n", &self.r.below(4).to_string()])?;
            if i % 10 == 9 {
                cmd(self.conn, &["XCFGSET", "x:idmp", "IDMP-MAXSIZE", &(3 + self.r.below(3)).to_string()])?;
            }
        }
        Ok(())
    }

    /// One round of the commands above.
    pub(super) fn newer(&mut self, i: usize) -> Result<()> {
        self.geo(i)?;
        self.sort(i)?;
        self.newer_strings(i)?;
        self.newer_streams(i)
    }
}
