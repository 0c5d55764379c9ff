//! Key values copied out of the file into batches, for another thread to read: the
//! copy is taken while the value is stepped over ([`capture`]), and read back from the
//! batch in place ([`open`]).

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};
use crate::layout::{step_over, Shape};
use crate::prim::Limits;
use crate::source::Source;

/// Where one copied key is, in its batch and in the file.
#[derive(Clone, Copy)]
pub(crate) struct Copied {
    /// Offset of the value's first byte in the file.
    pub(crate) value_at: u64,
    /// The key name, then the value's stored bytes, in the batch.
    pub(crate) key: (usize, usize),
    pub(crate) value: (usize, usize),
}

impl Copied {
    /// The same key in a batch that starts where this one's key does.
    pub(crate) fn moved_to_front(self) -> Copied {
        let base = self.key.0;
        Copied { key: (0, self.key.1 - base), value: (self.value.0 - base, self.value.1 - base), ..self }
    }

    /// Stored bytes of the value.
    pub(crate) fn value_len(&self) -> usize {
        self.value.1 - self.value.0
    }
}

/// Appends `key` to `batch`, then the value laid out as `shape` that `src` is at, as
/// it is stepped over; returns how stepping went (the part read is kept when it fails)
/// and where the bytes are.
pub(crate) fn capture<R: Read>(
    src: &mut Source<R>,
    limits: &Limits,
    shape: Shape,
    key: &[u8],
    batch: &mut Vec<u8>,
) -> (Result<()>, Copied) {
    let value_at = src.offset();
    let base = batch.len();
    batch.extend_from_slice(key);
    let value_from = batch.len();
    src.capture_onto(std::mem::take(batch));
    let stepped = step_over(src, limits, shape);
    *batch = src.take_capture();
    (stepped, Copied { value_at, key: (base, value_from), value: (value_from, batch.len()) })
}

/// Points `src`, whose buffer holds the batch, at the value of `c`, and puts its key
/// name in `key`.
pub(crate) fn open(src: &mut Source<std::io::Empty>, c: &Copied, key: &mut Vec<u8>) {
    key.clear();
    key.extend_from_slice(&src.buffer()[c.key.0..c.key.1]);
    src.window(c.value_at, c.value.0..c.value.1);
}

/// The error for a value whose stepping over failed with `cut`, given how decoding the
/// part that was read went: damage there comes first, before the failure to read on.
pub(crate) fn cut_error(cut: Error, part: Result<()>) -> Error {
    match part {
        Err(first) if !matches!(first.kind(), ErrorKind::UnexpectedEof { .. }) => first,
        _ => cut,
    }
}
