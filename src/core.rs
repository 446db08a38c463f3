//! The plugin's one instance: what OBS can ask of us and what we need from
//! OBS, behind the [`Host`] trait so that this file (and everything it drives)
//! stays safe Rust, testable without OBS.

use crate::stream_config::{ServiceSettings, SERVICE_ID};
use once_cell::sync::Lazy;
use std::sync::{Arc, RwLock};

/// What the plugin asks of OBS. Implemented in `ffi::frontend` over libobs and
/// the frontend API; tests implement it in memory.
pub trait Host: Send + Sync {
    /// `obs_module_text`.
    fn text(&self, key: &str) -> String;
    /// `obs_get_version()`.
    fn obs_version(&self) -> u32;
    fn obs_version_string(&self) -> String;
    /// The current profile's streaming service: type id and, for `velora`, its settings.
    fn current_service(&self) -> Option<CurrentService>;
    /// Emits an obs-websocket vendor event.
    fn emit_event(&self, name: &str, data: serde_json::Value);
    /// `obs_frontend_streaming_active()`.
    fn streaming_active(&self) -> bool {
        false
    }
    /// The plugin's own config directory (`obs_module_config_path`).
    fn config_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Makes `velora` the current profile's streaming service with these
    /// settings and saves it (on OBS's UI thread). Before replacing another
    /// service for the first time, keeps a copy of it beside the profile's
    /// service.json for [`Host::restore_previous_service`].
    fn apply_velora_service(&self, _settings: &ServiceSettings) -> Result<(), String> {
        Err("no OBS frontend".into())
    }
    /// The saved copy of the user's previous service: type id and settings JSON.
    fn previous_service(&self) -> Option<(String, String)> {
        None
    }
    /// Puts the previous service back (UI thread) and forgets the copy.
    fn restore_previous_service(&self) -> Result<(), String> {
        Err("no OBS frontend".into())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CurrentService {
    pub type_id: String,
    pub velora: Option<ServiceSettings>,
}

impl CurrentService {
    pub fn is_velora(&self) -> bool {
        self.type_id == SERVICE_ID
    }
}

struct Core {
    host: Arc<dyn Host>,
}

static CORE: Lazy<RwLock<Option<Core>>> = Lazy::new(|| RwLock::new(None));

/// Called from `obs_module_load`: stores the host. Starts nothing.
pub fn init(host: Box<dyn Host>) {
    let mut g = CORE.write().unwrap_or_else(|e| e.into_inner());
    *g = Some(Core { host: Arc::from(host) });
}

/// Called from `obs_module_unload`.
pub fn shutdown() {
    let mut g = CORE.write().unwrap_or_else(|e| e.into_inner());
    *g = None;
}

pub fn host() -> Option<Arc<dyn Host>> {
    CORE.read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|c| c.host.clone())
}

/// Emits `StatusChanged` to obs-websocket on every change of the status
/// board (FINISHED_LOADING).
pub fn start_status_events() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        crate::status::subscribe(|_| {
            if let Some(h) = host() {
                let mut v = crate::session::status_json(h.as_ref());
                if let Some(o) = v.as_object_mut() {
                    o.remove("ok");
                }
                h.emit_event("StatusChanged", v);
            }
        });
    });
}

/// A localized string (the key itself outside OBS).
pub fn text(key: &str) -> String {
    host().map_or_else(|| key.to_string(), |h| h.text(key))
}

/// The `velora` service's `update` callback saw new settings.
pub fn on_service_settings_changed(old: &ServiceSettings, new: &ServiceSettings) {
    if old.server != new.server || old.protocol != new.protocol || old.key != new.key {
        log::info!(
            "service settings changed: protocol {}, server {}, key {}",
            new.protocol.as_str(),
            if new.server.is_empty() { "(empty)" } else { "(set)" },
            if new.key.is_empty() { "(empty)" } else { "(set)" }
        );
    }
    if old != new {
        crate::session::obs_event(crate::session::ObsEvent::ServiceSettingsChanged {
            old: Box::new(old.clone()),
            new: Box::new(new.clone()),
        });
    }
}
