//! The Velora sandbox as its own process (`velora-sandbox --nginx`), in a
//! process group of its own with the nginx-rtmp it supervises, and its
//! control API: the truth the demo checks each step against.

use obs_rig::Group;
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A value that must never be printed (the stream key).
pub struct Secret(String);

impl Secret {
    pub fn matches(&self, other: &str) -> bool {
        !self.0.is_empty() && self.0 == other
    }

    pub fn is_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The demo user at Velora, from `GET /_sandbox/state`.
#[derive(Debug)]
pub struct State {
    pub title: String,
    pub category_slug: String,
    pub category_name: String,
    pub tags: Vec<String>,
    pub is_live: bool,
    pub viewer_count: u64,
    pub stream_key: Secret,
    pub rtmp_url: String,
}

impl State {
    fn from_json(v: &Value) -> State {
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        State {
            title: s("title"),
            category_slug: s("categorySlug"),
            category_name: s("categoryName"),
            tags: v["tags"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            is_live: v["isLive"].as_bool().unwrap_or(false),
            viewer_count: v["viewerCount"].as_u64().unwrap_or(0),
            stream_key: Secret(s("streamKey")),
            rtmp_url: s("rtmpUrl"),
        }
    }

    /// Title, category and tags: what a person edits.
    pub fn info(&self) -> (String, String, Vec<String>) {
        (self.title.clone(), self.category_slug.clone(), self.tags.clone())
    }
}

pub struct Sandbox {
    child: Option<Child>,
    pub base_url: String,
    pub rtmp_url: String,
    http: reqwest::blocking::Client,
}

impl Sandbox {
    /// Runs `bin --port PORT --rtmp-port RTMP --state FILE` (not
    /// auto-approving: the consent page is shown) and waits until it says
    /// where it listens (HTTP, then RTMP once nginx accepts connections).
    pub fn start(
        bin: &Path,
        port: u16,
        rtmp_port: u16,
        state_file: &Path,
        log: &Path,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Sandbox, String> {
        let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--rtmp-port",
            &rtmp_port.to_string(),
            "--state",
        ])
        .arg(state_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
        Group::Own.apply(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut sandbox = Sandbox {
            child: Some(child),
            base_url: String::new(),
            rtmp_url: String::new(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| e.to_string())?,
        };
        let t = Instant::now();
        while sandbox.rtmp_url.is_empty() {
            if interrupted() {
                sandbox.stop();
                return Err("interrupted".into());
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(u) = line.strip_prefix("velora-sandbox listening on ") {
                        sandbox.base_url = u.trim().to_string();
                    } else if let Some(u) = line.strip_prefix("velora-sandbox rtmp ingest on ") {
                        sandbox.rtmp_url = u.trim().to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if t.elapsed() < Duration::from_secs(20) => {}
                Err(_) => {
                    sandbox.stop();
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    return Err(format!(
                        "the sandbox did not start:\n{}",
                        obs_rig::obs::tail(log.trim(), 15)
                    ));
                }
            }
        }
        Ok(sandbox)
    }

    /// The demo user's state at Velora.
    pub fn state(&self) -> Result<State, String> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/state", self.base_url))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .map_err(|e| format!("sandbox control API: {e}"))?;
        Ok(State::from_json(&v))
    }

    /// `/api/` requests the sandbox answered since it started: (method, path, status).
    pub fn requests(&self) -> Result<Vec<(String, String, u64)>, String> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/requests", self.base_url))
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("sandbox control API: {e}"))?;
        Ok(v["requests"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["method"].as_str().unwrap_or("").to_string(),
                            r["path"].as_str().unwrap_or("").to_string(),
                            r["status"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// SIGINT (the sandbox stops nginx and saves its state), SIGKILL after
    /// 10 s. Returns what was still running in its process group afterwards
    /// (nginx included; nothing, normally), and kills that.
    pub fn stop(&mut self) -> Vec<u32> {
        let Some(mut child) = self.child.take() else {
            return Vec::new();
        };
        let pgid = child.id();
        obs_rig::stop_child(&mut child, libc::SIGINT, Duration::from_secs(10));
        // nginx runs in the sandbox's process group; give it a moment to go.
        obs_rig::wait_for(Duration::from_secs(3), || {
            obs_rig::processes_in_group(pgid).is_empty().then_some(())
        });
        let left = obs_rig::processes_in_group(pgid);
        if !left.is_empty() {
            obs_rig::signal_group(pgid, libc::SIGKILL);
        }
        left
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
