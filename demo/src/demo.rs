//! The demo's stage: the processes it runs (sandbox with nginx, Xvfb when
//! headless, OBS), its obs-websocket connection, the waits every step uses,
//! and the teardown that leaves nothing of ours running.

use crate::interrupt::interrupted;
use crate::sandbox::Sandbox;
use obs_rig::obs::Obs;
use obs_rig::ws::{self, Client, Reply};
use obs_rig::x11::Xvfb;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// Why a step did not finish.
#[derive(Debug)]
pub enum Failure {
    Failed(String),
    /// Ctrl-C (or SIGTERM/SIGHUP).
    Interrupted,
    /// The person closed OBS (with a desktop).
    ObsClosed,
}

impl Failure {
    pub fn new(why: impl Into<String>) -> Failure {
        Failure::Failed(why.into())
    }
}

/// One look at the state a step waits for.
pub enum Check<T> {
    Done(T),
    /// Not yet, and what was seen instead (for the failure message).
    NotYet(String),
}

/// What a step ends with.
pub enum Outcome {
    Done(String),
    Skipped(String),
}

/// Where things are; from the command line.
pub struct Paths {
    /// The demo's OBS home: OBS's configuration is `<home>/config/obs-studio`.
    pub home: PathBuf,
    pub sandbox_bin: PathBuf,
    pub state_file: PathBuf,
    /// Scripted browser (headless only).
    pub browser: Option<PathBuf>,
    /// Screenshots (headless only).
    pub artifacts: PathBuf,
}

pub struct Demo {
    pub headless: bool,
    pub paths: Paths,
    pub port: u16,
    pub rtmp_port: u16,
    pub sandbox: Option<Sandbox>,
    pub xvfb: Option<Xvfb>,
    /// Headless: OBS's own session bus.
    pub bus: Option<obs_rig::dbus::SessionBus>,
    pub obs: Option<Obs>,
    pub ws: Option<Client>,
    /// The X display OBS runs on.
    pub display: String,
    /// Process groups we started (OBS, Xvfb, the bus); checked empty at the end.
    pub groups: Vec<(String, u32)>,
}

impl Demo {
    pub fn obs_dir(&self) -> PathBuf {
        self.paths.home.join("config/obs-studio")
    }

    pub fn sandbox(&self) -> Result<&Sandbox, Failure> {
        self.sandbox
            .as_ref()
            .ok_or_else(|| Failure::new("the sandbox is not running"))
    }

    pub fn state(&self) -> Result<crate::sandbox::State, Failure> {
        self.sandbox()?.state().map_err(Failure::Failed)
    }

    /// A closed websocket means OBS is gone: say so rather than "closed".
    fn ws_failure(&mut self, e: ws::Error) -> Failure {
        if let Some(st) = self.obs.as_mut().and_then(|o| o.try_wait()) {
            return self.obs_gone(st);
        }
        Failure::new(e.to_string())
    }

    fn obs_gone(&self, st: ExitStatus) -> Failure {
        if self.headless {
            Failure::new(format!("OBS exited ({st})"))
        } else {
            Failure::ObsClosed
        }
    }

    /// An obs-websocket request that must succeed.
    pub fn obs_request(&mut self, request_type: &str, data: Value) -> Result<Value, Failure> {
        let r = match self.ws.as_mut() {
            Some(ws) => ws.request(request_type, data),
            None => return Err(Failure::new("OBS is not running")),
        };
        match r {
            Ok(Reply { ok: true, data, .. }) => Ok(data),
            Ok(r) => Err(Failure::new(format!("{request_type}: {} {}", r.code, r.comment))),
            Err(e) => Err(self.ws_failure(e)),
        }
    }

    /// A request to the plugin (obs-websocket vendor `velora`) that must
    /// answer `ok: true`.
    pub fn velora(&mut self, request_type: &str, data: Value) -> Result<Value, Failure> {
        let r = match self.ws.as_mut() {
            Some(ws) => ws.call_vendor("velora", request_type, data),
            None => return Err(Failure::new("OBS is not running")),
        };
        let v = match r {
            Ok(v) => v,
            Err(ws::Error::Refused { code, comment }) => {
                return Err(Failure::new(format!(
                    "{request_type}: obs-websocket says {code} {comment} (is the Velora plugin loaded?)"
                )))
            }
            Err(e) => return Err(self.ws_failure(e)),
        };
        if v["ok"] != true {
            return Err(Failure::new(format!(
                "{request_type}: {} {}",
                v["error"]["code"].as_str().unwrap_or("?"),
                v["error"]["message"].as_str().unwrap_or("")
            )));
        }
        Ok(v)
    }

    /// The plugin's status (what the dock shows).
    pub fn status(&mut self) -> Result<Value, Failure> {
        self.velora("GetStatus", json!({}))
    }

    /// Whether OBS's stream output runs.
    pub fn output_active(&mut self) -> Result<bool, Failure> {
        Ok(self.obs_request("GetStreamStatus", Value::Null)?["outputActive"] == true)
    }

    /// Looks at `check` every 150 ms until it is done. Headless, it fails
    /// after `timeout` with what it saw last; with a desktop it waits for the
    /// person as long as it takes. Either way Ctrl-C and OBS exiting end the
    /// wait.
    pub fn wait<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&mut Demo) -> Result<Check<T>, Failure>,
    ) -> Result<T, Failure> {
        let t = Instant::now();
        let mut last;
        loop {
            if interrupted() {
                return Err(Failure::Interrupted);
            }
            if let Some(st) = self.obs.as_mut().and_then(|o| o.try_wait()) {
                return Err(self.obs_gone(st));
            }
            match check(self)? {
                Check::Done(v) => return Ok(v),
                Check::NotYet(seen) => last = seen,
            }
            if self.headless && t.elapsed() > timeout {
                return Err(Failure::new(format!(
                    "{what}: not within {} s (last seen: {last})",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Saves a screenshot as `<artifacts>/<name>.png` (headless only: with a
    /// desktop it would show the person's screen). Waits a moment first so
    /// the dock has repainted.
    pub fn screenshot(&self, name: &str) -> Option<PathBuf> {
        if !self.headless || self.obs.is_none() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
        let path = self.paths.artifacts.join(format!("{name}.png"));
        obs_rig::x11::screenshot(&self.display, &path).then_some(path)
    }

    /// The last `n` lines of OBS's newest log.
    pub fn obs_log_tail(&self, n: usize) -> String {
        obs_rig::obs::tail(&obs_rig::obs::last_log(&self.obs_dir()), n)
    }

    /// Stops whatever still runs, OBS first (a running stream is stopped
    /// before OBS quits), then the sandbox with nginx, then Xvfb. Returns
    /// what went wrong (nothing, normally).
    pub fn teardown(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(mut obs) = self.obs.take() {
            if obs.try_wait().is_none() {
                if let Some(ws) = self.ws.as_mut() {
                    let live = ws
                        .request("GetStreamStatus", Value::Null)
                        .is_ok_and(|r| r.data["outputActive"] == true);
                    if live {
                        let _ = ws.request("StopStream", Value::Null);
                        obs_rig::wait_for(Duration::from_secs(10), || {
                            ws.request("GetStreamStatus", Value::Null)
                                .ok()
                                .filter(|r| r.data["outputActive"] != true)
                        });
                    }
                }
            }
            if let Some(ws) = self.ws.take() {
                ws.close();
            }
            match obs.stop() {
                Ok(st) if st.success() => {}
                Ok(st) => problems.push(format!("OBS exited with {st}")),
                Err(hung) => problems.push(format!(
                    "OBS did not quit within 30 s and was killed; its threads:\n{}",
                    hung.threads
                )),
            }
        }
        if let Some(mut sandbox) = self.sandbox.take() {
            let left = sandbox.stop();
            if !left.is_empty() {
                problems.push(format!("still running after the sandbox stopped (killed): {left:?}"));
            }
        }
        if let Some(bus) = self.bus.take() {
            bus.stop();
        }
        if let Some(x) = self.xvfb.take() {
            x.stop();
        }
        problems.extend(self.leftovers());
        problems
    }

    /// Processes still running in the process groups we started: reported,
    /// then killed.
    fn leftovers(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter_map(|(name, pgid)| {
                let left = obs_rig::processes_in_group(*pgid);
                if left.is_empty() {
                    return None;
                }
                let what: Vec<String> = left
                    .iter()
                    .map(|pid| {
                        let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                        format!("{pid} {}", cmd.split('\0').next().unwrap_or(""))
                    })
                    .collect();
                obs_rig::signal_group(*pgid, libc::SIGKILL);
                Some(format!(
                    "still running in {name}'s process group (killed): {}",
                    what.join(", ")
                ))
            })
            .collect()
    }
}

/// The status fields that tell where the plugin is (never the key hint).
pub fn summary(st: &Value) -> String {
    let mut parts = vec![format!("phase {}", st["phase"].as_str().unwrap_or("?"))];
    for k in ["loginPending", "serviceActive", "isLive"] {
        if st[k] == true {
            parts.push(k.to_string());
        }
    }
    if let Some(n) = st["viewerCount"].as_u64() {
        parts.push(format!("viewerCount {n}"));
    }
    if st["lastError"].is_object() {
        parts.push(format!(
            "lastError {}: {}",
            st["lastError"]["kind"].as_str().unwrap_or("?"),
            st["lastError"]["message"].as_str().unwrap_or("")
        ));
    }
    parts.join(", ")
}
