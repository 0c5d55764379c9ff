//! A repository of backups on a [`Backend`]: which backups are complete (those with a
//! manifest), their manifests, and removing a backup's objects.

pub mod layout;
pub mod lock;
pub mod manifest;

use std::collections::BTreeSet;

use crate::backend::local::LocalBackend;
use crate::backend::s3::{S3Backend, S3Options};
use crate::backend::{get_bytes, put_bytes, ObjectInfo, RepoLocation, SharedBackend};
use crate::error::{Error, Result};
pub use manifest::{Manifest, Part, PartKind, SourceInfo};

/// A repository.
#[derive(Clone)]
pub struct Repository {
    backend: SharedBackend,
}

/// The manifests of a repository, oldest first, and those that could not be read.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Complete backups.
    pub backups: Vec<Manifest>,
    /// Manifests that do not parse: (object name, why).
    pub damaged: Vec<(String, String)>,
}

impl Repository {
    /// A repository on `backend`.
    pub fn new(backend: SharedBackend) -> Repository {
        Repository { backend }
    }

    /// Opens the repository at `location`; `s3` gives the S3 settings (its bucket and
    /// prefix come from the location).
    pub async fn open(location: &RepoLocation, s3: S3Options) -> Result<Repository> {
        let backend: SharedBackend = match location {
            RepoLocation::Local(path) => std::sync::Arc::new(LocalBackend::new(path)),
            RepoLocation::S3 { bucket, prefix } => std::sync::Arc::new(
                S3Backend::connect(S3Options { bucket: bucket.clone(), prefix: prefix.clone(), ..s3 }).await?,
            ),
        };
        Ok(Repository { backend })
    }

    /// The storage.
    pub fn backend(&self) -> &SharedBackend {
        &self.backend
    }

    /// Where it is, for messages.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// Every complete backup, oldest first.
    pub async fn catalog(&self) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for object in self.backend.list(layout::SNAPSHOTS).await? {
            let Some(id) = layout::manifest_id(&object.name) else { continue };
            let bytes = match get_bytes(self.backend.as_ref(), &object.name).await {
                Ok(b) => b,
                // Removed by a prune in the meantime.
                Err(Error::Missing { .. }) => continue,
                Err(e) => return Err(e),
            };
            match Manifest::from_json(&bytes) {
                Ok(m) if m.id == id => catalog.backups.push(m),
                Ok(m) => catalog.damaged.push((object.name, format!("names backup {} instead", m.id))),
                Err(why) => catalog.damaged.push((object.name, why)),
            }
        }
        catalog.backups.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
        Ok(catalog)
    }

    /// The manifest of backup `id`, or of the newest backup for `latest`.
    pub async fn manifest(&self, id: &str) -> Result<Manifest> {
        if id == "latest" {
            return self
                .catalog()
                .await?
                .backups
                .pop()
                .ok_or_else(|| Error::Usage(format!("{}: the repository holds no complete backup", self.location())));
        }
        if !layout::is_id(id) {
            return Err(Error::Usage(format!("{id:?} is not a backup ID (like 20260601T030000Z-4f2a9c) or latest")));
        }
        let bytes = match get_bytes(self.backend.as_ref(), &layout::manifest(id)).await {
            Err(Error::Missing { .. }) => {
                return Err(Error::Usage(format!("{}: no complete backup {id}", self.location())));
            }
            other => other?,
        };
        Manifest::from_json(&bytes)
            .map_err(|why| Error::Integrity(format!("{}: {}: {why}", self.location(), layout::manifest(id))))
    }

    /// Writes a manifest: from then on the backup is complete.
    pub async fn write_manifest(&self, m: &Manifest) -> Result<()> {
        put_bytes(self.backend.as_ref(), &layout::manifest(&m.id), m.to_json()).await.map(|_| ())
    }

    /// Removes the manifest of `id` (the backup stops being complete), then its data.
    pub async fn remove_backup(&self, id: &str) -> Result<()> {
        self.backend.delete(&layout::manifest(id)).await?;
        self.remove_data(id).await
    }

    /// Removes every data object of `id`.
    pub async fn remove_data(&self, id: &str) -> Result<()> {
        for object in self.backend.list(&layout::data_prefix(id)).await? {
            self.backend.delete(&object.name).await?;
        }
        Ok(())
    }

    /// Data of backups that have no manifest (failed or interrupted runs), and leftovers
    /// of interrupted writes, grouped per backup ID (`tmp/` objects under `tmp`).
    pub async fn incomplete(&self, complete: &BTreeSet<String>) -> Result<Vec<(String, Vec<ObjectInfo>)>> {
        let mut groups: Vec<(String, Vec<ObjectInfo>)> = Vec::new();
        for object in self.backend.list(layout::DATA).await? {
            let id = layout::data_id(&object.name).unwrap_or("data").to_string();
            if complete.contains(&id) {
                continue;
            }
            match groups.last_mut() {
                Some((last, objects)) if *last == id => objects.push(object),
                _ => groups.push((id, vec![object])),
            }
        }
        let tmp = self.backend.list(layout::TMP).await?;
        if !tmp.is_empty() {
            groups.push(("tmp".into(), tmp));
        }
        Ok(groups)
    }
}
