//! Pipelines to one server or to a cluster: commands go out in batches, replies are
//! read later, so the server works while the next batch is prepared.

use std::collections::BTreeMap;

use crate::cluster::{key_slot, redirect, ClusterLink};
use crate::conn::{Call, ConnectOptions, Connection};
use crate::encode::{encode_command, Pipeline};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Where a command goes in a cluster (a single server takes everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The master owning this key's slot.
    Key(Vec<u8>),
    /// Every master (function libraries).
    AllMasters,
    /// Any node.
    Any,
}

/// The outcome of one command: its reply, or the text of its error reply.
pub type Outcome = std::result::Result<Frame, String>;

/// A batch handed to [`Link::send`].
#[derive(Debug)]
pub enum Sent {
    /// This many replies are still to be read.
    Waiting(usize),
    /// Already answered (cluster batches run to completion).
    Done(Vec<Outcome>),
}

/// A connection to one server, or to every master of a cluster.
pub enum Link {
    /// One server.
    Single(Box<Connection>),
    /// A cluster (follows MOVED and ASK).
    Cluster(Box<ClusterLink>),
}

fn outcome(frame: Frame) -> Outcome {
    match frame {
        Frame::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        f => Ok(f),
    }
}

fn server_error(frame: Frame) -> Result<Frame> {
    match frame {
        Frame::Error(e) => Err(Error::Server(String::from_utf8_lossy(&e).into_owned())),
        f => Ok(f),
    }
}

impl Link {
    /// Connects (to the seed and then every master, for a cluster) and authenticates.
    pub fn connect(options: &ConnectOptions, cluster: bool) -> Result<Link> {
        Ok(if cluster {
            Link::Cluster(Box::new(ClusterLink::connect(options)?))
        } else {
            Link::Single(Box::new(Connection::open(options)?))
        })
    }

    /// Runs one command on the server (any node of a cluster).
    pub fn call(&mut self, args: &[&[u8]]) -> Result<Frame> {
        match self {
            Link::Single(c) => c.call(args),
            Link::Cluster(c) => {
                let node = c.any_node().ok_or_else(|| Error::Server("the cluster has no node".into()))?;
                c.node(&node)?.call(args).map_err(|e| e.at(&node))
            }
        }
    }

    /// Runs one command about `key` (on its master in a cluster).
    pub fn call_for_key(&mut self, args: &[&[u8]], key: &[u8]) -> Result<Frame> {
        match self {
            Link::Single(c) => c.call(args),
            Link::Cluster(c) => {
                let mut command = Vec::new();
                encode_command(&mut command, args);
                server_error(c.follow(&command, key)?)
            }
        }
    }

    /// Sends a batch; `routes` has one entry per command (used by clusters only).
    pub fn send(&mut self, batch: &Pipeline, routes: &[Route]) -> Result<Sent> {
        match self {
            Link::Single(c) => {
                c.write_all(batch.as_bytes())?;
                Ok(Sent::Waiting(batch.len()))
            }
            Link::Cluster(c) => Ok(Sent::Done(cluster_batch(c, batch, routes)?)),
        }
    }

    /// Sends one command straight from its arguments, not copied into a batch first (for
    /// big ones; a cluster's goes through a batch of one).
    pub fn send_one(&mut self, args: &[&[u8]], route: Route) -> Result<Sent> {
        match self {
            Link::Single(c) => {
                c.send(args)?;
                Ok(Sent::Waiting(1))
            }
            Link::Cluster(_) => {
                let mut batch = Pipeline::new();
                batch.push(args);
                self.send(&batch, &[route])
            }
        }
    }

    /// The outcomes of a batch sent with [`Link::send`], in order.
    pub fn receive(&mut self, sent: Sent) -> Result<Vec<Outcome>> {
        match (self, sent) {
            (_, Sent::Done(outcomes)) => Ok(outcomes),
            (Link::Single(c), Sent::Waiting(n)) => (0..n).map(|_| c.read_frame().map(outcome)).collect(),
            (Link::Cluster(_), Sent::Waiting(_)) => Ok(Vec::new()),
        }
    }
}

impl Call for Link {
    fn call(&mut self, args: &[&[u8]]) -> Result<Frame> {
        Link::call(self, args)
    }
}

/// Sends each node its share of the batch as one pipeline, then follows redirections
/// one command at a time and runs every-master commands on each master.
fn cluster_batch(c: &mut ClusterLink, batch: &Pipeline, routes: &[Route]) -> Result<Vec<Outcome>> {
    let mut outcomes: Vec<Outcome> = vec![Ok(Frame::Null); batch.len()];
    let mut by_node: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut everywhere = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let node = match route {
            Route::Key(k) => c.master_for(key_slot(k)).map(str::to_string),
            Route::Any => c.any_node(),
            Route::AllMasters => {
                everywhere.push(i);
                continue;
            }
        };
        match node {
            Some(n) => by_node.entry(n).or_default().push(i),
            None => outcomes[i] = Err("CLUSTERDOWN no node serves this key's slot".into()),
        }
    }
    let mut redirected = Vec::new();
    for (node, idx) in by_node {
        let conn = c.node(&node)?;
        let mut bytes = Vec::new();
        for &i in &idx {
            bytes.extend_from_slice(batch.command(i));
        }
        conn.write_all(&bytes).map_err(|e| e.at(&node))?;
        for &i in &idx {
            match outcome(conn.read_frame().map_err(|e| e.at(&node))?) {
                Err(e) if redirect(e.as_bytes()).is_some() => redirected.push(i),
                other => outcomes[i] = other,
            }
        }
    }
    if !redirected.is_empty() {
        c.refresh()?;
        for i in redirected {
            let Route::Key(key) = &routes[i] else { continue };
            outcomes[i] = outcome(c.follow(batch.command(i), key)?);
        }
    }
    for i in everywhere {
        for node in c.masters() {
            let conn = c.node(&node)?;
            conn.write_all(batch.command(i)).map_err(|e| e.at(&node))?;
            if let Err(e) = outcome(conn.read_frame().map_err(|e| e.at(&node))?) {
                outcomes[i] = Err(format!("{node}: {e}"));
            }
        }
    }
    Ok(outcomes)
}
