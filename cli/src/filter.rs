//! Key filters shared by the commands: `--db`, `--key GLOB`, `--type T`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rdb_parser::{KeyStart, Kind};

use crate::exit::usage;

/// Which keys a command handles; empty lists mean "all".
#[derive(Default)]
pub struct Filter {
    dbs: Vec<u64>,
    keys: Option<GlobSet>,
    kinds: Vec<Kind>,
}

impl Filter {
    /// Builds a filter from the command-line values.
    pub fn new(dbs: &[u64], globs: &[String], kinds: &[String]) -> anyhow::Result<Filter> {
        let keys = if globs.is_empty() {
            None
        } else {
            let mut set = GlobSetBuilder::new();
            for g in globs {
                let glob = GlobBuilder::new(g)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| usage(format!("invalid --key pattern {g:?}: {e}")))?;
                set.add(glob);
            }
            Some(set.build().map_err(|e| usage(format!("invalid --key patterns: {e}")))?)
        };
        let kinds = kinds
            .iter()
            .map(|k| {
                Kind::from_name(k).ok_or_else(|| {
                    usage(format!("unknown --type {k:?}; expected string, list, set, zset, hash, stream or module"))
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Filter { dbs: dbs.to_vec(), keys, kinds })
    }

    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty() && self.keys.is_none() && self.kinds.is_empty()
    }

    /// Whether the key passes.
    pub fn matches(&self, k: &KeyStart<'_>) -> bool {
        (self.dbs.is_empty() || self.dbs.contains(&k.db))
            && (self.kinds.is_empty() || self.kinds.contains(&k.rdb_type.kind()))
            && self.keys.as_ref().is_none_or(|set| set.is_match(key_path(k.key)))
    }
}

/// Globs match paths; on Unix any bytes make a path, so binary keys match too.
#[cfg(unix)]
fn key_path(key: &[u8]) -> &std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    std::path::Path::new(std::ffi::OsStr::from_bytes(key))
}

#[cfg(not(unix))]
fn key_path(key: &[u8]) -> std::path::PathBuf {
    std::path::PathBuf::from(String::from_utf8_lossy(key).into_owned())
}

/// Decides which keys a command handles.
pub trait KeyPredicate {
    fn matches(&self, k: &KeyStart<'_>) -> bool;
}

impl KeyPredicate for Filter {
    fn matches(&self, k: &KeyStart<'_>) -> bool {
        Filter::matches(self, k)
    }
}

/// An exact set of (db, key) pairs.
impl KeyPredicate for std::collections::HashSet<(u64, Vec<u8>)> {
    fn matches(&self, k: &KeyStart<'_>) -> bool {
        self.contains(&(k.db, k.key.to_vec()))
    }
}

/// Passes only the keys a predicate accepts to the inner visitor; everything else
/// (header, AUX, functions) goes through unchanged.
pub struct Filtered<'f, V> {
    pub inner: V,
    filter: &'f dyn KeyPredicate,
    skipping: bool,
}

impl<'f, V> Filtered<'f, V> {
    pub fn new(inner: V, filter: &'f dyn KeyPredicate) -> Self {
        Filtered { inner, filter, skipping: false }
    }
}

impl<V: rdb_parser::Visitor> rdb_parser::Visitor for Filtered<'_, V> {
    fn header(&mut self, h: &rdb_parser::Header) -> rdb_parser::VisitResult {
        self.inner.header(h)
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> rdb_parser::VisitResult {
        self.inner.aux(key, value)
    }
    fn select_db(&mut self, db: u64) -> rdb_parser::VisitResult {
        self.inner.select_db(db)
    }
    fn function(&mut self, code: &[u8]) -> rdb_parser::VisitResult {
        self.inner.function(code)
    }
    fn module_aux(&mut self, aux: &rdb_parser::ModuleAux) -> rdb_parser::VisitResult {
        self.inner.module_aux(aux)
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<rdb_parser::Visit, rdb_parser::VisitError> {
        self.skipping = !self.filter.matches(k);
        if self.skipping {
            return Ok(rdb_parser::Visit::Skip);
        }
        self.inner.key_start(k)
    }
    fn string_chunk(&mut self, c: &[u8]) -> rdb_parser::VisitResult {
        self.inner.string_chunk(c)
    }
    fn list_item(&mut self, i: &[u8]) -> rdb_parser::VisitResult {
        self.inner.list_item(i)
    }
    fn set_member(&mut self, m: &[u8]) -> rdb_parser::VisitResult {
        self.inner.set_member(m)
    }
    fn zset_member(&mut self, m: &[u8], s: f64) -> rdb_parser::VisitResult {
        self.inner.zset_member(m, s)
    }
    fn hash_field(&mut self, f: &[u8], v: &[u8], t: Option<i64>) -> rdb_parser::VisitResult {
        self.inner.hash_field(f, v, t)
    }
    fn stream_node(&mut self, id: rdb_parser::StreamId, n: usize) -> rdb_parser::VisitResult {
        self.inner.stream_node(id, n)
    }
    fn stream_entry(&mut self, e: &rdb_parser::StreamEntryRef<'_>) -> rdb_parser::VisitResult {
        self.inner.stream_entry(e)
    }
    fn stream_meta(&mut self, m: &rdb_parser::StreamMeta) -> rdb_parser::VisitResult {
        self.inner.stream_meta(m)
    }
    fn stream_group(&mut self, g: &rdb_parser::StreamGroup) -> rdb_parser::VisitResult {
        self.inner.stream_group(g)
    }
    fn module_value(&mut self, v: &rdb_parser::ModuleValue) -> rdb_parser::VisitResult {
        self.inner.module_value(v)
    }
    fn container(&mut self, c: &rdb_parser::Container) -> rdb_parser::VisitResult {
        self.inner.container(c)
    }
    fn raw_value(&mut self, t: rdb_parser::RdbType, bytes: &[u8]) -> rdb_parser::VisitResult {
        self.inner.raw_value(t, bytes)
    }
    fn function_pre_ga(&mut self, f: &rdb_parser::PreGaFunction) -> rdb_parser::VisitResult {
        self.inner.function_pre_ga(f)
    }
    fn key_end(&mut self, end: &rdb_parser::KeyEnd) -> rdb_parser::VisitResult {
        if self.skipping {
            self.skipping = false;
            return Ok(());
        }
        self.inner.key_end(end)
    }
    fn end(&mut self, c: rdb_parser::Checksum) -> rdb_parser::VisitResult {
        self.inner.end(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdb_parser::RdbType;

    fn start(db: u64, key: &[u8], t: RdbType) -> KeyStart<'_> {
        KeyStart {
            db,
            key,
            rdb_type: t,
            expire_at_ms: None,
            lru_idle_s: None,
            lfu_freq: None,
            len: None,
            offset: 0,
            meta: &[],
        }
    }

    #[test]
    fn all_filters_apply() -> anyhow::Result<()> {
        let f = Filter::new(&[1], &["user:*".into()], &["hash".into()])?;
        assert!(f.matches(&start(1, b"user:1/x", RdbType::HashListpack)));
        assert!(!f.matches(&start(0, b"user:1", RdbType::HashListpack)));
        assert!(!f.matches(&start(1, b"order:1", RdbType::HashListpack)));
        assert!(!f.matches(&start(1, b"user:1", RdbType::String)));
        assert!(Filter::new(&[], &[], &["nope".into()]).is_err());
        let bin = Filter::new(&[], &["a?c".into()], &[])?;
        assert!(bin.matches(&start(0, b"a\xffc", RdbType::String)));
        Ok(())
    }
}
