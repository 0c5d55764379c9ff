//! A progress bar (bytes, rate, ETA) on a terminal, drawn from the library's counters.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backup::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(200);

/// A drawing thread; stops and clears the bar when dropped.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Draws `progress` on stderr when it is a terminal and `quiet` is off; nothing otherwise.
pub fn show(progress: &Arc<Progress>, quiet: bool, what: &'static str) -> Option<Bar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (p, s) = (progress.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        let bar = ProgressBar::new_spinner();
        let known = ProgressStyle::with_template("{prefix} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let unknown = ProgressStyle::with_template("{prefix} {spinner} {bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(unknown);
        bar.set_prefix(what);
        let mut has_total = false;
        while !s.load(Ordering::Relaxed) {
            if let (Some(total), false) = (p.total(), has_total) {
                bar.set_length(total);
                bar.set_style(known.clone());
                has_total = true;
            }
            // A size hint can be short (diskless snapshots): never let done pass total.
            if has_total && p.done() > bar.length().unwrap_or(0) {
                bar.set_length(p.done());
            }
            bar.set_position(p.done());
            std::thread::sleep(TICK);
        }
        bar.finish_and_clear();
    });
    Some(Bar { stop, thread: Some(thread) })
}
