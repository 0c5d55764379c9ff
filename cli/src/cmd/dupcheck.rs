//! `verify`'s check for keys stored twice in one database (Redis 7.0+ refuses to load
//! such a file), in bounded memory: see [`rdb_parser::dupkeys`].

use std::path::Path;

use rdb_parser::dupkeys::{Confirm, Duplicate, KeyPosition, RepeatFilter};
use rdb_parser::{escape_bytes, KeyStart, RdbReader, Visit, VisitError, Visitor};

use crate::input::Input;

/// The second pass: stops at the first repeat.
struct Second {
    confirm: Confirm,
    index: u64,
    found: Option<Duplicate>,
}

impl Visitor for Second {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        let at = KeyPosition { offset: k.offset, index: self.index };
        self.index += 1;
        if let Some(d) = self.confirm.check(k.db, k.key, at) {
            self.found = Some(d);
            return Err("duplicate found".into());
        }
        Ok(Visit::Skip)
    }
}

/// Confirms the first pass's candidates by reading `path` again. Returns a warning when
/// the check could not be completed, an error naming the first duplicate.
pub fn confirm(path: &Path, mut filter: RepeatFilter, relaxed: bool) -> anyhow::Result<Option<String>> {
    let overflow = filter
        .overflowed()
        .then(|| "the duplicate-key check is incomplete: too many keys for its memory budget".to_string());
    if filter.candidates() == 0 {
        return Ok(overflow);
    }
    if path == Path::new("-") {
        let n = filter.candidates();
        return Ok(Some(format!("{n} key(s) may be stored twice; standard input cannot be read again to check")));
    }
    let input = Input::open(path, true)?;
    let mut second = Second { confirm: filter.confirm(), index: 0, found: None };
    // Only keys matter here, the values were checked by the first pass: stepped over.
    let read = RdbReader::with_options(input.reader, super::checking_options(relaxed)).read_all(&mut second);
    if let Some(d) = second.found {
        let msg = format!(
            "key {} is stored twice in database {} (key #{} at offset {}, key #{} at offset {}); \
             Redis refuses to load the file (\"Duplicated key\")",
            escape_bytes(&d.key, 80),
            d.db,
            d.first.index + 1,
            d.first.offset,
            d.second.index + 1,
            d.second.offset
        );
        return Err(anyhow::Error::new(rdb_parser::Error::corrupt(d.second.offset, msg)).context(input.name));
    }
    read?;
    Ok(overflow)
}
