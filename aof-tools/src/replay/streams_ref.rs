//! Redis 8.2's deletion policies for stream entries that consumer groups still
//! reference: XDELEX, XACKDEL, and the KEEPREF / DELREF / ACKED option of XADD and
//! XTRIM trimming.

use rdb_parser::StreamId;

use super::args::{at_least, int, is, stream_id};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Stream, Value};

/// What deleting an entry does to the groups' pending entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefPolicy {
    /// Delete the entry, keep pending references (XDEL's behaviour).
    #[default]
    KeepRef,
    /// Delete the entry and every pending reference to it.
    DelRef,
    /// Delete only entries every group has read and acknowledged.
    Acked,
}

impl RefPolicy {
    /// The policy a keyword names.
    pub fn parse(a: &[u8]) -> Option<RefPolicy> {
        match () {
            _ if is(a, "KEEPREF") => Some(RefPolicy::KeepRef),
            _ if is(a, "DELREF") => Some(RefPolicy::DelRef),
            _ if is(a, "ACKED") => Some(RefPolicy::Acked),
            _ => None,
        }
    }
}

fn as_stream(v: &mut Value) -> Option<&mut Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// True when a group has `id` pending or has not been delivered it yet.
pub fn referenced(s: &Stream, id: StreamId) -> bool {
    s.groups.values().any(|g| g.pel.contains_key(&id) || g.last_id < id)
}

/// Drops `id` from every group's pending entries.
pub fn drop_refs(s: &mut Stream, id: StreamId) {
    for g in s.groups.values_mut() {
        Stream::unack(g, id);
    }
}

/// Deletes one entry under `policy`; true when it was deleted.
pub fn delete_one(s: &mut Stream, id: StreamId, policy: RefPolicy) -> bool {
    if !s.entries.contains_key(&id) || (policy == RefPolicy::Acked && referenced(s, id)) {
        return false;
    }
    s.delete(&[id]);
    if policy == RefPolicy::DelRef {
        drop_refs(s, id);
    }
    true
}

/// `[KEEPREF|DELREF|ACKED] IDS numids id...` from `argv[i]`.
fn policy_and_ids(argv: &[&[u8]], mut i: usize) -> Result<(RefPolicy, Vec<StreamId>), Fail> {
    let mut policy = RefPolicy::KeepRef;
    while let Some(p) = argv.get(i).and_then(|a| RefPolicy::parse(a)) {
        policy = p;
        i += 1;
    }
    if !argv.get(i).is_some_and(|a| is(a, "IDS")) {
        return Err(Fail::syntax());
    }
    let n = argv.get(i + 1).map(|a| int(a)).transpose()?.ok_or_else(Fail::syntax)?;
    let ids = &argv[(i + 2).min(argv.len())..];
    if n <= 0 || ids.len() as i64 != n {
        return Err(Fail::Reply("ERR The `numids` parameter must match the number of arguments".into()));
    }
    Ok((policy, ids.iter().map(|a| stream_id(a, 0)).collect::<Result<_, _>>()?))
}

/// XDELEX key [policy] IDS numids id...
pub fn xdelex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    let (policy, ids) = policy_and_ids(argv, 2)?;
    if let Some(s) = cx.existing(argv[1], as_stream)? {
        for id in ids {
            delete_one(s, id, policy);
        }
    }
    Ok(())
}

/// XACKDEL key group [policy] IDS numids id...: acknowledges in `group`, then deletes.
pub fn xackdel(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 6)?;
    let (policy, ids) = policy_and_ids(argv, 3)?;
    let Some(s) = cx.existing(argv[1], as_stream)? else { return Ok(()) };
    let Some(g) = s.groups.get_mut(argv[2]) else {
        return Err(Fail::Reply("NOGROUP No such consumer group for key name".into()));
    };
    // Only what the group had pending is acknowledged, then deleted under the policy.
    let acked: Vec<StreamId> = ids.into_iter().filter(|&id| Stream::unack(g, id)).collect();
    for id in acked {
        delete_one(s, id, policy);
    }
    Ok(())
}

/// Trimming under `policy`: oldest first, skipping entries ACKED must keep.
pub fn trim(s: &mut Stream, maxlen: Option<u64>, minid: Option<StreamId>, policy: RefPolicy) {
    if policy == RefPolicy::KeepRef {
        s.trim(maxlen, minid);
        return;
    }
    let candidates: Vec<StreamId> = s.entries.keys().copied().collect();
    for id in candidates {
        let over = maxlen.is_some_and(|m| s.entries.len() as u64 > m);
        let below = minid.is_some_and(|m| id < m);
        if !over && !below {
            break;
        }
        if policy == RefPolicy::Acked && referenced(s, id) {
            continue;
        }
        s.entries.remove(&id);
        if policy == RefPolicy::DelRef {
            drop_refs(s, id);
        }
    }
}
