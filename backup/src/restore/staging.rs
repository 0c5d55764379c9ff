//! The second pass: a key too large for one `RESTORE` is rebuilt with ordinary
//! commands under a temporary name in its hash slot, then renamed into place only when
//! every command succeeded. On any failure the temporary key is deleted, so the target
//! never holds part of a value, and an existing key (with `--replace`) keeps its old
//! value. The temporary key expires after a day if the restore dies meanwhile.

use std::time::{SystemTime, UNIX_EPOCH};

use resp::rewrite::{key_index, CommandSink};
use resp::{key_slot, Frame, Route};

use super::payloads::DB_REFUSED;
use super::sender::{Purpose, Sender};

/// Lifetime of a temporary key until it is renamed (`PEXPIRE`, milliseconds).
const TEMP_TTL_MS: &[u8] = b"86400000";

/// A key being rebuilt.
struct Staged {
    key: Vec<u8>,
    tmp: Vec<u8>,
    label: String,
    /// Nothing is sent for it (refused database, existing key without --replace).
    skip: bool,
    /// Commands sent so far under the temporary name.
    sent: u64,
    /// The dump gives it an expiry (`PEXPIREAT` was sent).
    expires: bool,
}

/// Receives the commands of the oversized keys and stages each key.
pub(super) struct Staging<'s, 'a> {
    pub sender: &'s mut Sender<'a>,
    pub replace: bool,
    db: u64,
    db_ok: bool,
    current: Option<Staged>,
    made: u64,
}

/// The `{tag}` part that puts `key` in its slot: its own hash tag, or the whole key.
fn hash_tag(key: &[u8]) -> &[u8] {
    let open = key.iter().position(|&b| b == b'{');
    let tag = open.and_then(|o| key[o + 1..].iter().position(|&b| b == b'}').map(|len| &key[o + 1..o + 1 + len]));
    tag.filter(|t| !t.is_empty()).unwrap_or(key)
}

/// A temporary name in the same hash slot as `key`, unique to this run.
pub(super) fn temp_name(key: &[u8], n: u64) -> Vec<u8> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let suffix = format!(":rdbkit-tmp:{}:{nanos:x}:{n}", std::process::id());
    let slot = key_slot(key);
    let name = [b"{", hash_tag(key), b"}", suffix.as_bytes()].concat();
    if key_slot(&name) == slot {
        return name;
    }
    // A key without a hash tag whose name holds a '}' cannot be its own tag: find a
    // short tag of the same slot (one in about 16384 tries).
    (0u32..1 << 22)
        .map(|i| format!("{{rdbkit-{i}}}{suffix}").into_bytes())
        .find(|t| key_slot(t) == slot)
        .unwrap_or(name)
}

fn io(e: resp::Error) -> std::io::Error {
    std::io::Error::other(e)
}

impl<'s, 'a> Staging<'s, 'a> {
    pub fn new(sender: &'s mut Sender<'a>, replace: bool) -> Self {
        Staging { sender, replace, db: 0, db_ok: true, current: None, made: 0 }
    }

    /// Runs one command now (on the key's master in a cluster).
    fn call(&mut self, args: &[&[u8]], key: &[u8]) -> resp::Result<Option<Frame>> {
        match self.sender.link.as_deref_mut() {
            Some(link) => link.call_for_key(args, key).map(Some),
            None => Ok(None),
        }
    }

    fn start(&mut self, key: &[u8]) -> resp::Result<()> {
        self.made += 1;
        let db = self.sender.target_db(self.db);
        let mut staged = Staged {
            key: key.to_vec(),
            tmp: temp_name(key, self.made),
            label: super::key_label(db, key),
            skip: false,
            sent: 0,
            expires: false,
        };
        if !self.db_ok {
            self.sender.tally.refuse_counted(DB_REFUSED);
            staged.skip = true;
        } else if !self.replace {
            // Not worth sending a huge value that RENAMENX would refuse at the end.
            self.sender.drain()?;
            if self.call(&[b"EXISTS", key], key)?.and_then(|f| f.as_int()).unwrap_or(0) > 0 {
                self.sender.tally.refuse(&staged.label, "BUSYKEY Target key name already exists.");
                staged.skip = true;
            }
        }
        self.current = Some(staged);
        Ok(())
    }

    /// Renames the finished key into place, or deletes it if a command failed.
    pub fn finish(&mut self) -> resp::Result<()> {
        let Some(s) = self.current.take() else { return Ok(()) };
        if s.skip {
            return Ok(());
        }
        self.sender.drain()?;
        let mut error = self.sender.part_errors.remove(&s.tmp);
        if error.is_none() && !s.expires {
            // Drop the safety expiry: the key has none in the dump.
            if let Err(resp::Error::Server(e)) = self.call(&[b"PERSIST", &s.tmp], &s.tmp) {
                error = Some(e);
            }
        }
        if error.is_none() {
            let rename: &[u8] = if self.replace { b"RENAME" } else { b"RENAMENX" };
            error = match self.call(&[rename, &s.tmp, &s.key], &s.tmp) {
                Ok(Some(Frame::Integer(0))) => Some("BUSYKEY Target key name already exists.".into()),
                Ok(_) => None,
                Err(resp::Error::Server(e)) => Some(e),
                Err(e) => return Err(e),
            };
        }
        match error {
            None => {
                self.sender.tally.success();
                self.sender.tally.via_commands += 1;
            }
            Some(e) => {
                if s.sent > 0 {
                    self.call(&[b"DEL", &s.tmp], &s.tmp)?;
                }
                self.sender.tally.refuse(&s.label, &e);
            }
        }
        Ok(())
    }
}

impl CommandSink for Staging<'_, '_> {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let name = args.first().copied().unwrap_or_default();
        if name.eq_ignore_ascii_case(b"SELECT") {
            self.finish().map_err(io)?;
            let db = std::str::from_utf8(args.get(1).copied().unwrap_or_default()).ok().and_then(|d| d.parse().ok());
            if let Some(db) = db {
                self.db = db;
                self.db_ok = self.sender.select(db).map_err(io)?;
            }
            return Ok(());
        }
        // Function libraries were loaded by the first pass.
        let Some(at) = key_index(args) else { return Ok(()) };
        if self.current.as_ref().is_none_or(|s| s.key != args[at]) {
            self.finish().map_err(io)?;
            self.start(args[at]).map_err(io)?;
        }
        let Some(s) = self.current.as_mut().filter(|s| !s.skip) else { return Ok(()) };
        s.expires |= name.eq_ignore_ascii_case(b"PEXPIREAT");
        let tmp = s.tmp.clone();
        let mut staged_args = args.to_vec();
        staged_args[at] = &tmp;
        let first = s.sent == 0;
        s.sent += 1;
        self.sender.push(&staged_args, Route::Key(tmp.clone()), Purpose::Part(tmp.clone())).map_err(io)?;
        if first {
            let expire: [&[u8]; 3] = [b"PEXPIRE", &tmp, TEMP_TTL_MS];
            self.sender.push(&expire, Route::Key(tmp.clone()), Purpose::Part(tmp.clone())).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdb_parser::escape_bytes;

    #[test]
    fn temporary_names_share_the_key_slot() {
        let keys: [&[u8]; 7] = [b"big:list", b"{user1}:cart", b"a{b", b"a}b{", b"}{", b"", b"x{}y"];
        for key in keys {
            let tmp = temp_name(key, 1);
            assert_eq!(key_slot(&tmp), key_slot(key), "{:?} -> {:?}", escape_bytes(key, 80), escape_bytes(&tmp, 80));
            assert_ne!(tmp, key);
        }
        assert_ne!(temp_name(b"k", 1), temp_name(b"k", 2));
    }
}
