//! Backups of Redis and Valkey servers, and the engine that loads a dump back into one.
//!
//! # Brief overview
//!
//! The layering follows restic's:
//!
//! - [`backend`]: a small object store interface ([`backend::Backend`]: put, ranged get,
//!   stat, list, delete) with a local directory and an S3 implementation;
//! - [`repo`]: the repository on top of it: object names ([`repo::layout`]), manifests,
//!   locks; a backup is complete once its manifest exists, and the manifest is written
//!   last;
//! - [`source`] and [`run`]: a snapshot taken over the replication protocol (or read from
//!   files), verified while it streams (the RDB is parsed: structure, CRC-64, keys per
//!   database), compressed ([`compress`]), hashed and uploaded in bounded memory
//!   ([`produce`]);
//! - [`check`]: `verify` and `restore` read a backup back and compare every byte with
//!   its manifest;
//! - [`policy`] and [`prune`]: retention as a pure function, then a plan that a dry run
//!   shows and a real run carries out;
//! - [`schedule`] and [`job`]: cron schedules, jobs from flags or a TOML file;
//!   [`metrics`] writes a Prometheus textfile;
//! - [`restore`]: pipelined `RESTORE` of an RDB file into a server or a cluster, with
//!   payloads re-encoded for the server's version and oversized values sent as
//!   ordinary commands.
//!
//! Only the uploads and downloads are async (tokio); reading and checking dumps stays
//! synchronous, on blocking threads.
#![deny(missing_docs)]

pub mod backend;
pub mod check;
pub mod compress;
mod error;
pub mod facts;
pub mod job;
pub mod metrics;
pub mod policy;
pub mod produce;
pub mod progress;
pub mod prune;
pub mod repo;
pub mod restore;
pub mod run;
pub mod schedule;
pub mod source;

pub use error::{Error, Result};
