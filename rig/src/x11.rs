//! A private X server (Xvfb) and screenshots. libobs needs an X display even
//! without a screen; Xvfb itself picks a free display number (`-displayfd`),
//! so parallel runs never share one.

use crate::Group;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Xvfb {
    /// The display name, e.g. `:99`.
    pub display: String,
    child: Child,
}

impl Xvfb {
    /// Starts Xvfb with one screen of `width`x`height` and returns once it
    /// accepts clients (it reports its display number only then).
    pub fn start(width: u32, height: u32, group: Group) -> std::io::Result<Xvfb> {
        let mut cmd = Command::new("Xvfb");
        cmd.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            &format!("{width}x{height}x24"),
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        group.apply(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run Xvfb (apt-get install xvfb): {e}")))?;
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        let n = out
            .read_line(&mut line)
            .ok()
            .and_then(|_| line.trim().parse::<u32>().ok());
        let Some(n) = n else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!(
                "Xvfb did not report a display: {line:?}"
            )));
        };
        // Keep the pipe open (Xvfb may write again) without blocking anyone.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Ok(Xvfb {
            display: format!(":{n}"),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the X server (SIGTERM) and reaps it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        crate::stop_child(&mut self.child, libc::SIGTERM, std::time::Duration::from_secs(5));
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Saves a screenshot of the whole `display` as PNG (`import -window root`).
pub fn screenshot(display: &str, path: &Path) -> bool {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
