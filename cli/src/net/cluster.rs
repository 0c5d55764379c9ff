//! A Redis/Valkey cluster seen from outside: the slot map from `CLUSTER SLOTS`, one
//! connection per master, pipelines split by node, MOVED and ASK followed.

use std::collections::HashMap;

use crc::{Crc, CRC_16_XMODEM};
use redis::{Cmd, Connection, ErrorKind, RedisError, RedisResult, ServerErrorKind, Value};

/// Number of hash slots.
const SLOTS: u16 = 16384;
/// Redirections followed for one command before giving up.
const MAX_REDIRECTS: usize = 5;

static CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// The hash slot of a key (the `{hash tag}` part when there is a non-empty one).
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| key[open + 1..].iter().position(|&b| b == b'}').map(|len| &key[open + 1..open + 1 + len]))
        .filter(|tag| !tag.is_empty());
    CRC16.checksum(tagged.unwrap_or(key)) % SLOTS
}

/// Opens an authenticated connection to `host:port`.
pub type Connector = Box<dyn Fn(&str, u16) -> RedisResult<Connection>>;

/// Where a command goes.
#[derive(Debug, Clone)]
pub enum Route {
    /// The master owning this key's slot.
    Key(Vec<u8>),
    /// Every master (function libraries).
    AllMasters,
    /// Any node.
    Any,
}

/// Connections to the masters of a cluster.
pub struct ClusterLink {
    connect: Connector,
    nodes: HashMap<String, Connection>,
    /// (first slot, last slot, "host:port") per range.
    slots: Vec<(u16, u16, String)>,
}

fn addr_of(v: &Value) -> Option<String> {
    let Value::Array(parts) = v else { return None };
    let host = match parts.first()? {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        _ => return None,
    };
    let port = match parts.get(1)? {
        Value::Int(p) => *p,
        _ => return None,
    };
    Some(format!("{host}:{port}"))
}

impl ClusterLink {
    /// Connects to a seed node (with `connect`, which also authenticates) and loads
    /// the slot map.
    pub fn new(seed_host: &str, seed_port: u16, connect: Connector) -> RedisResult<Self> {
        let seed = connect(seed_host, seed_port)?;
        let mut link = ClusterLink { connect, nodes: HashMap::new(), slots: Vec::new() };
        link.nodes.insert(format!("{seed_host}:{seed_port}"), seed);
        link.refresh()?;
        Ok(link)
    }

    fn conn(&mut self, addr: &str) -> RedisResult<&mut Connection> {
        if !self.nodes.contains_key(addr) {
            let (host, port) =
                addr.rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| RedisError::from((ErrorKind::Client, "bad node address", addr.to_string())))?;
            let c = (self.connect)(&host, port)?;
            self.nodes.insert(addr.to_string(), c);
        }
        self.nodes.get_mut(addr).ok_or_else(|| RedisError::from((ErrorKind::Client, "node vanished")))
    }

    /// Reloads the slot map from any reachable node.
    pub fn refresh(&mut self) -> RedisResult<()> {
        let mut last = None;
        for conn in self.nodes.values_mut() {
            match redis::cmd("CLUSTER").arg("SLOTS").query::<Value>(conn) {
                Ok(Value::Array(ranges)) => {
                    self.slots = ranges
                        .iter()
                        .filter_map(|r| {
                            let Value::Array(r) = r else { return None };
                            let (Value::Int(a), Value::Int(b)) = (r.first()?, r.get(1)?) else { return None };
                            Some((*a as u16, *b as u16, addr_of(r.get(2)?)?))
                        })
                        .collect();
                    return Ok(());
                }
                Ok(other) => last = Some(RedisError::from((ErrorKind::Parse, "CLUSTER SLOTS", format!("{other:?}")))),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RedisError::from((ErrorKind::Client, "no cluster node reachable"))))
    }

    fn master_for(&self, slot: u16) -> Option<&str> {
        self.slots.iter().find(|(a, b, _)| (*a..=*b).contains(&slot)).map(|(_, _, n)| n.as_str())
    }

    fn any_node(&self) -> Option<String> {
        self.slots.first().map(|s| s.2.clone()).or_else(|| self.nodes.keys().next().cloned())
    }

    /// The masters, once each.
    fn masters(&self) -> Vec<String> {
        let mut m: Vec<String> = self.slots.iter().map(|s| s.2.clone()).collect();
        m.sort();
        m.dedup();
        m
    }

    /// Runs one command on any node.
    pub fn command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        let node = self.any_node().ok_or_else(|| RedisError::from((ErrorKind::Client, "empty cluster")))?;
        cmd.query(self.conn(&node)?)
    }

    /// Sends commands grouped into one pipeline per node; follows redirections one
    /// command at a time. Returns one result per command.
    pub fn batch(&mut self, cmds: &[Cmd], routes: &[Route]) -> RedisResult<Vec<Result<(), String>>> {
        let mut results: Vec<Result<(), String>> = vec![Ok(()); cmds.len()];
        let mut by_node: HashMap<String, Vec<usize>> = HashMap::new();
        let mut everywhere = Vec::new();
        for (i, r) in routes.iter().enumerate() {
            let node = match r {
                Route::Key(k) => self.master_for(key_slot(k)).map(str::to_string),
                Route::Any => self.any_node(),
                Route::AllMasters => {
                    everywhere.push(i);
                    continue;
                }
            };
            let node = node.ok_or_else(|| RedisError::from((ErrorKind::Client, "slot not covered by any node")))?;
            by_node.entry(node).or_default().push(i);
        }
        let mut redirected = Vec::new();
        for (node, idx) in by_node {
            let mut p = redis::pipe();
            for &i in &idx {
                p.add_command(cmds[i].clone());
            }
            let replies: Vec<RedisResult<Value>> = p.ignore_errors().query(self.conn(&node)?)?;
            for (&i, r) in idx.iter().zip(replies) {
                match r {
                    Err(e) if e.is_cluster_error() => redirected.push(i),
                    Err(e) => results[i] = Err(e.to_string()),
                    Ok(_) => {}
                }
            }
        }
        if !redirected.is_empty() {
            self.refresh()?;
            for i in redirected {
                results[i] = self.follow(&cmds[i], &routes[i]).map(|_| ()).map_err(|e| e.to_string());
            }
        }
        for i in everywhere {
            for node in self.masters() {
                if let Err(e) = cmds[i].query::<Value>(self.conn(&node)?) {
                    results[i] = Err(format!("{node}: {e}"));
                }
            }
        }
        Ok(results)
    }

    /// Sends one command to its key's master, following MOVED and ASK.
    pub fn follow(&mut self, cmd: &Cmd, route: &Route) -> RedisResult<Value> {
        let Route::Key(key) = route else { return self.command(cmd) };
        let mut node = self.master_for(key_slot(key)).map(str::to_string);
        let mut asking = false;
        for _ in 0..MAX_REDIRECTS {
            let target = node.clone().ok_or_else(|| RedisError::from((ErrorKind::Client, "slot not covered")))?;
            let conn = self.conn(&target)?;
            let reply = if asking {
                let mut p = redis::pipe();
                p.cmd("ASKING").ignore().add_command(cmd.clone());
                p.query::<Vec<Value>>(conn).map(|mut v| v.pop().unwrap_or(Value::Nil))
            } else {
                cmd.query::<Value>(conn)
            };
            match reply {
                Err(e) if e.is_cluster_error() => {
                    asking = matches!(e.kind(), ErrorKind::Server(ServerErrorKind::Ask));
                    node = e.redirect_node().map(|(a, _)| a.to_string());
                    if !asking {
                        self.refresh()?;
                    }
                }
                other => return other,
            }
        }
        Err(RedisError::from((ErrorKind::Client, "too many redirections")))
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
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    /// Against a real 3-master cluster: a stale slot map meets MOVED, a slot being
    /// migrated answers ASK; both are followed.
    #[test]
    fn follows_moved_and_ask_on_a_real_cluster() -> anyhow::Result<()> {
        let servers = testkit::require_all()?;
        let Some(server) = servers.iter().find(|s| s.flavor == testkit::Flavor::Redis && s.version.0 == 7) else {
            eprintln!("skipping: no Redis 7 server installed");
            return Ok(());
        };
        let nodes = testkit::cluster::start_cluster(server, 3)?;
        let connect: Connector =
            Box::new(|h: &str, p: u16| redis::Client::open(format!("redis://{h}:{p}/"))?.get_connection());
        let mut link = ClusterLink::new("127.0.0.1", nodes[0].port(), connect)?;
        let (k1, k2) = (b"{rdbkit}moved".to_vec(), b"{rdbkit}asked".to_vec());
        let slot = key_slot(&k1);
        let owner = link.master_for(slot).map(str::to_string).expect("slot covered");
        let index = |addr: &str| nodes.iter().position(|n| addr.ends_with(&format!(":{}", n.port()))).expect("a node");
        let a = index(&owner);
        let (b, c) = ((a + 1) % 3, (a + 2) % 3);
        let id = |i: usize| testkit::cluster::node_id(&nodes[i]);
        let set = |k: &[u8]| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(k).arg("v");
            cmd
        };

        // MOVED: the (empty) slot now belongs to b, but the link still sends to a.
        let b_id = id(b)?;
        for n in &nodes {
            redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("NODE").arg(&b_id).exec(&mut n.conn()?)?;
        }
        let r = link.batch(&[set(&k1)], &[Route::Key(k1.clone())])?;
        assert_eq!(r, vec![Ok(())]);
        let got: Option<String> = redis::cmd("GET").arg(&k1).query(&mut nodes[b].conn()?)?;
        assert_eq!(got.as_deref(), Some("v"), "the key landed on the new owner");

        // ASK: b migrates the slot to c; a key b does not have is asked for at c.
        let c_id = id(c)?;
        redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("IMPORTING").arg(&b_id).exec(&mut nodes[c].conn()?)?;
        redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("MIGRATING").arg(&c_id).exec(&mut nodes[b].conn()?)?;
        let r = link.batch(&[set(&k2)], &[Route::Key(k2.clone())])?;
        assert_eq!(r, vec![Ok(())]);
        let mut on_c = nodes[c].conn()?;
        let got: (String, Option<String>) = redis::pipe().cmd("ASKING").cmd("GET").arg(&k2).query(&mut on_c)?;
        assert_eq!(got.1.as_deref(), Some("v"), "the key landed on the importing node");
        Ok(())
    }
}
