//! What a restore did: counters, the first messages, failures counted by error code,
//! and the decision to stop when the server refuses everything for a lasting reason.

use std::collections::BTreeMap;

/// Failure and warning messages kept one by one; the rest are only counted.
pub const MAX_MESSAGES: usize = 100;
/// Consecutive refusals of a lasting kind after which a restore stops.
pub const STOP_AFTER: u64 = 1000;

/// The code counted for keys the target cannot hold.
pub const UNFIT: &str = "UNFIT";

/// Counters and messages of one restore.
#[derive(Debug, Default)]
pub struct Tally {
    /// Keys restored.
    pub restored: u64,
    /// Keys already expired, not sent.
    pub expired: u64,
    /// Keys the target cannot hold at all, left out.
    pub dropped: u64,
    /// Keys recreated with ordinary commands.
    pub via_commands: u64,
    /// RESTORE payload bytes sent.
    pub payload_bytes: u64,
    /// Keys the server refused (an error reply, a database it does not have).
    pub refused: u64,
    /// Keys the target cannot hold (without `--lossy`), or cannot be sent at all.
    pub unfit: u64,
    /// The first [`MAX_MESSAGES`] failures, one line each.
    pub failures: Vec<String>,
    /// Failed keys by error code (`BUSYKEY`, `OOM`, ..., [`UNFIT`]).
    pub failure_codes: BTreeMap<String, u64>,
    /// The first [`MAX_MESSAGES`] warnings.
    pub warnings: Vec<String>,
    /// Warnings in all.
    pub warnings_total: u64,
    /// Why the restore stopped before the end of the dump, if it did.
    pub stopped: Option<String>,
    /// The current run of lasting refusals: code and length.
    run: Option<(String, u64)>,
}

/// Refusals that the next key will meet too: the server is read-only, the user lacks
/// the permission, memory is full, saving failed, the command does not exist, the
/// server does not accept the payload format.
fn is_lasting(error: &str) -> bool {
    let code = error.split(' ').next().unwrap_or_default();
    matches!(code, "READONLY" | "NOPERM" | "OOM" | "MISCONF" | "NOAUTH" | "WRONGPASS" | "NOREPLICAS")
        || error.starts_with("ERR unknown command")
        || error.contains("DUMP payload version or checksum are wrong")
}

impl Tally {
    /// Keys that failed.
    pub fn failed(&self) -> u64 {
        self.refused + self.unfit
    }

    fn keep(list: &mut Vec<String>, message: impl FnOnce() -> String) {
        if list.len() < MAX_MESSAGES {
            list.push(message());
        }
    }

    /// A key the server refused with `error` (`about`: "db 0 key ..."). Returns true
    /// when the refusals should stop the restore (see [`Tally::stopped`]).
    pub fn refuse(&mut self, about: &str, error: &str) -> bool {
        self.refused += 1;
        let code = error.split(' ').next().filter(|c| !c.is_empty()).unwrap_or("ERR");
        *self.failure_codes.entry(code.to_string()).or_default() += 1;
        Self::keep(&mut self.failures, || format!("{about}: {error}"));
        if !is_lasting(error) {
            self.run = None;
            return false;
        }
        let run = match self.run.take() {
            Some((c, n)) if c == code => (c, n + 1),
            _ => (code.to_string(), 1),
        };
        let stop = run.1 >= STOP_AFTER;
        if stop && self.stopped.is_none() {
            self.stopped = Some(format!(
                "stopped after {} keys in a row were refused with {code}, which the next keys would meet \
                 too: {error}",
                run.1
            ));
        }
        self.run = Some(run);
        stop
    }

    /// Keys the server refused for a reason already reported once (a database it
    /// does not have): counted, not listed.
    pub fn refuse_counted(&mut self, code: &str) {
        self.refused += 1;
        *self.failure_codes.entry(code.to_string()).or_default() += 1;
    }

    /// A message about the server (a database it refused), listed without a key count.
    pub fn note_failure(&mut self, message: String) {
        Self::keep(&mut self.failures, || message);
    }

    /// A key the target cannot hold.
    pub fn unfit(&mut self, message: String) {
        self.unfit += 1;
        *self.failure_codes.entry(UNFIT.to_string()).or_default() += 1;
        Self::keep(&mut self.failures, || message);
    }

    /// A key that made it: ends a run of refusals.
    pub fn success(&mut self) {
        self.restored += 1;
        self.run = None;
    }

    /// A warning.
    pub fn warn(&mut self, message: String) {
        self.warnings_total += 1;
        Self::keep(&mut self.warnings, || message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bounded_and_counted_by_code() {
        let mut t = Tally::default();
        for i in 0..10_000 {
            t.refuse(&format!("db 0 key k{i}"), "BUSYKEY Target key name already exists.");
        }
        t.unfit("db 1 key x: the server cannot hold it".into());
        assert_eq!((t.refused, t.unfit, t.failed()), (10_000, 1, 10_001));
        assert_eq!(t.failures.len(), MAX_MESSAGES);
        assert_eq!(t.failure_codes.get("BUSYKEY"), Some(&10_000));
        assert_eq!(t.failure_codes.get(UNFIT), Some(&1));
        assert!(t.stopped.is_none(), "existing keys are no reason to stop");
    }

    #[test]
    fn a_run_of_lasting_refusals_stops() {
        let mut t = Tally::default();
        let oom = "OOM command not allowed when used memory > 'maxmemory'.";
        for _ in 0..STOP_AFTER - 1 {
            assert!(!t.refuse("k", oom));
        }
        t.success();
        for _ in 0..STOP_AFTER - 1 {
            assert!(!t.refuse("k", oom), "a success starts the count again");
        }
        assert!(t.refuse("k", oom));
        assert!(t.stopped.as_deref().is_some_and(|s| s.contains("OOM")), "{:?}", t.stopped);
    }
}
