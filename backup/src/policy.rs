//! Retention: which backups a prune keeps (a pure function of the backups and the
//! policy, as restic's `ApplyPolicy`).
//!
//! `keep_last` keeps the newest N. `keep_daily`, `keep_weekly` and `keep_monthly` keep
//! the newest backup of each of the last N days, ISO weeks and months that have one,
//! as the calendar of a given time zone counts them (prune uses the local one, like the
//! schedule). The newest backup is always kept, whatever the policy says.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// How many backups of each kind to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// The newest N.
    pub last: u32,
    /// The newest of each of the last N days.
    pub daily: u32,
    /// The newest of each of the last N ISO weeks.
    pub weekly: u32,
    /// The newest of each of the last N months.
    pub monthly: u32,
}

impl Policy {
    /// True when the policy keeps nothing but the newest backup.
    pub fn is_empty(&self) -> bool {
        self.last == 0 && self.daily == 0 && self.weekly == 0 && self.monthly == 0
    }
}

/// What a policy decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Kept backups, newest first, with why (`last`, `daily`, `weekly`, `monthly`, `newest`).
    pub keep: Vec<(String, Vec<&'static str>)>,
    /// Backups to remove, newest first.
    pub remove: Vec<String>,
}

/// Applies `policy` to backups given as (ID, time), in any order, with days, weeks and
/// months as the calendar of `zone` counts them.
pub fn apply<Z: TimeZone>(backups: &[(String, DateTime<Utc>)], policy: &Policy, zone: &Z) -> Decision {
    let mut sorted: Vec<&(String, DateTime<Utc>)> = backups.iter().collect();
    sorted.sort_by(|a, b| (b.1, &b.0).cmp(&(a.1, &a.0)));
    let rules: [(&'static str, u32); 3] =
        [("daily", policy.daily), ("weekly", policy.weekly), ("monthly", policy.monthly)];
    let bucket = |name: &str, t: &DateTime<Utc>| {
        let t = t.with_timezone(zone);
        match name {
            "daily" => (t.year(), t.ordinal()),
            "weekly" => (t.iso_week().year(), t.iso_week().week()),
            _ => (t.year(), t.month()),
        }
    };
    // For each rule: the last bucket seen, and how many buckets kept a backup.
    type Seen = (Option<(i32, u32)>, u32);
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    let mut decision = Decision::default();
    for (i, (id, time)) in sorted.iter().enumerate() {
        let mut reasons = Vec::new();
        if i == 0 {
            reasons.push("newest");
        }
        if (i as u64) < u64::from(policy.last) {
            reasons.push("last");
        }
        for (name, limit) in rules {
            let b = bucket(name, time);
            let (last_bucket, kept) = seen.entry(name).or_insert((None, 0));
            if *last_bucket != Some(b) {
                *last_bucket = Some(b);
                if *kept < limit {
                    *kept += 1;
                    reasons.push(name);
                }
            }
        }
        if reasons.is_empty() {
            decision.remove.push(id.clone());
        } else {
            decision.keep.push((id.clone(), reasons));
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap_or_default()
    }

    /// One backup a day at 03:00 and 15:00 for `days` days from 2026-01-01.
    fn twice_daily(days: i64) -> Vec<(String, DateTime<Utc>)> {
        (0..days)
            .flat_map(|d| [3, 15].map(|h| at(2026, 1, 1, h) + chrono::TimeDelta::days(d)))
            .map(|t| (t.format("%Y%m%dT%H%M%SZ-aaaaaa").to_string(), t))
            .collect()
    }

    fn kept(d: &Decision) -> Vec<&str> {
        d.keep.iter().map(|(id, _)| &id[..11]).collect()
    }

    #[test]
    fn keep_last_keeps_the_newest_n() {
        let list = twice_daily(3);
        let d = apply(&list, &Policy { last: 2, ..Default::default() }, &Utc);
        assert_eq!(kept(&d), ["20260103T15", "20260103T03"]);
        assert_eq!(d.remove.len(), 4);
        assert_eq!(d.keep[0].1, ["newest", "last"]);
    }

    #[test]
    fn daily_weekly_monthly_keep_the_newest_of_each_period() {
        let list = twice_daily(70); // 2026-01-01 .. 2026-03-11
        let d = apply(&list, &Policy { daily: 3, weekly: 2, monthly: 3, ..Default::default() }, &Utc);
        // Days 03-11, 03-10, 03-09; weeks: the newest of ISO week 11 (03-11) and of week 10
        // (03-08, a Sunday); months: March (03-11), February (02-28), January (01-31).
        assert_eq!(
            kept(&d),
            ["20260311T15", "20260310T15", "20260309T15", "20260308T15", "20260228T15", "20260131T15"]
        );
        let reasons: BTreeMap<&str, &Vec<&str>> = d.keep.iter().map(|(id, r)| (&id[..11], r)).collect();
        assert_eq!(reasons["20260311T15"], &vec!["newest", "daily", "weekly", "monthly"]);
        assert_eq!(reasons["20260308T15"], &vec!["weekly"]);
        assert_eq!(d.keep.len() + d.remove.len(), list.len());
    }

    #[test]
    fn the_newest_is_kept_whatever_the_policy() {
        let list = twice_daily(2);
        let d = apply(&list, &Policy::default(), &Utc);
        assert_eq!(kept(&d), ["20260102T15"]);
        assert_eq!(d.remove.len(), 3);
        assert_eq!(apply(&[], &Policy { last: 3, ..Default::default() }, &Utc), Decision::default());
    }

    #[test]
    fn days_follow_the_given_time_zone() {
        // 23:30 UTC on 03-01 and 00:30 UTC on 03-02: two UTC days, but one day at UTC-5
        // (18:30 and 19:30 on 03-01) and one at UTC+9 (08:30 and 09:30 on 03-02).
        let list = vec![
            ("a".to_string(), at(2026, 3, 1, 23) + chrono::TimeDelta::minutes(30)),
            ("b".to_string(), at(2026, 3, 2, 0) + chrono::TimeDelta::minutes(30)),
        ];
        let daily = Policy { daily: 2, ..Default::default() };
        assert_eq!(apply(&list, &daily, &Utc).keep.len(), 2);
        for hours in [-5, 9] {
            let zone = chrono::FixedOffset::east_opt(hours * 3600).expect("a valid offset");
            let d = apply(&list, &daily, &zone);
            assert_eq!(d.keep.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["b"], "UTC{hours:+}");
            assert_eq!(d.remove, ["a"]);
        }
    }

    #[test]
    fn every_backup_is_kept_or_removed_once_on_random_timelines() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..200 {
            let n = rng.usize(0..60);
            let list: Vec<(String, DateTime<Utc>)> = (0..n)
                .map(|i| {
                    let t = at(2025, 1, 1, 0) + chrono::TimeDelta::minutes(rng.i64(0..400 * 24 * 60));
                    (format!("{}-{i:06}", t.format("%Y%m%dT%H%M%SZ")), t)
                })
                .collect();
            let policy =
                Policy { last: rng.u32(0..5), daily: rng.u32(0..8), weekly: rng.u32(0..5), monthly: rng.u32(0..4) };
            let d = apply(&list, &policy, &Utc);
            let mut all: Vec<&String> = d.keep.iter().map(|(id, _)| id).chain(&d.remove).collect();
            all.sort();
            let mut ids: Vec<&String> = list.iter().map(|(id, _)| id).collect();
            ids.sort();
            assert_eq!(all, ids, "{policy:?}");
            if let Some(newest) = list.iter().max_by_key(|(id, t)| (*t, id.clone())) {
                assert_eq!(d.keep.first().map(|k| &k.0), Some(&newest.0));
            }
            let limit = policy.last + policy.daily + policy.weekly + policy.monthly;
            assert!(d.keep.len() as u32 <= limit.max(1), "{policy:?} kept {}", d.keep.len());
        }
    }
}
