//! Snapshots over the replication protocol from every installed server, with
//! disk-based (`$<len>`) and diskless (`$EOF:<mark>`) framing: the RDB received parses,
//! its checksum holds, and it has the keys the server holds.

use std::io::Read;

use rdb_parser::{KeyEnd, RdbReader, VisitResult, Visitor};
use resp::replication::{start_snapshot, Framing};
use resp::{ConnectOptions, Connection, ServerInfo, ServerUrl};
use testkit::{ServerGuard, StartOptions};

#[derive(Default)]
struct Count(u64);

impl Visitor for Count {
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        self.0 += 1;
        Ok(())
    }
}

fn open(guard: &ServerGuard) -> anyhow::Result<Connection> {
    Ok(Connection::open(&ConnectOptions::new(ServerUrl::parse(&guard.url())?))?)
}

fn total_keys(guard: &ServerGuard) -> anyhow::Result<u64> {
    let mut conn = guard.conn()?;
    let info: String = redis::cmd("INFO").arg("keyspace").query(&mut conn)?;
    Ok(info.lines().filter_map(|l| l.split_once("keys=")?.1.split(',').next()?.parse::<u64>().ok()).sum())
}

#[test]
fn snapshots_parse_with_both_framings_on_every_server() -> anyhow::Result<()> {
    for server in testkit::require_all()? {
        for diskless in ["no", "yes"] {
            let opts = StartOptions {
                extra_args: vec![
                    "--repl-diskless-sync".into(),
                    diskless.into(),
                    "--repl-diskless-sync-delay".into(),
                    "0".into(),
                ],
                ..Default::default()
            };
            let guard = ServerGuard::start_with(&server, &opts)?;
            testkit::dataset::fill(&mut guard.conn()?, &server, 7)?;
            let expected = total_keys(&guard)?;
            let mut conn = open(&guard)?;
            let info = ServerInfo::fetch(&mut conn)?;
            let mut snap = start_snapshot(conn, &info)?;
            let eof = matches!(snap.header().framing, Framing::Eof(_));
            assert_eq!(eof, diskless == "yes", "{server}: framing with repl-diskless-sync {diskless}");
            let mut count = Count::default();
            let mut reader = RdbReader::new(&mut snap);
            reader.read_all(&mut count).map_err(|e| anyhow::anyhow!("{server} diskless={diskless}: {e}"))?;
            assert_eq!(reader.finish()?, 0, "{server}: nothing follows the RDB (the mark is not part of it)");
            assert!(snap.is_complete(), "{server}: the whole RDB arrived");
            assert_eq!(count.0, expected, "{server} diskless={diskless}: keys");
            let mut rest = Vec::new();
            assert_eq!(snap.read_to_end(&mut rest)?, 0);
        }
    }
    Ok(())
}

#[test]
fn a_server_that_dies_mid_transfer_is_an_error() -> anyhow::Result<()> {
    let servers = testkit::require(&[(testkit::Flavor::Redis, 7, 0)])?;
    let Some(server) = servers.first() else { return Ok(()) };
    let opts = StartOptions {
        extra_args: vec!["--repl-diskless-sync".into(), "yes".into(), "--repl-diskless-sync-delay".into(), "0".into()],
        ..Default::default()
    };
    let guard = ServerGuard::start_with(server, &opts)?;
    let mut c = guard.conn()?;
    // About 64 MB of incompressible values, so the transfer takes a while.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..64 {
        let value: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        redis::cmd("SET").arg(format!("k{i}")).arg(value).exec(&mut c)?;
    }
    let mut conn = open(&guard)?;
    let info = ServerInfo::fetch(&mut conn)?;
    let mut snap = start_snapshot(conn, &info)?;
    let mut buf = vec![0; 1 << 20];
    snap.read_exact(&mut buf)?;
    guard.stop()?;
    let mut sink = Vec::new();
    let err = snap.read_to_end(&mut sink).expect_err("a cut transfer must fail");
    assert!(!snap.is_complete(), "{err}");
    Ok(())
}
