//! Sets: intsets, listpacks (Redis 7.2+, Valkey), hash tables.

use super::key::DICT_ENTRY;
use super::pack::{parse_int, IntsetSize, Item, ListpackSize};
use super::profile::{Profile, Rules};
use super::table::{dict_buckets, valkey80_set_entries, valkey_table};
use super::{Encoding, KeyFacts, ValueSize};
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind};

/// A set value.
#[derive(Debug, Default)]
pub(crate) struct SetEst {
    count: u64,
    largest: u64,
    all_int: bool,
    /// Whether a compact encoding may have to be sized from the members (it need not
    /// when the loader keeps the file's blob).
    sized: bool,
    intset: IntsetSize,
    listpack: ListpackSize,
    /// Σ of the members' sds sizes.
    members: u64,
    blob: Option<(ContainerKind, u64)>,
}

impl SetEst {
    pub(crate) fn new(p: &Profile, rdb_type: RdbType) -> SetEst {
        SetEst { all_int: true, sized: !p.keeps_blob(rdb_type), ..SetEst::default() }
    }

    pub(crate) fn member(&mut self, p: &Profile, m: &[u8]) {
        self.count += 1;
        self.largest = self.largest.max(m.len() as u64);
        self.members += p.sds(m.len() as u64);
        if !self.sized {
            return;
        }
        if self.all_int && self.count <= p.limits.set_intset_entries as u64 {
            match parse_int(m) {
                Some(v) => self.intset.push(v),
                None => self.all_int = false,
            }
        }
        if self.count <= p.limits.set_listpack_entries as u64 {
            self.listpack.push(Item::Bytes(m));
        }
    }

    pub(crate) fn container(&mut self, c: &Container) {
        self.blob = Some((c.kind, c.bytes as u64));
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts) -> ValueSize {
        let lim = &p.limits;
        let n = self.count;
        let lp_ok = n <= lim.set_listpack_entries as u64;
        let (encoding, body) = match self.blob {
            // Blobs the server keeps are only checked for their count.
            Some((ContainerKind::Intset, bytes)) if n <= lim.set_intset_entries as u64 => {
                (Encoding::Intset, p.blob(bytes))
            }
            Some((ContainerKind::Listpack, bytes)) if lp_ok => (Encoding::Listpack, p.blob(bytes)),
            Some((ContainerKind::Intset | ContainerKind::Listpack, _)) => (Encoding::Hashtable, self.table(p)),
            _ if self.all_int && n <= lim.set_intset_entries as u64 => (Encoding::Intset, p.blob(self.intset.bytes())),
            _ if lp_ok && self.largest <= lim.set_listpack_value as u64 => {
                (Encoding::Listpack, p.blob(self.listpack.bytes()))
            }
            _ => (Encoding::Hashtable, self.table(p)),
        };
        ValueSize { encoding, bytes: p.robj(key) + body }
    }

    /// A hash table of members (presized by the loader).
    fn table(&self, p: &Profile) -> u64 {
        let n = self.count;
        if p.valkey_table() {
            // Valkey 9.1 measures 8 bytes more per set than 8.1 (fitted, not explained).
            let extra = if p.rules == Rules::V90 { 8 } else { 0 };
            return valkey_table(n) + self.members + extra;
        }
        let buckets = dict_buckets(n);
        let entries =
            if p.rules == Rules::V80 { valkey80_set_entries(n, buckets).round() as u64 } else { DICT_ENTRY * n };
        p.dict_struct() + 8 * buckets + entries + self.members
    }
}
