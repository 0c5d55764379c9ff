//! `backup run`: source → verification → compression → SHA-256 → upload, for every
//! part, then the manifest. The manifest is written only after every part is stored and
//! checked, so a backup either is complete or does not exist; on any failure the parts
//! already stored are removed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;

use crate::backend::{PutOptions, CHUNK_QUEUE};
use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::produce::{produce, Produced};
use crate::progress::Progress;
use crate::repo::lock::acquire;
use crate::repo::manifest::FORMAT;
use crate::repo::{layout, Manifest, Part, PartKind, Repository};
use crate::source::{plan, PlannedPart, Source};

/// How a backup runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Compression of the parts.
    pub compression: Compression,
    /// How long to wait for an exclusive lock (a prune) to go away.
    pub lock_wait: Duration,
    /// `rdbkit 0.1.0`, recorded in the manifest.
    pub tool: String,
}

/// Takes a backup of `source` into `repo`; returns its manifest.
pub async fn run_backup(
    source: Source,
    repo: &Repository,
    o: &RunOptions,
    progress: Arc<Progress>,
) -> Result<Manifest> {
    let lock = acquire(repo.backend().clone(), false, "backup run", o.lock_wait).await?;
    let started = Instant::now();
    let time = Utc::now();
    let id = layout::new_id(time);
    let result = store(source, repo, o, &id, progress).await;
    let result = match result {
        Ok((info, parts)) => {
            let manifest = Manifest {
                format: FORMAT,
                id: id.clone(),
                time,
                duration_seconds: started.elapsed().as_secs_f64(),
                tool: o.tool.clone(),
                source: info,
                compression: o.compression,
                keys: parts.iter().map(|p| p.keys).sum(),
                raw_bytes: parts.iter().map(|p| p.raw_bytes).sum(),
                stored_bytes: parts.iter().map(|p| p.stored_bytes).sum(),
                parts,
            };
            repo.write_manifest(&manifest).await.map(|()| manifest)
        }
        Err(e) => Err(e),
    };
    if result.is_err() {
        // Nothing of a failed backup stays (a crash leaves it to prune).
        let _ = repo.remove_data(&id).await;
    }
    let released = lock.release().await;
    let manifest = result?;
    released?;
    Ok(manifest)
}

/// Stores every part; returns the source description and the parts' records.
async fn store(
    source: Source,
    repo: &Repository,
    o: &RunOptions,
    id: &str,
    progress: Arc<Progress>,
) -> Result<(crate::repo::SourceInfo, Vec<Part>)> {
    let planned = tokio::task::spawn_blocking(move || plan(&source)).await.map_err(join_error)??;
    if planned.parallel {
        let mut parts = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, part) in planned.parts.into_iter().enumerate() {
            let (repo, o, id, progress) = (repo.clone(), o.clone(), id.to_string(), progress.clone());
            tasks.spawn(async move { store_part(part, &repo, &o, &id, progress).await.map(|p| (i, p)) });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined.map_err(join_error).and_then(|r| r) {
                Ok(p) => parts.push(p),
                Err(e) => {
                    // One shard failed: stop the others (their uploads abort).
                    tasks.abort_all();
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        parts.sort_by_key(|(i, _)| *i);
        Ok((planned.info, parts.into_iter().map(|(_, p)| p).collect()))
    } else {
        let mut parts = Vec::new();
        for part in planned.parts {
            parts.push(store_part(part, repo, o, id, progress.clone()).await?);
        }
        Ok((planned.info, parts))
    }
}

fn join_error(e: tokio::task::JoinError) -> Error {
    Error::Io(std::io::Error::other(format!("a backup task failed: {e}")))
}

/// Reads, checks, compresses and uploads one part.
async fn store_part(
    part: PlannedPart,
    repo: &Repository,
    o: &RunOptions,
    id: &str,
    progress: Arc<Progress>,
) -> Result<Part> {
    let PlannedPart { file, kind, node, slots, open } = part;
    let object = layout::data_object(id, &format!("{file}{}", o.compression.suffix()));
    let opened = {
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let opened = open()?;
            if let Some(n) = opened.size_hint {
                progress.expect(n);
            }
            Ok::<_, Error>(opened)
        })
        .await
        .map_err(join_error)??
    };
    let hint = opened.size_hint;
    let server_version = opened.server_version;
    let (tx, rx) = mpsc::channel(CHUNK_QUEUE);
    let compression = o.compression;
    let producer = tokio::task::spawn_blocking(move || produce(opened.reader, kind, compression, tx, &progress));
    let upload = repo.backend().put(&object, rx, PutOptions { size_hint: hint });
    let (produced, uploaded) = tokio::join!(producer, upload);
    let produced = produced.map_err(join_error)?;
    let (produced, stored) = match (produced, uploaded) {
        (Ok(p), Ok(n)) => (p, n),
        (Ok(_), Err(u)) => return Err(u),
        (Err(p), Ok(_)) => return Err(p),
        // The producer's failure aborted the upload: report the producer's. Otherwise the
        // upload failed first, which stopped the producer: report the upload's.
        (Err(p), Err(u)) => return Err(if aborted_by_producer(&u) { p } else { u }),
    };
    check_stored(repo, &object, &produced, stored).await?;
    let rdb = produced.rdb.unwrap_or_default();
    Ok(Part {
        object,
        file,
        kind,
        node,
        slots,
        server_version: server_version.or(rdb.server_version.clone()),
        rdb_version: (kind == PartKind::Rdb).then(|| rdb.header.clone()),
        keys: rdb.keys(),
        keys_per_db: rdb.keys_per_db,
        rdb_crc64: rdb.crc64,
        raw_bytes: produced.raw_bytes,
        stored_bytes: produced.stored_bytes,
        sha256: produced.sha256,
    })
}

/// True when a put failed because its producer aborted it.
fn aborted_by_producer(e: &Error) -> bool {
    matches!(e, Error::Storage { message, .. } if message.starts_with("aborted"))
}

/// The store must hold exactly the bytes produced.
async fn check_stored(repo: &Repository, object: &str, produced: &Produced, stored: u64) -> Result<()> {
    let listed = repo.backend().stat(object).await?.map(|s| s.size);
    if stored != produced.stored_bytes || listed != Some(produced.stored_bytes) {
        return Err(Error::Integrity(format!(
            "{}: {object}: {} bytes were produced, the upload took {stored}, the store lists {}",
            repo.location(),
            produced.stored_bytes,
            listed.map_or("nothing".to_string(), |n| n.to_string())
        )));
    }
    Ok(())
}
