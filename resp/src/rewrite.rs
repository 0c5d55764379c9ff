//! The commands that recreate an RDB's dataset (`redis-cli --pipe` input, AOF rewrite).
//!
//! Commands follow the server's own AOF rewrite: SET (then APPEND for huge strings),
//! RPUSH, SADD, ZADD, HMSET in batches, HPEXPIREAT for field TTLs, XADD / XSETID /
//! XGROUP CREATE / XCLAIM / XGROUP CREATECONSUMER for streams, then XCFGSET and
//! XIDMPRECORD for their idempotent producers (Redis 8.6; the two IDMP counters have no
//! command), ARMSET for arrays (their insert cursor and NACKed stream entries have no
//! command here and are left out),
//! PEXPIREAT for key TTLs, FUNCTION LOAD for libraries, SELECT when the database changes.

use std::collections::HashSet;
use std::io::Write;

use rdb_parser::{
    escape_bytes, KeyEnd, KeyStart, Kind, ModuleValue, RdbType, StreamEntryRef, StreamGroup, StreamId, StreamIdmp,
    StreamMeta, Visit, VisitError, VisitResult, Visitor,
};

use crate::encode::write_command;

/// Elements per command, as in the servers' AOF rewrite.
const ITEMS_PER_COMMAND: usize = 64;
/// Bytes of element data after which a command is sent even if it has fewer items.
const BYTES_PER_COMMAND: usize = 1 << 20;
/// Strings larger than this are sent as SET then APPENDs, to stay far below the
/// server's `proto-max-bulk-len`.
const STRING_PIECE_BYTES: usize = 64 << 20;

/// Where generated commands go: a RESP byte stream, or a live connection.
pub trait CommandSink {
    /// Sends or writes one command.
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()>;
}

impl<S: CommandSink + ?Sized> CommandSink for &mut S {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        (**self).command(args)
    }
}

/// The position of the key among the arguments of a command that [`RespWriter`]
/// generates (`XGROUP CREATE key ...` has it third); `None` for `SELECT` and
/// `FUNCTION LOAD`, which have none.
pub fn key_index(args: &[&[u8]]) -> Option<usize> {
    let name = args.first()?;
    let at = if name.eq_ignore_ascii_case(b"SELECT") || name.eq_ignore_ascii_case(b"FUNCTION") {
        return None;
    } else if name.eq_ignore_ascii_case(b"XGROUP") {
        2
    } else {
        1
    };
    (at < args.len()).then_some(at)
}

/// Commands encoded as RESP into a writer.
pub struct RespOut<W: Write>(pub W);

impl<W: Write> CommandSink for RespOut<W> {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        write_command(&mut self.0, args)
    }
}

/// Generates the commands that recreate every key it is shown.
pub struct RespWriter<S: CommandSink> {
    out: S,
    db: Option<u64>,
    key: Vec<u8>,
    kind: Kind,
    expire_at_ms: Option<i64>,
    /// Stream format 2+ (7.0+ commands accepted).
    modern_stream: bool,
    /// Pending element data and spans of the current batch.
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Whether a string has already been started with SET.
    string_started: bool,
    /// Hash fields with a TTL: (field, expiry).
    field_ttls: Vec<(Vec<u8>, i64)>,
    groups: Vec<StreamGroup>,
    stream_entries: u64,
    /// IDs of the current stream's entries, kept for streams with idempotent-producer
    /// state: XIDMPRECORD only names entries that exist.
    live_ids: HashSet<StreamId>,
    track_ids: bool,
    /// Server version from the `redis-ver`/`valkey-ver` AUX field, when known.
    server_version: Option<(u32, u32)>,
    /// Send `DEL key` before recreating each key (restore with `--replace`).
    delete_first: bool,
    /// Largest string piece per SET/APPEND.
    piece_bytes: usize,
}

impl<S: CommandSink> RespWriter<S> {
    /// A writer into `out`.
    pub fn new(out: S) -> Self {
        RespWriter {
            out,
            db: None,
            key: Vec::new(),
            kind: Kind::String,
            expire_at_ms: None,
            modern_stream: false,
            data: Vec::new(),
            spans: Vec::new(),
            string_started: false,
            field_ttls: Vec::new(),
            groups: Vec::new(),
            stream_entries: 0,
            live_ids: HashSet::new(),
            track_ids: false,
            server_version: None,
            delete_first: false,
            piece_bytes: STRING_PIECE_BYTES,
        }
    }

    /// Keeps every argument under `max_bulk` bytes (the server's proto-max-bulk-len).
    pub fn max_bulk(mut self, max_bulk: usize) -> Self {
        self.piece_bytes = self.piece_bytes.min((max_bulk / 2).max(1));
        self
    }

    /// Deletes each key before recreating it.
    pub fn delete_first(mut self) -> Self {
        self.delete_first = true;
        self
    }

    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        self.out.command(args)
    }

    fn push(&mut self, item: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(item);
        self.spans.push((start, self.data.len()));
    }

    fn batch_full(&self) -> bool {
        self.spans.len() >= ITEMS_PER_COMMAND || self.data.len() >= BYTES_PER_COMMAND.min(self.piece_bytes)
    }

    /// Sends the batch as `cmd key items...`.
    fn flush_batch(&mut self, cmd: &[u8]) -> std::io::Result<()> {
        if self.spans.is_empty() {
            return Ok(());
        }
        let mut args: Vec<&[u8]> = Vec::with_capacity(self.spans.len() + 2);
        args.push(cmd);
        args.push(&self.key);
        args.extend(self.spans.iter().map(|&(a, b)| &self.data[a..b]));
        self.out.command(&args)?;
        self.data.clear();
        self.spans.clear();
        Ok(())
    }

    fn flush_string(&mut self) -> std::io::Result<()> {
        let cmd: &[u8] = if self.string_started { b"APPEND" } else { b"SET" };
        self.out.command(&[cmd, &self.key, &self.data])?;
        self.string_started = true;
        self.data.clear();
        Ok(())
    }

    fn batch_command(&self) -> &'static [u8] {
        match self.kind {
            Kind::List => b"RPUSH",
            Kind::Set => b"SADD",
            Kind::ZSet => b"ZADD",
            Kind::Array => b"ARMSET",
            _ => b"HMSET",
        }
    }

    fn finish_stream(&mut self, meta: &StreamMeta) -> std::io::Result<()> {
        let key = self.key.clone();
        if self.stream_entries == 0 {
            // Creates the key; MAXLEN 0 removes the entry at once.
            self.command(&[b"XADD", &key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])?;
        }
        let last = meta.last_id.to_string();
        match (self.modern_stream, meta.entries_added, meta.max_deleted_id) {
            (true, Some(added), Some(maxdel)) => {
                let added = added.to_string();
                let maxdel = maxdel.to_string();
                self.command(&[
                    b"XSETID",
                    &key,
                    last.as_bytes(),
                    b"ENTRIESADDED",
                    added.as_bytes(),
                    b"MAXDELETEDID",
                    maxdel.as_bytes(),
                ])?;
            }
            _ => self.command(&[b"XSETID", &key, last.as_bytes()])?,
        }
        let groups = std::mem::take(&mut self.groups);
        for g in &groups {
            let last = g.last_id.to_string();
            match g.entries_read.filter(|_| self.modern_stream) {
                Some(n) => {
                    let n = n.to_string();
                    self.command(&[b"XGROUP", b"CREATE", &key, &g.name, last.as_bytes(), b"ENTRIESREAD", n.as_bytes()])?
                }
                None => self.command(&[b"XGROUP", b"CREATE", &key, &g.name, last.as_bytes()])?,
            }
            for p in &g.pending {
                let Some(consumer) = &p.consumer else { continue };
                let id = p.id.to_string();
                let time = p.delivery_time_ms.to_string();
                let count = p.delivery_count.to_string();
                self.command(&[
                    b"XCLAIM",
                    &key,
                    &g.name,
                    consumer,
                    b"0",
                    id.as_bytes(),
                    b"TIME",
                    time.as_bytes(),
                    b"RETRYCOUNT",
                    count.as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ])?;
            }
            if self.server_version.is_none_or(|v| v >= (6, 2)) {
                for c in g.consumers.iter().filter(|c| c.pending.is_empty()) {
                    self.command(&[b"XGROUP", b"CREATECONSUMER", &key, &g.name, &c.name])?;
                }
            }
        }
        // Every Redis 8.6 stream carries IDMP state; only a changed one needs commands
        // (which servers before 8.6 do not have).
        if let Some(idmp) = meta.idmp.as_ref().filter(|i| !i.is_untouched()) {
            self.idmp_commands(&key, idmp)?;
        }
        Ok(())
    }

    /// The idempotent-producer settings and remembered IDs (Redis 8.6), as the server's
    /// own AOF rewrite writes them; the counters have no command.
    fn idmp_commands(&mut self, key: &[u8], idmp: &StreamIdmp) -> std::io::Result<()> {
        let duration = idmp.duration_s.to_string();
        let max = idmp.max_entries.to_string();
        self.command(&[b"XCFGSET", key, b"IDMP-DURATION", duration.as_bytes(), b"IDMP-MAXSIZE", max.as_bytes()])?;
        for p in &idmp.producers {
            for (iid, id) in p.entries.iter().filter(|(_, id)| self.live_ids.contains(id)) {
                let id = id.to_string();
                self.out.command(&[b"XIDMPRECORD", key, &p.pid, iid, id.as_bytes()])?;
            }
        }
        self.live_ids.clear();
        Ok(())
    }
}

/// A score as ZADD reads it back exactly: the shortest round-trip decimal, `inf`, `-inf`.
fn score_text(score: f64) -> String {
    match score {
        f64::INFINITY => "inf".to_string(),
        f64::NEG_INFINITY => "-inf".to_string(),
        s => format!("{s:?}"),
    }
}

/// Parses "7.2.4" into (7, 2).
fn major_minor(v: &[u8]) -> Option<(u32, u32)> {
    let s = std::str::from_utf8(v).ok()?;
    let mut it = s.split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

impl<S: CommandSink> Visitor for RespWriter<S> {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        if key == b"redis-ver" || key == b"valkey-ver" {
            self.server_version = major_minor(value);
        }
        Ok(())
    }

    fn function(&mut self, code: &[u8]) -> VisitResult {
        Ok(self.command(&[b"FUNCTION", b"LOAD", code])?)
    }

    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        if self.db != Some(k.db) {
            let db = k.db.to_string();
            self.command(&[b"SELECT", db.as_bytes()])?;
            self.db = Some(k.db);
        }
        self.key.clear();
        self.key.extend_from_slice(k.key);
        if self.delete_first {
            self.out.command(&[b"DEL", k.key])?;
        }
        self.kind = k.rdb_type.kind();
        self.expire_at_ms = k.expire_at_ms;
        self.modern_stream = !matches!(k.rdb_type, RdbType::StreamListpacks);
        self.string_started = false;
        self.stream_entries = 0;
        self.track_ids = matches!(k.rdb_type, RdbType::StreamListpacks4 | RdbType::StreamListpacks5);
        self.live_ids.clear();
        self.field_ttls.clear();
        self.groups.clear();
        self.data.clear();
        self.spans.clear();
        Ok(Visit::Value)
    }

    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        let mut rest = chunk;
        while !rest.is_empty() {
            let take = (self.piece_bytes - self.data.len()).min(rest.len());
            self.data.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.data.len() == self.piece_bytes {
                self.flush_string()?;
            }
        }
        Ok(())
    }

    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        self.push(item);
        if self.batch_full() {
            self.flush_batch(b"RPUSH")?;
        }
        Ok(())
    }

    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        self.push(member);
        if self.batch_full() {
            self.flush_batch(b"SADD")?;
        }
        Ok(())
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        let text = score_text(score);
        self.push(text.as_bytes());
        self.push(member);
        if self.batch_full() {
            self.flush_batch(b"ZADD")?;
        }
        Ok(())
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.push(field);
        self.push(value);
        if let Some(t) = expire_at_ms {
            self.field_ttls.push((field.to_vec(), t));
        }
        if self.batch_full() {
            self.flush_batch(b"HMSET")?;
        }
        Ok(())
    }

    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        let id = entry.id.to_string();
        let mut args: Vec<&[u8]> = vec![b"XADD", &self.key, id.as_bytes()];
        for (f, v) in entry.fields() {
            args.push(f);
            args.push(v);
        }
        self.out.command(&args)?;
        self.stream_entries += 1;
        if self.track_ids {
            self.live_ids.insert(entry.id);
        }
        Ok(())
    }

    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        self.groups.push(group.clone());
        Ok(())
    }

    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        Ok(self.finish_stream(meta)?)
    }

    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        Err(format!(
            "key {} holds a value of module type {}, which has no command form; exclude it with --type or convert to RDB",
            escape_bytes(&self.key, 80),
            value.name
        )
        .into())
    }

    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        self.push(itoa::Buffer::new().format(index).as_bytes());
        self.push(value);
        if self.batch_full() {
            self.flush_batch(b"ARMSET")?;
        }
        Ok(())
    }

    fn gcra(&mut self, _: u64) -> VisitResult {
        Err(format!(
            "key {} holds a GCRA value (non-default Redis builds), which has no command form; exclude it with --type",
            escape_bytes(&self.key, 80)
        )
        .into())
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        match self.kind {
            Kind::String => self.flush_string()?,
            Kind::Stream | Kind::Module | Kind::Gcra => {}
            _ => {
                let cmd = self.batch_command();
                self.flush_batch(cmd)?;
            }
        }
        if end.empty {
            return Ok(());
        }
        let ttls = std::mem::take(&mut self.field_ttls);
        for (field, t) in &ttls {
            let t = t.to_string();
            self.out.command(&[b"HPEXPIREAT", &self.key, t.as_bytes(), b"FIELDS", b"1", field])?;
        }
        if let Some(t) = self.expire_at_ms {
            let t = t.to_string();
            self.out.command(&[b"PEXPIREAT", &self.key, t.as_bytes()])?;
        }
        Ok(())
    }
}
