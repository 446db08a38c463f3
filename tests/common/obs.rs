//! Real OBS Studio under Xvfb with a private, dialog-free configuration and
//! the plugin installed in the per-user plugin directory.

use super::ws::Ws;
use super::{install_plugin, wait_for, InstalledPlugin};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One OBS at a time: the machines are small and OBS is heavy.
static OBS_LOCK: Mutex<()> = Mutex::new(());

/// A private OBS home: `$HOME` and `$XDG_CONFIG_HOME` for one or more runs.
pub struct ObsHome {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub plugin: Option<InstalledPlugin>,
    pub port: u16,
    _tmp: tempfile::TempDir,
}

impl ObsHome {
    /// A fresh config (no first-run wizard, websocket on `port` without
    /// auth, small video, simple output with x264 ultrafast), with or without
    /// the plugin.
    pub fn new(with_plugin: bool) -> ObsHome {
        let tmp = tempfile::Builder::new().prefix("velora-obs-").tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let config = dir.join("config");
        let obs = config.join("obs-studio");
        let port = super::free_port();
        std::fs::create_dir_all(obs.join("basic/profiles/Untitled")).unwrap();
        std::fs::create_dir_all(obs.join("basic/scenes")).unwrap();
        std::fs::write(obs.join("global.ini"), global_ini(port)).unwrap();
        std::fs::write(obs.join("basic/profiles/Untitled/basic.ini"), PROFILE_INI).unwrap();
        let plugin = with_plugin.then(|| install_plugin(&obs.join("plugins")));
        ObsHome {
            dir,
            config,
            plugin,
            port,
            _tmp: tmp,
        }
    }

    pub fn obs_dir(&self) -> PathBuf {
        self.config.join("obs-studio")
    }

    pub fn profile_dir(&self, profile: &str) -> PathBuf {
        self.obs_dir().join("basic/profiles").join(profile)
    }

    /// All OBS log files written so far, concatenated.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        if let Ok(rd) = std::fs::read_dir(self.obs_dir().join("logs")) {
            let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                out.push_str(&std::fs::read_to_string(f).unwrap_or_default());
            }
        }
        out
    }

    /// The last `n` lines of the newest OBS log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.last_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The newest OBS log.
    pub fn last_log(&self) -> String {
        let mut files: Vec<_> = std::fs::read_dir(self.obs_dir().join("logs"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .last()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .unwrap_or_default()
    }
}

fn global_ini(port: u16) -> String {
    format!(
        "[General]\nPre19Defaults=false\nPre21Defaults=false\nPre23Defaults=false\nPre24.1Defaults=false\n\
FirstRun=true\nLastVersion=486539266\nEnableAutoUpdates=false\nConfirmOnExit=false\n\n\
[Basic]\nProfile=Untitled\nProfileDir=Untitled\nSceneCollection=Untitled\nSceneCollectionFile=Untitled\n\n\
[BasicWindow]\nSysTrayEnabled=false\nWarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n\
WarnBeforeStoppingRecord=false\n\n\
[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={port}\nAlertsEnabled=false\n\
AuthRequired=false\nServerPassword=\n"
    )
}

const PROFILE_INI: &str = "[General]\nName=Untitled\n\n\
[Video]\nBaseCX=640\nBaseCY=360\nOutputCX=640\nOutputCY=360\nFPSType=0\nFPSCommon=30\n\n\
[Output]\nMode=Simple\n\n\
[SimpleOutput]\nStreamEncoder=x264\nPreset=ultrafast\nVBitrate=600\nABitrate=96\nUseAdvanced=false\n\n\
[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n";

/// `obs`, or the command in `VELORA_OBS_CMD` (whitespace-separated program
/// and leading arguments), e.g. the compatibility matrix's wrapper that runs
/// OBS 30 or 32 inside a Debian chroot.
pub fn obs_command() -> Command {
    match std::env::var("VELORA_OBS_CMD") {
        Ok(v) if !v.trim().is_empty() => {
            let mut parts = v.split_whitespace();
            let mut c = Command::new(parts.next().unwrap());
            c.args(parts);
            c
        }
        _ => Command::new("obs"),
    }
}

/// A running OBS. Stop it with [`Obs::stop`] (SIGINT, then SIGKILL after 30 s).
pub struct Obs {
    child: Option<Child>,
    pub port: u16,
    pub display: String,
    logs: PathBuf,
    started: std::time::Instant,
    _lock: MutexGuard<'static, ()>,
}

impl Obs {
    /// Starts OBS on `display` with `home`, plus `env`, and waits until its
    /// websocket answers (60 s).
    pub fn start(home: &ObsHome, display: &str, env: &[(&str, String)]) -> Obs {
        let lock = OBS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut cmd = obs_command();
        cmd.args([
            "--multi",
            "--disable-missing-files-check",
            "--websocket_port",
            &home.port.to_string(),
        ])
        .env("HOME", &home.dir)
        .env("XDG_CONFIG_HOME", &home.config)
        .env("DISPLAY", display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env_remove("QT_QPA_PLATFORM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("obs is not installed (apt-get install obs-studio)");
        let mut obs = Obs {
            logs: home.obs_dir().join("logs"),
            started: std::time::Instant::now(),
            child: Some(child),
            port: home.port,
            display: display.to_string(),
            _lock: lock,
        };
        let up = wait_for(Duration::from_secs(60), || {
            if let Some(Ok(Some(st))) = obs.child.as_mut().map(|c| c.try_wait()) {
                panic!("OBS exited during start-up with {st}:\n{}", home.last_log());
            }
            // obs-websocket answers 207 (NotReady) until FINISHED_LOADING (30+).
            let mut ws = Ws::connect(obs.port).ok()?;
            (ws.request("GetVersion", serde_json::Value::Null).code != 207).then_some(ws)
        });
        assert!(
            up.is_some(),
            "OBS websocket did not answer within 60 s:\n{}",
            home.last_log()
        );
        obs
    }

    pub fn ws(&self) -> Ws {
        Ws::connect(self.port).expect("connect to OBS websocket")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGINT (OBS's clean shutdown, modules unloaded); SIGKILL after 30 s.
    pub fn stop(mut self) -> ExitStatus {
        // Quitting within ~100 ms of start-up sometimes crashes or hangs OBS 29
        // (also without this plugin: 1 crash in 24 quick exits); no person
        // quits that fast, so every run lives at least 2 s.
        let min = Duration::from_secs(2);
        if self.started.elapsed() < min {
            std::thread::sleep(min - self.started.elapsed());
        }
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let st = wait_for(Duration::from_secs(30), || child.try_wait().ok().flatten());
        match st {
            Some(st) => st,
            None => {
                // Where is it stuck? (gdb is optional; the backtrace goes to the test output.)
                if let Ok(out) = Command::new("gdb")
                    .args(["-p", &child.id().to_string(), "-batch", "-ex", "thread apply all bt 12"])
                    .output()
                {
                    let bt = String::from_utf8_lossy(&out.stdout);
                    eprintln!(
                        "OBS hung at exit; threads:\n{}",
                        bt.lines()
                            .filter(|l| l.starts_with('#') || l.starts_with("Thread"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                }
                let _ = child.kill();
                let st = child.wait().unwrap();
                let mut files: Vec<_> = std::fs::read_dir(&self.logs)
                    .map(|rd| rd.flatten().map(|e| e.path()).collect())
                    .unwrap_or_default();
                files.sort();
                let log = files
                    .last()
                    .map(|f| std::fs::read_to_string(f).unwrap_or_default())
                    .unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                panic!("OBS did not exit within 30 s of SIGINT (killed: {st}); log tail:\n{tail}");
            }
        }
    }
}

impl Drop for Obs {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Lines of OBS's log written by us or mentioning the plugin.
pub fn our_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("[velora]") || l.contains("velora.so"))
        .collect()
}

/// Warnings/errors of ours: our lines at warning level, and module load failures.
pub fn our_problems(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            (l.contains("[velora]") && (l.contains("warning:") || l.contains("error:") || l.contains("panic")))
                || (l.contains("velora") && (l.contains("Failed to load") || l.contains("Skipping module")))
        })
        .map(str::to_string)
        .collect()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
