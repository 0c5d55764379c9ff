//! Real-server test harness and fixture generator for rdbkit.
//!
//! Integration tests run against real `redis-server` / `valkey-server`
//! binaries, never mocks. This crate finds those binaries
//! ([`servers`]), runs them in throw-away directories ([`ServerGuard`]),
//! fills them with a deterministic dataset that covers every type and
//! encoding a version supports ([`dataset`]), reads a live server back into
//! NDJSON records ([`live`]), compares record sets ([`ndjson::compare`]) and
//! writes fixture directories ([`fixture`]).
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! for server in testkit::require_all()? {
//!     let guard = testkit::ServerGuard::start(&server)?;
//!     let mut conn = guard.conn()?;
//!     let data = testkit::dataset::fill(&mut conn, &server, 1)?;
//!     let expected = testkit::live::dump_live(&mut conn, &data.expiries)?;
//!     let rdb = guard.save()?;
//!     // ... run the parser on `rdb`, then:
//!     # let actual = expected.clone();
//!     testkit::ndjson::compare(&expected, &actual).map_err(anyhow::Error::msg)?;
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod cluster;
pub mod dataset;
pub mod expiry;
pub mod features;
pub mod fixture;
pub mod guard;
pub mod live;
pub mod ndjson;
pub mod record;
mod reply;
mod rng;
pub mod s3;
pub mod servers;
pub mod workload;

pub use expiry::ExpiryLog;
pub use features::Features;
pub use guard::{free_port, ServerGuard, StartOptions};
pub use s3::{require_s3s_fs, S3Server};
pub use servers::{available, redis_check_rdb, redis_cli, require, require_all, Flavor, ServerBin, EXPECTED_SERVERS};
