//! Backups of Redis and Valkey servers, and the engine that loads a dump back into one.
//!
//! # Brief overview
//!
//! - [`restore`]: pipelined `RESTORE` of an RDB file into a server or a cluster, with
//!   payloads re-encoded for the server's version and oversized values sent as
//!   ordinary commands.
#![deny(missing_docs)]

mod error;
pub mod restore;

pub use error::{Error, Result};
