//! The OBS process: started on a display with a private configuration,
//! ready when obs-websocket answers, stopped the way a person quits it
//! (closing the main window, or Ctrl+C where OBS handles SIGINT safely: a
//! clean shutdown with module unload).

use crate::ws::{self, Client};
use crate::Group;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Quitting within ~100 ms of start-up sometimes crashes or hangs OBS 29
/// (also without any plugin: 1 crash in 24 quick exits); no person quits
/// that fast, so every run lives at least this long.
pub const MIN_LIFETIME: Duration = Duration::from_secs(2);

/// How long a clean shutdown may take before OBS counts as hung.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How one OBS is started.
pub struct Launch<'a> {
    /// `obs` or a wrapper (e.g. one that runs OBS in a chroot), with any
    /// environment of the caller's; [`Obs::start`] adds the rest.
    pub command: Command,
    /// `$HOME` for OBS.
    pub home: &'a Path,
    /// `$XDG_CONFIG_HOME`: OBS's configuration is `<this>/obs-studio`.
    pub config_home: &'a Path,
    pub display: &'a str,
    /// obs-websocket's port (`--websocket_port`).
    pub port: u16,
    /// `--websocket_password`; None leaves the configuration's (none).
    pub password: Option<String>,
    pub group: Group,
}

#[derive(Debug)]
pub enum StartError {
    /// OBS exited before its websocket answered.
    Exited(ExitStatus),
    /// obs-websocket did not answer in time.
    Timeout(Duration),
    /// The caller gave up (e.g. Ctrl-C).
    Interrupted,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Exited(st) => write!(f, "OBS exited during start-up ({st})"),
            StartError::Timeout(t) => write!(f, "obs-websocket did not answer within {} s", t.as_secs()),
            StartError::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// How OBS is asked to quit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quit {
    /// SIGINT, what Ctrl+C in a terminal sends.
    Sigint,
    /// WM_DELETE_WINDOW to OBS's main window: what a window manager's close
    /// button sends; Qt turns it into a close event on the UI thread, so OBS
    /// quits exactly as after File › Exit.
    CloseWindow,
}

impl Quit {
    /// The way that quits OBS `version` cleanly. OBS before 29.1 runs its
    /// whole shutdown *inside* its SIGINT handler, on top of whatever the UI
    /// thread was doing, and crashes or deadlocks when the signal lands in a
    /// paint, in malloc or in libxcb, with or without any plugin
    /// (docs/obs29-sigint-crash.md; fixed upstream in 29.1.0, commit
    /// 5182368). Those OBS (and any whose version is unknown) are closed
    /// through their window; later ones get SIGINT.
    pub fn for_version(version: Option<(u32, u32, u32)>) -> Quit {
        match version {
            Some(v) if v >= (29, 1, 0) => Quit::Sigint,
            _ => Quit::CloseWindow,
        }
    }
}

/// `"29.0.2"` → (29, 0, 2); anything else → None.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut it = text.trim().split(['.', '-', '+', '~']).map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

/// OBS did not exit within [`STOP_TIMEOUT`] of being asked to quit; it was
/// killed.
#[derive(Debug)]
pub struct Hung {
    pub status: Option<ExitStatus>,
    /// Every thread's stack (gdb), when gdb is installed.
    pub threads: String,
}

pub struct Obs {
    child: Option<Child>,
    pub port: u16,
    password: Option<String>,
    obs_dir: PathBuf,
    started: Instant,
    display: String,
    /// OBS's version, from obs-websocket's GetVersion in [`Obs::wait_ready`].
    version: Option<(u32, u32, u32)>,
}

impl Obs {
    /// Runs OBS (`--multi`: other OBS instances on the machine must not
    /// trigger the "already running" dialog) with stdio detached. Then
    /// [`Obs::wait_ready`].
    pub fn spawn(launch: Launch<'_>) -> std::io::Result<Obs> {
        let Launch {
            mut command,
            home,
            config_home,
            display,
            port,
            password,
            group,
        } = launch;
        command
            .args([
                "--multi",
                "--disable-missing-files-check",
                "--websocket_port",
                &port.to_string(),
            ])
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", config_home)
            .env("DISPLAY", display)
            .env_remove("QT_QPA_PLATFORM")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &password {
            command.args(["--websocket_password", p]);
        }
        group.apply(&mut command);
        let child = command.spawn()?;
        Ok(Obs {
            child: Some(child),
            port,
            password,
            obs_dir: config_home.join("obs-studio"),
            started: Instant::now(),
            display: display.to_string(),
            version: None,
        })
    }

    /// Waits until obs-websocket answers a request (`timeout`), polling
    /// `interrupted` between tries; returns that connection.
    pub fn wait_ready(&mut self, timeout: Duration, interrupted: &dyn Fn() -> bool) -> Result<Client, StartError> {
        let t = Instant::now();
        loop {
            if let Some(st) = self.try_wait() {
                return Err(StartError::Exited(st));
            }
            if interrupted() {
                return Err(StartError::Interrupted);
            }
            // obs-websocket answers 207 (NotReady) until FINISHED_LOADING (30+).
            if let Ok(mut ws) = self.connect() {
                if let Ok(r) = ws.request("GetVersion", serde_json::Value::Null) {
                    if r.code != 207 {
                        self.version = r.data["obsVersion"].as_str().and_then(parse_version);
                        return Ok(ws);
                    }
                }
            }
            if t.elapsed() > timeout {
                return Err(StartError::Timeout(timeout));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new obs-websocket connection.
    pub fn connect(&self) -> Result<Client, ws::Error> {
        Client::connect(self.port, self.password.as_deref())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The exit status, once OBS has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// How long OBS has been running.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// OBS's configuration directory (`$XDG_CONFIG_HOME/obs-studio`).
    pub fn obs_dir(&self) -> &Path {
        &self.obs_dir
    }

    /// OBS's version (known once [`Obs::wait_ready`] succeeded).
    pub fn version(&self) -> Option<(u32, u32, u32)> {
        self.version
    }

    /// Quits OBS as a person would ([`Quit::for_version`]: clean shutdown,
    /// modules unloaded) and waits for it. Every run lives at least
    /// [`MIN_LIFETIME`]. A hang is an error: gdb shows where (when
    /// installed), then OBS is killed.
    pub fn stop(self) -> Result<ExitStatus, Hung> {
        self.stop_timed().map(|(st, _)| st)
    }

    /// [`Obs::stop`], also saying how long OBS took to exit after the quit
    /// request.
    pub fn stop_timed(self) -> Result<(ExitStatus, Duration), Hung> {
        let how = Quit::for_version(self.version);
        self.stop_with(how)
    }

    /// [`Obs::stop_timed`], quitting the way given.
    pub fn stop_with(mut self, how: Quit) -> Result<(ExitStatus, Duration), Hung> {
        let mut child = self.child.take().expect("a running OBS");
        if let Ok(Some(st)) = child.try_wait() {
            return Ok((st, Duration::ZERO));
        }
        if self.started.elapsed() < MIN_LIFETIME {
            std::thread::sleep(MIN_LIFETIME - self.started.elapsed());
        }
        let quit_at = Instant::now();
        let closed = how == Quit::CloseWindow && self.close_window(child.id());
        if !closed {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .stdin(Stdio::null())
                .status();
        }
        if let Some(st) = crate::wait_for(STOP_TIMEOUT, || child.try_wait().ok().flatten()) {
            return Ok((st, quit_at.elapsed()));
        }
        let threads = Command::new("gdb")
            .args(["-p", &child.id().to_string(), "-batch", "-ex", "thread apply all bt 12"])
            .stdin(Stdio::null())
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| l.starts_with('#') || l.starts_with("Thread"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let _ = child.kill();
        Err(Hung {
            status: child.wait().ok(),
            threads,
        })
    }

    /// Sends WM_DELETE_WINDOW to the main window of OBS `pid`
    /// (`rig/obs-close-window`, python3 + libX11). False, with the reason on
    /// stderr, when that was not possible.
    fn close_window(&self, pid: u32) -> bool {
        let closer = Path::new(env!("CARGO_MANIFEST_DIR")).join("obs-close-window");
        let out = Command::new("python3")
            .arg(&closer)
            .arg(pid.to_string())
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => true,
            Ok(o) => {
                eprintln!(
                    "obs-rig: could not close OBS's window ({}): {}; sending SIGINT",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                false
            }
            Err(e) => {
                eprintln!("obs-rig: cannot run {} ({e}); sending SIGINT", closer.display());
                false
            }
        }
    }

    /// The newest OBS log file's text.
    pub fn last_log(&self) -> String {
        last_log(&self.obs_dir)
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

/// OBS's log files in `obs_dir`, oldest first.
pub fn log_files(obs_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(obs_dir.join("logs"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The newest OBS log in `obs_dir`.
pub fn last_log(obs_dir: &Path) -> String {
    log_files(obs_dir).last().map(|f| read_log(f)).unwrap_or_default()
}

/// One OBS log file as text, whatever bytes it holds. OBS's log is not
/// always UTF-8 (names in other encodings; once, on OBS 29, a line with
/// stray NUL and binary bytes in it): reading it strictly would give an
/// empty string, and every check on it (a line is there, a secret is not)
/// would be silently wrong.
pub fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `n` lines of `log`.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_with_binary_bytes_is_still_read() {
        let dir = std::env::temp_dir().join(format!("obs-rig-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("log.txt");
        std::fs::write(
            &f,
            b"12:00:00.000: [velora] dock loaded\n\x00\xf0\x3f garbage\n12:00:00.001: next\n",
        )
        .unwrap();
        let text = read_log(&f);
        assert!(text.contains("[velora] dock loaded"));
        assert!(text.contains("next"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn versions_and_how_to_quit_them() {
        assert_eq!(parse_version("29.0.2"), Some((29, 0, 2)));
        assert_eq!(parse_version("32.0.1-rc1"), Some((32, 0, 1)));
        assert_eq!(parse_version("30.2"), Some((30, 2, 0)));
        assert_eq!(parse_version("git"), None);
        assert_eq!(Quit::for_version(Some((29, 0, 2))), Quit::CloseWindow);
        assert_eq!(Quit::for_version(None), Quit::CloseWindow);
        assert_eq!(Quit::for_version(Some((29, 1, 0))), Quit::Sigint);
        assert_eq!(Quit::for_version(Some((32, 0, 1))), Quit::Sigint);
    }
}
