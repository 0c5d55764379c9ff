//! Against a real 3-master cluster: a stale slot map meets MOVED, a slot being migrated
//! answers ASK; both are followed, and errors name the node that failed.

use resp::{key_slot, ClusterLink, ConnectOptions, Frame, Link, Pipeline, Route, ServerUrl};
use testkit::{Flavor, ServerGuard};

fn options(node: &ServerGuard) -> anyhow::Result<ConnectOptions> {
    Ok(ConnectOptions::new(ServerUrl::parse(&format!("redis://127.0.0.1:{}", node.port()))?))
}

fn set(key: &[u8]) -> Pipeline {
    let mut p = Pipeline::new();
    p.push(&[b"SET", key, b"v"]);
    p
}

#[test]
fn follows_moved_and_ask_on_a_real_cluster() -> anyhow::Result<()> {
    let servers = testkit::require(&[(Flavor::Redis, 7, 0)])?;
    let Some(server) = servers.first() else { return Ok(()) };
    let nodes = testkit::cluster::start_cluster(server, 3)?;
    let mut link = Link::connect(&options(&nodes[0])?, true)?;
    let (k1, k2) = (b"{rdbkit}moved".to_vec(), b"{rdbkit}asked".to_vec());
    let slot = key_slot(&k1);
    let owner = {
        let probe = ClusterLink::connect(&options(&nodes[0])?)?;
        probe.master_for(slot).map(str::to_string).expect("slot covered")
    };
    let index = |addr: &str| nodes.iter().position(|n| addr.ends_with(&format!(":{}", n.port()))).expect("a node");
    let a = index(&owner);
    let (b, c) = ((a + 1) % 3, (a + 2) % 3);
    let id = |i: usize| testkit::cluster::node_id(&nodes[i]);

    // MOVED: the (empty) slot now belongs to b, but the link still sends to a.
    let b_id = id(b)?;
    for n in &nodes {
        redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("NODE").arg(&b_id).exec(&mut n.conn()?)?;
    }
    let sent = link.send(&set(&k1), &[Route::Key(k1.clone())])?;
    assert_eq!(link.receive(sent)?, vec![Ok(Frame::Simple(b"OK".to_vec()))]);
    let got: Option<String> = redis::cmd("GET").arg(&k1).query(&mut nodes[b].conn()?)?;
    assert_eq!(got.as_deref(), Some("v"), "the key landed on the new owner");

    // ASK: b migrates the slot to c; a key b does not have is asked for at c.
    let c_id = id(c)?;
    redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("IMPORTING").arg(&b_id).exec(&mut nodes[c].conn()?)?;
    redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("MIGRATING").arg(&c_id).exec(&mut nodes[b].conn()?)?;
    let sent = link.send(&set(&k2), &[Route::Key(k2.clone())])?;
    assert_eq!(link.receive(sent)?, vec![Ok(Frame::Simple(b"OK".to_vec()))]);
    let mut on_c = nodes[c].conn()?;
    let got: (String, Option<String>) = redis::pipe().cmd("ASKING").cmd("GET").arg(&k2).query(&mut on_c)?;
    assert_eq!(got.1.as_deref(), Some("v"), "the key landed on the importing node");
    assert_eq!(link.call_for_key(&[b"EXISTS", &k1], &k1)?, Frame::Integer(1));
    Ok(())
}

/// `--cluster` against a server in standalone mode is a usage error naming the server.
#[test]
fn a_standalone_server_is_not_a_cluster() -> anyhow::Result<()> {
    let servers = testkit::require(&[(Flavor::Redis, 7, 0)])?;
    let Some(server) = servers.first() else { return Ok(()) };
    let guard = ServerGuard::start(server)?;
    let err = Link::connect(&options(&guard)?, true).err().expect("a standalone server is refused");
    assert!(err.is_usage(), "{err}");
    assert!(err.to_string().contains(&guard.port().to_string()), "{err}");
    Ok(())
}
