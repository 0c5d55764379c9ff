//! Key patterns with the semantics of Redis `KEYS` / `SCAN MATCH` (`stringmatchlen`).
//!
//! `*` matches any run of bytes, `?` one byte, `[abc]`, `[^abc]` and `[a-z]` (a reversed
//! range such as `[z-a]` works too) one byte of a set, and `\` makes the next byte
//! literal, also inside brackets. Braces, commas and slashes have no meaning, so
//! `{user1}:*` matches cluster hash-tagged keys. An unterminated `[` set ends at the end
//! of the pattern. Bytes are compared unsigned.

/// A compiled key pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Byte(u8),
    Any,
    Star,
    Set { negated: bool, items: Vec<SetItem> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetItem {
    Byte(u8),
    Range(u8, u8),
}

impl KeyPattern {
    /// Compiles `pattern`; every byte string is a valid pattern, as for the server.
    pub fn new(pattern: &[u8]) -> KeyPattern {
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < pattern.len() {
            match pattern[i] {
                b'*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                b'?' => tokens.push(Token::Any),
                b'[' => {
                    let (token, next) = parse_set(pattern, i + 1);
                    tokens.push(token);
                    i = next;
                    continue;
                }
                b'\\' if i + 1 < pattern.len() => {
                    i += 1;
                    tokens.push(Token::Byte(pattern[i]));
                }
                b => tokens.push(Token::Byte(b)),
            }
            i += 1;
        }
        KeyPattern { tokens }
    }

    /// Whether `key` matches the whole pattern.
    pub fn matches(&self, key: &[u8]) -> bool {
        // Greedy matching with one backtrack point (the last `*`): linear in practice
        // and never exponential, unlike naive recursion.
        let (mut t, mut k) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while k < key.len() {
            match self.tokens.get(t) {
                Some(Token::Star) => {
                    backtrack = Some((t, k));
                    t += 1;
                    continue;
                }
                Some(token) if token.accepts(key[k]) => {
                    t += 1;
                    k += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star, from)) => {
                    backtrack = Some((star, from + 1));
                    t = star + 1;
                    k = from + 1;
                }
                None => return false,
            }
        }
        self.tokens[t..].iter().all(|tok| *tok == Token::Star)
    }
}

impl Token {
    fn accepts(&self, b: u8) -> bool {
        match self {
            Token::Byte(x) => *x == b,
            Token::Any => true,
            Token::Star => false,
            Token::Set { negated, items } => {
                let hit = items.iter().any(|item| match *item {
                    SetItem::Byte(x) => x == b,
                    SetItem::Range(lo, hi) => (lo..=hi).contains(&b),
                });
                hit != *negated
            }
        }
    }
}

/// Parses a `[...]` set whose body starts at `i`; returns the token and the index after `]`.
fn parse_set(p: &[u8], mut i: usize) -> (Token, usize) {
    let negated = p.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    while i < p.len() {
        match p[i] {
            b']' => return (Token::Set { negated, items }, i + 1),
            b'\\' if i + 1 < p.len() => {
                items.push(SetItem::Byte(p[i + 1]));
                i += 2;
            }
            a if i + 2 < p.len() && p[i + 1] == b'-' => {
                let b = p[i + 2];
                items.push(SetItem::Range(a.min(b), a.max(b)));
                i += 3;
            }
            a => {
                items.push(SetItem::Byte(a));
                i += 1;
            }
        }
    }
    (Token::Set { negated, items }, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, k: &str) -> bool {
        KeyPattern::new(p.as_bytes()).matches(k.as_bytes())
    }

    #[test]
    fn redis_match_semantics() {
        assert!(m("*", ""));
        assert!(m("user:*", "user:1"));
        assert!(!m("user:*", "order:1"));
        assert!(m("{u1}:*", "{u1}:cart"), "braces are literal");
        assert!(!m("{u1,u2}:*", "u1:cart"), "no alternation");
        assert!(m("a/*", "a/b/c"), "slashes are ordinary bytes");
        assert!(m("h?llo", "hello") && m("h?llo", "hallo") && !m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hallo") && !m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo") && !m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo") && m("h[b-a]llo", "hallo"), "reversed ranges");
        assert!(m("a\\*b", "a*b") && !m("a\\*b", "axb"));
        assert!(m("[\\]]", "]") && m("[a\\-z]", "-") && !m("[a\\-z]", "b"));
        assert!(m("a[bc", "ab") && !m("a[bc", "a"), "an unterminated set ends the pattern");
        assert!(m("*a*b*", "xxaxxbxx") && !m("*a*b*", "xxbxxaxx"));
        assert!(m("a**", "a") && m("**a", "a"));
        assert!(m("trailing\\", "trailing\\"), "a lone trailing backslash is literal");
        assert!(!m("", "x") && m("", ""));
    }

    #[test]
    fn binary_keys_and_long_runs() {
        assert!(KeyPattern::new(b"a?c").matches(b"a\xffc"));
        assert!(KeyPattern::new(b"[\x80-\xff]").matches(b"\x90"));
        let key = vec![b'a'; 10_000];
        assert!(!KeyPattern::new(b"*a*a*a*a*a*b").matches(&key));
    }
}
