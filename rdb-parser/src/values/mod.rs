//! Value decoders, one module per data type; each announces the key through the
//! [`Gate`] once it knows what it can about the element count, then streams elements.

use std::io::Read;

use crate::context::{Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::{BlobError, Elem};
use crate::error::Result;
use crate::prim::StringOrigin;
use crate::types::Kind;
use crate::visitor::KeyStart;
use crate::visitor::Visitor;

mod array;
mod gcra;
mod hash;
mod list;
mod set;
mod string;
pub(crate) mod template;
mod zset;

/// Reads the value of the key described by `head`, announcing it through `g`.
pub(crate) fn read_value<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    match head.rdb_type.kind() {
        Kind::String => string::read(cx, head, g),
        Kind::List => list::read(cx, head, g),
        Kind::Set => set::read(cx, head, g),
        Kind::ZSet => zset::read(cx, head, g),
        Kind::Hash if template::is_template(head.rdb_type) => template::read(cx, head, g),
        Kind::Hash => hash::read(cx, head, g),
        Kind::Stream => crate::stream::read(cx, head, g),
        Kind::Module => crate::module::read_value(cx, head, g),
        Kind::Array => array::read(cx, head, g),
        Kind::Gcra => gcra::read(cx, head, g),
    }
}

/// A compact container whose elements can be walked with positions.
pub(crate) trait Walk<'a>: Iterator<Item = std::result::Result<Elem<'a>, BlobError>> {
    /// Byte position of the next element inside the blob.
    fn position(&self) -> usize;
}

impl<'a> Walk<'a> for Listpack<'a> {
    fn position(&self) -> usize {
        Listpack::position(self)
    }
}

impl<'a> Walk<'a> for Ziplist<'a> {
    fn position(&self) -> usize {
        Ziplist::position(self)
    }
}

/// Walks a container in groups of `N` elements (1 for lists and sets, 2 for pairs, 3
/// for hash fields with TTLs), calling `f` with the blob position of each group.
///
/// Returns the number of elements (not groups) walked.
pub(crate) fn walk_groups<'a, const N: usize, W: Walk<'a>>(
    mut items: W,
    origin: &StringOrigin,
    what: &str,
    mut f: impl FnMut(usize, [Elem<'a>; N]) -> Result<()>,
) -> Result<usize> {
    let mut n = 0usize;
    loop {
        let at = items.position();
        let mut group = [Elem::Int(0); N];
        for (k, slot) in group.iter_mut().enumerate() {
            match items.next() {
                Some(Ok(e)) => *slot = e,
                Some(Err(e)) => return Err(origin.error(e.at, what, e.msg)),
                None if k == 0 => return Ok(n),
                None => {
                    return Err(origin.error(
                        at,
                        what,
                        format!("element count is not a multiple of {N} (a group is cut short)"),
                    ))
                }
            }
        }
        n += N;
        f(at, group)?;
    }
}
