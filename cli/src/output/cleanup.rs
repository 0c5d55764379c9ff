//! Temporary output files removed when the process is interrupted.
//!
//! Each temporary file is registered while it exists. The first registration installs
//! a handler thread for SIGINT, SIGTERM and SIGHUP: it removes every registered path
//! and exits with 128 + the signal number (130, 143, 129), so an interrupted run leaves
//! neither a partial output nor a temporary file behind.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// The registry, even if a thread panicked while holding it.
pub fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    REGISTERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates a file with `create` (which returns it and its path) and registers the
/// path, to be removed if the process is interrupted before [`unregister`]. The handler
/// is installed first and the registry stays locked meanwhile, so an interrupt never
/// finds a file it does not know about.
pub fn create_registered<T>(create: impl FnOnce() -> std::io::Result<(T, PathBuf)>) -> std::io::Result<T> {
    HANDLER.call_once(install);
    let mut paths = registry();
    let (made, path) = create()?;
    paths.push(path);
    Ok(made)
}

/// Forgets `path` (committed or removed); `paths` is the locked registry.
pub fn unregister(paths: &mut Vec<PathBuf>, path: &Path) {
    paths.retain(|p| p != path);
}

fn install() {
    // Without a handler the default action (terminate) still applies: the temporary
    // file is then left behind, which is no worse than before.
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Holding the lock until exit: a commit in progress either finished (its
            // path is no longer registered) or never renames.
            let paths = registry();
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
            std::process::exit(128 + signal);
        }
    });
}
