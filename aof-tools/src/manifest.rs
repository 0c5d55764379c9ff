//! The manifest of a multi-part AOF (Redis 7.0+, Valkey): parsing with the servers'
//! rules (`aofLoadManifestFromFile`) and writing in their format (`aofInfoFormat`).
//!
//! One line per file: `file <name> seq <n> type <b|h|i>`, keys in any order and any
//! case, extra key/value pairs allowed, names quoted with C escapes when needed, `#`
//! comment lines. Every line, the last included, must end with `\n` and be at most
//! 1024 bytes; blank lines, a missing key, a zero `seq`, a second base, a non-increasing
//! incr `seq` and an unknown type are errors.

use resp::request::split_args;

/// Longest manifest line the servers read (`MANIFEST_MAX_LINE`).
pub const MAX_LINE: usize = 1024;

/// The role of a file in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartKind {
    /// `type b`: the base (RDB or RESP), loaded first.
    Base,
    /// `type h`: history left by a rewrite; never loaded.
    History,
    /// `type i`: incremental files, loaded in order after the base.
    Incr,
}

impl PartKind {
    /// The type letter.
    pub fn letter(self) -> u8 {
        match self {
            PartKind::Base => b'b',
            PartKind::History => b'h',
            PartKind::Incr => b'i',
        }
    }

    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            PartKind::Base => "base",
            PartKind::History => "history",
            PartKind::Incr => "incr",
        }
    }
}

/// One file line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// File name (bytes: names may be quoted with escapes).
    pub name: Vec<u8>,
    /// Sequence number.
    pub seq: i64,
    /// Role.
    pub kind: PartKind,
}

/// A parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<ManifestEntry>,
    /// History files (not loaded).
    pub history: Vec<ManifestEntry>,
    /// Incremental files in load order.
    pub incr: Vec<ManifestEntry>,
}

/// Why a manifest is invalid: the 1-based line (0 for the whole file), the line's text
/// and the servers' message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line number; 0 when about the whole file.
    pub line: usize,
    /// The offending line, trimmed, escaped for display.
    pub text: String,
    /// What is wrong (the servers' wording).
    pub message: &'static str,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.text.is_empty() {
            f.write_str(self.message)
        } else {
            write!(f, "{} in '{}'", self.message, self.text)
        }
    }
}

/// C `strcasecmp` of an argument (up to its first NUL) with a lower-case key.
fn key_is(arg: &[u8], key: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(key.as_bytes())
}

/// The bytes before the first NUL, as C string functions see them.
fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

/// C `strtol(s, &end, 10)`: blanks, a sign, digits (saturating); the value and the
/// index where parsing stopped (0 when there are no digits).
pub(crate) fn strtol(s: &[u8]) -> (i64, usize) {
    let mut i = s.iter().take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i.min(s.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return (0, 0);
    }
    let mut v: i64 = 0;
    for &d in &s[i..i + digits] {
        let d = i64::from(d - b'0');
        v = if neg { v.saturating_mul(10).saturating_sub(d) } else { v.saturating_mul(10).saturating_add(d) };
    }
    (v, i + digits)
}

/// C `atoll` of an argument (up to its first NUL).
fn c_atoll(b: &[u8]) -> i64 {
    strtol(c_str(b)).0
}

fn trim(line: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let end = line.iter().rposition(|c| !blank(c)).map_or(start, |n| n + 1);
    &line[start..end.max(start)]
}

impl Manifest {
    /// Parses a manifest with the servers' rules.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut pos = 0;
        let mut linenum = 0;
        let mut max_incr_seq = 0i64;
        let fail = |line: usize, text: &[u8], message| {
            Err(ManifestError { line, text: rdb_parser::escape_bytes(text, 200), message })
        };
        while pos < bytes.len() {
            // fgets with a 1025-byte buffer: at most 1024 bytes, through the newline.
            let window = &bytes[pos..bytes.len().min(pos + MAX_LINE)];
            let chunk = match window.iter().position(|&b| b == b'\n') {
                Some(n) => &window[..=n],
                None => window,
            };
            pos += chunk.len();
            linenum += 1;
            if chunk[0] == b'#' {
                continue;
            }
            // strchr(buf, '\n'): a NUL byte hides the newline.
            if !c_str(chunk).contains(&b'\n') {
                return fail(linenum, trim(chunk), "The AOF manifest file contains too long line");
            }
            let line = trim(c_str(chunk));
            if line.is_empty() {
                return fail(linenum, line, "Invalid AOF manifest file format");
            }
            let argv = match split_args(line) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return fail(linenum, line, "Invalid AOF manifest file format"),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for pair in argv.chunks_exact(2) {
                let (k, v) = (&pair[0], &pair[1]);
                if key_is(k, "file") {
                    let n = c_str(v).to_vec();
                    if n.contains(&b'/') || n.contains(&b'\\') {
                        return fail(linenum, line, "File can't be a path, just a filename");
                    }
                    name = Some(n);
                } else if key_is(k, "seq") {
                    seq = c_atoll(v);
                } else if key_is(k, "type") {
                    kind = v.first().copied().unwrap_or(0);
                }
            }
            let Some(name) = name.filter(|_| seq != 0 && kind != 0) else {
                return fail(linenum, line, "Invalid AOF manifest file format");
            };
            let kind = match kind {
                b'b' => PartKind::Base,
                b'h' => PartKind::History,
                b'i' => PartKind::Incr,
                _ => return fail(linenum, line, "Unknown AOF file type"),
            };
            let entry = ManifestEntry { name, seq, kind };
            match kind {
                PartKind::Base if m.base.is_some() => {
                    return fail(linenum, line, "Found duplicate base file information");
                }
                PartKind::Base => m.base = Some(entry),
                PartKind::History => m.history.push(entry),
                PartKind::Incr => {
                    if seq <= max_incr_seq {
                        return fail(linenum, line, "Found a non-monotonic sequence number");
                    }
                    max_incr_seq = seq;
                    m.incr.push(entry);
                }
            }
        }
        if linenum == 0 {
            return fail(0, b"", "Found an empty AOF manifest");
        }
        Ok(m)
    }

    /// The manifest text as the servers write it: base, history, then incr lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in self.base.iter().chain(&self.history).chain(&self.incr) {
            out.extend_from_slice(b"file ");
            if needs_repr(&e.name) {
                repr(&mut out, &e.name);
            } else {
                out.extend_from_slice(&e.name);
            }
            out.extend_from_slice(format!(" seq {} type {}\n", e.seq, e.kind.letter() as char).as_bytes());
        }
        out
    }

    /// Base then incr files: the files a server loads, in order.
    pub fn load_order(&self) -> impl Iterator<Item = &ManifestEntry> {
        self.base.iter().chain(&self.incr)
    }
}

fn is_print(c: u8) -> bool {
    (0x20..0x7f).contains(&c)
}

/// `sdsneedsrepr`, and also for an empty name or one with a `'` (which servers write
/// bare, so that the line no longer parses).
fn needs_repr(name: &[u8]) -> bool {
    name.is_empty()
        || name
            .iter()
            .any(|&c| matches!(c, b'\\' | b'"' | b'\'' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08 | b' ') || !is_print(c))
}

/// `sdscatrepr`.
fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            c if is_print(c) => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &[u8]) -> (usize, &'static str) {
        let e = Manifest::parse(text).expect_err("invalid");
        (e.line, e.message)
    }

    #[test]
    fn parses_what_servers_write() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
file appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.base.as_ref().map(|b| b.name.as_slice()), Some(&b"appendonly.aof.2.base.rdb"[..]));
        assert_eq!((m.history.len(), m.incr.len()), (1, 1));
        assert_eq!(m.to_bytes(), text.to_vec());
        assert_eq!(m.load_order().count(), 2);
    }

    #[test]
    fn keys_in_any_order_quoted_names_comments_and_extra_pairs() {
        let text = b"# comment\nSEQ 3 Type i FILE \"my \\x41of\\n\" startoffset 5 endoffset 9\r\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.incr[0].name, b"my Aof\n".to_vec());
        assert_eq!(m.to_bytes(), b"file \"my Aof\\n\" seq 3 type i\n".to_vec());
        assert!(Manifest::parse(b"# only a comment\n").expect("valid").base.is_none());
    }

    #[test]
    fn escaping_can_make_a_line_too_long_as_with_the_servers_writer() {
        // Found by fuzzing: 300 bytes of 0xff fit in a line, their `\xff` escapes do not.
        let mut line = b"file \"".to_vec();
        line.extend(std::iter::repeat_n(0xffu8, 300));
        line.extend_from_slice(b"\" seq 3 type i\n");
        let m = Manifest::parse(&line).expect("a 320-byte line is valid");
        let text = m.to_bytes();
        assert!(text.len() > MAX_LINE);
        assert_eq!(Manifest::parse(&text).map_err(|e| e.message), Err("The AOF manifest file contains too long line"));
    }

    #[test]
    fn empty_names_and_single_quotes_are_written_quoted() {
        // Found by fuzzing: servers accept `file "" ...` but write it back bare.
        let m = Manifest::parse(b"file \"\" seq 3 type i\n").expect("accepted, as servers do");
        assert_eq!(m.to_bytes(), b"file \"\" seq 3 type i\n".to_vec());
        assert_eq!(Manifest::parse(&m.to_bytes()), Ok(m));
        // And a name with a single quote, which would open a quoted section.
        let m = Manifest::parse(b"file \"x'n\" seq 2 type i\n").expect("accepted");
        assert_eq!(m.to_bytes(), b"file \"x'n\" seq 2 type i\n".to_vec());
        assert_eq!(Manifest::parse(&m.to_bytes()), Ok(m));
    }

    #[test]
    fn server_errors() {
        assert_eq!(err(b""), (0, "Found an empty AOF manifest"));
        assert_eq!(err(b"file a seq 1 type b"), (1, "The AOF manifest file contains too long line"));
        assert_eq!(err(b"file a seq 1 type b\n\n"), (2, "Invalid AOF manifest file format"));
        assert_eq!(err(b"file a seq 0 type b\n"), (1, "Invalid AOF manifest file format"));
        assert_eq!(err(b"file a seq 1 type b x\n"), (1, "Invalid AOF manifest file format"));
        assert_eq!(err(b"file a/b seq 1 type b\n"), (1, "File can't be a path, just a filename"));
        assert_eq!(err(b"file a seq 1 type `\n"), (1, "Unknown AOF file type"));
        assert_eq!(err(b"file a seq 1 type b\nfile b seq 2 type b\n"), (2, "Found duplicate base file information"));
        assert_eq!(err(b"file a seq 2 type i\nfile b seq 2 type i\n"), (2, "Found a non-monotonic sequence number"));
        assert_eq!(err(b"file \"a seq 1 type b\n"), (1, "Invalid AOF manifest file format"));
        let long = format!("file {} seq 1 type b\n", "x".repeat(1100));
        assert_eq!(err(long.as_bytes()), (1, "The AOF manifest file contains too long line"));
    }
}
