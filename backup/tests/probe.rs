//! The payload-version probe against every installed server: it reads the version the
//! server's own DUMP writes, leaves no key behind, and picks the target that the
//! version string gives for every released server.

use backup::restore::{pick_target, probe_payload_version};
use resp::{ConnectOptions, Frame, Link, ServerInfo, ServerUrl};
use testkit::{Flavor, ServerGuard};

#[test]
fn every_server_tells_its_payload_version() -> anyhow::Result<()> {
    let servers = testkit::require_all()?;
    if servers.is_empty() {
        eprintln!("skipping: no servers installed");
    }
    for server in servers {
        let guard = ServerGuard::start(&server)?;
        let url = ServerUrl::parse(&format!("redis://127.0.0.1:{}", guard.port()))?;
        let mut link = Link::connect(&ConnectOptions::new(url), false)?;
        let info = ServerInfo::fetch(&mut link)?;
        let probed = probe_payload_version(&mut link);
        let valkey = server.flavor == Flavor::Valkey;
        let by_version = rdb_parser::Target::for_server(valkey, (server.version.0, server.version.1))
            .ok_or_else(|| anyhow::anyhow!("no target for {}", server.name()))?;
        assert_eq!(probed, Some(by_version.version()), "{}", server.name());
        let picked = pick_target(info.valkey, info.version, probed).map(|t| t.name);
        assert_eq!(picked, Some(by_version.name.clone()), "{}", server.name());
        assert_eq!(link.call(&[b"DBSIZE"])?, Frame::Integer(0), "{}: the probe key is deleted", server.name());
    }
    Ok(())
}
