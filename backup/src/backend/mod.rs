//! Where backups are stored: a small object-store interface ([`Backend`]: put, ranged
//! get, stat, list, delete) and its implementations, a local directory ([`local`]) and
//! S3 or an S3-compatible server ([`s3`]).
//!
//! Backends only move bytes under `/`-separated names; what the names mean is
//! [`crate::repo::layout`]'s business. An object appears whole or not at all: a put
//! that fails or is aborted leaves nothing under its name.

pub mod local;
pub mod s3;

use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// One message of a put's body.
#[derive(Debug)]
pub enum Chunk {
    /// The next bytes (any size).
    Data(Bytes),
    /// The body is complete: the object may be created.
    End,
    /// The producer failed: the object must not be created.
    Abort(String),
}

/// The body of a put. Only [`Chunk::End`] completes an object: a channel that closes
/// without it (a producer that crashed) aborts the put like [`Chunk::Abort`].
pub type Chunks = mpsc::Receiver<Chunk>;

/// The sending side of [`Chunks`].
pub type ChunkSender = mpsc::Sender<Chunk>;

/// The next data chunk of a body: `None` at its end, an error when it was aborted.
pub async fn next_chunk(body: &mut Chunks) -> std::result::Result<Option<Bytes>, String> {
    match body.recv().await {
        Some(Chunk::Data(b)) => Ok(Some(b)),
        Some(Chunk::End) => Ok(None),
        Some(Chunk::Abort(why)) => Err(format!("aborted: {why}")),
        None => Err("aborted: the producer stopped without finishing".into()),
    }
}

/// An object's content being read.
pub type ObjectReader = Pin<Box<dyn AsyncRead + Send>>;

/// Chunks queued between a producer and a put; with [`CHUNK_BYTES`] chunks this bounds
/// the memory between them.
pub const CHUNK_QUEUE: usize = 8;
/// Size of the chunks producers send.
pub const CHUNK_BYTES: usize = 1 << 20;

/// An upload that was started and neither completed nor aborted (a run killed in the
/// middle of an S3 multipart upload). It holds storage but is no object: `list` never
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The object name it would have created.
    pub name: String,
    /// The store's ID of the upload.
    pub upload_id: String,
    /// When it was started, when the store says.
    pub started: Option<DateTime<Utc>>,
}

/// What a listing or a stat says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Name relative to the repository root.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, when the store says.
    pub modified: Option<DateTime<Utc>>,
}

/// Hints for a put.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    /// Expected size, when known: S3 picks a part size that keeps under 10,000 parts.
    pub size_hint: Option<u64>,
}

/// An object store.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Where it is, for messages (`file:///backups`, `s3://bucket/prefix`).
    fn location(&self) -> String;
    /// Stores `name` from `body`; returns the bytes stored. The object appears only once
    /// the body has ended with [`Chunk::End`] and every byte is stored.
    async fn put(&self, name: &str, body: Chunks, options: PutOptions) -> Result<u64>;
    /// Reads `name` (or the byte range of it). A missing object is [`Error::Missing`].
    async fn get(&self, name: &str, range: Option<Range<u64>>) -> Result<ObjectReader>;
    /// Size and time of `name`, `None` when it does not exist.
    async fn stat(&self, name: &str) -> Result<Option<ObjectInfo>>;
    /// Every object whose name starts with `prefix`, sorted by name.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;
    /// Removes `name`; removing a missing object is not an error.
    async fn delete(&self, name: &str) -> Result<()>;
    /// Uploads left unfinished under the repository (none for stores without them).
    async fn unfinished(&self) -> Result<Vec<Unfinished>> {
        Ok(Vec::new())
    }
    /// Discards an upload [`Backend::unfinished`] listed.
    async fn discard(&self, upload: &Unfinished) -> Result<()> {
        let _ = upload;
        Ok(())
    }
}

/// A shared backend.
pub type SharedBackend = Arc<dyn Backend>;

/// Stores a small object held in memory.
pub async fn put_bytes(backend: &dyn Backend, name: &str, data: Vec<u8>) -> Result<u64> {
    let (tx, rx) = mpsc::channel(2);
    let size = data.len() as u64;
    // The channel has room for both messages, so this never waits.
    let _ = tx.try_send(Chunk::Data(Bytes::from(data)));
    let _ = tx.try_send(Chunk::End);
    drop(tx);
    backend.put(name, rx, PutOptions { size_hint: Some(size) }).await
}

/// Reads a whole (small) object into memory.
pub async fn get_bytes(backend: &dyn Backend, name: &str) -> Result<Vec<u8>> {
    let mut reader = backend.get(name, None).await?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.map_err(|e| Error::storage(&backend.location(), "get", name, e))?;
    Ok(out)
}

/// Checks an object name: relative, `/`-separated, no empty, `.` or `..` parts.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
        && !name.contains('\\');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid object name {name:?}")))
    }
}

/// Where a repository lives, from `--repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoLocation {
    /// A local directory (a plain path or `file:///path`).
    Local(std::path::PathBuf),
    /// `s3://bucket/prefix`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix inside it (no leading or trailing `/`; may be empty).
        prefix: String,
    },
}

impl RepoLocation {
    /// Parses `--repo`: `s3://bucket[/prefix]`, `file:///path` or a path.
    pub fn parse(s: &str) -> Result<RepoLocation> {
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Usage(format!("{s}: no bucket name (s3://BUCKET/PREFIX)")));
            }
            return Ok(RepoLocation::S3 { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() });
        }
        if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(Error::Usage(format!("{s}: a file:// URL needs an absolute path (file:///backups)")));
            }
            return Ok(RepoLocation::Local(path.into()));
        }
        if s.contains("://") {
            return Err(Error::Usage(format!(
                "{s}: unknown repository kind (use a path, file:///path or s3://bucket/prefix)"
            )));
        }
        if s.is_empty() {
            return Err(Error::Usage("empty repository path".into()));
        }
        Ok(RepoLocation::Local(s.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_locations_parse() -> Result<()> {
        assert_eq!(
            RepoLocation::parse("s3://b/nightly/redis/")?,
            RepoLocation::S3 { bucket: "b".into(), prefix: "nightly/redis".into() }
        );
        assert_eq!(RepoLocation::parse("s3://b")?, RepoLocation::S3 { bucket: "b".into(), prefix: String::new() });
        assert_eq!(RepoLocation::parse("file:///srv/b")?, RepoLocation::Local("/srv/b".into()));
        assert_eq!(RepoLocation::parse("rel/dir")?, RepoLocation::Local("rel/dir".into()));
        for bad in ["s3://", "s3:///x", "file://rel", "gs://b", ""] {
            assert!(RepoLocation::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn object_names_are_checked() {
        for good in ["a", "data/x/part-0.rdb.zst", "snapshots/1.json"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "/a", "a//b", "a/../b", "./a", "a/", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
