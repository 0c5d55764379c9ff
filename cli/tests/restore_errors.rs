//! What `restore` says when the other end is not what it should be: an HTTP server
//! answers (one line, exit 3), a cluster master is down (the message names that node).

mod util;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::{describe, path_str, repo_root};

use util::run_restore as restore;

/// A real HTTP server (Python's), stopped on drop.
struct HttpServer(Child);

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_http_server_is_reported_in_one_line() {
    let port = testkit::free_port().expect("port");
    let Ok(child) = Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        assert!(!testkit::servers::servers_required(), "python3 is needed for the HTTP server");
        eprintln!("skipping: no python3");
        return;
    };
    let _http = HttpServer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the HTTP server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dump = repo_root().join("fixtures/example/dump.rdb");
    let out = restore(&[path_str(&dump), "--to", &format!("redis://127.0.0.1:{port}"), "--timeout", "5"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a RESP reply") && err.contains("DOCTYPE HTML"), "{err}");
}

#[test]
fn a_down_cluster_node_is_named() {
    let Some(server) = util::redis7() else { return };
    let server = &server;
    let mut nodes = testkit::cluster::start_cluster(server, 3).expect("3-master cluster");
    let down = nodes.remove(2);
    let down_port = down.port();
    down.stop().expect("stop a master");
    let seed = format!("redis://127.0.0.1:{}", nodes[0].port());
    let dump = repo_root().join("fixtures/redis-7.0.15/dump.rdb");
    let out = restore(&[path_str(&dump), "--to", &seed, "--cluster", "--db", "0", "--timeout", "5"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{down_port}")), "names the node that is down: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
