//! Encodes one collected key for a target: picks the type byte and encoding the target
//! server itself would write, and reports what the target cannot represent.

use super::collect::KeyBuf;
use super::containers::{intset, ListpackBuilder, ZiplistBuilder};
use super::encode::{canonical_int, put_len, put_string, put_text_double};
use super::target::Target;
use crate::model::ModuleOp;
use crate::types::{Kind, RdbType};

/// The result of encoding a value.
pub(crate) enum Encoded {
    /// Write the key with this type; the value bytes were appended.
    Value(RdbType),
    /// The target cannot hold the key at all.
    Dropped,
}

/// Appends the value of `k` encoded for `t`, noting each feature that had to be left
/// out in `losses`.
pub(crate) fn encode_value(
    k: &KeyBuf,
    t: &Target,
    source_valkey: bool,
    out: &mut Vec<u8>,
    losses: &mut Vec<String>,
) -> Encoded {
    let ty = match k.kind() {
        Kind::String => {
            put_string(out, k.string());
            RdbType::String
        }
        Kind::List => list(k, t, out),
        Kind::Set => set(k, t, out),
        Kind::ZSet => zset(k, t, out),
        Kind::Hash => hash(k, t, out, losses),
        Kind::Stream => {
            if !t.has_streams() {
                losses.push(format!("streams need RDB 9 or later (target {})", t.name));
                return Encoded::Dropped;
            }
            super::stream::encode(k, t, out, losses)
        }
        Kind::Module => {
            let Some(m) = &k.module else { return Encoded::Dropped };
            if !t.has_binary_scores() {
                losses.push(format!("module values need RDB 8 or later (target {})", t.name));
                return Encoded::Dropped;
            }
            if source_valkey != t.is_valkey() {
                losses.push(format!("module type {} cannot move between Redis and Valkey", m.name));
                return Encoded::Dropped;
            }
            put_len(out, m.module_id);
            put_module_ops(out, &m.ops);
            RdbType::Module2
        }
        Kind::Array => {
            if !t.has_arrays() {
                losses.push(format!("arrays need Redis 8.8 (RDB 14) (target {})", t.name));
                return Encoded::Dropped;
            }
            array(k, out)
        }
        Kind::Gcra => {
            losses.push("GCRA values (type 33, non-default Redis builds) are never written".into());
            return Encoded::Dropped;
        }
    };
    Encoded::Value(ty)
}

/// Appends annotated module items and the EOF marker.
pub(crate) fn put_module_ops(out: &mut Vec<u8>, ops: &[ModuleOp]) {
    for op in ops {
        match op {
            ModuleOp::SInt(v) => {
                put_len(out, 1);
                put_len(out, *v);
            }
            ModuleOp::UInt(v) => {
                put_len(out, 2);
                put_len(out, *v);
            }
            ModuleOp::Float(v) => {
                put_len(out, 3);
                out.extend_from_slice(&v.to_le_bytes());
            }
            ModuleOp::Double(v) => {
                put_len(out, 4);
                out.extend_from_slice(&v.to_le_bytes());
            }
            ModuleOp::String(s) => {
                put_len(out, 5);
                put_string(out, s);
            }
        }
    }
    put_len(out, 0);
}

/// A sparse array as type 28, every value with the SDS tag (the loader re-encodes it).
fn array(k: &KeyBuf, out: &mut Vec<u8>) -> RdbType {
    put_len(out, k.array_indices.len() as u64);
    match k.array_insert_idx {
        Some(i) => {
            put_len(out, 1);
            put_len(out, i);
        }
        None => put_len(out, 0),
    }
    for (index, value) in k.array_indices.iter().zip(k.elements()) {
        put_len(out, *index);
        put_len(out, 0);
        put_string(out, value);
    }
    RdbType::Array
}

fn list(k: &KeyBuf, t: &Target, out: &mut Vec<u8>) -> RdbType {
    let node_bytes = t.thresholds.list_node_bytes;
    if t.has_listpacks() {
        // Quicklist 2: listpack nodes of up to node_bytes, plain nodes for larger items.
        let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut lp = ListpackBuilder::new();
        for item in k.elements() {
            let size = ListpackBuilder::entry_size(item);
            if item.len() > node_bytes {
                if lp.len() > 0 {
                    nodes.push((2, std::mem::replace(&mut lp, ListpackBuilder::new()).finish()));
                }
                nodes.push((1, item.to_vec()));
                continue;
            }
            if lp.len() > 0 && lp.bytes() + size > node_bytes {
                nodes.push((2, std::mem::replace(&mut lp, ListpackBuilder::new()).finish()));
            }
            lp.push(item);
        }
        if lp.len() > 0 {
            nodes.push((2, lp.finish()));
        }
        put_len(out, nodes.len() as u64);
        for (container, blob) in &nodes {
            put_len(out, *container);
            put_string(out, blob);
        }
        return RdbType::ListQuicklist2;
    }
    if t.has_quicklist() {
        let mut nodes: Vec<Vec<u8>> = Vec::new();
        let mut zl = ZiplistBuilder::new();
        for item in k.elements() {
            if zl.len() > 0 && zl.bytes() + item.len() + 11 > node_bytes {
                nodes.push(std::mem::replace(&mut zl, ZiplistBuilder::new()).finish());
            }
            zl.push(item);
        }
        if zl.len() > 0 {
            nodes.push(zl.finish());
        }
        put_len(out, nodes.len() as u64);
        for blob in &nodes {
            put_string(out, blob);
        }
        return RdbType::ListQuicklist;
    }
    // RDB 6: a ziplist under list-max-ziplist-entries 512 / -value 64, else plain.
    if k.spans.len() <= 512 && k.elements().all(|e| e.len() <= 64) {
        let mut zl = ZiplistBuilder::new();
        k.elements().for_each(|e| zl.push(e));
        put_string(out, &zl.finish());
        return RdbType::ListZiplist;
    }
    put_len(out, k.spans.len() as u64);
    k.elements().for_each(|e| put_string(out, e));
    RdbType::ListLinked
}

fn set(k: &KeyBuf, t: &Target, out: &mut Vec<u8>) -> RdbType {
    let th = &t.thresholds;
    let n = k.spans.len();
    if n <= th.set_intset_entries {
        let ints: Option<Vec<i64>> = k.elements().map(canonical_int).collect();
        if let Some(ints) = ints {
            put_string(out, &intset(ints));
            return RdbType::SetIntset;
        }
    }
    if t.has_set_listpacks() && n <= th.set_listpack_entries && k.elements().all(|e| e.len() <= th.set_listpack_value) {
        let mut lp = ListpackBuilder::new();
        k.elements().for_each(|e| lp.push(e));
        put_string(out, &lp.finish());
        return RdbType::SetListpack;
    }
    put_len(out, n as u64);
    k.elements().for_each(|e| put_string(out, e));
    RdbType::Set
}

/// A score as the servers store it inside a listpack or ziplist: integral values as
/// integers, `-0`, `inf`/`-inf`, otherwise the shortest round-trip text.
fn score_text(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        return format!("{}", v as i64);
    }
    format!("{v:e}")
}

fn zset(k: &KeyBuf, t: &Target, out: &mut Vec<u8>) -> RdbType {
    let th = &t.thresholds;
    let mut members: Vec<(&[u8], f64)> = k.elements().zip(k.scores.iter().copied()).collect();
    members.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(b.0)));
    if members.len() <= th.zset_entries && members.iter().all(|(m, _)| m.len() <= th.zset_value) {
        if t.has_listpacks() {
            let mut lp = ListpackBuilder::new();
            for (m, s) in &members {
                lp.push(m);
                lp.push(score_text(*s).as_bytes());
            }
            put_string(out, &lp.finish());
            return RdbType::ZSetListpack;
        }
        let mut zl = ZiplistBuilder::new();
        for (m, s) in &members {
            zl.push(m);
            zl.push(score_text(*s).as_bytes());
        }
        put_string(out, &zl.finish());
        return RdbType::ZSetZiplist;
    }
    // Skiplists are saved from the highest score down, as the servers do.
    put_len(out, members.len() as u64);
    for (m, s) in members.iter().rev() {
        put_string(out, m);
        if t.has_binary_scores() {
            out.extend_from_slice(&s.to_le_bytes());
        } else {
            put_text_double(out, *s);
        }
    }
    if t.has_binary_scores() {
        RdbType::ZSet2
    } else {
        RdbType::ZSetText
    }
}

fn hash(k: &KeyBuf, t: &Target, out: &mut Vec<u8>, losses: &mut Vec<String>) -> RdbType {
    let th = &t.thresholds;
    let n = k.len();
    let any_ttl = k.field_ttls.iter().any(Option::is_some);
    let compact = n <= th.hash_entries && k.elements().all(|e| e.len() <= th.hash_value);
    if any_ttl && !t.has_field_ttls() {
        let fields = k.field_ttls.iter().filter(|x| x.is_some()).count();
        losses.push(format!(
            "{fields} field TTL(s): hash field expiry needs Redis 7.4 (RDB 12) or Valkey 9 (target {})",
            t.name
        ));
    }
    if any_ttl && t.has_field_ttls() {
        let min = k.field_ttls.iter().flatten().copied().min().unwrap_or(0);
        if t.is_valkey() {
            put_len(out, n as u64);
            for (f, v, ttl) in k.hash_fields() {
                put_string(out, f);
                put_string(out, v);
                out.extend_from_slice(&ttl.unwrap_or(-1).to_le_bytes());
            }
            return RdbType::ValkeyHash2;
        }
        out.extend_from_slice(&min.to_le_bytes());
        if compact {
            // Fields with a TTL first, by expiry; then the others with expiry 0.
            let mut fields: Vec<_> = k.hash_fields().collect();
            fields.sort_by_key(|&(_, _, ttl)| (ttl.is_none(), ttl.unwrap_or(0)));
            let mut lp = ListpackBuilder::new();
            for (f, v, ttl) in fields {
                lp.push(f);
                lp.push(v);
                lp.push_int(ttl.unwrap_or(0));
            }
            put_string(out, &lp.finish());
            return RdbType::HashListpackEx;
        }
        put_len(out, n as u64);
        for (f, v, ttl) in k.hash_fields() {
            put_len(out, ttl.map_or(0, |e| (e - min + 1) as u64));
            put_string(out, f);
            put_string(out, v);
        }
        return RdbType::HashMetadata;
    }
    if compact {
        if t.has_listpacks() {
            let mut lp = ListpackBuilder::new();
            k.elements().for_each(|e| lp.push(e));
            put_string(out, &lp.finish());
            return RdbType::HashListpack;
        }
        let mut zl = ZiplistBuilder::new();
        k.elements().for_each(|e| zl.push(e));
        put_string(out, &zl.finish());
        return RdbType::HashZiplist;
    }
    put_len(out, n as u64);
    k.elements().for_each(|e| put_string(out, e));
    RdbType::Hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_texts_read_back_exactly() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.1,
            1e-300,
            5e-324,
            9.007199254740993e15,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let text = score_text(v);
            let back = crate::prim::parse_score(text.as_bytes()).expect("parses");
            assert_eq!(back.to_bits(), v.to_bits(), "{v} -> {text}");
        }
        assert_eq!(score_text(3.0), "3");
        assert_eq!(score_text(-0.0), "-0");
    }
}
