//! Streams: entries by ID, the metadata the servers keep (last ID, entries added,
//! largest deleted ID), and consumer groups with their pending entries.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rdb_parser::StreamId;

use super::Bytes;

/// A pending entry of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// The consumer that owns it.
    pub consumer: Bytes,
    /// Last delivery, Unix ms.
    pub delivery_time_ms: i64,
    /// Deliveries.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumer {
    /// Last seen, Unix ms.
    pub seen_time_ms: i64,
    /// Last successful read or claim, Unix ms (-1 when never).
    pub active_time_ms: i64,
    /// Its pending entries.
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Entries read (-1 when unknown).
    pub entries_read: i64,
    /// Pending entries by ID.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Bytes, Consumer>,
}

/// Default `stream-idmp-duration` (seconds) and `stream-idmp-maxsize` of Redis 8.6.
pub const IDMP_DEFAULTS: (u64, u64) = rdb_parser::StreamIdmp::SERVER_DEFAULTS;

/// The idempotent-producer state of a stream (Redis 8.6). Nothing expires while an AOF
/// loads (the server drops old IDs from its cron), so none expire here either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idmp {
    /// How long IDs are remembered, seconds.
    pub duration_s: u64,
    /// IDs remembered per producer.
    pub max_entries: u64,
    /// Producer → (idempotency ID, entry ID), oldest first.
    pub producers: BTreeMap<Bytes, VecDeque<(Bytes, StreamId)>>,
    /// IDs recorded.
    pub iids_added: u64,
    /// Duplicates refused.
    pub iids_duplicates: u64,
}

impl Default for Idmp {
    fn default() -> Self {
        Idmp {
            duration_s: IDMP_DEFAULTS.0,
            max_entries: IDMP_DEFAULTS.1,
            producers: BTreeMap::new(),
            iids_added: 0,
            iids_duplicates: 0,
        }
    }
}

impl Idmp {
    /// The entry `iid` of producer `pid` added, if remembered.
    pub fn find(&self, pid: &[u8], iid: &[u8]) -> Option<StreamId> {
        self.producers.get(pid)?.iter().find(|(i, _)| &**i == iid).map(|(_, id)| *id)
    }

    /// Remembers `iid` → `id` for `pid`, forgetting the oldest past `max_entries`.
    pub fn record(&mut self, pid: &[u8], iid: &[u8], id: StreamId) {
        let p = self.producers.entry(pid.into()).or_default();
        p.push_back((iid.into(), id));
        while p.len() as u64 > self.max_entries {
            p.pop_front();
        }
        self.iids_added += 1;
    }
}

/// A stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Entries: ID → field, value, field, value...
    pub entries: BTreeMap<StreamId, Box<[Bytes]>>,
    /// Last generated ID.
    pub last_id: StreamId,
    /// Largest ID removed by XDEL.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Groups by name.
    pub groups: BTreeMap<Bytes, Group>,
    /// Idempotent-producer state, once a command set or used it.
    pub idmp: Option<Box<Idmp>>,
}

impl Stream {
    /// Approximate heap bytes.
    pub fn approx_bytes(&self) -> usize {
        let entries: usize = self.entries.values().map(|f| 64 + f.iter().map(|b| 16 + b.len()).sum::<usize>()).sum();
        let groups: usize = self.groups.values().map(|g| 128 + 64 * g.pel.len() + 96 * g.consumers.len()).sum();
        entries + groups
    }

    /// First live entry ID (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter of `id`, or
    /// -1 when it cannot be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.entries.is_empty() && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return -1,
            std::cmp::Ordering::Less => {}
        }
        let first = self.first_id();
        let zero = StreamId::default();
        if self.max_deleted_id == zero || self.max_deleted_id < first {
            let len = self.entries.len() as i64;
            match id.cmp(&first) {
                std::cmp::Ordering::Less => return added - len,
                std::cmp::Ordering::Equal => return added - len + 1,
                std::cmp::Ordering::Greater => {}
            }
        }
        -1
    }

    /// Removes entries (XDEL); returns how many existed.
    pub fn delete(&mut self, ids: &[StreamId]) -> usize {
        let mut n = 0;
        for id in ids {
            if self.entries.remove(id).is_some() {
                n += 1;
                if *id > self.max_deleted_id {
                    self.max_deleted_id = *id;
                }
            }
        }
        n
    }

    /// Exact trimming: keep at most `maxlen` entries, or only IDs from `minid` on.
    pub fn trim(&mut self, maxlen: Option<u64>, minid: Option<StreamId>) -> usize {
        let mut n = 0;
        if let Some(max) = maxlen {
            while self.entries.len() as u64 > max {
                self.entries.pop_first();
                n += 1;
            }
        }
        if let Some(min) = minid {
            while self.entries.first_key_value().is_some_and(|(id, _)| *id < min) {
                self.entries.pop_first();
                n += 1;
            }
        }
        n
    }

    /// Drops a pending entry from its group and consumer.
    pub fn unack(group: &mut Group, id: StreamId) -> bool {
        match group.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = group.consumers.get_mut(&n.consumer) {
                    c.pending.remove(&id);
                }
                true
            }
            None => false,
        }
    }
}
