//! Encoding commands as RESP arrays of bulk strings.

use std::io::Write;

/// Writes one command (`*N` then `$len` + bytes per argument).
pub fn write_command(out: &mut impl Write, args: &[&[u8]]) -> std::io::Result<()> {
    let bytes = 16 + args.iter().map(|a| a.len() + 16).sum::<usize>();
    if bytes <= STAGED_BYTES {
        let mut buf = Vec::with_capacity(bytes);
        encode_command(&mut buf, args);
        return out.write_all(&buf);
    }
    // A big command goes out as it is, not copied whole first.
    let mut n = itoa::Buffer::new();
    write!(out, "*{}\r\n", n.format(args.len()))?;
    for a in args {
        write!(out, "${}\r\n", n.format(a.len()))?;
        out.write_all(a)?;
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

/// Commands up to this size are encoded into one buffer and written at once.
const STAGED_BYTES: usize = 64 << 10;

/// Appends one command to `buf`.
pub fn encode_command(buf: &mut Vec<u8>, args: &[&[u8]]) {
    let mut n = itoa::Buffer::new();
    buf.push(b'*');
    buf.extend_from_slice(n.format(args.len()).as_bytes());
    buf.extend_from_slice(b"\r\n");
    for a in args {
        buf.push(b'$');
        buf.extend_from_slice(n.format(a.len()).as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Commands encoded back to back, each one retrievable (to resend it after a redirect).
#[derive(Debug, Default, Clone)]
pub struct Pipeline {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a command.
    pub fn push(&mut self, args: &[&[u8]]) {
        encode_command(&mut self.bytes, args);
        self.ends.push(self.bytes.len());
    }

    /// Appends an already encoded command.
    pub fn push_encoded(&mut self, command: &[u8]) {
        self.bytes.extend_from_slice(command);
        self.ends.push(self.bytes.len());
    }

    /// Number of commands.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when it holds no command.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Encoded size in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The encoded command `i`.
    pub fn command(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// All commands, encoded.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Empties it, keeping the allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_encode_and_split() {
        let mut p = Pipeline::new();
        p.push(&[b"SET", b"k", b"v\r\n"]);
        p.push(&[b"PING"]);
        assert_eq!(p.command(0), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
        assert_eq!(p.command(1), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(p.len(), 2);
        let mut out = Vec::new();
        write_command(&mut out, &[b"PING"]).expect("write to a Vec");
        assert_eq!(out, p.command(1));
    }

    #[test]
    fn big_commands_are_written_the_same_without_staging() {
        let big = vec![b'x'; STAGED_BYTES + 1];
        let mut p = Pipeline::new();
        p.push(&[b"SET", b"k", &big]);
        let mut out = Vec::new();
        write_command(&mut out, &[b"SET", b"k", &big]).expect("write to a Vec");
        assert_eq!(out, p.command(0));
    }
}
