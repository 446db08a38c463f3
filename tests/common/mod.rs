//! Test rig shared by the integration tests: Xvfb, a private OBS config with
//! the plugin installed where a user installs it, OBS itself, and an
//! obs-websocket client. Real processes, no mocks.
#![allow(dead_code)]

pub mod obs;
pub mod sandbox;
pub mod ws;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/ of the running test binary.
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// `target/` itself (for artifacts such as screenshots).
pub fn artifacts_dir() -> PathBuf {
    let d = target_profile_dir().parent().unwrap().join("artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The built plugin (libvelora.so from `cargo build`).
pub fn built_plugin() -> PathBuf {
    let so = target_profile_dir().join("libvelora.so");
    assert!(so.exists(), "{} is missing: run `cargo build` first", so.display());
    so
}

pub struct InstalledPlugin {
    pub root: PathBuf,
    pub so: PathBuf,
    pub data: PathBuf,
}

/// Installs the plugin in the per-user layout under `plugins_dir`:
/// `velora/bin/64bit/velora.so` and `velora/data/`.
pub fn install_plugin(plugins_dir: &Path) -> InstalledPlugin {
    let root = plugins_dir.join("velora");
    let bin = root.join("bin/64bit");
    let data = root.join("data");
    std::fs::create_dir_all(&bin).unwrap();
    let so = bin.join("velora.so");
    std::fs::copy(built_plugin(), &so).unwrap();
    // The Qt docks built by scripts/build-dock.sh go next to velora.so.
    let target = target_profile_dir().parent().unwrap().to_path_buf();
    for dir in ["dock-qt5", "dock-qt6", "dock"] {
        if let Ok(rd) = std::fs::read_dir(target.join(dir)) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with("velora-dock-qt") && name.ends_with(".so") {
                    std::fs::copy(e.path(), bin.join(&name)).unwrap();
                }
            }
        }
    }
    copy_dir(&repo_root().join("data"), &data);
    InstalledPlugin { root, so, data }
}

/// A plugin installed into a fresh temp dir (kept until the process ends).
pub fn installed_plugin() -> InstalledPlugin {
    let dir = tempfile::tempdir().unwrap().keep();
    install_plugin(&dir)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// An X display: the one in `$DISPLAY`, or a private Xvfb killed on drop.
pub struct Display {
    pub name: String,
    child: Option<Child>,
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn display() -> Display {
    if let Ok(d) = std::env::var("DISPLAY") {
        if !d.is_empty() {
            return Display { name: d, child: None };
        }
    }
    start_xvfb()
}

/// Starts a private Xvfb; Xvfb itself picks a free display number and tells
/// it on stdout (`-displayfd 1`), so parallel tests never share a display.
pub fn start_xvfb() -> Display {
    use std::io::BufRead;
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is not installed (apt-get install xvfb)");
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).expect("read Xvfb's display number");
    let n: u32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Xvfb did not report a display: {line:?}"));
    // Keep the pipe open (Xvfb may write again) without blocking anyone.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    Display {
        name: format!(":{n}"),
        child: Some(child),
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` until it returns Some or the time is up.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if t.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Takes a screenshot of the whole display into target/artifacts/NAME.png.
pub fn screenshot(display: &str, name: &str) -> Option<PathBuf> {
    let path = artifacts_dir().join(format!("{name}.png"));
    let ok = Command::new("import")
        .args(["-display", display, "-window", "root", path.to_str().unwrap()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then_some(path)
}
