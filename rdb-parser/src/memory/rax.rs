//! Radix trees (`rax`) as the servers build them when keys arrive in increasing order:
//! stream nodes, pending-entry lists, consumer groups and consumers are all saved in
//! tree order and loaded in that order.
//!
//! With increasing keys only the rightmost path of the tree ever changes, so the tree is
//! followed through that path alone (constant memory): nodes that leave it are final and
//! only their count and allocation size are kept.

use super::allocator::Allocator;

/// One node on the rightmost path.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Key position of the node's first character.
    start: usize,
    /// Characters: of the compressed run, or one per child.
    size: usize,
    compressed: bool,
    /// A key ends here (it then holds a value pointer).
    key: bool,
}

impl Node {
    fn leaf(start: usize) -> Node {
        Node { start, size: 0, compressed: false, key: true }
    }

    /// Key positions the node covers on the path.
    fn span(&self) -> usize {
        match (self.compressed, self.size) {
            (true, n) => n,
            (false, 0) => 0,
            (false, _) => 1,
        }
    }

    /// Allocation request: 4-byte header, characters padded to pointer alignment, child
    /// pointers (one for a compressed run), value pointer.
    fn bytes(&self) -> u64 {
        let size = self.size as u64;
        let pad = (8 - (size + 4) % 8) % 8;
        let children = if self.compressed { 1 } else { size };
        4 + size + pad + 8 * children + if self.key { 8 } else { 0 }
    }
}

/// A radix tree grown by sorted inserts.
#[derive(Debug, Clone)]
pub(crate) struct RaxSim {
    allocator: Allocator,
    last: Vec<u8>,
    path: Vec<Node>,
    elements: u64,
    nodes: u64,
    closed_bytes: u64,
}

/// `sizeof(rax)` in Valkey 8.1 and later (it tracks its allocation size, this struct's
/// included).
const RAX_STRUCT: u64 = 32;

impl RaxSim {
    /// An empty tree: one empty head node.
    pub(crate) fn new(allocator: Allocator) -> RaxSim {
        let head = Node { start: 0, size: 0, compressed: false, key: false };
        RaxSim { allocator, last: Vec::new(), path: vec![head], elements: 0, nodes: 1, closed_bytes: 0 }
    }

    /// Keys inserted.
    pub(crate) fn elements(&self) -> u64 {
        self.elements
    }

    /// Nodes in the tree (`rax->numnodes`).
    #[cfg(test)]
    pub(crate) fn nodes(&self) -> u64 {
        self.nodes
    }

    /// `raxAllocSize`: the usable size of the struct and of every node.
    pub(crate) fn alloc_size(&self) -> u64 {
        let open: u64 = self.path.iter().map(|n| self.allocator.usable(n.bytes())).sum();
        self.allocator.usable(RAX_STRUCT) + self.closed_bytes + open
    }

    /// The estimate Redis (and Valkey 8.0) report for a tree: 16 bytes per key and 244
    /// per node, whatever the real layout.
    pub(crate) fn redis_estimate(&self) -> u64 {
        16 * self.elements + (4 + 8 * 30) * self.nodes
    }

    /// Inserts `key`, which should sort after every key inserted so far. A key out of
    /// order (only in hand-made files) is counted without changing the shape.
    pub(crate) fn insert(&mut self, key: &[u8]) {
        let first = self.elements == 0;
        self.elements += 1;
        if !first && key <= self.last.as_slice() {
            return;
        }
        let p = self.last.iter().zip(key).take_while(|(a, b)| a == b).count();
        let Some(i) = self.path.iter().rposition(|n| n.start <= p && (p < n.start + n.span() || n.span() == 0)) else {
            return;
        };
        let node = self.path[i];
        self.close_after(i);
        if node.span() == 0 {
            // The end of the previous key (or the empty head): the new key continues it.
            self.path.pop();
            self.extend(node, key.len());
        } else if !node.compressed {
            // A branch: one more child, then the rest of the key below it.
            self.path[i].size += 1;
            self.nodes += 1;
            self.extend(Node { start: p + 1, size: 0, compressed: false, key: false }, key.len());
        } else {
            self.split(node, p, key.len());
        }
        self.last.clear();
        self.last.extend_from_slice(key);
    }

    /// Splits the compressed node at the end of the path where the new key leaves it,
    /// at key position `p`.
    fn split(&mut self, node: Node, p: usize, key_len: usize) {
        let j = p - node.start;
        let postfix = node.size - j - 1;
        if postfix > 0 {
            self.nodes += 1;
            self.close(Node { start: p + 1, size: postfix, compressed: postfix > 1, key: false });
        }
        self.path.pop();
        let mut split = Node { start: p, size: 2, compressed: false, key: false };
        if j > 0 {
            self.nodes += 1;
            self.path.push(Node { start: node.start, size: j, compressed: j > 1, key: node.key });
        } else {
            split.key = node.key;
        }
        self.path.push(split);
        self.nodes += 1;
        self.extend(Node { start: p + 1, size: 0, compressed: false, key: false }, key_len);
    }

    /// Puts the rest of a key (from `node.start` to `key_len`) under the empty `node`:
    /// a compressed run when two or more bytes remain, a one-child node for one byte.
    fn extend(&mut self, node: Node, key_len: usize) {
        let rest = key_len.saturating_sub(node.start);
        if rest == 0 {
            self.path.push(Node { key: true, ..node });
            return;
        }
        self.path.push(Node { size: rest, compressed: rest >= 2, ..node });
        self.nodes += 1;
        self.path.push(Node::leaf(key_len));
    }

    fn close_after(&mut self, i: usize) {
        while self.path.len() > i + 1 {
            if let Some(n) = self.path.pop() {
                self.close(n);
            }
        }
    }

    fn close(&mut self, n: Node) {
        self.closed_bytes += self.allocator.usable(n.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(keys: &[&[u8]]) -> RaxSim {
        let mut r = RaxSim::new(Allocator::Jemalloc);
        for k in keys {
            r.insert(k);
        }
        r
    }

    #[test]
    fn first_key_is_a_compressed_run_and_a_leaf() {
        let r = tree(&[b"abcd"]);
        assert_eq!(r.nodes(), 2);
        // Run "abcd": 4 + 4 + 0 + 8 = 16; leaf with value: 4 + 4 + 8 = 16.
        assert_eq!(r.alloc_size(), 32 + 16 + 16);
        let mut libc = RaxSim::new(Allocator::Libc);
        libc.insert(b"abcd");
        assert_eq!(libc.alloc_size(), 40 + 24 + 24);
    }

    #[test]
    fn splits_follow_the_insert_algorithm() {
        // "abcd" then "abxy": run "ab", branch [c x], then under c a one-child node "d"
        // and its leaf, under x a one-child node "y" and its leaf.
        let r = tree(&[b"abcd", b"abxy"]);
        assert_eq!(r.nodes(), 6);
        // A new first byte turns the root into the branch: [a b], runs "bcd" under both.
        let r = tree(&[b"abcd", b"bbcd"]);
        assert_eq!(r.nodes(), 5);
        // A key extending the previous one turns its leaf into a run.
        let r = tree(&[b"ab", b"abcd"]);
        assert_eq!(r.nodes(), 3);
        assert_eq!(r.elements(), 2);
    }

    #[test]
    fn stream_ids_share_prefixes() {
        let ids: Vec<[u8; 16]> =
            (0..300u64).map(|i| crate::StreamId { ms: 1_700_000_000_000, seq: i }.to_be_bytes()).collect();
        let mut r = RaxSim::new(Allocator::Jemalloc);
        for id in &ids {
            r.insert(id);
        }
        // One run for the shared 14 bytes, branches for the last two.
        assert!(r.nodes() > 300 && r.nodes() < 320, "{}", r.nodes());
        assert_eq!(r.redis_estimate(), 16 * 300 + 244 * r.nodes());
    }

    #[test]
    fn out_of_order_keys_do_not_panic() {
        let r = tree(&[b"b", b"a", b"", b"b"]);
        assert_eq!(r.elements(), 4);
    }
}
