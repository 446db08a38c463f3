//! scripts/deps.sh: the package lists of its two modes, and what it does as
//! a user without root: through sudo when there is one, a clear message when
//! there is none, and a one-line hint when Rust is missing. apt itself is not
//! run here: `dpkg-query` is replaced by one that reports every package as
//! missing, `sudo` by one that records its arguments.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deps.sh")
}

fn fake(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

/// Runs deps.sh as an unprivileged user (`nobody` when the tests run as
/// root) with only `dir` (the fakes), /usr/bin and /bin on PATH: no cargo.
fn run_unprivileged(dir: &Path, args: &[&str]) -> Output {
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash"]);
        c
    } else {
        Command::new("bash")
    };
    // A copy in `dir`: the checkout may be unreadable for `nobody` (/root/…).
    let copy = dir.join("deps.sh");
    std::fs::copy(script(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    cmd.arg(&copy).args(args).env_clear().env("PATH", path).env("HOME", dir);
    cmd.output().expect("run deps.sh")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn build_only_is_a_subset_without_obs_or_test_tools() {
    let list = |args: &[&str]| -> Vec<String> {
        let o = Command::new("bash").arg(script()).args(args).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
    };
    let build = list(&["--build-only", "--print"]);
    let all = list(&["--print"]);
    for p in [
        "libobs-dev",
        "libclang-dev",
        "cmake",
        "qtbase5-dev",
        "qt6-base-dev",
        "dpkg-dev",
    ] {
        assert!(build.iter().any(|b| b == p), "{p} missing from --build-only: {build:?}");
    }
    for p in [
        "obs-studio",
        "xvfb",
        "nginx-light",
        "gnome-keyring",
        "debootstrap",
        "patchelf",
    ] {
        assert!(!build.iter().any(|b| b == p), "--build-only installs {p}");
        assert!(all.iter().any(|b| b == p), "{p} missing from the full list");
    }
    assert!(build.iter().all(|b| all.contains(b)));
}

#[test]
fn without_root_and_without_sudo_it_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    fake(dir.path(), "dpkg-query", "exit 1");
    let o = run_unprivileged(dir.path(), &["--build-only"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("not root and no sudo here"), "{t}");
    assert!(t.contains("apt-get install pkg-config libobs-dev"), "{t}");
    assert!(!t.contains("obs-studio"), "--build-only asked for OBS: {t}");
}

#[test]
fn without_root_it_uses_sudo_and_names_rustup_when_cargo_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let log = dir.path().join("sudo.log");
    fake(dir.path(), "dpkg-query", "exit 1");
    fake(dir.path(), "sudo", &format!("echo \"$*\" >> {}", log.display()));
    let o = run_unprivileged(dir.path(), &[]);
    let t = text(&o);
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(calls.contains("apt-get update"), "{calls}\n{t}");
    assert!(
        calls.contains("apt-get install -y -qq --no-install-recommends pkg-config") && calls.contains("obs-studio"),
        "{calls}"
    );
    // cargo is not on this PATH: one line says how to get it.
    assert_eq!(o.status.code(), Some(1), "{t}");
    let hint: Vec<&str> = t.lines().filter(|l| l.contains("rustup")).collect();
    assert_eq!(hint.len(), 1, "{t}");
    assert!(hint[0].contains("https://sh.rustup.rs"), "{t}");
}
