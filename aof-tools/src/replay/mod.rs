//! Replaying an AOF onto a [`Dataset`]: the RDB base through `rdb-parser`, then every
//! command with the semantics the server gives it while loading (no key expires during
//! loading; relative TTLs count from the replay's clock; transactions run at `EXEC`,
//! and an unterminated one is dropped).
//!
//! A command the server would answer with an error (a wrong type, say) changes nothing,
//! as on the server; such failures are counted and the first ones reported. A command
//! rdbkit does not know is an error that names it and its position: it is never skipped.

mod args;
mod functions;
mod geo;
mod geohash;
mod hashes;
mod hll;
mod keys;
mod lists;
mod sets;
mod sort;
mod streams;
mod streams_idmp;
mod streams_ref;
mod strings;
mod strings_bits;
mod strings_cond;
mod zsets;

use rdb_parser::{EntryBuilder, KeyEnd, KeyStart, Visit, VisitError, VisitResult, Visitor};
use resp::request::{parse_request, Args};
use smallvec::SmallVec;

use crate::dataset::convert::from_entry;
use crate::dataset::{Dataset, Slot, Value};
use crate::error::{Error, Position, Result};
use crate::layout::Part;
use crate::reader::{timestamp, Command, Handler, PartEnd};

/// Why a command changed nothing.
#[derive(Debug)]
pub enum Fail {
    /// The server answers an error: counted, the dataset is unchanged.
    Reply(String),
    /// rdbkit cannot replay it: stops the replay.
    Unsupported(String),
}

impl Fail {
    fn wrong_type() -> Fail {
        Fail::Reply("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    }
    fn syntax() -> Fail {
        Fail::Reply("ERR syntax error".into())
    }
}

/// Result of one command.
pub type Outcome = std::result::Result<(), Fail>;

/// Replay settings.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// "Now" for relative TTLs (EXPIRE, SETEX...), Unix ms.
    pub now_ms: i64,
    /// Stop reading at the first `#TS:` annotation later than this Unix time (seconds).
    pub until: Option<i64>,
    /// Fail once the process uses more memory than this many bytes (resident).
    pub memory_budget: Option<u64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { now_ms: now_ms(), until: None, memory_budget: None }
    }
}

/// The current time in Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What a replay met.
#[derive(Debug, Default, Clone)]
pub struct ReplayStats {
    /// Commands replayed (MULTI/EXEC included).
    pub commands: u64,
    /// Commands the server would have refused (and that changed nothing).
    pub failed: u64,
    /// The first few of them, with their positions.
    pub failures: Vec<String>,
    /// Keys loaded from RDB bases.
    pub base_keys: u64,
    /// Torn tails left out, as the server leaves them out.
    pub torn_tails: Vec<String>,
    /// Set when `until` stopped the replay: the annotation's position.
    pub stopped_at: Option<Position>,
    /// The server that wrote the RDB base, from its AUX fields: (is Valkey, version).
    pub source: Option<(bool, String)>,
    /// The RDB base's header.
    pub base_header: Option<rdb_parser::Header>,
}

/// Most failures kept for the report.
const MAX_FAILURES: usize = 20;
/// Commands between two memory checks.
const MEMORY_CHECK_EVERY: u64 = 1 << 16;

/// The state commands act on.
pub struct Ctx {
    /// The data.
    pub data: Dataset,
    /// Selected database.
    pub db: usize,
    /// Relative TTLs count from here.
    pub now_ms: i64,
}

impl Ctx {
    fn slot(&mut self, key: &[u8]) -> Option<&mut Slot> {
        let db = self.db;
        self.data.db(db).get_mut(key)
    }

    fn remove(&mut self, key: &[u8]) -> Option<Slot> {
        let db = self.db;
        self.data.db(db).remove(key)
    }

    fn put(&mut self, key: &[u8], value: Value, expire_at_ms: Option<i64>) {
        let db = self.db;
        let keys = self.data.db(db);
        // An overwrite keeps the key's allocation.
        match keys.get_mut(key) {
            Some(slot) => *slot = Slot { value, expire_at_ms },
            None => {
                keys.insert(key.into(), Slot { value, expire_at_ms });
            }
        }
    }

    /// Deletes `key` when its collection became empty (servers never keep empty ones).
    fn drop_if_empty(&mut self, key: &[u8]) {
        if self.slot(key).is_some_and(|s| s.value.is_empty_collection()) {
            self.remove(key);
        }
    }

    /// The value of `key`, created with `make` when missing; wrong type is a failure.
    fn value_or<T>(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> Value,
        pick: impl FnOnce(&mut Value) -> Option<&mut T>,
    ) -> std::result::Result<&mut T, Fail> {
        let keys = self.data.db(self.db);
        // The key is allocated only when it is inserted (a second, cache-warm lookup
        // then finds it).
        if !keys.contains_key(key) {
            keys.insert(key.into(), Slot { value: make(), expire_at_ms: None });
        }
        let slot = keys.get_mut(key).ok_or_else(Fail::syntax)?;
        pick(&mut slot.value).ok_or_else(Fail::wrong_type)
    }

    /// The existing value of `key` when it has the type `pick` wants.
    fn existing<T>(
        &mut self,
        key: &[u8],
        pick: impl FnOnce(&mut Value) -> Option<&mut T>,
    ) -> std::result::Result<Option<&mut T>, Fail> {
        match self.slot(key) {
            None => Ok(None),
            Some(s) => pick(&mut s.value).map(Some).ok_or_else(Fail::wrong_type),
        }
    }
}

/// Loads RDB bases into the dataset.
pub struct BaseLoader {
    builder: EntryBuilder,
    ctx: Ctx,
    keys: u64,
    unsupported: Option<String>,
    source: Option<(bool, String)>,
    header: Option<rdb_parser::Header>,
}

impl Visitor for BaseLoader {
    fn header(&mut self, h: &rdb_parser::Header) -> VisitResult {
        self.header = Some(*h);
        Ok(())
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        if key == b"redis-ver" || key == b"valkey-ver" {
            self.source = Some((key == b"valkey-ver", String::from_utf8_lossy(value).into_owned()));
        }
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        functions::load(&mut self.ctx.data, code, true).map_err(|e| -> VisitError { format!("{e:?}").into() })
    }
    fn function_pre_ga(&mut self, f: &rdb_parser::PreGaFunction) -> VisitResult {
        self.function(&f.to_library())
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> std::result::Result<Visit, VisitError> {
        self.builder.key_start(k)
    }
    fn string_chunk(&mut self, c: &[u8]) -> VisitResult {
        self.builder.string_chunk(c)
    }
    fn list_item(&mut self, i: &[u8]) -> VisitResult {
        self.builder.list_item(i)
    }
    fn set_member(&mut self, m: &[u8]) -> VisitResult {
        self.builder.set_member(m)
    }
    fn zset_member(&mut self, m: &[u8], s: f64) -> VisitResult {
        self.builder.zset_member(m, s)
    }
    fn hash_field(&mut self, f: &[u8], v: &[u8], e: Option<i64>) -> VisitResult {
        self.builder.hash_field(f, v, e)
    }
    fn stream_entry(&mut self, e: &rdb_parser::StreamEntryRef<'_>) -> VisitResult {
        self.builder.stream_entry(e)
    }
    fn stream_meta(&mut self, m: &rdb_parser::StreamMeta) -> VisitResult {
        self.builder.stream_meta(m)
    }
    fn stream_group(&mut self, g: &rdb_parser::StreamGroup) -> VisitResult {
        self.builder.stream_group(g)
    }
    fn module_value(&mut self, v: &rdb_parser::ModuleValue) -> VisitResult {
        self.builder.module_value(v)
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        self.builder.key_end(end)?;
        if let Some(e) = self.builder.take() {
            let (db, key) = (e.db as usize, e.key.clone());
            match from_entry(e) {
                Ok(slot) => {
                    self.ctx.data.db(db).insert(key.into(), slot);
                    self.keys += 1;
                }
                Err(u) => {
                    self.unsupported = Some(u.0.clone());
                    return Err(u.0.into());
                }
            }
        }
        Ok(())
    }
}

/// Replays commands onto a dataset; a [`Handler`] for [`crate::read_layout`].
pub struct Replayer {
    base: BaseLoader,
    options: ReplayOptions,
    /// Commands of an open transaction, as encoded in the file, with their positions.
    multi: Option<(Vec<u8>, Vec<Position>)>,
    stats: ReplayStats,
    stopped: bool,
    part_path: std::rc::Rc<std::path::Path>,
}

impl Replayer {
    /// An empty dataset to replay onto.
    pub fn new(options: ReplayOptions) -> Self {
        let ctx = Ctx { data: Dataset::new(), db: 0, now_ms: options.now_ms };
        Replayer {
            base: BaseLoader {
                builder: EntryBuilder::new(),
                ctx,
                keys: 0,
                unsupported: None,
                source: None,
                header: None,
            },
            options,
            multi: None,
            stats: ReplayStats::default(),
            stopped: false,
            part_path: std::rc::Rc::from(std::path::Path::new("")),
        }
    }

    /// The dataset and what the replay met.
    pub fn finish(mut self) -> (Dataset, ReplayStats) {
        self.stats.base_keys = self.base.keys;
        self.stats.source = self.base.source.take();
        self.stats.base_header = self.base.header;
        (self.base.ctx.data, self.stats)
    }

    /// Runs one command given as arguments; `at` says where it is, when needed.
    pub fn apply(&mut self, argv: &[&[u8]], at: impl Fn() -> Position) -> Result<()> {
        self.stats.commands += 1;
        if self.stats.commands.is_multiple_of(MEMORY_CHECK_EVERY) {
            self.check_memory(&at())?;
        }
        match dispatch(&mut self.base.ctx, argv) {
            Ok(()) => Ok(()),
            Err(Fail::Reply(msg)) => {
                self.stats.failed += 1;
                if self.stats.failures.len() < MAX_FAILURES {
                    let name = rdb_parser::escape_bytes(argv[0], 40);
                    self.stats.failures.push(format!("{}: {name}: {msg}", at()));
                }
                Ok(())
            }
            Err(Fail::Unsupported(message)) => {
                Err(Error::Command { at: at(), name: rdb_parser::escape_bytes(argv[0], 60), message })
            }
        }
    }

    fn check_memory(&self, at: &Position) -> Result<()> {
        let Some(budget) = self.options.memory_budget else { return Ok(()) };
        if resident_bytes().is_some_and(|rss| rss > budget) {
            return Err(Error::MemoryBudget { at: at.clone(), budget });
        }
        Ok(())
    }

    fn run_transaction(&mut self, bytes: &[u8], positions: &[Position]) -> Result<()> {
        let mut args = Args::new();
        let mut pos = 0;
        for at in positions {
            let n = parse_request(&bytes[pos..], &mut args, usize::MAX)
                .map_err(|_| Error::Format { at: at.clone(), message: "a transaction's command re-read".into() })?;
            let buf = &bytes[pos..pos + n];
            let argv: SmallVec<[&[u8]; 16]> = args.iter(buf).collect();
            self.apply(&argv, || at.clone())?;
            pos += n;
        }
        Ok(())
    }
}

/// Resident memory of this process (Linux), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

impl Handler for Replayer {
    type Rdb = BaseLoader;

    fn rdb(&mut self) -> &mut BaseLoader {
        &mut self.base
    }

    fn part_start(&mut self, part: &Part) -> Result<()> {
        // Each file is loaded by a fresh client: database 0, no transaction.
        self.base.ctx.db = 0;
        self.multi = None;
        self.part_path = std::rc::Rc::from(part.path.as_path());
        Ok(())
    }

    fn command(&mut self, cmd: &Command<'_>) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        let name = cmd.name();
        if name.eq_ignore_ascii_case(b"MULTI") {
            self.stats.commands += 1;
            self.multi = Some((Vec::new(), Vec::new()));
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"EXEC") {
            self.stats.commands += 1;
            if let Some((bytes, positions)) = self.multi.take() {
                self.run_transaction(&bytes, &positions)?;
            }
            return Ok(());
        }
        if let Some((bytes, positions)) = &mut self.multi {
            bytes.extend_from_slice(cmd.raw());
            positions.push(cmd.position());
            return Ok(());
        }
        let argv: SmallVec<[&[u8]; 16]> = cmd.args().collect();
        let (offset, index) = (cmd.offset, cmd.index);
        let file = std::rc::Rc::clone(&self.part_path);
        self.apply(&argv, || Position { file: file.to_path_buf(), offset, command: Some(index) })
    }

    fn annotation(&mut self, text: &[u8], at: &Position) -> Result<()> {
        if let (Some(until), Some(t)) = (self.options.until, timestamp(text)) {
            if t > until && !self.stopped {
                self.stopped = true;
                self.multi = None;
                self.stats.stopped_at = Some(at.clone());
            }
        }
        Ok(())
    }

    fn part_end(&mut self, part: &Part, end: &PartEnd) -> Result<()> {
        self.check_memory(&Position { file: part.path.clone(), offset: part.size, command: None })?;
        if let Some(t) = &end.truncated {
            self.stats.torn_tails.push(format!(
                "{}: {}; left out after offset {} ({} bytes), as the server does",
                part.path.display(),
                t.reason,
                t.valid_up_to,
                t.dropped_bytes
            ));
        }
        self.multi = None;
        if let Some(u) = self.base.unsupported.take() {
            return Err(Error::Refused(format!("{}: {u}", part.path.display())));
        }
        Ok(())
    }
}

/// The upper-case command name in a stack buffer (empty when too long to be a command).
fn upper(name: &[u8]) -> ([u8; 24], usize) {
    let mut buf = [0u8; 24];
    if name.len() > buf.len() {
        return (buf, 0);
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    (buf, name.len())
}

/// A command module: `None` when the name is not one of its commands.
type Module = fn(&mut Ctx, &[u8], &[&[u8]]) -> Option<Outcome>;

/// Every command module. A name belongs to one module only, so the order in which
/// they are tried changes the speed, never the meaning.
const MODULES: [Module; 10] = [
    strings::dispatch,
    keys::dispatch,
    lists::dispatch,
    sets::dispatch,
    zsets::dispatch,
    geo::dispatch,
    sort::dispatch,
    hashes::dispatch,
    streams::dispatch,
    functions::dispatch,
];

/// The module a name most likely belongs to, by its first letters (tried first: each
/// module rejects a foreign name one comparison per command of the same length).
fn likely(name: &[u8]) -> usize {
    match name {
        [b'P' | b'E', b'E' | b'X', ..] | [b'D', b'E', b'L'] | [b'U', b'N', ..] => 1,
        [b'L', ..] | [b'R', b'P', ..] | [b'B', b'L' | b'R', ..] => 2,
        [b'S', b'A' | b'R' | b'M' | b'I' | b'U' | b'D' | b'P', ..] => 3,
        [b'Z', ..] | [b'B', b'Z', ..] => 4,
        [b'G', b'E', b'O', ..] => 5,
        [b'H', ..] => 7,
        [b'X', ..] => 8,
        _ => 0,
    }
}

/// Runs one command on the context.
pub fn dispatch(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    let (buf, n) = upper(argv[0]);
    let name = &buf[..n];
    let first = likely(name);
    if let Some(r) = MODULES[first](cx, name, argv) {
        return r;
    }
    for (i, module) in MODULES.iter().enumerate() {
        if i != first {
            if let Some(r) = module(cx, name, argv) {
                return r;
            }
        }
    }
    Err(Fail::Unsupported(
        "unknown command: rdbkit cannot replay it (the AOF comes from a module or a server newer than rdbkit knows)"
            .into(),
    ))
}
