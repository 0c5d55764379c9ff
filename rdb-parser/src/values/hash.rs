//! Hashes: plain pairs (type 4), zipmap (9), ziplist (13), listpack (16), and the
//! field-TTL forms: Redis 22–25 and Valkey's `HASH_2` (22 in the Valkey dialect).

use std::io::Read;

use super::walk_groups;
use crate::checks::DupCheck;
use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::{zipmap, Elem};
use crate::error::{Error, Result};
use crate::prim::StringOrigin;
use crate::types::RdbType;
use crate::visitor::KeyStart;
use crate::visitor::{Container, ContainerKind, Visitor};

/// Largest field expiry Redis accepts (`EB_EXPIRE_TIME_MAX`, 2^48 - 1 ms).
const MAX_FIELD_EXPIRE_MS: i64 = (1 << 48) - 1;
/// Valkey `HASH_2`: expiry value meaning "no TTL".
const VALKEY_NO_EXPIRE: i64 = -1;

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    cx.dups.reset();
    match head.rdb_type {
        RdbType::HashZipmap => {
            let origin = cx.string(Buf::Blob, "a zipmap")?;
            let pairs = zipmap::pairs(&cx.blob).map_err(|e| blob_err(&origin, "hash zipmap", e))?;
            g.begin(head, Some(pairs.len() as u64))?;
            for (f, v) in &pairs {
                if !cx.dups.insert(f) {
                    return Err(origin.error(0, "hash zipmap", "duplicate field"));
                }
                g.hash_field(f, v, None)?;
            }
            let entries = pairs.len() * 2;
            g.container(&Container {
                kind: ContainerKind::Zipmap,
                bytes: cx.blob.len(),
                entries,
                compressed: origin.raw_data.is_none(),
            })
        }
        RdbType::HashZiplist => {
            let origin = cx.string(Buf::Blob, "a hash ziplist")?;
            let zl = Ziplist::new(&cx.blob).map_err(|e| blob_err(&origin, "hash ziplist", e))?;
            g.begin(head, zl.declared_len().map(|n| n as u64 / 2))?;
            let n = compact_fields::<2, _>(&mut cx.dups, zl, &origin, "hash ziplist", g)?;
            g.container(&Container {
                kind: ContainerKind::Ziplist,
                bytes: cx.blob.len(),
                entries: n,
                compressed: origin.raw_data.is_none(),
            })
        }
        RdbType::HashListpack => listpack_fields::<2, _, _>(cx, head, g, "hash listpack"),
        RdbType::HashListpackEx => {
            cx.src.i64_le("the minimum field expiry")?;
            listpack_fields::<3, _, _>(cx, head, g, "hash listpack with TTLs")
        }
        RdbType::HashListpackExPreGa => listpack_fields::<3, _, _>(cx, head, g, "hash listpack with TTLs"),
        t => {
            let min_expire = match t {
                RdbType::HashMetadata => Some(cx.src.i64_le("the minimum field expiry")?),
                _ => None,
            };
            let n = cx.count()?;
            cx.dups.reserve(n);
            g.begin(head, Some(n))?;
            for _ in 0..n {
                let at = cx.src.offset();
                let expire = match t {
                    RdbType::HashMetadata | RdbType::HashMetadataPreGa => {
                        let ttl = cx.src.length()?;
                        redis_field_expiry(ttl, min_expire)
                            .ok_or_else(|| Error::corrupt(at, format!("field TTL {ttl} is out of range")))?
                    }
                    _ => None,
                };
                cx.string(Buf::A, "a hash field")?;
                cx.string(Buf::B, "a hash value")?;
                let expire = match t {
                    RdbType::ValkeyHash2 => {
                        let e = cx.src.i64_le("a field expiry")?;
                        (e != VALKEY_NO_EXPIRE).then_some(e)
                    }
                    _ => expire,
                };
                if !cx.dups.insert(&cx.a) {
                    return Err(Error::corrupt(at, "duplicate hash field"));
                }
                g.hash_field(&cx.a, &cx.b, expire)?;
            }
            Ok(())
        }
    }
}

/// Decodes a Redis field TTL: 0 is "none"; with a minimum (type 24) the stored value is
/// `expire - min + 1`, without (type 22) it is the absolute time. `None` when out of range.
fn redis_field_expiry(ttl: u64, min_expire: Option<i64>) -> Option<Option<i64>> {
    if ttl == 0 {
        return Some(None);
    }
    let abs = match min_expire {
        Some(min) => i64::try_from(ttl).ok()?.checked_add(min)?.checked_sub(1)?,
        None => i64::try_from(ttl).ok()?,
    };
    (0..=MAX_FIELD_EXPIRE_MS).contains(&abs).then_some(Some(abs))
}

/// A hash listpack of pairs (`N` = 2) or of field/value/expiry triplets (`N` = 3).
fn listpack_fields<const N: usize, R: Read, V: Visitor>(
    cx: &mut Ctx<R>,
    head: &KeyStart<'_>,
    g: &mut Gate<'_, V>,
    what: &'static str,
) -> Result<()> {
    let origin = cx.string(Buf::Blob, "a hash listpack")?;
    let lp = Listpack::new(&cx.blob).map_err(|e| blob_err(&origin, what, e))?;
    g.begin(head, lp.declared_len().map(|n| (n / N) as u64))?;
    let n = compact_fields::<N, _>(&mut cx.dups, lp, &origin, what, g)?;
    g.container(&Container {
        kind: ContainerKind::Listpack,
        bytes: cx.blob.len(),
        entries: n,
        compressed: origin.raw_data.is_none(),
    })
}

/// Walks field/value(/expiry) groups: unique fields; with TTLs, fields that expire come
/// first in non-decreasing order, then those that do not (expiry 0).
fn compact_fields<'a, const N: usize, V: Visitor>(
    dups: &mut DupCheck,
    items: impl super::Walk<'a>,
    origin: &StringOrigin,
    what: &str,
    g: &mut Gate<'_, V>,
) -> Result<usize> {
    let (mut fb, mut vb) = (itoa::Buffer::new(), itoa::Buffer::new());
    let mut last_expire: i64 = 0;
    let mut seen_no_ttl = false;
    walk_groups::<N, _>(items, origin, what, |at, group| {
        let field = group[0].bytes(&mut fb);
        let value = group[1].bytes(&mut vb);
        let expire = if N == 3 {
            let e = match group[2] {
                Elem::Int(e) if (0..=MAX_FIELD_EXPIRE_MS).contains(&e) => e,
                _ => return Err(origin.error(at, what, "field expiry is not an integer in range")),
            };
            if e == 0 {
                seen_no_ttl = true;
                None
            } else {
                if seen_no_ttl || e < last_expire {
                    return Err(origin.error(at, what, "fields are not ordered by expiry"));
                }
                last_expire = e;
                Some(e)
            }
        } else {
            None
        };
        if !dups.insert(field) {
            return Err(origin.error(at, what, "duplicate field"));
        }
        g.hash_field(field, value, expire)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_ttl_decoding() {
        assert_eq!(redis_field_expiry(0, Some(5)), Some(None));
        assert_eq!(redis_field_expiry(1, Some(1000)), Some(Some(1000)));
        assert_eq!(redis_field_expiry(11, Some(1000)), Some(Some(1010)));
        assert_eq!(redis_field_expiry(77, None), Some(Some(77)));
        assert_eq!(redis_field_expiry(1 << 50, None), None);
        assert_eq!(redis_field_expiry(u64::MAX, Some(1)), None);
    }
}
