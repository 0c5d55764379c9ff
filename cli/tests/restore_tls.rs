//! TLS and credentials of `restore` against real servers: --tls-insecure with a
//! self-signed server, a client certificate for a server that requires one, TLS options
//! refused on a plain URL, percent-encoded passwords, and no password in any message.

mod util;

use std::path::Path;

use testkit::{ServerBin, ServerGuard, StartOptions};
use util::{describe, path_str, repo_root};

use util::run_restore as restore;

use util::redis7;

/// A server with TLS on its own port, using `cert`/`key` and trusting `ca.pem`.
fn tls_server(server: &ServerBin, d: &Path, cert: &str, key: &str, auth_clients: bool) -> (ServerGuard, u16) {
    let port = testkit::free_port().expect("port");
    let p = |f: &str| d.join(f).to_string_lossy().into_owned();
    let opts = StartOptions {
        extra_args: vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            p(cert),
            "--tls-key-file".into(),
            p(key),
            "--tls-ca-cert-file".into(),
            p("ca.pem"),
            "--tls-auth-clients".into(),
            if auth_clients { "yes" } else { "no" }.into(),
        ],
        ..Default::default()
    };
    (ServerGuard::start_with(server, &opts).expect("start with TLS"), port)
}

fn dump() -> std::path::PathBuf {
    repo_root().join("fixtures/example/dump.rdb")
}

#[test]
fn tls_insecure_accepts_a_self_signed_server() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    util::tls::make_certificates(dir.path());
    let (_guard, port) = tls_server(&server, dir.path(), "self.pem", "self.key", false);
    let url = format!("rediss://127.0.0.1:{port}");
    let verified = restore(&[path_str(&dump()), "--to", &url]);
    assert_eq!(verified.status.code(), Some(3), "a self-signed certificate is refused: {}", describe(&verified));
    let insecure = restore(&[path_str(&dump()), "--to", &url, "--tls-insecure"]);
    assert_eq!(insecure.status.code(), Some(0), "{}", describe(&insecure));
}

#[test]
fn a_client_certificate_for_a_server_that_requires_one() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    util::tls::make_certificates(d);
    let (_guard, port) = tls_server(&server, d, "server.pem", "server.key", true);
    let url = format!("rediss://127.0.0.1:{port}");
    let ca = d.join("ca.pem");
    let without = restore(&[path_str(&dump()), "--to", &url, "--tls-ca", path_str(&ca)]);
    assert_eq!(without.status.code(), Some(3), "{}", describe(&without));
    assert_eq!(String::from_utf8_lossy(&without.stderr).lines().count(), 1, "{}", describe(&without));
    let (cert, key) = (d.join("client.pem"), d.join("client.key"));
    let with = restore(&[
        path_str(&dump()),
        "--to",
        &url,
        "--tls-ca",
        path_str(&ca),
        "--tls-cert",
        path_str(&cert),
        "--tls-key",
        path_str(&key),
    ]);
    assert_eq!(with.status.code(), Some(0), "{}", describe(&with));
    let half = restore(&[path_str(&dump()), "--to", &url, "--tls-ca", path_str(&ca), "--tls-cert", path_str(&cert)]);
    assert_eq!(half.status.code(), Some(2), "a certificate without its key is a usage error: {}", describe(&half));
}

#[test]
fn tls_options_need_a_tls_url() {
    let dump = dump();
    for option in [&["--tls-ca", "ca.pem"][..], &["--tls-insecure"][..], &["--tls-cert", "c", "--tls-key", "k"][..]] {
        let mut args = vec![path_str(&dump), "--to", "redis://127.0.0.1:1", "--dry-run"];
        args.extend_from_slice(option);
        let out = restore(&args);
        assert_eq!(out.status.code(), Some(2), "{option:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("need a rediss:// URL"), "{}", describe(&out));
    }
}

#[test]
fn malformed_urls_never_show_the_password() {
    for url in [
        "redis//admin:Sup3rSecret@127.0.0.1:1",
        "redis:/admin:Sup3rSecret@127.0.0.1:1",
        "http://admin:Sup3rSecret@127.0.0.1:1",
        "redis://Sup3rSecret@127.0.0.1:port",
        "redis://admin:Sup3rSecret@127.0.0.1:1/notadb",
        "redis://admin:Sup3r%zzSecret@127.0.0.1:1",
        "redis://admin:Sup3rSecret@",
        "redis://127.0.0.1:x?password=Sup3rSecret",
    ] {
        let out = restore(&[path_str(&dump()), "--to", url]);
        assert_eq!(out.status.code(), Some(2), "{url}: {}", describe(&out));
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("Sup3r") && !all.contains("Secret"), "{url} shows the password: {all}");
        assert_eq!(all.lines().count(), 1, "{all}");
    }
}

#[test]
fn percent_encoded_passwords_work() {
    let Some(server) = redis7() else { return };
    let guard = ServerGuard::start(&server).expect("start");
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("p@ss:w/rd")
        .exec(&mut guard.conn().expect("conn"))
        .expect("CONFIG");
    let port = guard.port();
    let ok = restore(&[path_str(&dump()), "--to", &format!("redis://:p%40ss%3Aw%2Frd@127.0.0.1:{port}")]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
    let user = restore(&[
        path_str(&dump()),
        "--to",
        &format!("redis://default:p%40ss%3aw%2frd@127.0.0.1:{port}"),
        "--replace",
    ]);
    assert_eq!(user.status.code(), Some(0), "{}", describe(&user));
    let wrong = restore(&[path_str(&dump()), "--to", &format!("redis://:p%40sz@127.0.0.1:{port}")]);
    assert_eq!(wrong.status.code(), Some(3), "{}", describe(&wrong));
    assert!(!String::from_utf8_lossy(&wrong.stderr).contains("p@sz"), "{}", describe(&wrong));
}
