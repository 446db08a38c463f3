//! Real OBS Studio under Xvfb with a private, dialog-free configuration and
//! the plugin installed in the per-user plugin directory.

use super::ws::Ws;
use super::{install_flatpak_tree, install_plugin, layout, InstalledPlugin, Layout};
use obs_rig::config::Profile;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One OBS at a time: the machines are small and OBS is heavy.
static OBS_LOCK: Mutex<()> = Mutex::new(());

/// A private OBS home: `$HOME` and `$XDG_CONFIG_HOME` for one or more runs.
pub struct ObsHome {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub plugin: Option<InstalledPlugin>,
    /// Environment OBS needs to find the plugin (the Flatpak layout's
    /// `OBS_PLUGINS_PATH` / `OBS_PLUGINS_DATA_PATH`).
    pub plugin_env: Vec<(&'static str, String)>,
    pub port: u16,
    _tmp: tempfile::TempDir,
}

impl ObsHome {
    /// A fresh config (no first-run wizard, websocket on `port` without
    /// auth, small video, simple output with x264 ultrafast), with or without
    /// the plugin (installed as [`super::layout`] says).
    pub fn new(with_plugin: bool) -> ObsHome {
        let tmp = tempfile::Builder::new().prefix("velora-obs-").tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let config = dir.join("config");
        let obs = config.join("obs-studio");
        let port = super::free_port();
        obs_rig::config::write(&obs, &Profile::small("Untitled"), port).unwrap();
        let (plugin, plugin_env) = match (with_plugin, layout()) {
            (false, _) => (None, Vec::new()),
            (true, Layout::User) => (Some(install_plugin(&obs.join("plugins"))), Vec::new()),
            (true, Layout::Flatpak) => {
                let (p, env) = install_flatpak_tree(&dir.join("flatpak-root"));
                (Some(p), env)
            }
        };
        ObsHome {
            dir,
            config,
            plugin,
            plugin_env,
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
        for f in obs_rig::obs::log_files(&self.obs_dir()) {
            out.push_str(&obs_rig::obs::read_log(&f));
        }
        out
    }

    /// The last `n` lines of the newest OBS log.
    pub fn log_tail(&self, n: usize) -> String {
        obs_rig::obs::tail(&self.last_log(), n)
    }

    /// The newest OBS log.
    pub fn last_log(&self) -> String {
        obs_rig::obs::last_log(&self.obs_dir())
    }
}

/// `obs`, or the command in `VELORA_OBS_CMD` (whitespace-separated program
/// and leading arguments), e.g. the compatibility matrix's wrapper that runs
/// OBS 30 or 32 inside a Debian chroot. Core dumps are on (`ulimit -c
/// unlimited`): a crash leaves a core for [`Obs::stop`] to read.
pub fn obs_command() -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "ulimit -c unlimited 2>/dev/null; exec \"$@\"", "obs-with-cores"]);
    match std::env::var("VELORA_OBS_CMD") {
        Ok(v) if !v.trim().is_empty() => {
            c.args(v.split_whitespace());
        }
        _ => {
            c.arg("obs");
        }
    }
    c
}

/// The Debian root OBS runs in (the matrix's chroot wrapper names it), if any.
fn obs_root() -> Option<PathBuf> {
    let v = std::env::var("VELORA_OBS_CMD").ok()?;
    let mut parts = v.split_whitespace();
    let prog = parts.next()?;
    if !prog.ends_with("obs-in-chroot") {
        return None;
    }
    parts.next().map(PathBuf::from)
}

/// How an OBS process ended.
#[derive(Debug)]
pub struct Exit {
    pub status: ExitStatus,
    /// From the quit request to the process being gone.
    pub after_quit: Duration,
    /// The backtrace of all threads when it crashed (saved under
    /// target/artifacts/crashes/ too).
    pub crash: Option<String>,
    /// The crash was obs-websocket's own stop race, which happens without
    /// the plugin too ([`is_websocket_stop_race`]): OBS's shutdown had run
    /// (settings saved, our module unloaded) and only obs-websocket's
    /// unload crashed, so the exit counts as a clean one.
    pub websocket_race: bool,
}

impl Exit {
    /// OBS's exit code; 0 for obs-websocket's own stop race (see
    /// [`Exit::websocket_race`]), which [`Obs::stop`] reports with a NOTE.
    pub fn code(&self) -> Option<i32> {
        if self.websocket_race {
            return Some(0);
        }
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.websocket_race || self.status.success()
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} after {} ms", self.status, self.after_quit.as_millis())?;
        if let Some(bt) = &self.crash {
            write!(f, "\nbacktrace:\n{bt}")?;
        }
        Ok(())
    }
}

/// obs-websocket's own crash while it stops its server, with no frame of
/// the plugin ([`obs_rig::crash::is_websocket_stop_race`]).
pub fn is_websocket_stop_race(bt: &str) -> bool {
    obs_rig::crash::is_websocket_stop_race(bt, "velora")
}

/// Reads a core OBS left in `dir` (or, in a chroot, in the root's `/`): all
/// threads' backtraces, saved under target/artifacts/crashes/. The core is
/// removed afterwards (they are large).
fn crash_backtrace(dir: &Path, pid: u32) -> String {
    let root = obs_root();
    let dirs: Vec<PathBuf> = [Some(dir.to_path_buf()), root.clone()].into_iter().flatten().collect();
    let Some(core) = obs_rig::crash::find_core(&dirs) else {
        return format!("(no core file found in {} — core_pattern or ulimit?)", dir.display());
    };
    let exe = match &root {
        Some(r) => r.join("usr/bin/obs"),
        None => PathBuf::from("/usr/bin/obs"),
    };
    let bt = obs_rig::crash::backtraces(&exe, root.as_deref(), &core);
    let out = super::artifacts_dir().join("crashes");
    let _ = std::fs::create_dir_all(&out);
    let name = format!(
        "obs-{pid}-{}.txt",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    );
    let _ = std::fs::write(out.join(&name), &bt);
    let _ = std::fs::remove_file(&core);
    format!("(saved as {})\n{bt}", out.join(&name).display())
}

/// A running OBS. Stop it with [`Obs::stop`] (closing its window on OBS
/// before 29.1, SIGINT on later ones; SIGKILL after 30 s).
pub struct Obs {
    obs: Option<obs_rig::obs::Obs>,
    pub port: u16,
    pub display: String,
    /// OBS's working directory: where a core lands.
    cwd: PathBuf,
    _lock: MutexGuard<'static, ()>,
}

impl Obs {
    /// Starts OBS on `display` with `home`, plus `env`, and waits until its
    /// websocket answers (60 s).
    pub fn start(home: &ObsHome, display: &str, env: &[(&str, String)]) -> Obs {
        let lock = OBS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut command = obs_command();
        command.env("LIBGL_ALWAYS_SOFTWARE", "1").current_dir(&home.dir);
        for (k, v) in &home.plugin_env {
            command.env(k, v);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let mut obs = obs_rig::obs::Obs::spawn(obs_rig::obs::Launch {
            command,
            home: &home.dir,
            config_home: &home.config,
            display,
            port: home.port,
            password: None,
            group: obs_rig::Group::Shared,
        })
        .expect("obs is not installed (apt-get install obs-studio)");
        if let Err(e) = obs.wait_ready(Duration::from_secs(60), &|| false) {
            panic!("{e}:\n{}", home.last_log());
        }
        Obs {
            obs: Some(obs),
            port: home.port,
            display: display.to_string(),
            cwd: home.dir.clone(),
            _lock: lock,
        }
    }

    pub fn ws(&self) -> Ws {
        Ws::connect(self.port).expect("connect to OBS websocket")
    }

    pub fn pid(&self) -> u32 {
        self.obs.as_ref().unwrap().pid()
    }

    /// Quits OBS like a user does (`obs_rig::obs::Quit::for_version`: OBS's
    /// clean shutdown, modules unloaded; every run lives at least 2 s, see
    /// `obs_rig::obs::MIN_LIFETIME`)
    /// and fails the test on any crash, with its backtrace. A hang (no exit
    /// within 30 s) fails too, with every thread's stack.
    ///
    /// One crash is not ours and is let through, loudly: obs-websocket's own
    /// accept race while it stops its server
    /// ([`is_websocket_stop_race`], docs/obs-websocket-exit-race.md).
    pub fn stop(self) -> Exit {
        let exit = self.quit();
        if let Some(bt) = &exit.crash {
            panic!("OBS crashed at exit ({}):\n{bt}", exit.status);
        }
        exit
    }

    /// [`Obs::stop`] for a case whose crash is known to happen without the
    /// plugin too (README, known limitations): a crash is accepted only if
    /// its backtrace contains `signature`; any other crash fails the test.
    pub fn stop_accepting_known_crash(self, signature: &str) -> Exit {
        let exit = self.quit();
        if let Some(bt) = &exit.crash {
            assert!(
                bt.contains(signature),
                "OBS crashed at exit, and not in the known place ({signature}):\n{bt}"
            );
        }
        exit
    }

    /// Quits OBS; an exit that crashed only in obs-websocket's own stop
    /// race is noted (with its backtrace) and counts as clean.
    fn quit(self) -> Exit {
        let exit = self.quit_raw();
        match &exit.crash {
            Some(bt) if is_websocket_stop_race(bt) => {
                eprintln!(
                    "NOTE: OBS crashed at exit in obs-websocket's own accept race \
                     (docs/obs-websocket-exit-race.md), not in the plugin:\n{bt}"
                );
                Exit {
                    websocket_race: true,
                    crash: None,
                    ..exit
                }
            }
            _ => exit,
        }
    }

    fn quit_raw(mut self) -> Exit {
        let obs = self.obs.take().unwrap();
        let pid = obs.pid();
        let obs_dir = obs.obs_dir().to_path_buf();
        match obs.stop_timed() {
            Ok((status, after_quit)) => {
                use std::os::unix::process::ExitStatusExt;
                let crashed = status.signal().is_some_and(|s| s != 2 && s != 9) || status.core_dumped();
                let crash = crashed.then(|| crash_backtrace(&self.cwd, pid));
                Exit {
                    status,
                    after_quit,
                    crash,
                    websocket_race: false,
                }
            }
            Err(hung) => {
                eprintln!("OBS hung at exit; threads:\n{}", hung.threads);
                let tail = obs_rig::obs::tail(&obs_rig::obs::last_log(&obs_dir), 30);
                panic!(
                    "OBS did not exit within 30 s of being asked to quit (killed: {:?}); log tail:\n{tail}",
                    hung.status
                );
            }
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
            // The plugin's own warnings and errors (a library's lines are
            // "[velora] <library> (warning): …", src/logline.rs).
            l.contains("[velora] warning:")
                || l.contains("[velora] error:")
                || (l.contains("[velora]") && l.contains("panic"))
                || (l.contains("velora") && (l.contains("Failed to load") || l.contains("Skipping module")))
        })
        .map(str::to_string)
        .collect()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
