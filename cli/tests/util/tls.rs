//! Certificates for TLS tests, made with openssl: a CA, a server certificate for
//! localhost and 127.0.0.1, a client certificate, and a self-signed server certificate.

use std::path::Path;
use std::process::Command;

/// Writes into `dir`: `ca.pem`/`ca.key`, `server.pem`/`server.key` (signed by the CA),
/// `client.pem`/`client.key` (signed by the CA) and `self.pem`/`self.key` (self-signed).
pub fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let self_signed = |name: &str, subject: &str| {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        openssl(
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &pem, "-days", "2"]
                .into_iter()
                .chain(["-subj", subject, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
                .collect::<Vec<_>>(),
        );
    };
    self_signed("ca", "/CN=rdbkit test CA");
    self_signed("self", "/CN=localhost");
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("ext");
    for name in ["server", "client"] {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let subject = format!("/CN=rdbkit test {name}");
        openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
    }
}
