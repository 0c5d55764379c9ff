//! TLS client settings (rustls): which certificates to trust, an optional client
//! certificate, and the explicit opt-out from verification.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// TLS options of a `rediss://` connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// CA certificates (PEM) to trust instead of the system's.
    pub ca: Option<PathBuf>,
    /// Client certificate chain (PEM), for servers that require one.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key: Option<PathBuf>,
    /// Accept any server certificate (no verification at all).
    pub insecure: bool,
}

impl TlsOptions {
    /// True when any option is set (they only make sense with `rediss://`).
    pub fn is_set(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some() || self.insecure
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::Io(std::io::Error::new(e.kind(), format!("{}: cannot read the {what}: {e}", path.display())))
    })
}

fn roots(ca: Option<&Path>) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = read_pem(path, "CA file")?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| Error::Tls(format!("{}: not a PEM certificate: {e}", path.display())))?;
                store.add(cert).map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
            }
            if store.is_empty() {
                return Err(Error::Tls(format!("{}: no certificate in the CA file", path.display())));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(Error::Tls("no trusted CA certificates on this system; give --tls-ca".into()));
            }
        }
    }
    Ok(store)
}

/// The rustls configuration for these options.
pub fn client_config(o: &TlsOptions) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = if o.insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
    } else {
        builder.with_root_certificates(roots(o.ca.as_deref())?)
    };
    let config = match (&o.cert, &o.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(&read_pem(cert, "client certificate")?)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Tls(format!("{}: not a PEM certificate: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_slice(&read_pem(key, "client key")?)
                .map_err(|e| Error::Tls(format!("{}: not a PEM private key: {e}", key.display())))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| Error::Tls(e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(Error::Tls("a client certificate needs both --tls-cert and --tls-key".into())),
    };
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry.
pub fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_string()).map_err(|_| Error::Tls(format!("{host:?} is not a valid TLS server name")))
}

/// `--tls-insecure`: every certificate is accepted, signatures are not checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
