//! The Velora sandbox (in-process) with a real nginx-rtmp ingest it supervises.

use serde_json::{json, Value};
use std::time::Duration;
use velora_sandbox::{Config, NginxConfig, Sandbox, TlsConfig};

pub struct Velora {
    pub sb: Sandbox,
    http: reqwest::blocking::Client,
}

impl Velora {
    /// Auto-approving sandbox with nginx-rtmp on a free port.
    pub fn start() -> Velora {
        Self::start_with(|_| {})
    }

    /// With `VELORA_TEST_TLS_DIR` set (the compatibility matrix's HTTPS row:
    /// a throw-away CA whose `ca.pem` is installed in the OBS root's system
    /// store), the sandbox serves HTTPS with that directory's `cert.pem` and
    /// `key.pem`; otherwise plain HTTP on loopback.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> Velora {
        let tls_dir = std::env::var_os("VELORA_TEST_TLS_DIR").map(std::path::PathBuf::from);
        let tls = tls_dir.as_ref().map(|d| {
            TlsConfig::from_files(&d.join("cert.pem"), &d.join("key.pem"))
                .unwrap_or_else(|e| panic!("VELORA_TEST_TLS_DIR={}: {e}", d.display()))
        });
        let ca = tls_dir.map(|d| std::fs::read(d.join("ca.pem")).expect("ca.pem in VELORA_TEST_TLS_DIR"));
        Self::start_configured(
            |cfg| {
                cfg.tls = tls;
                tweak(cfg)
            },
            ca.as_deref(),
        )
    }

    /// HTTPS with `pki`'s certificate, whatever the environment says.
    pub fn start_tls(pki: &velora_sandbox::TestPki) -> Velora {
        Self::start_configured(|cfg| cfg.tls = Some(TlsConfig::from(pki)), Some(pki.ca_pem.as_bytes()))
    }

    /// `ca_pem`: the CA the test's own HTTP client trusts (the sandbox's, when it serves HTTPS).
    fn start_configured(tweak: impl FnOnce(&mut Config), ca_pem: Option<&[u8]>) -> Velora {
        let mut cfg = Config {
            auto_approve: true,
            log_requests: false,
            nginx: Some(NginxConfig {
                rtmp_port: 0,
                ..Default::default()
            }),
            ..Default::default()
        };
        tweak(&mut cfg);
        let sb = Sandbox::start(cfg).expect("start the Velora sandbox (nginx + libnginx-mod-rtmp installed?)");
        let mut http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10));
        if let Some(ca) = ca_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(ca).expect("CA PEM"));
        }
        let http = http.build().unwrap();
        forget_tokens_of(&sb.base_url());
        Velora { sb, http }
    }

    /// The environment for an OBS that talks to this sandbox and logs in
    /// through the scripted browser (`approve`, `deny`, `none`, ...).
    pub fn obs_env(&self, browser_action: &str) -> Vec<(&'static str, String)> {
        vec![
            ("VELORA_API_URL", self.base_url()),
            (
                "BROWSER",
                super::repo_root()
                    .join("tests/scripts/fake-browser")
                    .display()
                    .to_string(),
            ),
            ("FAKE_BROWSER_ACTION", browser_action.to_string()),
            // 0: the login listens on a port the OS picks, as the sandbox
            // accepts any loopback port (RFC 8252 §7.3). A port picked free
            // here could be taken by a test beside this one before OBS binds
            // it, and the fallback's warning would fail a clean run.
            ("VELORA_REDIRECT_PORT", "0".to_string()),
        ]
    }

    pub fn base_url(&self) -> String {
        self.sb.base_url()
    }

    pub fn rtmp_url(&self) -> String {
        format!(
            "rtmp://127.0.0.1:{}/live",
            self.sb.rtmp_port().expect("nginx is supervised")
        )
    }

    /// `GET /_sandbox/state`.
    pub fn state(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/state", self.base_url()))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// The demo user's current stream key (the control API may show it: it is a local test server).
    pub fn stream_key(&self) -> String {
        let st = self.state();
        st["streamKey"]
            .as_str()
            .or_else(|| st["user"]["streamKey"].as_str())
            .expect("streamKey in /_sandbox/state")
            .to_string()
    }

    pub fn is_live(&self) -> bool {
        let st = self.state();
        st["isLive"]
            .as_bool()
            .or_else(|| st["user"]["isLive"].as_bool())
            .unwrap_or(false)
    }

    pub fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/_sandbox/{path}", self.base_url());
        let req = match method {
            "POST" => self.http.post(url).json(&body),
            "DELETE" => self.http.delete(url),
            _ => self.http.get(url),
        };
        let r = req.send().unwrap();
        r.json().unwrap_or(json!({}))
    }

    /// API requests the sandbox saw (method, path, status).
    pub fn requests(&self) -> Vec<Value> {
        let v = self.control("GET", "requests", json!({}));
        v.as_array()
            .cloned()
            .or_else(|| v["requests"].as_array().cloned())
            .unwrap_or_default()
    }

    /// Logs in to the sandbox as the demo streamer from outside OBS
    /// (another device, the website) and returns an access token.
    pub fn token_from_elsewhere(&self) -> velora::Secret {
        let pkce = velora::auth::Pkce::new();
        let redirect = "http://127.0.0.1:9/elsewhere";
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .get(format!("{}/api/developer/oauth/authorize", self.base_url()))
            .query(&[
                ("response_type", "code"),
                ("client_id", "website"),
                ("redirect_uri", redirect),
                ("scope", "stream:key"),
                ("state", "elsewhere-state"),
                ("code_challenge", pkce.challenge()),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .unwrap();
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let code = url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .to_string();
        let endpoints = velora::config::Endpoints::for_api_base(&self.base_url(), "website", None).unwrap();
        let client = velora::api::Client::new(velora::api::ApiConfig::new(endpoints)).unwrap();
        client
            .exchange_code(&velora::Secret::new(code), redirect, pkce.verifier())
            .unwrap()
            .access_token
    }

    /// The streamer regenerates the stream key on the website (not in OBS).
    pub fn regenerate_key_elsewhere(&self) -> velora::Secret {
        let token = self.token_from_elsewhere();
        let endpoints = velora::config::Endpoints::for_api_base(&self.base_url(), "website", None).unwrap();
        let client = velora::api::Client::new(velora::api::ApiConfig::new(endpoints)).unwrap();
        client.regenerate_key(&token).unwrap()
    }
}

/// A sandbox may get the port an earlier test's sandbox had, and the test
/// keyring (one gnome-keyring for the whole run) still holds the tokens that
/// one issued under the same environment key (`custom:<origin>`): OBS would
/// start "logged in" with tokens this server never issued, and its first
/// refresh would end the session. Real servers do not come and go on one
/// address; a test's server starts with no tokens of its own stored.
fn forget_tokens_of(api_base: &str) {
    let Ok(endpoints) = velora::config::Endpoints::for_api_base(api_base, "tests", None) else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = velora::auth::TokenStore::open(dir.path(), true);
    if let Err(e) = store.delete(&endpoints.environment_key()) {
        eprintln!("could not forget stored tokens of {api_base}: {e}");
    }
}
