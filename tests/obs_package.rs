//! The Debian package in a clean root: `apt-get install ./obs-velora_*.deb`,
//! OBS (no per-user copy) loads the plugin from the system directories and
//! answers the vendor request `GetStatus`; the module folder holds modules
//! only; a per-user copy next to the package is refused, not loaded twice;
//! `apt-get remove` leaves no file of ours behind.
//!
//! Needs root and a throw-away Debian root with OBS, mounted like the
//! compatibility matrix's (scripts/matrix.sh makes one per row from an
//! overlay of a cached root: rows deb-bookworm, deb-trixie, deb-sid):
//!
//!   VELORA_TEST_ROOT   the root (its files are changed!)
//!   VELORA_TEST_DEB    the .deb, at a path valid inside the root too
//!   VELORA_OBS_CMD     scripts/matrix/obs-in-chroot ROOT

mod common;

use common::obs::{our_lines, our_problems, Obs, ObsHome};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (see the file's doc)")))
}

/// Runs `sh -c SCRIPT` inside the root (a clean environment, as root).
fn in_root(root: &Path, script: &str) -> (bool, String) {
    let out = Command::new("chroot")
        .arg(root)
        .args(["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
        .args(["DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8", "sh", "-c", script])
        .output()
        .expect("chroot");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every path in the root's own filesystem, minus what apt and dpkg keep
/// about themselves (their database, caches, logs) and the dynamic loader's
/// cache.
fn snapshot(root: &Path) -> BTreeSet<String> {
    let out = Command::new("find")
        .arg(root)
        .args(["-xdev", "-printf", "%P\\n"])
        .output()
        .expect("find");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| {
            ![
                "var/lib/dpkg",
                "var/lib/apt",
                "var/cache/apt",
                "var/cache/debconf",
                "var/cache/ldconfig",
                "var/log",
                "etc/ld.so.cache",
                "tmp",
                "root",
            ]
            .iter()
            .any(|skip| p == skip || p.starts_with(&format!("{skip}/")))
        })
        .map(str::to_string)
        .collect()
}

/// `readelf --dyn-syms` says the file defines `obs_module_load`.
fn is_obs_module(so: &Path) -> bool {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(so)
        .output()
        .expect("readelf");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.ends_with(" obs_module_load") && !l.contains(" UND "))
}

fn needed(so: &Path) -> Vec<String> {
    let out = Command::new("readelf").arg("-d").arg(so).output().expect("readelf");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1).map(|s| s.trim_end_matches(']').to_string()))
        .collect()
}

#[test]
#[ignore = "needs root and a throw-away Debian root: run by scripts/matrix.sh (rows deb-bookworm, deb-trixie, deb-sid)"]
fn deb_installs_loads_answers_and_removes_cleanly() {
    let root = env_path("VELORA_TEST_ROOT");
    let deb = env_path("VELORA_TEST_DEB");
    assert!(root.join("usr/bin/obs").exists(), "no OBS in {}", root.display());
    assert!(
        root.join(deb.strip_prefix("/").unwrap()).exists(),
        "{} is not visible inside the root",
        deb.display()
    );
    let (ok, out) = in_root(&root, "dpkg-query -W -f '${Status}' obs-velora 2>/dev/null");
    assert!(
        !ok || !out.contains("installed"),
        "obs-velora is already installed: the root is not clean"
    );
    let before = snapshot(&root);

    // --- install, exactly as the README says -------------------------------
    let (ok, out) = in_root(
        &root,
        &format!(
            "cd '{}' && apt-get install -y --no-install-recommends ./'{}'",
            deb.parent().unwrap().display(),
            deb.file_name().unwrap().to_string_lossy()
        ),
    );
    assert!(ok, "apt-get install ./{}:\n{out}", deb.display());
    let (ok, files) = in_root(&root, "dpkg -L obs-velora");
    assert!(ok, "{files}");
    let files: Vec<&str> = files.lines().filter(|l| l.starts_with('/')).collect();
    let module_dir = files
        .iter()
        .find(|f| f.ends_with("/obs-plugins/velora.so"))
        .map(|f| Path::new(f).parent().unwrap().to_path_buf())
        .unwrap_or_else(|| panic!("no obs-plugins/velora.so in the package: {files:?}"));
    assert!(
        module_dir.starts_with("/usr/lib/") && module_dir.ends_with("obs-plugins"),
        "{}",
        module_dir.display()
    );
    for f in ["velora/velora-dock-qt5.so", "velora/velora-dock-qt6.so"] {
        assert!(
            files.contains(&module_dir.join(f).to_str().unwrap()),
            "{f} missing: {files:?}"
        );
    }
    assert!(files.contains(&"/usr/share/obs/obs-plugins/velora/locale/en-US.ini"));
    assert!(files.contains(&"/usr/share/doc/obs-velora/copyright"));
    assert!(files.contains(&"/usr/share/doc/obs-velora/changelog.gz"));

    // The installed velora.so names no OBS library.
    let installed = root.join(module_dir.strip_prefix("/").unwrap());
    let deps = needed(&installed.join("velora.so"));
    assert!(!deps.is_empty());
    assert!(
        deps.iter().all(|d| !d.starts_with("libobs") && !d.contains("Qt")),
        "{deps:?}"
    );
    // OBS's module folder holds modules only: every *.so directly in it
    // exports obs_module_load (ours and OBS's own).
    let mut sos = 0;
    for e in std::fs::read_dir(&installed).unwrap().flatten() {
        let p = e.path();
        if p.is_file() && p.extension().is_some_and(|x| x == "so") {
            sos += 1;
            assert!(
                is_obs_module(&p),
                "{} in OBS's module folder is not a module",
                p.display()
            );
        }
    }
    assert!(sos > 5, "only {sos} modules in {}", installed.display());

    // --- OBS loads it from the system directories --------------------------
    let display = common::display();
    let home = ObsHome::new(false);
    let obs = Obs::start(&home, &display.name, &[]);
    let mut ws = obs.ws();
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["ok"], true, "{st}");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit {status}:\n{}", home.log_tail(40));
    // OBS 29 builds the path as "/usr/" + "lib/…": "/usr//lib/…".
    let log = home.logs().replace("//", "/");
    let lines = our_lines(&log).join("\n");
    assert!(
        log.contains(&format!(") from {}\n", module_dir.display())),
        "not loaded from {}:\n{lines}",
        module_dir.display()
    );
    assert!(log.contains("[velora] dock loaded"), "{lines}");
    assert!(our_problems(&log).is_empty(), "{:?}", our_problems(&log));
    let probed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("velora-dock-qt") && !l.contains("[velora]"))
        .collect();
    assert!(probed.is_empty(), "OBS looked at a dock library itself: {probed:?}");

    // --- a per-user copy as well: refused, the package's copy works --------
    let home2 = ObsHome::new(true);
    let obs = Obs::start(&home2, &display.name, &[]);
    let mut ws = obs.ws();
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["ok"], true, "{st}");
    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit {status}:\n{}", home2.log_tail(40));
    let log = home2.logs().replace("//", "/");
    let lines = our_lines(&log).join("\n");
    assert_eq!(log.matches("] service 'velora' registered").count(), 1, "{lines}");
    assert!(log.contains(&format!(") from {}\n", module_dir.display())), "{lines}");
    assert!(log.contains("another copy of obs-velora is already loaded"), "{lines}");

    // --- remove: nothing of ours is left -----------------------------------
    let (ok, out) = in_root(&root, "apt-get remove -y obs-velora");
    assert!(ok, "apt-get remove:\n{out}");
    let (_, st) = in_root(&root, "dpkg-query -W -f '${Status}' obs-velora 2>/dev/null");
    assert!(!st.contains(" installed"), "{st}");
    for f in &files {
        let p = root.join(f.trim_start_matches('/'));
        if p.is_dir() {
            continue; // shared directories (/usr/lib/…/obs-plugins) stay
        }
        assert!(!p.exists() && p.symlink_metadata().is_err(), "{f} is still there");
    }
    let after = snapshot(&root);
    let left: Vec<_> = after.difference(&before).collect();
    assert!(left.is_empty(), "left behind after apt-get remove: {left:?}");
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(gone.is_empty(), "removed by the package: {gone:?}");
}
