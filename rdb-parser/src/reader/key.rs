//! One key record: its name, then its value read by the reader's visitor, by the
//! deferred checker, or by a [`KeyHandoff`].

use std::io::Read;

use crate::context::{Ctx, Gate};
use crate::defer::{deferrable, stated_len, Deferred};
use crate::error::Result;
use crate::model::KeyMeta;
use crate::types::RdbType;
use crate::values::read_value;
use crate::visitor::{KeyEnd, KeyStart, Visitor};

/// Capacity of the stored-value buffer kept between keys (a big value's is freed).
const KEPT_CAPTURE_BYTES: usize = 1 << 20;

/// Per-key state set by prefix opcodes and consumed by the next key.
#[derive(Default)]
pub(super) struct Prefix {
    pub(super) start: Option<u64>,
    pub(super) expire_at_ms: Option<i64>,
    pub(super) lru_idle_s: Option<u64>,
    pub(super) lfu_freq: Option<u8>,
    pub(super) meta: Vec<KeyMeta>,
}

/// Reads a key's value in place of the reader: [`super::RdbReader::next_record_via`] hands
/// each key to it once the name is read.
pub(crate) trait KeyHandoff<R, V> {
    /// Reads (or steps over and queues) the value of the key `head`.
    fn value(&mut self, cx: &mut Ctx<R>, head: &KeyStart<'_>, v: &mut V) -> Result<()>;
}

/// Reads the key name and value of one key record (`prefix.start`: where it starts).
#[allow(clippy::too_many_arguments)]
pub(super) fn read_key<R: Read, V: Visitor>(
    cx: &mut Ctx<R>,
    db: u64,
    rdb_type: RdbType,
    prefix: Prefix,
    key: &mut Vec<u8>,
    v: &mut V,
    deferred: Option<&mut Deferred>,
    handoff: Option<&mut dyn KeyHandoff<R, V>>,
) -> Result<()> {
    let raw = cx.raw_values;
    let start = prefix.start.unwrap_or_default();
    cx.src.string_into(key, &mut cx.scratch, &cx.limits, "a key name")?;
    let head = KeyStart {
        db,
        key,
        rdb_type,
        expire_at_ms: prefix.expire_at_ms,
        lru_idle_s: prefix.lru_idle_s,
        lfu_freq: prefix.lfu_freq,
        len: None,
        offset: start,
        meta: &prefix.meta,
    };
    if let Some(h) = handoff {
        return h.value(cx, &head, v).map_err(|e| e.with_key(key));
    }
    let mut g = Gate::new(v, start);
    if let Some(d) = deferred {
        if deferrable(&mut cx.src, rdb_type).map_err(|e| e.with_key(key))? {
            let len = stated_len(&mut cx.src, rdb_type).map_err(|e| e.with_key(key))?;
            g.begin(&head, len).map_err(|e| e.with_key(key))?;
            let empty = if g.skips() {
                d.step(cx, &head).map_err(|e| e.with_key(key))?;
                Some(false)
            } else if raw && !g.is_open() {
                // Only the stored bytes are wanted: copied now, checked on the other thread.
                Some(d.step_copy(cx, &head, |bytes| g.raw_value(rdb_type, bytes)).map_err(|e| e.with_key(key))?)
            } else {
                None
            };
            if let Some(empty) = empty {
                let end = KeyEnd { elements: 0, record_bytes: cx.src.offset() - start, empty };
                return g.end(&end).map_err(|e| e.with_key(key));
            }
        }
    }
    if raw {
        cx.src.start_capture(std::mem::take(&mut cx.captured));
    }
    // Errors name the key once its name is complete (a cut name would mislead).
    let read = read_value(cx, &head, &mut g);
    let mut bytes = if raw { cx.src.take_capture() } else { Vec::new() };
    read.map_err(|e| e.with_key(key))?;
    if raw {
        g.take_raw_value(rdb_type, &mut bytes).map_err(|e| e.with_key(key))?;
        // Kept for the next value, unless a big one left it large.
        bytes.clear();
        bytes.shrink_to(KEPT_CAPTURE_BYTES);
        cx.captured = bytes;
    }
    debug_assert!(g.started());
    let elements = g.elements;
    let empty = is_empty(rdb_type, elements);
    g.end(&KeyEnd { elements, record_bytes: cx.src.offset() - start, empty }).map_err(|e| e.with_key(key))
}

/// Whether a value of type `t` that held `elements` is an empty collection (servers
/// skip those when loading).
pub(crate) fn is_empty(t: RdbType, elements: u64) -> bool {
    elements == 0
        && !matches!(t.kind(), crate::Kind::String | crate::Kind::Stream | crate::Kind::Module | crate::Kind::Gcra)
}
