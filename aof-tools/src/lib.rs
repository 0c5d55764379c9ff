//! AOF tools for Redis and Valkey: RESP framing, single-file and multi-part AOFs.
//!
//! This crate is a placeholder until the AOF stage starts; the RDB side lives in
//! [`rdb_parser`].
#![deny(missing_docs)]
