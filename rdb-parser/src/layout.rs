//! How the stored values of the types made of RDB strings are laid out: what stepping
//! over one reads (deferred checks) and where its strings are (payload rewriting).

use std::io::Read;

use crate::error::Result;
use crate::prim::Limits;
use crate::source::Source;
use crate::types::RdbType;

/// How a stored value is laid out: what stepping over it reads.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// A string value stored LZF-compressed.
    LzfString,
    /// One string holding the whole value; the decoder's name for it.
    Blob(&'static str),
    /// A count, then that many strings (quicklist of ziplists).
    Quicklist,
    /// A count, then that many container kinds and strings (quicklist 2).
    Quicklist2,
    /// A count, then per element these strings, and a binary score when set (plain
    /// sets, hashes and sorted sets).
    Elements(&'static [&'static str], bool),
    /// A stream of this format (1-5, [`crate::stream::format_of`]): its nodes, then its
    /// metadata and consumer groups. [`shape`] never gives it.
    Stream(u8),
}

/// The layout of a stored value of type `t`, for the types made of strings alone (and
/// binary scores); `None` for the others.
pub(crate) fn shape(t: RdbType) -> Option<Shape> {
    Some(match t {
        RdbType::String => Shape::LzfString,
        RdbType::ListZiplist => Shape::Blob("a ziplist"),
        RdbType::SetIntset => Shape::Blob("an intset"),
        RdbType::SetListpack => Shape::Blob("a set listpack"),
        RdbType::ZSetZiplist => Shape::Blob("a sorted-set ziplist"),
        RdbType::ZSetListpack => Shape::Blob("a sorted-set listpack"),
        RdbType::HashZipmap => Shape::Blob("a zipmap"),
        RdbType::HashZiplist => Shape::Blob("a hash ziplist"),
        RdbType::HashListpack => Shape::Blob("a hash listpack"),
        RdbType::ListQuicklist => Shape::Quicklist,
        RdbType::ListQuicklist2 => Shape::Quicklist2,
        RdbType::Set => Shape::Elements(&["a set member"], false),
        RdbType::Hash => Shape::Elements(&["a hash field", "a hash value"], false),
        RdbType::ZSet2 => Shape::Elements(&["a sorted-set member"], true),
        _ => return None,
    })
}

/// Steps over a value laid out as `shape`, reading what its decoder reads.
pub(crate) fn step_over<R: Read>(src: &mut Source<R>, limits: &Limits, shape: Shape) -> Result<()> {
    const NODE: &str = "a quicklist node";
    match shape {
        Shape::LzfString => {
            let header = src.offset();
            src.u8("a length")?;
            src.skip_lzf_body(header, limits, "a string value")
        }
        Shape::Blob(what) => src.skip_string(limits, what),
        Shape::Quicklist => {
            for _ in 0..src.length()? {
                src.skip_string(limits, NODE)?;
            }
            Ok(())
        }
        Shape::Quicklist2 => {
            for _ in 0..src.length()? {
                src.length()?;
                src.skip_string(limits, NODE)?;
            }
            Ok(())
        }
        Shape::Elements(strings, score) => {
            for _ in 0..src.length()? {
                for what in strings {
                    src.skip_string(limits, what)?;
                }
                if score {
                    src.array::<8>("a binary score")?;
                }
            }
            Ok(())
        }
        Shape::Stream(format) => step_over_stream(src, limits, format),
    }
}

/// Steps over a stream of `format`, reading what its decoder reads (without its checks).
fn step_over_stream<R: Read>(src: &mut Source<R>, limits: &Limits, format: u8) -> Result<()> {
    for _ in 0..src.length()? {
        src.skip_string(limits, "a stream node key")?;
        src.skip_string(limits, "a stream node listpack")?;
    }
    // The length and the last ID; since format 2 also the first ID, the largest deleted
    // ID and the count of entries added.
    lengths(src, if format >= 2 { 8 } else { 3 })?;
    for _ in 0..src.length()? {
        src.skip_string(limits, "a consumer group name")?;
        // The last delivered ID; since format 2 the entries-read counter.
        lengths(src, if format >= 2 { 3 } else { 2 })?;
        for _ in 0..src.length()? {
            src.stream_id_raw()?;
            src.i64_le("a delivery time")?;
            src.length()?;
        }
        for _ in 0..src.length()? {
            src.skip_string(limits, "a consumer name")?;
            src.i64_le("a consumer seen time")?;
            if format >= 3 {
                src.i64_le("a consumer active time")?;
            }
            for _ in 0..src.length()? {
                src.stream_id_raw()?;
            }
        }
        if format >= 5 {
            // The NACK zone.
            for _ in 0..src.length()? {
                src.stream_id_raw()?;
            }
        }
    }
    if format >= 4 {
        // Idempotent producers: the settings, each producer's IDs, two counters.
        lengths(src, 2)?;
        for _ in 0..src.length()? {
            src.skip_string(limits, "a producer ID")?;
            for _ in 0..src.length()? {
                src.skip_string(limits, "an idempotency ID")?;
                lengths(src, 2)?;
            }
        }
        lengths(src, 2)?;
    }
    Ok(())
}

/// Reads `n` lengths.
fn lengths<R: Read>(src: &mut Source<R>, n: usize) -> Result<()> {
    for _ in 0..n {
        src.length()?;
    }
    Ok(())
}
