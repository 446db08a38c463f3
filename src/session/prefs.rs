//! The plugin's own preferences (no secrets): environment, custom URL,
//! redirect port, whether the dock was shown once. JSON in the plugin's
//! config directory (`obs_module_config_path`), written atomically.

use crate::config::{EndpointSettings, Environment};
use crate::host::Host;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const FILE: &str = "velora.json";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Prefs {
    /// `production`, `sandbox`, `custom`; unset follows `VELORA_API_URL`
    /// (default production).
    pub environment: Option<String>,
    pub custom_url: String,
    pub redirect_port: Option<u16>,
    pub dock_shown_once: bool,
}

impl Prefs {
    pub fn environment(&self) -> Option<Environment> {
        self.environment.as_deref().and_then(Environment::parse)
    }

    /// What `config::resolve_from_env` needs from the preferences.
    pub fn endpoint_settings(&self) -> EndpointSettings {
        let environment = self.environment();
        EndpointSettings {
            environment,
            api_url: (environment == Some(Environment::Custom) && !self.custom_url.trim().is_empty())
                .then(|| self.custom_url.trim().to_string()),
            ..Default::default()
        }
    }
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Reads the preferences. A missing file means defaults; an unreadable one
/// too, with a warning (the next save replaces it).
pub fn load(dir: &Path) -> Prefs {
    match std::fs::read(path(dir)) {
        Ok(bytes) => parse(&bytes).unwrap_or_else(|e| {
            log::warn!("{FILE} is not valid ({e}); using defaults");
            Prefs::default()
        }),
        Err(_) => Prefs::default(),
    }
}

/// Parses the preferences file.
pub fn parse(bytes: &[u8]) -> Result<Prefs, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Writes the preferences atomically (one writer at a time, so an older
/// state never overwrites a newer one).
pub fn save(dir: &Path, prefs: &Prefs) -> std::io::Result<()> {
    static WRITING: Mutex<()> = Mutex::new(());
    let _one = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_vec_pretty(prefs).unwrap_or_default();
    crate::fsutil::write_private(&path(dir), &text)
}

/// The preferences in effect, readable by the faces without asking the worker.
static CURRENT: Mutex<Prefs> = Mutex::new(Prefs {
    environment: None,
    custom_url: String::new(),
    redirect_port: None,
    dock_shown_once: false,
});

fn lock() -> std::sync::MutexGuard<'static, Prefs> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the file into memory (worker start, on OBS's UI thread: one small file).
pub fn load_into_memory(host: &dyn Host) {
    let p = host.config_dir().map(|d| load(&d)).unwrap_or_default();
    *lock() = p;
}

pub fn current() -> Prefs {
    lock().clone()
}

/// Changes the preferences in memory; saving is the worker's
/// ([`crate::session::Event::SavePrefs`]).
pub fn update<R>(f: impl FnOnce(&mut Prefs) -> R) -> R {
    f(&mut lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_defaults() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(load(d.path()), Prefs::default());
        let p = Prefs {
            environment: Some("sandbox".into()),
            custom_url: "x".into(),
            redirect_port: Some(1),
            dock_shown_once: true,
        };
        save(d.path(), &p).unwrap();
        assert_eq!(load(d.path()), p);
        assert_eq!(p.environment(), Some(Environment::Sandbox));
        assert_eq!(p.endpoint_settings().api_url, None);
        let c = Prefs {
            environment: Some("custom".into()),
            custom_url: " http://127.0.0.1:9/ ".into(),
            ..Default::default()
        };
        assert_eq!(c.endpoint_settings().api_url.as_deref(), Some("http://127.0.0.1:9/"));
        std::fs::write(path(d.path()), "not json").unwrap();
        assert_eq!(load(d.path()), Prefs::default());
    }
}
