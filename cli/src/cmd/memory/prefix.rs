//! Key names grouped into a tree of prefixes: `user:123:cart` counts under `user:`,
//! `user:*:` and `user:*:cart`, because parts that look like identifiers (numbers, hex,
//! UUIDs) become `*`. The tree holds at most a fixed number of nodes; what would need
//! more is counted as "other" under the deepest prefix that exists.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::summary::Totals;

/// Shortest hex run that counts as an identifier (when it has a digit).
const MIN_HEX_ID: usize = 8;
/// Longest segment kept verbatim in a label.
const MAX_LABEL: usize = 64;

/// One prefix.
#[derive(Debug, Default)]
struct Node {
    /// This level's part of the prefix, separator included.
    label: String,
    totals: Totals,
    /// Keys counted here whose deeper prefixes did not fit.
    other: Totals,
    children: HashMap<String, usize>,
}

/// The prefix tree.
#[derive(Debug)]
pub struct PrefixTree {
    seps: Vec<u8>,
    depth: usize,
    max_nodes: usize,
    nodes: Vec<Node>,
}

impl PrefixTree {
    /// A tree splitting at any byte of `seps`, `depth` levels deep, with at most
    /// `max_nodes` prefixes.
    pub fn new(seps: &[u8], depth: usize, max_nodes: usize) -> PrefixTree {
        PrefixTree { seps: seps.to_vec(), depth, max_nodes, nodes: vec![Node::default()] }
    }

    /// Counts a key of `bytes` bytes.
    pub fn add(&mut self, key: &[u8], bytes: u64) {
        let mut at = 0;
        self.nodes[at].totals.add(bytes);
        let mut rest = key;
        for _ in 0..self.depth {
            if rest.is_empty() {
                return;
            }
            let cut = rest.iter().position(|b| self.seps.contains(b)).map_or(rest.len(), |i| i + 1);
            let (segment, tail) = rest.split_at(cut);
            rest = tail;
            let label = label(segment, &self.seps);
            let next = match self.nodes[at].children.get(&label) {
                Some(&i) => i,
                None if self.nodes.len() >= self.max_nodes => {
                    self.nodes[at].other.add(bytes);
                    return;
                }
                None => {
                    let i = self.nodes.len();
                    self.nodes[at].children.insert(label.clone(), i);
                    self.nodes.push(Node { label, ..Node::default() });
                    i
                }
            };
            at = next;
            self.nodes[at].totals.add(bytes);
        }
    }

    /// Number of prefixes (the root excluded).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The tree as JSON: `{prefix, keys, bytes, other: {keys, bytes}, children: [...]}`,
    /// children biggest first, at most `max_children` per node (the rest summed into
    /// `other`).
    pub fn to_json(&self, max_children: usize) -> Value {
        self.node_json(0, "", max_children)
    }

    fn node_json(&self, at: usize, prefix: &str, max_children: usize) -> Value {
        let node = &self.nodes[at];
        let path = format!("{prefix}{}", node.label);
        let mut kids: Vec<usize> = node.children.values().copied().collect();
        kids.sort_by(|&a, &b| {
            let (x, y) = (&self.nodes[a], &self.nodes[b]);
            y.totals.bytes.cmp(&x.totals.bytes).then_with(|| x.label.cmp(&y.label))
        });
        let mut other = node.other;
        for &k in kids.iter().skip(max_children) {
            other.keys += self.nodes[k].totals.keys;
            other.bytes += self.nodes[k].totals.bytes;
        }
        let children: Vec<Value> =
            kids.iter().take(max_children).map(|&k| self.node_json(k, &path, max_children)).collect();
        json!({
            "prefix": path,
            "keys": node.totals.keys,
            "bytes": node.totals.bytes,
            "other": {"keys": other.keys, "bytes": other.bytes},
            "children": children,
        })
    }
}

/// A segment as shown in the tree: identifiers become `*`, the separator stays.
fn label(segment: &[u8], seps: &[u8]) -> String {
    let (body, sep) = match segment.split_last() {
        Some((last, body)) if seps.contains(last) => (body, Some(*last)),
        _ => (segment, None),
    };
    let mut out = if is_identifier(body) {
        "*".to_string()
    } else {
        let text: String = String::from_utf8_lossy(body).chars().take(MAX_LABEL).collect();
        rdb_parser::escape_hidden(&text)
    };
    if let Some(s) = sep {
        out.push(char::from(s));
    }
    out
}

/// Numbers, hex runs with a digit, and UUIDs.
fn is_identifier(s: &[u8]) -> bool {
    if s.is_empty() {
        return false;
    }
    if s.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let hex = |b: &[u8]| b.iter().all(u8::is_ascii_hexdigit);
    if s.len() == 36 && [8, 13, 18, 23].iter().all(|&i| s[i] == b'-') {
        return s.split(|&b| b == b'-').all(hex);
    }
    s.len() >= MIN_HEX_ID && hex(s) && s.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_collapse() {
        assert!(is_identifier(b"123"));
        assert!(is_identifier(b"deadbeef01"));
        assert!(is_identifier(b"123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_identifier(b"deadbeef"));
        assert!(!is_identifier(b"cart"));
        assert!(!is_identifier(b"v2"));
        assert_eq!(label(b"123:", b":"), "*:");
        assert_eq!(label(b"cart", b":"), "cart");
    }

    #[test]
    fn counts_add_up_at_every_level() {
        let mut t = PrefixTree::new(b":", 3, 100);
        t.add(b"user:1:cart", 10);
        t.add(b"user:2:cart", 20);
        t.add(b"user:2:profile", 5);
        t.add(b"plain", 1);
        let j = t.to_json(10);
        assert_eq!(j["keys"], 4);
        assert_eq!(j["bytes"], 36);
        let user = &j["children"][0];
        assert_eq!(user["prefix"], "user:");
        assert_eq!(user["children"][0]["prefix"], "user:*:");
        assert_eq!(user["children"][0]["children"][0]["prefix"], "user:*:cart");
        assert_eq!(user["children"][0]["children"][0]["keys"], 2);
    }

    #[test]
    fn the_node_limit_turns_new_prefixes_into_other() {
        let mut t = PrefixTree::new(b":", 2, 3);
        for k in [&b"a:x"[..], b"a:y", b"b:z", b"c:w"] {
            t.add(k, 1);
        }
        assert_eq!(t.len(), 2);
        let j = t.to_json(10);
        assert_eq!(j["keys"], 4);
        assert_eq!(j["other"]["keys"], 2);
    }
}
