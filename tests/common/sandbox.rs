//! The Velora sandbox (in-process) with a real nginx-rtmp ingest it supervises.

use serde_json::{json, Value};
use std::time::Duration;
use velora_sandbox::{Config, NginxConfig, Sandbox};

pub struct Velora {
    pub sb: Sandbox,
    http: reqwest::blocking::Client,
}

impl Velora {
    /// Auto-approving sandbox with nginx-rtmp on a free port.
    pub fn start() -> Velora {
        Self::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> Velora {
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
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
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
            ("VELORA_REDIRECT_PORT", super::free_port().to_string()),
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
}
