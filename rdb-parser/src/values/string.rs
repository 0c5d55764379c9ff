//! Strings (type 0): raw, integer-encoded or LZF-compressed; large raw strings are
//! delivered in chunks straight from the read buffer.

use std::io::Read;

use crate::context::{Ctx, Gate};
use crate::error::Error;
use crate::error::Result;
use crate::prim::{lzf_check, lzf_decompress, LenOrSpecial, ENC_LZF};
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
            g.begin(head, Some(n))?;
            if !g.is_open() {
                // Nobody wants the bytes: step over them without a copy.
                g.elements += n;
                return cx.src.read_chunks(n, "a string value", |_| Ok(()));
            }
            cx.blob.clear();
            cx.src.read_into(n, &mut cx.blob, "a string value")?;
            g.string_chunk(&cx.blob)
        }
        LenOrSpecial::Special(ENC_LZF) => {
            let what = "a string value";
            let ulen = cx.src.lzf_body(header, &mut cx.scratch, &cx.limits, what)?;
            g.begin(head, Some(ulen))?;
            let invalid = |msg: String| Error::corrupt(header, format!("{what}: invalid LZF data: {msg}"));
            if g.is_open() {
                lzf_decompress(&cx.scratch, ulen, &mut cx.blob).map_err(invalid)?;
                g.string_chunk(&cx.blob)
            } else {
                // Nobody wants the bytes: checking the stream is enough (and faster).
                lzf_check(&cx.scratch, ulen).map_err(invalid)
            }
        }
        LenOrSpecial::Special(enc) => {
            cx.src.special_string_into(header, enc, &mut cx.blob, &mut cx.scratch, &cx.limits, "a string value")?;
            g.begin(head, Some(cx.blob.len() as u64))?;
            g.string_chunk(&cx.blob)
        }
    }
}
