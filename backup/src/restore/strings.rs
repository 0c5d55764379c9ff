//! Plain strings (no expiry, no LRU/LFU hint) go out many keys to a command: one
//! `MSETNX` (`MSET` with `--replace`) per batch instead of one `RESTORE` per key. For
//! each key the server then skips a command's dispatch and reply, the payload's CRC64
//! check and its decoding: the keyspace insertion is about all that is left.
//!
//! `MSETNX` sets nothing when one of its keys exists. The keys of such a batch are sent
//! again one by one as `SET key value NX`, whose null reply means the key existed: it is
//! reported as `RESTORE` reports it (`BUSYKEY`), and the other keys are set.
//!
//! A server that refuses the command itself (an ACL allowing `RESTORE` only, a renamed
//! or disabled `MSETNX`) gets those keys, and the later plain strings, as `RESTORE`:
//! each key's DUMP payload is kept with it until the reply.
//!
//! Not in a cluster, where the keys of one command must share a hash slot.

/// Keys per multi-key command.
const KEYS_PER_COMMAND: usize = 128;
/// Bytes of names and values per multi-key command; a larger value goes alone.
const BYTES_PER_COMMAND: usize = 256 << 10;

/// The error reported for a key that exists, as `RESTORE` words it.
pub(super) const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// Whether `error` says this client may not run the command at all (ACL, renamed or
/// disabled command), rather than refusing these keys.
pub(super) fn command_refused(error: &str) -> bool {
    error.starts_with("NOPERM") || error.starts_with("ERR unknown command")
}

/// The strings of one database gathered for one command.
#[derive(Debug, Default, Clone)]
pub struct Strings {
    /// The target database (for messages).
    pub db: u64,
    /// Names, values and DUMP payloads, back to back.
    data: Vec<u8>,
    /// Per key: where its name, its value and its payload end in `data`.
    ends: Vec<[usize; 3]>,
    /// Bytes of names and values (what the command carries).
    bytes: usize,
}

impl Strings {
    /// Adds a key of database `db` (the batch must be empty or of the same database)
    /// with its value and its DUMP payload.
    pub fn push(&mut self, db: u64, key: &[u8], value: &[u8], payload: &[u8]) {
        self.db = db;
        let mut ends = [0; 3];
        for (end, part) in ends.iter_mut().zip([key, value, payload]) {
            self.data.extend_from_slice(part);
            *end = self.data.len();
        }
        self.ends.push(ends);
        self.bytes += key.len() + value.len();
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when it holds no key.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Whether the batch should go now.
    pub fn is_full(&self) -> bool {
        self.ends.len() >= KEYS_PER_COMMAND || self.bytes >= BYTES_PER_COMMAND
    }

    /// Whether a value of `bytes` is better sent in a batch of its own.
    pub fn would_overflow(&self, bytes: usize) -> bool {
        !self.is_empty() && self.bytes + bytes > BYTES_PER_COMMAND
    }

    /// Each key's name, value and payload, in order.
    pub fn entries(&self) -> impl Iterator<Item = [&[u8]; 3]> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&[key_end, value_end, end]| {
            let entry = [&self.data[start..key_end], &self.data[key_end..value_end], &self.data[value_end..end]];
            start = end;
            entry
        })
    }

    /// The command that sets them all: `MSET` (overwriting) or `MSETNX`.
    pub fn command(&self, replace: bool) -> Vec<&[u8]> {
        let name: &[u8] = if replace { b"MSET" } else { b"MSETNX" };
        let mut args = Vec::with_capacity(1 + 2 * self.len());
        args.push(name);
        for [key, value, _] in self.entries() {
            args.extend([key, value]);
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order() {
        let mut s = Strings::default();
        s.push(3, b"k1", b"v1", b"p1");
        s.push(3, b"", b"long value", b"");
        s.push(3, b"k3", b"", b"p3");
        let entries: Vec<_> = s.entries().collect();
        assert_eq!(entries, [[&b"k1"[..], b"v1", b"p1"], [b"", b"long value", b""], [b"k3", b"", b"p3"]]);
        let cmd = s.command(false);
        assert_eq!(cmd.len(), 7);
        assert_eq!(cmd[0], b"MSETNX");
        assert_eq!(s.command(true)[0], b"MSET");
        assert_eq!((s.db, s.len(), s.is_full()), (3, 3, false));
        assert!(s.would_overflow(BYTES_PER_COMMAND));
        assert!(!Strings::default().would_overflow(BYTES_PER_COMMAND * 2), "an empty batch takes anything");
        assert!(command_refused("NOPERM User u has no permissions to run the 'msetnx' command"));
        assert!(command_refused("ERR unknown command 'MSETNX', with args beginning with: "));
        assert!(!command_refused("OOM command not allowed when used memory > 'maxmemory'."));
    }
}
