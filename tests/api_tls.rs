//! The API client over HTTPS (the production path) against the sandbox
//! serving HTTPS with a throw-away CA: the client trusts what the platform's
//! certificate store trusts, and refuses (clearly, without retrying) what it
//! does not. The OBS-level counterparts are in obs_login.rs and the
//! compatibility matrix's HTTPS row (CA installed with update-ca-certificates).
//!
//! One test only in this binary: it changes SSL_CERT_FILE for the process.

use velora::api::{ApiConfig, ApiError, BudgetConfig, Client, NetworkKind};
use velora::config::Endpoints;
use velora::Secret;
use velora_sandbox::{Config, Sandbox, TestPki, TlsConfig};

fn client(sb: &Sandbox) -> Client {
    let mut cfg = ApiConfig::new(Endpoints::for_api_base(&sb.base_url(), "obs-velora-tls", None).unwrap());
    cfg.budget = BudgetConfig::UNLIMITED;
    Client::new(cfg).expect("client")
}

fn api_requests(sb: &Sandbox, ca: &str) -> usize {
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let v: serde_json::Value = http
        .get(format!("{}/_sandbox/requests", sb.base_url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["requests"].as_array().map(|a| a.len()).unwrap_or(0)
}

#[test]
fn https_is_verified_against_the_system_store() {
    // What the machine trusts is the test's input: start from its own store.
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    let pki = TestPki::generate().unwrap();
    let sb = Sandbox::start(Config {
        tls: Some(TlsConfig::from(&pki)),
        log_requests: false,
        ..Config::default()
    })
    .unwrap();
    assert!(sb.base_url().starts_with("https://"), "{}", sb.base_url());

    // Not in the system's store: refused in the handshake, not retried.
    let err = client(&sb).categories(&Secret::new("not-a-token")).unwrap_err();
    match &err {
        ApiError::Network {
            kind: NetworkKind::Certificate,
            message,
        } => {
            assert!(message.contains("certificate not trusted"), "{message}");
            assert!(message.contains("UnknownIssuer"), "{message}");
            assert!(!message.contains("not-a-token"), "{message}");
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(
        velora::errors::describe(&err)
            .info
            .message
            .contains("certificate is not trusted on this computer"),
        "{}",
        velora::errors::describe(&err).info.message
    );
    assert_eq!(api_requests(&sb, &pki.ca_pem), 0, "a request got through");

    // The platform store as OpenSSL reads it (SSL_CERT_FILE overrides the
    // bundle path, /etc/ssl/certs/ca-certificates.crt on Debian): trusted
    // now; the server answers (401 for the bogus token).
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca-certificates.crt");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();
    std::env::set_var("SSL_CERT_FILE", &bundle);
    let err = client(&sb).categories(&Secret::new("not-a-token")).unwrap_err();
    std::env::remove_var("SSL_CERT_FILE");
    assert_eq!(err, ApiError::Unauthorized, "{err:?}");
    assert_eq!(api_requests(&sb, &pki.ca_pem), 1);
}
