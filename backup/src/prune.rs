//! `backup prune`: plan which backups the retention policy removes (the newest is always
//! kept), then remove them, along with the leftovers of failed or interrupted runs
//! (their objects, and multipart uploads they never finished).
//! Planning and removing are separate, so a dry run shows exactly what a real run does.
//! A prune holds the exclusive lock: no backup is running while it removes data.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::{ObjectInfo, Unfinished};
use crate::error::Result;
use crate::policy::{apply, Policy};
use crate::repo::lock::acquire;
use crate::repo::{layout, Manifest, Repository};

/// Leftovers younger than this are kept: with locks, no run can still be writing them,
/// but a clock-skewed host could be.
pub const LEFTOVER_MIN_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// What a prune does.
#[derive(Debug, Default)]
pub struct PrunePlan {
    /// Backups kept, newest first, with the reasons.
    pub keep: Vec<(Manifest, Vec<&'static str>)>,
    /// Backups removed, newest first.
    pub remove: Vec<Manifest>,
    /// Data of incomplete backups (and interrupted writes), by backup ID.
    pub leftovers: Vec<(String, Vec<ObjectInfo>)>,
    /// Uploads a killed run left unfinished (S3 multipart uploads), aborted.
    pub unfinished: Vec<Unfinished>,
    /// Manifests that do not parse (never removed: someone should look at them).
    pub damaged: Vec<(String, String)>,
}

/// Works out what `policy` removes from `repo` at `now` (removes nothing).
pub async fn plan_prune(repo: &Repository, policy: &Policy, now: DateTime<Utc>) -> Result<PrunePlan> {
    let catalog = repo.catalog().await?;
    // A backup whose manifest does not parse is not removed, and neither is its data.
    let damaged = catalog.damaged.iter().filter_map(|(name, _)| layout::manifest_id(name));
    let complete: BTreeSet<String> =
        catalog.backups.iter().map(|m| m.id.clone()).chain(damaged.map(str::to_string)).collect();
    let pairs: Vec<(String, DateTime<Utc>)> = catalog.backups.iter().map(|m| (m.id.clone(), m.time)).collect();
    let decision = apply(&pairs, policy, &chrono::Local);
    let by_id = |id: &str| catalog.backups.iter().find(|m| m.id == id).cloned();
    let keep = decision.keep.into_iter().filter_map(|(id, why)| Some((by_id(&id)?, why))).collect();
    let remove = decision.remove.iter().filter_map(|id| by_id(id)).collect();
    let leftovers = repo
        .incomplete(&complete)
        .await?
        .into_iter()
        .filter(|(_, objects)| objects.iter().all(|o| o.modified.is_none_or(|t| now - t >= LEFTOVER_MIN_AGE)))
        .collect();
    let unfinished = repo
        .backend()
        .unfinished()
        .await?
        .into_iter()
        .filter(|u| u.started.is_none_or(|t| now - t >= LEFTOVER_MIN_AGE))
        .collect();
    Ok(PrunePlan { keep, remove, leftovers, unfinished, damaged: catalog.damaged })
}

/// Carries out a plan: removes each backup's manifest, then its data, then leftovers.
pub async fn execute(repo: &Repository, plan: &PrunePlan) -> Result<()> {
    for m in &plan.remove {
        repo.remove_backup(&m.id).await?;
    }
    for (_, objects) in &plan.leftovers {
        for o in objects {
            repo.backend().delete(&o.name).await?;
        }
    }
    for upload in &plan.unfinished {
        repo.backend().discard(upload).await?;
    }
    Ok(())
}

/// Plans and (unless `dry_run`) executes a prune under the exclusive lock.
pub async fn prune(repo: &Repository, policy: &Policy, dry_run: bool, lock_wait: Duration) -> Result<PrunePlan> {
    if dry_run {
        return plan_prune(repo, policy, Utc::now()).await;
    }
    let lock = acquire(repo.backend().clone(), true, "backup prune", lock_wait).await?;
    let result = match plan_prune(repo, policy, Utc::now()).await {
        Ok(plan) => execute(repo, &plan).await.map(|()| plan),
        Err(e) => Err(e),
    };
    let released = lock.release().await;
    let plan = result?;
    released?;
    Ok(plan)
}
