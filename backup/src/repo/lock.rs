//! Repository locks (`locks/<id>.json`), as restic does them: a backup takes a shared
//! lock, prune an exclusive one, so a prune never deletes data a running backup is
//! writing. A lock is refreshed every [`REFRESH_EVERY`]; it is stale when it was not
//! refreshed for [`STALE_AFTER`], or when it belongs to this host and its process is
//! gone (a run killed with `kill -9`). Stale locks are ignored and removed.
//!
//! Taking a lock writes it, waits a moment and looks again, so that two processes
//! that lock at the same time see each other and the later one backs off.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::layout;
use crate::backend::{get_bytes, put_bytes, SharedBackend};
use crate::error::{Error, Result};

/// How often a held lock is rewritten.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5 * 60);
/// A lock not refreshed for this long is stale.
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(30);
/// Wait between writing a lock and checking for others.
const SETTLE: Duration = Duration::from_millis(200);
/// Wait between two attempts while another process holds a conflicting lock.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// A lock as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The lock's own ID (its object is `locks/<id>.json`).
    pub id: String,
    /// When it was taken.
    pub time: DateTime<Utc>,
    /// When it was last refreshed.
    pub refreshed: DateTime<Utc>,
    /// Host name of the process.
    pub host: String,
    /// Process ID.
    pub pid: u32,
    /// Start time of the process (`/proc/<pid>/stat`), to tell a reused PID apart.
    #[serde(default)]
    pub pid_start: Option<u64>,
    /// Exclusive (prune) or shared (backup).
    pub exclusive: bool,
    /// What the process is doing (`backup run`, `backup prune`).
    pub command: String,
}

impl LockInfo {
    /// True when the two locks cannot be held at once.
    pub fn conflicts_with(&self, other: &LockInfo) -> bool {
        self.id != other.id && (self.exclusive || other.exclusive)
    }

    /// One line for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} lock by {} (pid {} on {}), taken {}, refreshed {}",
            if self.exclusive { "an exclusive" } else { "a shared" },
            self.command,
            self.pid,
            self.host,
            self.time.format("%Y-%m-%d %H:%M:%S UTC"),
            self.refreshed.format("%H:%M:%S UTC")
        )
    }
}

/// Whether `lock` is stale at `now`, seen from `host`; `alive` says whether a process of
/// this host (pid, start time) still runs.
pub fn is_stale(lock: &LockInfo, now: DateTime<Utc>, host: &str, alive: impl Fn(u32, Option<u64>) -> bool) -> bool {
    now - lock.refreshed > STALE_AFTER || (lock.host == host && !alive(lock.pid, lock.pid_start))
}

/// This machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The start time of a process (clock ticks since boot), where `/proc` tells.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether a process of this host still runs. Without `/proc` it is assumed to run
/// (the lock then goes stale by time only).
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    match (process_start(pid), start) {
        (None, _) => false,
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
    }
}

/// A held lock; [`LockGuard::release`] removes it. Dropping it without release stops
/// the refreshes, so the lock goes stale.
pub struct LockGuard {
    backend: SharedBackend,
    info: LockInfo,
    refresher: JoinHandle<()>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

impl LockGuard {
    /// The lock as stored.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Removes the lock.
    pub async fn release(self) -> Result<()> {
        self.refresher.abort();
        self.backend.delete(&layout::lock(&self.info.id)).await
    }
}

async fn write(backend: &SharedBackend, info: &LockInfo) -> Result<()> {
    let json = serde_json::to_vec_pretty(info).unwrap_or_default();
    put_bytes(backend.as_ref(), &layout::lock(&info.id), json).await.map(|_| ())
}

/// Every lock in the repository except unreadable ones (being written or removed),
/// with stale ones removed.
async fn live_locks(backend: &SharedBackend, host: &str) -> Result<Vec<LockInfo>> {
    let mut out = Vec::new();
    for object in backend.list(layout::LOCKS).await? {
        let Ok(bytes) = get_bytes(backend.as_ref(), &object.name).await else { continue };
        let Ok(lock) = serde_json::from_slice::<LockInfo>(&bytes) else { continue };
        if is_stale(&lock, Utc::now(), host, process_alive) {
            let _ = backend.delete(&object.name).await;
        } else {
            out.push(lock);
        }
    }
    Ok(out)
}

/// Takes a lock, waiting up to `wait` for conflicting locks to go away.
pub async fn acquire(backend: SharedBackend, exclusive: bool, command: &str, wait: Duration) -> Result<LockGuard> {
    let host = host_name();
    let pid = std::process::id();
    let now = Utc::now();
    let mut info = LockInfo {
        id: format!("{}-{pid}", layout::new_id(now)),
        time: now,
        refreshed: now,
        host: host.clone(),
        pid,
        pid_start: process_start(pid),
        exclusive,
        command: command.to_string(),
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let blocker = live_locks(&backend, &host).await?.into_iter().find(|l| info.conflicts_with(l));
        let blocker = match blocker {
            Some(b) => Some(b),
            None => {
                info.refreshed = Utc::now();
                write(&backend, &info).await?;
                tokio::time::sleep(SETTLE).await;
                let other = live_locks(&backend, &host).await?.into_iter().find(|l| info.conflicts_with(l));
                if other.is_some() {
                    backend.delete(&layout::lock(&info.id)).await?;
                }
                other
            }
        };
        let Some(blocker) = blocker else { break };
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Locked(format!(
                "{}: the repository is locked: {} (a lock goes stale after {} minutes without refresh, \
                 or at once when its process is gone from this host)",
                backend.location(),
                blocker.describe(),
                STALE_AFTER.num_minutes()
            )));
        }
        tokio::time::sleep(RETRY_EVERY + Duration::from_millis(fastrand::u64(..500))).await;
    }
    let refresher = tokio::spawn({
        let backend = backend.clone();
        let mut info = info.clone();
        async move {
            loop {
                tokio::time::sleep(REFRESH_EVERY).await;
                info.refreshed = Utc::now();
                let _ = write(&backend, &info).await;
            }
        }
    });
    Ok(LockGuard { backend, info, refresher })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(host: &str, pid: u32, refreshed_min_ago: i64, exclusive: bool) -> LockInfo {
        let now = Utc::now();
        LockInfo {
            id: format!("{host}-{pid}"),
            time: now,
            refreshed: now - chrono::TimeDelta::minutes(refreshed_min_ago),
            host: host.into(),
            pid,
            pid_start: Some(7),
            exclusive,
            command: "backup run".into(),
        }
    }

    #[test]
    fn staleness_follows_refresh_time_and_local_processes() {
        let now = Utc::now();
        let running = |pid: u32, _: Option<u64>| pid == 1;
        assert!(!is_stale(&lock("here", 1, 1, false), now, "here", running));
        assert!(is_stale(&lock("here", 2, 1, false), now, "here", running), "dead local process");
        assert!(!is_stale(&lock("there", 2, 29, false), now, "here", running), "other hosts: time only");
        assert!(is_stale(&lock("there", 2, 31, false), now, "here", running));
    }

    #[test]
    fn only_exclusive_locks_conflict() {
        let (a, b) = (lock("h", 1, 0, false), lock("h", 2, 0, false));
        assert!(!a.conflicts_with(&b));
        assert!(lock("h", 3, 0, true).conflicts_with(&a));
        assert!(a.conflicts_with(&lock("h", 3, 0, true)));
        assert!(!a.conflicts_with(&a.clone()), "a lock does not conflict with itself");
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = std::process::id();
        let start = process_start(me);
        assert!(process_alive(me, start));
        if let Some(s) = start {
            assert!(!process_alive(me, Some(s + 1)));
        }
        assert!(!process_alive(u32::MAX - 1, None));
        assert!(!host_name().is_empty());
    }
}
