//! GCRA rate-limiter state (Redis 33, RDB 15, builds with `ENABLE_GCRA` only): one
//! length, the theoretical arrival time in microseconds since the Unix epoch.

use std::io::Read;

use crate::context::{Ctx, Gate};
use crate::error::{Error, Result};
use crate::visitor::{KeyStart, Visitor};

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let at = cx.src.offset();
    let tat_us = cx.src.length()?;
    if tat_us > i64::MAX as u64 {
        return Err(Error::corrupt(at, format!("GCRA arrival time {tat_us} exceeds 2^63-1")));
    }
    g.begin(head, Some(1))?;
    g.elements = 1;
    if let Some(v) = g.visitor() {
        let r = v.gcra(tat_us);
        g.wrap(r)?;
    }
    Ok(())
}
