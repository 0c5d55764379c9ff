//! The first pass: function libraries, then one `RESTORE` per key (plain strings many to
//! a command, see [`super::strings`]); values too large for one command are set aside
//! for the second pass.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use rdb_parser::writer::{DumpedKey, PayloadSink};
use rdb_parser::VisitResult;
use resp::Route;

use super::sender::{Purpose, Sender};

/// The failure code counted for keys of a database the server refused.
pub(super) const DB_REFUSED: &str = "SELECT";

pub(super) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Receives each key's DUMP payload from the encoder and queues its RESTORE.
pub(super) struct Restorer<'a> {
    pub sender: Sender<'a>,
    pub replace: bool,
    pub lossy: bool,
    pub server: (u32, u32, u32),
    pub max_bulk: usize,
    pub oversized: HashSet<(u64, Vec<u8>)>,
}

/// Queues `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ f]` for target
/// database `db`; servers before 5.0 get a relative TTL and no ABSTTL/IDLETIME/FREQ.
fn push_restore(
    sender: &mut Sender<'_>,
    k: &DumpedKey<'_>,
    db: u64,
    replace: bool,
    server: (u32, u32, u32),
) -> resp::Result<()> {
    let modern = server >= (5, 0, 0);
    let ttl = match k.expire_at_ms {
        None => 0,
        Some(t) if modern => t,
        Some(t) => (t - now_ms()).max(1),
    };
    let mut ttl_text = itoa::Buffer::new();
    let mut hint_text = itoa::Buffer::new();
    let mut args: Vec<&[u8]> = vec![b"RESTORE", k.key, ttl_text.format(ttl).as_bytes(), k.payload];
    if replace {
        args.push(b"REPLACE");
    }
    if modern {
        if k.expire_at_ms.is_some() {
            args.push(b"ABSTTL");
        }
        match (k.lfu_freq, k.lru_idle_s) {
            (Some(f), _) => args.extend([b"FREQ".as_slice(), hint_text.format(f).as_bytes()]),
            (None, Some(s)) => args.extend([b"IDLETIME".as_slice(), hint_text.format(s).as_bytes()]),
            _ => {}
        }
    }
    let route = if sender.is_cluster() { Route::Key(k.key.to_vec()) } else { Route::Any };
    sender.push(&args, route, Purpose::Restore(db, k.key.to_vec()))
}

fn visit_err(e: resp::Error) -> rdb_parser::VisitError {
    Box::new(e)
}

impl PayloadSink for Restorer<'_> {
    fn function(&mut self, code: &[u8]) -> VisitResult {
        if self.server < (7, 0, 0) {
            self.sender.tally.warn("function libraries need Redis 7.0 or later; not loaded".into());
            return Ok(());
        }
        let args: &[&[u8]] =
            if self.replace { &[b"FUNCTION", b"LOAD", b"REPLACE", code] } else { &[b"FUNCTION", b"LOAD", code] };
        let purpose = Purpose::Other("function library".into());
        self.sender.push(args, Route::AllMasters, purpose).map_err(visit_err)
    }

    fn key(&mut self, k: &DumpedKey<'_>) -> VisitResult {
        let db = self.sender.target_db(k.db);
        let label = || super::key_label(db, k.key);
        let cluster = self.sender.is_cluster();
        let t = &mut self.sender.tally;
        if k.payload.is_empty() {
            t.dropped += 1;
            t.warn(format!("{} left out: {}", label(), k.losses.join("; ")));
            return Ok(());
        }
        if !k.losses.is_empty() {
            if !self.lossy {
                t.unfit(format!("{}: the server cannot hold {}; use --lossy", label(), k.losses.join("; ")));
                return Ok(());
            }
            t.warn(format!("{}: left out {}", label(), k.losses.join("; ")));
        }
        if cluster && db != 0 {
            t.unfit(format!("{}: a cluster has only database 0 (use --db or --rename-db)", label()));
            return Ok(());
        }
        if k.expire_at_ms.is_some_and(|e| e <= now_ms()) {
            t.expired += 1;
            return Ok(());
        }
        if k.payload.len() > self.max_bulk {
            self.oversized.insert((k.db, k.key.to_vec()));
            return Ok(());
        }
        if !self.sender.select(k.db).map_err(visit_err)? {
            self.sender.tally.refuse_counted(DB_REFUSED);
            return Ok(());
        }
        self.sender.tally.payload_bytes += k.payload.len() as u64;
        let plain = !cluster && k.expire_at_ms.is_none() && k.lru_idle_s.is_none() && k.lfu_freq.is_none();
        match k.string.filter(|v| plain && v.len() <= self.max_bulk) {
            Some(value) => self.sender.push_string(k.key, value, k.payload),
            None => push_restore(&mut self.sender, k, db, self.replace, self.server),
        }
        .map_err(visit_err)
    }
}
