//! Self-contained blobs (listpack, ziplist, intset, zipmap), parsed with nom over one slice.
//!
//! Each decoder validates the way the servers' deep integrity checks do and reports
//! problems as a [`BlobError`] carrying the position inside the blob; the reader turns
//! that into a file offset.

pub(crate) mod intset;
pub(crate) mod listpack;
pub(crate) mod ziplist;
pub(crate) mod zipmap;

/// One element of a compact container: bytes, or an integer the container stored as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The element's bytes; integers are rendered as decimal text into `buf`.
    pub(crate) fn bytes<'b>(&self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Elem::Bytes(b) => b,
            Elem::Int(v) => buf.format(v).as_bytes(),
        }
    }
}

/// A violation found inside a blob: the byte position in the blob and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlobError {
    pub at: usize,
    pub msg: String,
}

impl BlobError {
    pub(crate) fn new(at: usize, msg: impl Into<String>) -> Self {
        BlobError { at, msg: msg.into() }
    }
}

/// The `Iterator::next` of the container walkers: turns one validated step into an
/// item, and stops for good after the end or the first error.
pub(crate) fn fused_next<'a>(
    done: &mut bool,
    step: impl FnOnce() -> Result<Option<Elem<'a>>, BlobError>,
) -> Option<Result<Elem<'a>, BlobError>> {
    if *done {
        return None;
    }
    let item = step().transpose();
    *done = !matches!(item, Some(Ok(_)));
    item
}

/// Position of `rest` inside `whole` (both from the same slice).
pub(crate) fn pos_in(whole: &[u8], rest: &[u8]) -> usize {
    whole.len() - rest.len()
}
