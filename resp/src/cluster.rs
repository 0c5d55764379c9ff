//! A Redis/Valkey cluster seen from outside: hash slots, the slot map from
//! `CLUSTER SLOTS`, one connection per master, MOVED and ASK followed.

use std::collections::HashMap;

use crc::{Crc, CRC_16_XMODEM};

use crate::conn::{ConnectOptions, Connection};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::url::address;

/// Number of hash slots.
pub const SLOTS: u16 = 16384;
/// Redirections followed for one command before giving up.
const MAX_REDIRECTS: usize = 5;

static CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// The hash slot of a key (of its `{hash tag}` when it has a non-empty one).
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| key[open + 1..].iter().position(|&b| b == b'}').map(|len| &key[open + 1..open + 1 + len]))
        .filter(|tag| !tag.is_empty());
    CRC16.checksum(tagged.unwrap_or(key)) % SLOTS
}

/// A slot range and the master serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRange {
    /// First slot.
    pub first: u16,
    /// Last slot (inclusive).
    pub last: u16,
    /// The master's `host:port`.
    pub master: String,
}

fn node_address(v: &Frame) -> Option<String> {
    let Frame::Array(parts) = v else { return None };
    let host = String::from_utf8_lossy(parts.first()?.as_bytes()?).into_owned();
    let port = u16::try_from(parts.get(1)?.as_int()?).ok()?;
    Some(address(&host, port))
}

/// The slot map a node reports (`CLUSTER SLOTS`).
pub fn slot_map(conn: &mut Connection) -> Result<Vec<SlotRange>> {
    let Frame::Array(ranges) = conn.call(&[b"CLUSTER", b"SLOTS"])? else {
        return Err(Error::Server("CLUSTER SLOTS did not return an array".into()));
    };
    let parse = |r: &Frame| -> Option<SlotRange> {
        let Frame::Array(r) = r else { return None };
        let first = u16::try_from(r.first()?.as_int()?).ok()?;
        let last = u16::try_from(r.get(1)?.as_int()?).ok()?;
        Some(SlotRange { first, last, master: node_address(r.get(2)?)? })
    };
    ranges
        .iter()
        .map(|r| parse(r).ok_or_else(|| Error::Server(format!("unexpected CLUSTER SLOTS entry {r:?}"))))
        .collect()
}

/// `MOVED slot host:port` / `ASK slot host:port`: (is ASK, target).
pub fn redirect(error: &[u8]) -> Option<(bool, String)> {
    let text = std::str::from_utf8(error).ok()?;
    let mut words = text.split(' ');
    let ask = match words.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    words.next()?;
    Some((ask, words.next()?.to_string()))
}

/// Connections to the masters of a cluster, opened as needed.
pub struct ClusterLink {
    options: ConnectOptions,
    nodes: HashMap<String, Connection>,
    slots: Vec<SlotRange>,
}

fn split_address(addr: &str) -> Result<(String, u16)> {
    let bad = || Error::Server(format!("bad node address {addr:?}"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    Ok((host.trim_matches(['[', ']']).to_string(), port.parse().map_err(|_| bad())?))
}

impl ClusterLink {
    /// Connects to the seed node of `options` and loads the slot map.
    pub fn connect(options: &ConnectOptions) -> Result<ClusterLink> {
        let mut seed = Connection::open(options)?;
        let peer = seed.peer().to_string();
        let slots = match slot_map(&mut seed) {
            Err(Error::Server(msg)) if msg.contains("cluster support disabled") => {
                return Err(Error::NotACluster(peer))
            }
            other => other.map_err(|e| e.at(&peer))?,
        };
        let mut link = ClusterLink { options: options.clone(), nodes: HashMap::new(), slots };
        link.nodes.insert(peer, seed);
        Ok(link)
    }

    /// The connection to `addr`, opened on first use.
    pub fn node(&mut self, addr: &str) -> Result<&mut Connection> {
        if !self.nodes.contains_key(addr) {
            let (host, port) = split_address(addr)?;
            let conn = Connection::open_to(&self.options, &host, port)?;
            self.nodes.insert(addr.to_string(), conn);
        }
        self.nodes.get_mut(addr).ok_or_else(|| Error::Server("node vanished".into()))
    }

    /// Drops the connection to `addr` (after an error on it).
    pub fn forget(&mut self, addr: &str) {
        self.nodes.remove(addr);
    }

    /// Reloads the slot map from the first node that answers.
    pub fn refresh(&mut self) -> Result<()> {
        let mut last = None;
        for (addr, conn) in &mut self.nodes {
            match slot_map(conn) {
                Ok(slots) => {
                    self.slots = slots;
                    return Ok(());
                }
                Err(e) => last = Some(e.at(addr)),
            }
        }
        Err(last.unwrap_or_else(|| Error::Server("no cluster node reachable".into())))
    }

    /// The slot ranges and their masters.
    pub fn slots(&self) -> &[SlotRange] {
        &self.slots
    }

    /// The master serving `slot`.
    pub fn master_for(&self, slot: u16) -> Option<&str> {
        self.slots.iter().find(|r| (r.first..=r.last).contains(&slot)).map(|r| r.master.as_str())
    }

    /// Every master, once.
    pub fn masters(&self) -> Vec<String> {
        let mut m: Vec<String> = self.slots.iter().map(|r| r.master.clone()).collect();
        m.sort();
        m.dedup();
        m
    }

    /// Any node (a master when the map is known).
    pub fn any_node(&self) -> Option<String> {
        self.slots.first().map(|r| r.master.clone()).or_else(|| self.nodes.keys().next().cloned())
    }

    /// Sends an encoded command about `key` to its master, following MOVED and ASK.
    /// Returns the reply (an error reply as [`Frame::Error`]).
    pub fn follow(&mut self, command: &[u8], key: &[u8]) -> Result<Frame> {
        let slot = key_slot(key);
        let mut target = self.master_for(slot).map(str::to_string);
        let mut asking = false;
        for _ in 0..MAX_REDIRECTS {
            let addr = target.take().ok_or_else(|| Error::Server(format!("slot {slot} is not served by any node")))?;
            let conn = self.node(&addr)?;
            let reply = if asking {
                conn.write_all(b"*1\r\n$6\r\nASKING\r\n").and_then(|()| conn.write_all(command)).and_then(|()| {
                    conn.read_frame()?;
                    conn.read_frame()
                })
            } else {
                conn.write_all(command).and_then(|()| conn.read_frame())
            };
            let reply = reply.map_err(|e| e.at(&addr))?;
            match &reply {
                Frame::Error(e) => match redirect(e) {
                    Some((ask, to)) => {
                        asking = ask;
                        target = Some(to);
                        if !ask {
                            self.refresh()?;
                        }
                    }
                    None => return Ok(reply),
                },
                _ => return Ok(reply),
            }
        }
        Err(Error::Server(format!("too many redirections for slot {slot}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_spec() {
        // Values from the cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn redirects_parse() {
        assert_eq!(redirect(b"MOVED 3999 127.0.0.1:6381"), Some((false, "127.0.0.1:6381".into())));
        assert_eq!(redirect(b"ASK 3999 [::1]:6381"), Some((true, "[::1]:6381".into())));
        assert_eq!(redirect(b"ERR nope"), None);
    }
}
