//! Test rig shared by the integration tests: Xvfb, a private OBS config with
//! the plugin installed where a user installs it, OBS itself, and an
//! obs-websocket client. Real processes, no mocks.
#![allow(dead_code)]

pub mod keyboard;
pub mod obs;
pub mod proxy;
pub mod sandbox;
pub mod ws;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/ of the running test binary.
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// `target/artifacts/` (screenshots, crash backtraces); in a matrix row
/// (`VELORA_TEST_ROW`) `target/artifacts/matrix-<row>/`, so rows that run the
/// same OBS major never overwrite each other's (or the host's).
pub fn artifacts_dir() -> PathBuf {
    let mut d = target_profile_dir().parent().unwrap().join("artifacts");
    if let Ok(row) = std::env::var("VELORA_TEST_ROW") {
        if !row.is_empty() {
            d = d.join(format!("matrix-{row}"));
        }
    }
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
    copy_docks(&bin.join("velora"));
    copy_dir(&repo_root().join("data"), &data);
    InstalledPlugin { root, so, data }
}

/// How the rig installs the plugin for OBS (`VELORA_TEST_LAYOUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `user` (default): the per-user plugin directory of the OBS config.
    User,
    /// `flatpak`: the tree a Flatpak extension produces
    /// (`/app/plugins/Velora/…`, merged into `/app/plugins/lib/obs-plugins`
    /// and `/app/plugins/share/obs/obs-plugins` by symlinks, as flatpak's
    /// `merge-dirs` does), under the test's home; OBS is pointed at the
    /// merged directories with `OBS_PLUGINS_PATH` / `OBS_PLUGINS_DATA_PATH`.
    Flatpak,
}

pub fn layout() -> Layout {
    match std::env::var("VELORA_TEST_LAYOUT").as_deref() {
        Ok("flatpak") => Layout::Flatpak,
        Ok("user") | Ok("") | Err(_) => Layout::User,
        Ok(other) => panic!("VELORA_TEST_LAYOUT={other}: expected user or flatpak"),
    }
}

fn symlink(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Installs the plugin as the Flatpak extension `com.obsproject.Studio.Plugin.Velora`
/// would be, under `root` (standing for `/`): the extension's files in
/// `app/plugins/Velora/` (only the Qt 6 dock: the OBS Flatpak is Qt 6), and
/// the symlinks flatpak makes for `merge-dirs: lib/obs-plugins;share/obs/obs-plugins`
/// (one per top-level entry, flatpak's common/flatpak-run.c). Returns the
/// plugin (`so` is the merged path OBS loads) and the environment for OBS.
pub fn install_flatpak_tree(root: &Path) -> (InstalledPlugin, Vec<(&'static str, String)>) {
    let plugins = root.join("app/plugins");
    let ext = plugins.join("Velora");
    let ext_lib = ext.join("lib/obs-plugins");
    let ext_data = ext.join("share/obs/obs-plugins/velora");
    std::fs::create_dir_all(&ext_lib).unwrap();
    std::fs::copy(built_plugin(), ext_lib.join("velora.so")).unwrap();
    copy_docks(&ext_lib.join("velora"));
    let _ = std::fs::remove_file(ext_lib.join("velora/velora-dock-qt5.so"));
    copy_dir(&repo_root().join("data"), &ext_data);
    let merged_lib = plugins.join("lib/obs-plugins");
    let merged_data = plugins.join("share/obs/obs-plugins");
    for entry in std::fs::read_dir(&ext_lib).unwrap().flatten() {
        symlink(&entry.path(), &merged_lib.join(entry.file_name()));
    }
    symlink(&ext_data, &merged_data.join("velora"));
    let env = vec![
        ("OBS_PLUGINS_PATH", merged_lib.display().to_string()),
        ("OBS_PLUGINS_DATA_PATH", merged_data.display().to_string()),
    ];
    let plugin = InstalledPlugin {
        root: ext,
        so: merged_lib.join("velora.so"),
        data: merged_data.join("velora"),
    };
    (plugin, env)
}

/// The Qt docks built by scripts/build-dock.sh, copied into `dir` (the
/// `velora/` subdirectory next to velora.so, where the core looks).
pub fn copy_docks(dir: &Path) {
    let target = target_profile_dir().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(dir).unwrap();
    for sub in ["dock-qt5", "dock-qt6", "dock"] {
        if let Ok(rd) = std::fs::read_dir(target.join(sub)) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with("velora-dock-qt") && name.ends_with(".so") {
                    std::fs::copy(e.path(), dir.join(&name)).unwrap();
                }
            }
        }
    }
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

#[allow(unused_imports)]
pub use obs_rig::{free_port, wait_for};

/// An X display: the one in `$DISPLAY`, or a private Xvfb stopped on drop.
/// Xvfb, a sandbox that approves logins, OBS with the plugin (per-user
/// install, tokens in the keyring) and an obs-websocket client, logged in
/// to Velora. Fields drop in order: the client, OBS, its home, the sandbox,
/// the display.
pub struct LoggedIn {
    pub ws: ws::Ws,
    pub obs: obs::Obs,
    pub home: obs::ObsHome,
    pub velora: sandbox::Velora,
    pub display: Display,
}

pub fn logged_in_obs() -> LoggedIn {
    let display = display();
    let velora = sandbox::Velora::start();
    let home = obs::ObsHome::new(true);
    let obs = obs::Obs::start(&home, &display.name, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    assert_eq!(ws.velora("Login", serde_json::json!({}))["ok"], true);
    ws.wait_status(30, |s| s["loggedIn"] == true);
    LoggedIn {
        ws,
        obs,
        home,
        velora,
        display,
    }
}

pub struct Display {
    pub name: String,
    _xvfb: Option<obs_rig::x11::Xvfb>,
}

pub fn display() -> Display {
    if let Ok(d) = std::env::var("DISPLAY") {
        if !d.is_empty() {
            return Display { name: d, _xvfb: None };
        }
    }
    start_xvfb()
}

/// Starts a private Xvfb on a display of its own choosing.
pub fn start_xvfb() -> Display {
    let xvfb = obs_rig::x11::Xvfb::start(1280, 800, obs_rig::Group::Shared).unwrap_or_else(|e| panic!("{e}"));
    Display {
        name: xvfb.display.clone(),
        _xvfb: Some(xvfb),
    }
}

/// Takes a screenshot of the whole display into target/artifacts/NAME.png.
pub fn screenshot(display: &str, name: &str) -> Option<PathBuf> {
    let path = artifacts_dir().join(format!("{name}.png"));
    obs_rig::x11::screenshot(display, &path).then_some(path)
}
