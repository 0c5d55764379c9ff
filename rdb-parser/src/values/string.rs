//! Strings (type 0): raw, integer-encoded or LZF-compressed; large raw strings are
//! delivered in chunks straight from the read buffer.

use std::io::Read;

use crate::context::{Ctx, Gate};
use crate::error::Result;
use crate::prim::LenOrSpecial;
use crate::visitor::KeyStart;
use crate::visitor::Visitor;

/// Raw strings up to this size are delivered in one piece.
const ONE_PIECE_BYTES: u64 = 1 << 20;

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let header = cx.src.offset();
    match cx.src.len_or_special()? {
        LenOrSpecial::Len(n) if n > ONE_PIECE_BYTES => {
            g.begin(head, Some(n))?;
            cx.src.read_chunks(n, "a string value", |chunk| g.string_chunk(chunk))
        }
        LenOrSpecial::Len(n) => {
            cx.blob.clear();
            cx.src.read_into(n, &mut cx.blob, "a string value")?;
            g.begin(head, Some(n))?;
            g.string_chunk(&cx.blob)
        }
        LenOrSpecial::Special(enc) => {
            cx.src.special_string_into(header, enc, &mut cx.blob, &mut cx.scratch, &cx.limits, "a string value")?;
            g.begin(head, Some(cx.blob.len() as u64))?;
            g.string_chunk(&cx.blob)
        }
    }
}
