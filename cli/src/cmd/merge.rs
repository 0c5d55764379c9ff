//! `convert --rename-db` that brings two databases into one: a key in both would be
//! written twice into one database, which Redis refuses to load ("Duplicated key").
//! Found in bounded memory with [`rdb_parser::dupkeys`]: a first pass over the input, then
//! the writing pass confirms each repeat and leaves out the second copy.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rdb_parser::{escape_bytes, KeyEnd, KeyPredicate, KeyStart, Visit, VisitError, VisitResult, Visitor};

use rdb_parser::dupkeys::{Confirm, KeyPosition, RepeatFilter};

/// Database changes remembered to name the database of a first copy.
const MAX_DB_RUNS: usize = 1 << 20;

/// Databases that may receive keys from two source databases under `rename` (a source
/// database not renamed keeps its number).
pub fn merged_targets(rename: &BTreeMap<u64, u64>) -> Vec<u64> {
    let mut sources: BTreeMap<u64, usize> = BTreeMap::new();
    for &to in rename.values() {
        *sources.entry(to).or_default() += 1;
    }
    sources.into_iter().filter(|&(to, n)| n + usize::from(!rename.contains_key(&to)) >= 2).map(|(to, _)| to).collect()
}

/// First pass: every key bound for a merged database goes into the filter.
pub struct Survey<'a> {
    pub rename: &'a BTreeMap<u64, u64>,
    pub merged: &'a [u64],
    pub filter: RepeatFilter,
}

impl Visitor for Survey<'_> {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        let to = self.rename.get(&k.db).copied().unwrap_or(k.db);
        if self.merged.contains(&to) {
            self.filter.add(to, k.key);
        }
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        Ok(())
    }
}

/// A key left out because another database already brought it.
pub struct Collision {
    pub key: Vec<u8>,
    pub target: u64,
    pub first_db: Option<u64>,
    pub second_db: u64,
}

impl Collision {
    /// One line: the key and both source databases.
    pub fn describe(&self) -> String {
        let first = self.first_db.map_or_else(|| "an earlier database".to_string(), |d| format!("db {d}"));
        format!(
            "key {} is in {first} and db {}, both renamed to db {}",
            escape_bytes(&self.key, 80),
            self.second_db,
            self.target
        )
    }
}

struct State {
    confirm: Confirm,
    index: u64,
    /// (offset of the first key, source db) at each change of database.
    runs: Vec<(u64, u64)>,
    found: Vec<Collision>,
    count: u64,
}

/// Second pass, as a key predicate in front of the writer: the second copy of a key in
/// a merged database does not pass, and is recorded.
pub struct NoRepeats<'a> {
    rename: &'a BTreeMap<u64, u64>,
    state: RefCell<State>,
    keep: usize,
}

impl<'a> NoRepeats<'a> {
    /// Confirms `survey`'s candidates, keeping up to `keep` collisions to report.
    pub fn new(survey: Survey<'a>, keep: usize) -> Self {
        let state = State { confirm: survey.filter.confirm(), index: 0, runs: Vec::new(), found: Vec::new(), count: 0 };
        NoRepeats { rename: survey.rename, state: RefCell::new(state), keep }
    }

    /// The collisions kept, and how many there were.
    pub fn collisions(self) -> (Vec<Collision>, u64) {
        let s = self.state.into_inner();
        (s.found, s.count)
    }
}

impl KeyPredicate for NoRepeats<'_> {
    fn matches(&self, k: &KeyStart<'_>) -> bool {
        let mut s = self.state.borrow_mut();
        let at = KeyPosition { offset: k.offset, index: s.index };
        s.index += 1;
        if s.runs.last().is_none_or(|&(_, db)| db != k.db) && s.runs.len() < MAX_DB_RUNS {
            s.runs.push((k.offset, k.db));
        }
        let to = self.rename.get(&k.db).copied().unwrap_or(k.db);
        let Some(d) = s.confirm.check(to, k.key, at) else { return true };
        s.count += 1;
        if s.found.len() < self.keep {
            let i = s.runs.partition_point(|&(offset, _)| offset <= d.first.offset);
            let first_db = i.checked_sub(1).map(|i| s.runs[i].1);
            s.found.push(Collision { key: d.key, target: to, first_db, second_db: k.db });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_are_foreseen() {
        let map = |pairs: &[(u64, u64)]| pairs.iter().copied().collect::<BTreeMap<u64, u64>>();
        assert_eq!(merged_targets(&map(&[(0, 5)])), [5]);
        assert_eq!(merged_targets(&map(&[(0, 5), (5, 0)])), Vec::<u64>::new(), "a swap merges nothing");
        assert_eq!(merged_targets(&map(&[(1, 3), (2, 3), (3, 4)])), [3, 4], "1 and 2 into 3; 3 into 4");
        assert_eq!(merged_targets(&map(&[(1, 3), (3, 4)])), [4]);
    }
}
