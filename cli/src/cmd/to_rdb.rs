//! `rdbkit convert --to rdb`: re-encode a dump for another server version.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use rdb_parser::{
    Filtered, KeyEnd, KeyFilter, KeyPredicate, KeyStart, RdbReader, RdbWriter, ReaderOptions, Target, Visit,
    VisitError, VisitResult, Visitor, WriterOptions,
};

use super::merge::{merged_targets, NoRepeats, Survey};
use crate::args::{ConvertArgs, RdbOutArgs};
use crate::exit::{bad_data, usage};
use crate::input::{Input, Progress};
use crate::output::Output;
use rdb_parser::dupkeys::RepeatFilter as DupFilter;

/// Most losses printed one by one with `--lossy`.
const MAX_PRINTED_LOSSES: usize = 100;

/// Resolves `--target` / `--rdb-version`, or the default for the input's version.
pub fn resolve_target(a: &RdbOutArgs, input_version: u32, input_valkey: bool) -> anyhow::Result<Target> {
    let by_name = match &a.target {
        Some(name) => Some(Target::named(name).ok_or_else(|| {
            usage(format!("unknown --target {name:?}; known: {}", Target::names().collect::<Vec<_>>().join(", ")))
        })?),
        None => None,
    };
    match (by_name, a.rdb_version) {
        (Some(t), Some(v)) if t.version() != v => {
            Err(usage(format!("--target {} writes RDB {}, not --rdb-version {v}", t.name, t.version())))
        }
        (Some(t), _) => Ok(t),
        (None, Some(v)) => {
            Target::for_version(v, v >= 80).map_err(|e| usage(format!("--rdb-version {v}: {}", e.kind())))
        }
        // A file newer than rdbkit (read with --relaxed): the newest server of its family.
        (None, None) if input_version > rdb_parser::MAX_REDIS_VERSION && !input_valkey => {
            Ok(Target::for_version(rdb_parser::MAX_REDIS_VERSION, false)?)
        }
        (None, None) if input_version > *rdb_parser::VALKEY_VERSIONS.end() => {
            Ok(Target::for_version(*rdb_parser::VALKEY_VERSIONS.end(), true)?)
        }
        (None, None) => Ok(Target::for_version(input_version, input_valkey)?),
    }
}

/// Counts keys and expiries per database, for exact RESIZEDB hints when filtering.
#[derive(Default)]
struct DbSizes(BTreeMap<u64, (u64, u64)>);

impl Visitor for DbSizes {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        let e = self.0.entry(k.db).or_default();
        e.0 += 1;
        e.1 += u64::from(k.expire_at_ms.is_some());
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        Ok(())
    }
}

/// With `--rename-db` merging databases: a first pass over the input for keys that two
/// databases would both bring into one (needs a file: standard input is read once).
fn survey_merges<'a>(
    a: &ConvertArgs,
    filter: &KeyFilter,
    rename: &'a BTreeMap<u64, u64>,
    merged: &'a [u64],
) -> anyhow::Result<Option<Survey<'a>>> {
    if merged.is_empty() {
        return Ok(None);
    }
    if a.input == Path::new("-") {
        return Err(usage(format!(
            "--rename-db brings databases together into db {merged:?}: checking that no key is in two of them \
             reads the input twice; give a file, not standard input"
        )));
    }
    let size = std::fs::metadata(&a.input).ok().map(|m| m.len());
    let survey = Survey { rename, merged, filter: DupFilter::new(size) };
    let mut v = Filtered::new(survey, filter);
    super::read_file(Input::open(&a.input, true)?, &mut v, a.read.relaxed)?;
    if v.inner.filter.overflowed() {
        stderr!("warning: too many keys to check them all for copies in two merged databases");
    }
    Ok((v.inner.filter.candidates() > 0).then_some(v.inner))
}

/// A key in two merged databases: exit 1, or with `--lossy` the first copy was kept
/// and the others are reported.
fn report_collisions(n: NoRepeats<'_>, name: &str, lossy: bool) -> anyhow::Result<()> {
    let (found, count) = n.collisions();
    let Some(first) = found.first() else { return Ok(()) };
    if !lossy {
        return Err(bad_data(format!(
            "{name}: {}; Redis refuses to load a database holding a key twice ({count} such key(s)); \
             use --lossy to keep the first copy",
            first.describe()
        )));
    }
    for c in &found {
        stderr!("warning: {name}: left out the second copy: {}", c.describe());
    }
    if count > found.len() as u64 {
        stderr!("warning: {name}: {} more keys left out as second copies", count - found.len() as u64);
    }
    Ok(())
}

pub fn run(a: &ConvertArgs, filter: &KeyFilter, quiet: bool) -> anyhow::Result<()> {
    if a.output.is_none() && std::io::stdout().is_terminal() {
        return Err(usage("refusing to write a binary RDB to a terminal; give -o FILE or redirect stdout"));
    }
    let renames = Renames::new(a);
    let prepared = prepare(a, filter, quiet, &renames)?;
    let mut out = Output::create(a.output.as_deref())?;
    prepared.write(&mut out, filter, a.rdb.lossy)?;
    out.commit()
}

/// `--rename-db` as a map, and the databases where it brings several together.
pub struct Renames {
    map: BTreeMap<u64, u64>,
    merged: Vec<u64>,
}

impl Renames {
    pub fn new(a: &ConvertArgs) -> Renames {
        let map: BTreeMap<u64, u64> = a.rdb.rename_db.iter().copied().collect();
        let merged = merged_targets(&map);
        Renames { map, merged }
    }
}

/// A conversion ready to write: the surveys done, the input open, the target known.
pub struct Prepared<'a> {
    name: String,
    reader: RdbReader<Box<dyn std::io::Read>>,
    progress: Progress,
    options: WriterOptions,
    no_repeats: Option<NoRepeats<'a>>,
}

/// Runs the passes that need the whole input first (exact RESIZEDB hints with filters,
/// keys that merged databases would share), opens the input and resolves the target.
pub fn prepare<'a>(
    a: &ConvertArgs,
    filter: &KeyFilter,
    quiet: bool,
    renames: &'a Renames,
) -> anyhow::Result<Prepared<'a>> {
    // With filters, a first pass over a regular file gives exact RESIZEDB hints.
    let db_sizes = if !filter.is_empty() && a.input != Path::new("-") {
        let input = Input::open(&a.input, true)?;
        let mut sizes = Filtered::new(DbSizes::default(), filter);
        super::read_file(input, &mut sizes, a.read.relaxed)?;
        Some(sizes.inner.0)
    } else {
        None
    };
    let survey = survey_merges(a, filter, &renames.map, &renames.merged)?;
    let no_repeats = survey.map(|s| NoRepeats::new(s, MAX_PRINTED_LOSSES));
    let Input { name, reader, progress } = Input::open(&a.input, quiet)?;
    // Values the target loads as they are stored are copied, not re-encoded, and
    // checked on a second thread.
    let mut reader =
        RdbReader::with_options(reader, ReaderOptions { raw_values: true, ..super::checking_options(a.read.relaxed) });
    let header = reader.header().map_err(|e| super::read_error(e, &name))?;
    let target = resolve_target(&a.rdb, header.version, header.dialect == rdb_parser::Dialect::Valkey)?;
    let options = WriterOptions {
        target,
        lossy: a.rdb.lossy,
        rename_db: renames.map.clone(),
        db_sizes,
        copy_stored_values: true,
    };
    Ok(Prepared { name, reader, progress, options, no_repeats })
}

impl Prepared<'_> {
    /// The server the output is for.
    pub fn target(&self) -> &Target {
        &self.options.target
    }

    /// Writes the converted dump to `out` (the keys `filter` selects), reporting losses.
    pub fn write(self, out: impl std::io::Write, filter: &KeyFilter, lossy: bool) -> anyhow::Result<()> {
        let Prepared { name, mut reader, progress, options, no_repeats } = self;
        let every_key = KeyFilter::default();
        let first_copies: &dyn KeyPredicate = match &no_repeats {
            Some(n) => n,
            None => &every_key,
        };
        let writer = RdbWriter::new(out, options).map_err(|e| super::read_error(e, &name))?;
        let mut v = Filtered::new(Filtered::new(writer, first_copies), filter);
        reader.read_all(&mut v).map_err(|e| super::read_error(e, &name))?;
        super::trailing_bytes(reader, &name)?;
        drop(progress);
        let summary = v.inner.inner.finish().map_err(|e| super::read_error(e, &name))?;
        if let Some(n) = no_repeats {
            report_collisions(n, &name, lossy)?;
        }
        for loss in summary.losses.iter().take(MAX_PRINTED_LOSSES) {
            stderr!("warning: {name}: left out: {loss}");
        }
        if summary.losses.len() > MAX_PRINTED_LOSSES {
            stderr!("warning: {name}: {} more items left out", summary.losses.len() - MAX_PRINTED_LOSSES);
        }
        Ok(())
    }
}
