//! A repository in a local directory (or a mounted network file system).
//!
//! A put writes `tmp/<random>` under the root, flushes it to disk, renames it into
//! place and flushes the directories, so a name holds either nothing or the complete
//! object, even after a crash. Files left in `tmp/` by a crash are listed like any other
//! object, so pruning can remove them.

use std::io::{ErrorKind, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{check_name, next_chunk, Backend, Chunks, ObjectInfo, ObjectReader, PutOptions};
use crate::error::{Error, Result};

/// Directory (under the root) for objects being written.
pub const TMP_DIR: &str = "tmp";

/// A directory holding a repository.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    /// A repository rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> LocalBackend {
        let root = root.into();
        LocalBackend { root: std::path::absolute(&root).unwrap_or(root) }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.root.join(name))
    }

    fn err(&self, op: &'static str, name: &str, e: impl std::fmt::Display) -> Error {
        Error::storage(&self.location(), op, name, e)
    }

    async fn write_temp(&self, tmp: &Path, mut body: Chunks) -> std::io::Result<u64> {
        let mut file = tokio::fs::File::create(tmp).await?;
        let mut size = 0u64;
        while let Some(chunk) = next_chunk(&mut body).await.map_err(std::io::Error::other)? {
            file.write_all(&chunk).await?;
            size += chunk.len() as u64;
        }
        file.sync_all().await?;
        Ok(size)
    }

    /// Flushes the directories from `dir` up to the root, so new entries survive a crash.
    async fn sync_dirs(&self, mut dir: &Path) -> std::io::Result<()> {
        loop {
            tokio::fs::File::open(dir).await?.sync_all().await?;
            if dir == self.root {
                return Ok(());
            }
            match dir.parent() {
                Some(p) if p.starts_with(&self.root) => dir = p,
                _ => return Ok(()),
            }
        }
    }
}

fn modified(meta: &std::fs::Metadata) -> Option<DateTime<Utc>> {
    meta.modified().ok().map(DateTime::<Utc>::from)
}

/// Every file under `dir`, as names relative to `root`.
fn walk(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<ObjectInfo>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let Some(name) = path.strip_prefix(root).ok().and_then(Path::to_str).map(|n| n.replace('\\', "/")) else {
            continue;
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            // Only descend where names can still start with the prefix.
            let dir_name = format!("{name}/");
            if dir_name.starts_with(prefix) || prefix.starts_with(&dir_name) {
                walk(root, &path, prefix, out)?;
            }
        } else if kind.is_file() && name.starts_with(prefix) {
            let meta = entry.metadata()?;
            out.push(ObjectInfo { name, size: meta.len(), modified: modified(&meta) });
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Backend for LocalBackend {
    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn put(&self, name: &str, body: Chunks, _: PutOptions) -> Result<u64> {
        let target = self.path(name)?;
        let tmp_dir = self.root.join(TMP_DIR);
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        for dir in [&tmp_dir, &parent] {
            tokio::fs::create_dir_all(dir).await.map_err(|e| self.err("put", name, e))?;
        }
        let tmp = tmp_dir.join(format!("{:016x}.tmp", fastrand::u64(..)));
        let written = self.write_temp(&tmp, body).await;
        let size = match written {
            Ok(size) => size,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(self.err("put", name, e));
            }
        };
        if let Err(e) = tokio::fs::rename(&tmp, &target).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(self.err("put", name, e));
        }
        self.sync_dirs(&parent).await.map_err(|e| self.err("put", name, e))?;
        Ok(size)
    }

    async fn get(&self, name: &str, range: Option<Range<u64>>) -> Result<ObjectReader> {
        let path = self.path(name)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::Missing { location: self.location(), name: name.to_string() })
            }
            Err(e) => return Err(self.err("get", name, e)),
        };
        match range {
            None => Ok(Box::pin(file)),
            Some(r) => {
                file.seek(SeekFrom::Start(r.start)).await.map_err(|e| self.err("get", name, e))?;
                Ok(Box::pin(file.take(r.end.saturating_sub(r.start))))
            }
        }
    }

    async fn stat(&self, name: &str) -> Result<Option<ObjectInfo>> {
        match tokio::fs::metadata(self.path(name)?).await {
            Ok(m) if m.is_file() => {
                Ok(Some(ObjectInfo { name: name.to_string(), size: m.len(), modified: modified(&m) }))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("stat", name, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let root = self.root.clone();
        let owned = prefix.to_string();
        let listed = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            walk(&root, &root, &owned, &mut out).map(|()| out)
        })
        .await
        .map_err(|e| self.err("list", prefix, e))?;
        let mut out = listed.map_err(|e| self.err("list", prefix, e))?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.err("delete", name, e)),
        }
        // Directories left empty go too (a pruned backup leaves no trace).
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || tokio::fs::remove_dir(d).await.is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }
}
