//! Cron schedules (croner: five fields, or six with seconds first; `@daily` and the
//! like) and the loop of `rdbkit backup schedule`: runs never overlap, a run that takes
//! longer than the interval skips the occurrences it covered, and a shutdown request
//! lets the current run finish.
//!
//! Schedules follow the local time zone of the process (`TZ`), as cron does.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone, Utc};
use croner::Cron;
use tokio::sync::watch;

use crate::error::{Error, Result};

/// Longest single sleep: the wall clock is looked at again after it (clock changes,
/// suspended machines).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    text: String,
}

impl Schedule {
    /// Parses a cron expression (`0 3 * * *`, `*/10 * * * * *`, `@daily`).
    pub fn parse(text: &str) -> Result<Schedule> {
        let cron: Cron = text.parse().map_err(|e| Error::Usage(format!("invalid cron expression {text:?}: {e}")))?;
        Ok(Schedule { cron, text: text.to_string() })
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first occurrence strictly after `t`, in `t`'s time zone.
    pub fn next_after<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> Option<DateTime<Tz>>
    where
        DateTime<Tz>: croner::CronDateTime,
    {
        self.cron.find_next_occurrence(t, false).ok()
    }

    /// The first occurrence after `t` in the local time zone, as UTC.
    pub fn next_local(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after(&t.with_timezone(&Local)).map(|n| n.with_timezone(&Utc))
    }
}

/// A future sent across threads.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Time as the scheduler sees it (a fake one in tests).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Waits until `t` or a little less (the loop looks at `now` again).
    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_> {
        let wait = (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Runs `run(job, due)` for each job when its schedule says, one run at a time, until
/// `shutdown` turns true (a run under way is finished first). `next(job, after)` gives
/// a job's next occurrence.
pub async fn run_loop<C, N, F, Fut>(jobs: usize, clock: &C, mut shutdown: watch::Receiver<bool>, next: N, mut run: F)
where
    C: Clock,
    N: Fn(usize, DateTime<Utc>) -> Option<DateTime<Utc>>,
    F: FnMut(usize, DateTime<Utc>) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = clock.now();
    let mut due: Vec<Option<DateTime<Utc>>> = (0..jobs).map(|j| next(j, start)).collect();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some((job, at)) = due.iter().enumerate().filter_map(|(j, t)| Some((j, (*t)?))).min_by_key(|(_, t)| *t)
        else {
            return;
        };
        if clock.now() < at {
            tokio::select! {
                () = clock.sleep_until(at) => {}
                changed = shutdown.changed() => if changed.is_err() || *shutdown.borrow() { return },
            }
            continue;
        }
        run(job, at).await;
        due[job] = next(job, clock.now().max(at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use std::sync::{Arc, Mutex};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn next_runs_follow_the_expression() -> Result<()> {
        let nightly = Schedule::parse("0 3 * * *")?;
        assert_eq!(nightly.next_after(&utc("2026-06-01T02:59:59Z")), Some(utc("2026-06-01T03:00:00Z")));
        assert_eq!(nightly.next_after(&utc("2026-06-01T03:00:00Z")), Some(utc("2026-06-02T03:00:00Z")));
        let paris = FixedOffset::east_opt(2 * 3600).map(|tz| utc("2026-06-01T00:30:00Z").with_timezone(&tz));
        let next = paris.and_then(|t| nightly.next_after(&t)).map(|t| t.with_timezone(&Utc));
        assert_eq!(next, Some(utc("2026-06-01T01:00:00Z")), "03:00 in the clock's own zone");
        let weekly = Schedule::parse("30 4 * * sun")?;
        assert_eq!(weekly.next_after(&utc("2026-06-01T00:00:00Z")), Some(utc("2026-06-07T04:30:00Z")));
        let seconds = Schedule::parse("*/10 * * * * *")?;
        assert_eq!(seconds.next_after(&utc("2026-06-01T00:00:01Z")), Some(utc("2026-06-01T00:00:10Z")));
        assert_eq!(
            Schedule::parse("@daily")?.next_after(&utc("2026-06-01T00:00:00Z")),
            Some(utc("2026-06-02T00:00:00Z"))
        );
        for bad in ["", "61 * * * *", "* * *", "0 3 * * * * * *", "hello"] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?}");
        }
        Ok(())
    }

    /// A clock that jumps to whatever time it is asked to wait for; each run takes
    /// `run_minutes` of its time.
    struct FakeClock(Mutex<DateTime<Utc>>);

    impl Clock for FakeClock {
        fn now(&self) -> DateTime<Utc> {
            self.0.lock().map(|t| *t).unwrap_or_default()
        }
        fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_> {
            if let Ok(mut now) = self.0.lock() {
                *now = (*now).max(t);
            }
            Box::pin(async {})
        }
    }

    #[tokio::test]
    async fn the_loop_runs_jobs_in_order_without_overlap_and_stops_on_request() -> Result<()> {
        let clock = Arc::new(FakeClock(Mutex::new(utc("2026-06-01T00:00:00Z"))));
        let schedules = [Schedule::parse("0 3 * * *")?, Schedule::parse("0 */8 * * *")?];
        let (stop, shutdown) = watch::channel(false);
        let runs = Arc::new(Mutex::new(Vec::new()));
        let next = |j: usize, t: DateTime<Utc>| schedules[j].next_after(&t);
        run_loop(2, clock.as_ref(), shutdown, next, |job, due| {
            let (clock, runs, stop) = (clock.clone(), runs.clone(), stop.clone());
            async move {
                // Each run takes 9 hours: a job due during another's run starts late, once;
                // the slots a job's own run covered are skipped, not queued.
                if let Ok(mut now) = clock.0.lock() {
                    *now += chrono::TimeDelta::hours(9);
                }
                if let Ok(mut r) = runs.lock() {
                    r.push((job, due.format("%d %H:%M").to_string()));
                    if r.len() == 4 {
                        let _ = stop.send(true);
                    }
                }
            }
        })
        .await;
        let runs = runs.lock().map(|r| r.clone()).unwrap_or_default();
        let expected = [(0, "01 03:00"), (1, "01 08:00"), (1, "02 00:00"), (0, "02 03:00")];
        assert_eq!(runs, expected.map(|(j, t)| (j, t.to_string())));
        Ok(())
    }
}
