//! HyperLogLog commands. Not replayed yet: an AOF holding them is refused with a
//! clear error rather than replayed approximately.

use crate::replay::{Ctx, Fail, Outcome};

/// PFADD, PFMERGE, PFCOUNT, PFDEBUG.
pub fn command(_cx: &mut Ctx, name: &[u8], _argv: &[&[u8]]) -> Outcome {
    Err(Fail::Unsupported(format!(
        "{} needs the servers' exact HyperLogLog representation, which rdbkit does not reproduce yet",
        String::from_utf8_lossy(name)
    )))
}
