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
    }
}
