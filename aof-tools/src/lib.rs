//! AOF tools for Redis and Valkey: read every AOF layout (single file, RDB preamble,
//! multi-part with a manifest), check and repair it like `redis-check-aof`, replay it
//! into a dataset, and write that dataset out (a compacted AOF, an RDB, records).
//!
//! # Brief overview
//!
//! - [`manifest`]: the manifest grammar of multi-part AOFs, read and written as servers do;
//! - [`layout`]: which files make up an AOF, from a directory, a manifest or one file;
//! - [`reader`]: a streaming reader of every part in load order (RDB bases through
//!   `rdb-parser`, RESP commands parsed in place), with the servers' torn-tail rule;
//! - [`check`]: the verdict and offsets of `redis-check-aof`; [`fix`] cuts a file safely;
//! - [`replay`]: every command a server logs, applied to a compact [`dataset::Dataset`];
//! - [`emit`] writes a dataset as records, an RDB or commands; [`rewrite`] writes a new
//!   AOF directory atomically.
#![deny(missing_docs)]

pub mod check;
pub mod dataset;
pub mod emit;
mod error;
pub mod fix;
pub mod layout;
pub mod manifest;
pub mod reader;
pub mod replay;
pub mod rewrite;

pub use error::{Error, Position, Result};
pub use layout::{Encoding, Layout, Part};
pub use manifest::{Manifest, ManifestEntry, PartKind};
pub use reader::{read_layout, Command, Handler, PartEnd, ReadOptions, TailPolicy, Truncation};
