//! RESP for Redis and Valkey: frames, commands, server URLs and blocking connections.
//!
//! # Brief overview
//!
//! - [`Frame`] parses replies from bytes ([`ParseError::Incomplete`] until a whole
//!   frame is there; offsets where bytes stop being RESP);
//! - [`encode_command`] / [`Pipeline`] write commands as RESP arrays of bulk strings;
//! - [`ServerUrl`] reads `redis://` and `rediss://` URLs (percent-decoding, passwords
//!   never shown), [`resolve_password`] finds the password outside the command line;
//! - [`Connection`] is one blocking TCP or TLS connection with timeouts and AUTH,
//!   [`Link`] pipelines to a server or a whole cluster ([`ClusterLink`] follows MOVED
//!   and ASK);
//! - [`replication::start_snapshot`] takes a snapshot over the replication protocol
//!   (what `redis-cli --rdb` does), [`sentinel`] finds the node to take it from;
//! - [`request`] parses client requests (multibulk in place, inline commands split like
//!   the server splits them);
//! - [`rewrite`] turns an RDB visitor's keys into the commands a server's AOF rewrite
//!   would write.
#![deny(missing_docs)]

pub mod cluster;
mod conn;
mod encode;
mod error;
mod frame;
mod info;
mod link;
pub mod replication;
pub mod request;
pub mod rewrite;
pub mod sentinel;
mod tls;
mod url;

pub use cluster::{key_slot, ClusterLink, SlotRange};
pub use conn::{Call, ConnectOptions, Connection, DEFAULT_TIMEOUT};
pub use encode::{encode_command, write_command, Pipeline};
pub use error::{Error, Result};
pub use frame::{Frame, ParseError};
pub use info::{config_get, info, info_field, parse_version, ServerInfo};
pub use link::{Link, Outcome, Route, Sent};
pub use tls::TlsOptions;
pub use url::{address, redact, resolve_password, ServerUrl, DEFAULT_PORT};
