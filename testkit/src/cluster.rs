//! A real cluster of masters built with `redis-cli --cluster create`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::guard::{ServerGuard, StartOptions};
use crate::servers::{redis_cli, ServerBin};

/// How long a new cluster may take to report `cluster_state:ok` on every node.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts `masters` cluster-enabled nodes, joins them (slots split evenly, no replicas)
/// and waits until every node reports `cluster_state:ok`.
pub fn start_cluster(server: &ServerBin, masters: usize) -> Result<Vec<ServerGuard>> {
    let cli = redis_cli().context("redis-cli is needed to create a cluster")?;
    let opts = StartOptions { cluster: true, ..Default::default() };
    let nodes = (0..masters).map(|_| ServerGuard::start_with(server, &opts)).collect::<Result<Vec<_>>>()?;
    let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
    let out = Command::new(&cli)
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .context("running redis-cli --cluster create")?;
    if !out.status.success() {
        bail!("redis-cli --cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
    }
    let deadline = Instant::now() + READY_TIMEOUT;
    for n in &nodes {
        loop {
            let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut n.conn()?)?;
            if info.contains("cluster_state:ok") {
                break;
            }
            if Instant::now() > deadline {
                bail!("cluster node {} not ready: {info}", n.port());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(nodes)
}

/// The node ID of a cluster node.
pub fn node_id(node: &ServerGuard) -> Result<String> {
    Ok(redis::cmd("CLUSTER").arg("MYID").query(&mut node.conn()?)?)
}
