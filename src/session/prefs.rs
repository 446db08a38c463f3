//! The plugin's own preferences (no secrets): environment, custom URL,
//! redirect port, whether the dock was shown once. JSON in the plugin's
//! config directory (`obs_module_config_path`), written atomically.

use crate::config::{EndpointSettings, Environment};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

pub fn load(dir: &Path) -> Prefs {
    match std::fs::read_to_string(path(dir)) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            log::warn!("{} is not valid ({e}); using defaults", FILE);
            Prefs::default()
        }),
        Err(_) => Prefs::default(),
    }
}

pub fn save(dir: &Path, prefs: &Prefs) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(prefs).unwrap_or_default())?;
    std::fs::rename(tmp, path(dir))
}

/// Saving touches the disk: never on the UI thread.
pub fn save_in_background(prefs: Prefs) {
    let Some(dir) = crate::core::host().and_then(|h| h.config_dir()) else {
        return;
    };
    let _ = std::thread::Builder::new().name("velora-prefs".into()).spawn(move || {
        if let Err(e) = save(&dir, &prefs) {
            log::warn!("could not save {}: {e}", FILE);
        }
    });
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
