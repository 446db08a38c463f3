//! What the plugin needs from OBS, behind the [`Host`] trait, so the session
//! (and everything it drives) stays safe Rust, testable without OBS. The FFI
//! layer implements it over libobs and the frontend API; tests implement it
//! in memory.

use crate::cancel::Cancel;
use crate::stream_config::{ServiceSettings, SERVICE_ID};
use crate::Secret;
use std::sync::{Arc, RwLock};

pub trait Host: Send + Sync {
    /// `obs_get_version()`.
    fn obs_version(&self) -> u32;
    fn obs_version_string(&self) -> String;
    /// The current profile's streaming service as last seen on OBS's UI
    /// thread (never read from OBS on the caller's thread: the UI thread may
    /// be replacing it). Any thread, no waiting.
    fn current_service(&self) -> Option<CurrentService>;
    /// Asks for [`Host::current_service`] to be read again on OBS's UI
    /// thread soon (never waits). Tools can replace the service without any
    /// event reaching the plugin (obs-websocket's `SetStreamServiceSettings`
    /// keeps the services it creates alive), so the copy is also refreshed
    /// every few seconds and whenever a tool asks for the status.
    fn refresh_service(&self) {}
    /// [`Host::refresh_service`], then waits for that read (off the UI
    /// thread only; a quarter of a second at most, never while OBS quits):
    /// afterwards [`Host::current_service`] is at least as new as the call.
    /// For `GetStatus`, so a tool that changed the service sees its change.
    fn settle_service(&self) {
        self.refresh_service()
    }
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
    /// settings and saves it, on OBS's UI thread; waits for it unless
    /// `cancel` fires (then the change is not made). Before replacing another
    /// service for the first time, keeps a copy of it beside the profile's
    /// service.json for [`Host::restore_previous_service`].
    fn apply_velora_service(&self, _settings: &ServiceSettings, _cancel: &Cancel) -> Result<(), String> {
        Err("no OBS frontend".into())
    }
    /// The saved copy of the user's previous service: type id and settings JSON.
    fn previous_service(&self) -> Option<(String, String)> {
        None
    }
    /// Puts the previous service back (UI thread) and forgets the copy.
    fn restore_previous_service(&self, _cancel: &Cancel) -> Result<(), String> {
        Err("no OBS frontend".into())
    }
    /// Like [`Host::apply_velora_service`], but never keeps a copy of the
    /// service it replaces: used when that service is Velora's own (saved
    /// by Settings › Stream without its server, or a custom server that
    /// points at Velora's ingest), which is not "the user's own service".
    fn replace_with_velora_service(&self, settings: &ServiceSettings, cancel: &Cancel) -> Result<(), String> {
        self.apply_velora_service(settings, cancel)
    }
}

/// The streaming service OBS uses: its type and, for `velora`, its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentService {
    pub type_id: String,
    pub velora: Option<ServiceSettings>,
    /// For any other type: the fields OBS's own services share (what
    /// Settings › Stream writes), to recognise Velora's ingest in them.
    pub other: Option<OtherService>,
}

/// `service`, `server` and `key` of a service that is not `velora`
/// (`rtmp_common`, `rtmp_custom`, …). The key stays a [`Secret`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OtherService {
    /// `settings["service"]`: the name Settings › Stream shows and saves.
    pub name: String,
    pub server: String,
    pub key: Secret,
}

impl CurrentService {
    pub fn is_velora(&self) -> bool {
        self.type_id == SERVICE_ID
    }
}

static HOST: RwLock<Option<Arc<dyn Host>>> = RwLock::new(None);

/// Module load stores the host; unload removes it.
pub fn install(host: Option<Arc<dyn Host>>) {
    *HOST.write().unwrap_or_else(|e| e.into_inner()) = host;
}

pub fn get() -> Option<Arc<dyn Host>> {
    HOST.read().unwrap_or_else(|e| e.into_inner()).clone()
}
