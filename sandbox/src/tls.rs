//! HTTPS for the sandbox: a throw-away certificate authority and a server
//! certificate for the loopback names, generated on demand (rcgen), and the
//! rustls server configuration that serves them.
//!
//! The point is to exercise the plugin's production path (TLS to the API,
//! verified against what the system trusts) on a local server: install
//! [`TestPki::ca_pem`] into a system's certificate store (Debian:
//! `/usr/local/share/ca-certificates/*.crt` + `update-ca-certificates`) and
//! the plugin trusts the sandbox; leave it out and the plugin must refuse.
//! Nothing here is meant for real traffic: the CA's key is thrown away.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// PEM texts of a generated CA and a server certificate it signed.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The CA certificate (what a trust store needs).
    pub ca_pem: String,
    /// The server certificate followed by the CA certificate (the chain to serve).
    pub chain_pem: String,
    /// The server certificate's private key (PKCS#8).
    pub key_pem: String,
}

/// The certificate and key the sandbox serves HTTPS with (PEM texts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Server certificate chain, leaf first.
    pub cert_chain_pem: String,
    /// Private key of the leaf (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl TlsConfig {
    /// Reads a certificate chain and a key from PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> io::Result<TlsConfig> {
        Ok(TlsConfig {
            cert_chain_pem: std::fs::read_to_string(cert)?,
            key_pem: std::fs::read_to_string(key)?,
        })
    }
}

impl From<&TestPki> for TlsConfig {
    fn from(p: &TestPki) -> TlsConfig {
        TlsConfig {
            cert_chain_pem: p.chain_pem.clone(),
            key_pem: p.key_pem.clone(),
        }
    }
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl TestPki {
    /// A fresh CA ("velora-sandbox throw-away CA <random>") and a server
    /// certificate for `localhost`, `127.0.0.1` and `::1`, valid from a day ago
    /// for 30 days.
    pub fn generate() -> io::Result<TestPki> {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose, SanType,
        };
        let now = time::OffsetDateTime::now_utc();
        let tag = crate::util::random_alnum(8);

        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("velora-sandbox throw-away CA {tag}"));
        dn.push(DnType::OrganizationName, "velora-sandbox");
        ca.distinguished_name = dn;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = now - time::Duration::days(1);
        ca.not_after = now + time::Duration::days(30);
        let ca_key = KeyPair::generate().map_err(other)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(other)?;

        let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).map_err(other)?;
        leaf.subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        leaf.subject_alt_names
            .push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "localhost");
        leaf.distinguished_name = dn;
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // OpenSSL's strict verification (Python 3.13+ defaults to it) wants
        // the authority key identifier.
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = now - time::Duration::days(1);
        leaf.not_after = now + time::Duration::days(30);
        let leaf_key = KeyPair::generate().map_err(other)?;
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).map_err(other)?;

        Ok(TestPki {
            ca_pem: ca_cert.pem(),
            chain_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
            key_pem: leaf_key.serialize_pem(),
        })
    }

    /// Writes `ca.pem`, `cert.pem` (the chain) and `key.pem` (mode 0600) into `dir`.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        std::fs::write(dir.join("cert.pem"), &self.chain_pem)?;
        let key = dir.join("key.pem");
        std::fs::write(&key, &self.key_pem)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
}

/// The rustls server configuration for `cfg` (HTTP/1.1 only, like the plain server).
pub(crate) fn server_config(cfg: &TlsConfig) -> io::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cfg.cert_chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("TLS certificate: {e}")))?;
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "TLS certificate: no CERTIFICATE block",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(cfg.key_pem.as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("TLS key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut sc = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("TLS certificate/key: {e}")))?;
    sc.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(sc))
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves `app` over TLS on `listener` until `stop` turns true. A client
/// that refuses the certificate ends its own handshake: the connection is
/// dropped, nothing reaches the router.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use hyper_util::rt::TokioIo;
    use tower_service::Service;

    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stopped(&mut stop) => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let mut conn_stop = stop.clone();
        connections.spawn(async move {
            let Ok(Ok(stream)) = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                // What `into_make_service_with_connect_info` provides on the plain server.
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                let mut app = app.clone();
                app.call(req)
            });
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped(&mut conn_stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pki_makes_a_server_config() {
        let pki = TestPki::generate().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(pki.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(pki.key_pem.contains("PRIVATE KEY"));
        server_config(&TlsConfig::from(&pki)).unwrap();
        // Two runs, two different CAs.
        assert_ne!(TestPki::generate().unwrap().ca_pem, pki.ca_pem);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let e = server_config(&TlsConfig {
            cert_chain_pem: "nope".into(),
            key_pem: "nope".into(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("TLS"), "{e}");
    }
}
