//! Stored values rewritten for a target of another version without being decoded whole:
//! a quicklist whose nodes the target keeps in the other container (re-encoded node by
//! node), a stream (its nodes copied, its metadata written in the target's format).

use super::collect::KeyBuf;
use super::target::Target;
use super::{quicklist, stream};
use crate::types::RdbType;
use crate::VisitError;

/// How a stored value is rewritten.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rewrite {
    /// A quicklist re-encoded node by node as this list type.
    ListNodes(RdbType),
    /// A stream: its nodes copied as stored, its metadata written in the target's format.
    StreamNodes,
}

/// A rewrite ready to be written: the type written, and how.
pub(crate) struct Prepared {
    /// The type byte written for the value.
    pub ty: RdbType,
    rewrite: Rewrite,
    from: RdbType,
    /// The stored bytes copied as they are (`raw[..copied_end]`).
    copied_end: usize,
}

impl Rewrite {
    /// The rewrite of a stored value of type `from` for `t`, when it has one.
    pub(crate) fn plan(from: RdbType, t: &Target) -> Option<Rewrite> {
        match quicklist::converted_type(from, t) {
            Some(to) => Some(Rewrite::ListNodes(to)),
            None => stream::copies_nodes(from, t).then_some(Rewrite::StreamNodes),
        }
    }

    /// Prepares writing the stored value `raw` of type `from` for `t`. For a stream, its
    /// metadata and groups are taken into `k`, written for the target into `tail`, and
    /// what the target cannot hold of them is noted in `losses`.
    pub(crate) fn prepare(
        self,
        from: RdbType,
        raw: &[u8],
        k: &mut KeyBuf,
        t: &Target,
        tail: &mut Vec<u8>,
        losses: &mut Vec<String>,
    ) -> Result<Prepared, VisitError> {
        tail.clear();
        let (ty, copied_end) = match self {
            Rewrite::ListNodes(to) => (to, 0),
            Rewrite::StreamNodes => {
                let end = stream::take_stored(from, raw, k)?;
                stream::note_losses(k, t, losses);
                (stream::put_meta(k, t, tail), end)
            }
        };
        Ok(Prepared { ty, rewrite: self, from, copied_end })
    }
}

impl Prepared {
    /// When the value is a prefix of the stored bytes followed by the `tail`: that
    /// prefix's length (a stream's nodes).
    pub(crate) fn stored_prefix(&self) -> Option<usize> {
        matches!(self.rewrite, Rewrite::StreamNodes).then_some(self.copied_end)
    }

    /// Passes the rewritten value of the stored `raw` to `emit` piece by piece (`tail`:
    /// what [`Rewrite::prepare`] wrote there).
    pub(crate) fn emit(
        &self,
        raw: &[u8],
        tail: &[u8],
        emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), VisitError> {
        match self.rewrite {
            Rewrite::ListNodes(to) => quicklist::convert(self.from, raw, to, emit),
            Rewrite::StreamNodes => {
                emit(&raw[..self.copied_end])?;
                emit(tail)?;
                Ok(())
            }
        }
    }
}
