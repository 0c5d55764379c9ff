//! NDJSON files of records: reading, writing, comparing.

mod compare;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value as Json;

use crate::record::Record;

pub use compare::{compare, compare_records};

/// Write `records` to `path`, one compact JSON object per line with the
/// fields in schema order (`db,key,type,expire_at_ms,value[,field_expire_at_ms]`)
/// and every value in its canonical form (hash fields and set members sorted
/// by bytes, byte strings as text when UTF-8). Records are written in the
/// given order; [`crate::live::dump_live`] already sorts by `(db, key)`.
pub fn write_ndjson(path: &Path, records: &[Json]) -> Result<()> {
    let typed = records
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Record::from_json(v)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("record {} is not in the NDJSON schema", i + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    write_records(path, &typed)
}

/// [`write_ndjson`] for typed records.
pub fn write_records(path: &Path, records: &[Record]) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for rec in records {
        writeln!(out, "{}", rec.to_json_line()).with_context(|| format!("writing {}", path.display()))?;
    }
    out.flush().with_context(|| format!("writing {}", path.display()))
}

/// Read every line of an NDJSON file (blank lines are skipped).
pub fn read_ndjson(path: &Path) -> Result<Vec<Json>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v =
            serde_json::from_str(&line).with_context(|| format!("{} line {}: invalid JSON", path.display(), i + 1))?;
        out.push(v);
    }
    Ok(out)
}
