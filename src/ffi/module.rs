//! The module's life: `obs_module_load` / `post_load` / `unload`, its name
//! and version, and the [`Host`] the session sees OBS through.
//!
//! `obs_module_load` only registers and returns: no network, no keyring, no
//! thread. The worker starts on FINISHED_LOADING (see `frontend`).

use super::{frontend, frontend_api, locale, stream_service};
use crate::cancel::Cancel;
use crate::guard::guard;
use crate::host::{CurrentService, Host};
use crate::stream_config::ServiceSettings;
use std::ffi::c_char;
use std::sync::Arc;

#[no_mangle]
pub extern "C" fn obs_module_ver() -> u32 {
    guard("obs_module_ver", crate::version::MODULE_API_VERSION, || {
        crate::version::MODULE_API_VERSION
    })
}

#[no_mangle]
pub extern "C" fn obs_module_name() -> *const c_char {
    guard("obs_module_name", c"Velora".as_ptr(), || c"Velora".as_ptr())
}

#[no_mangle]
pub extern "C" fn obs_module_description() -> *const c_char {
    const DESCRIPTION: &std::ffi::CStr =
        c"Stream to Velora in one click: login, ingest and stream key, title, category and tags.";
    guard("obs_module_description", DESCRIPTION.as_ptr(), || DESCRIPTION.as_ptr())
}

/// [`Host`] over libobs and the frontend API.
pub struct ObsHost;

impl Host for ObsHost {
    fn obs_version(&self) -> u32 {
        super::obs_version()
    }

    fn obs_version_string(&self) -> String {
        super::obs_version_string()
    }

    fn current_service(&self) -> Option<CurrentService> {
        stream_service::current()
    }

    fn refresh_service(&self) {
        stream_service::queue_refresh();
    }

    fn settle_service(&self) {
        stream_service::settle();
    }

    fn emit_event(&self, name: &str, data: serde_json::Value) {
        super::websocket::emit(name, &data);
    }

    fn streaming_active(&self) -> bool {
        frontend_api::streaming_active()
    }

    fn config_dir(&self) -> Option<std::path::PathBuf> {
        locale::config_path("")
    }

    fn apply_velora_service(&self, settings: &ServiceSettings, cancel: &Cancel) -> Result<(), String> {
        stream_service::apply(settings, cancel)
    }

    fn replace_with_velora_service(&self, settings: &ServiceSettings, cancel: &Cancel) -> Result<(), String> {
        stream_service::replace(settings, cancel)
    }

    fn previous_service(&self) -> Option<(String, String)> {
        stream_service::previous()
    }

    fn restore_previous_service(&self, cancel: &Cancel) -> Result<(), String> {
        stream_service::restore(cancel)
    }
}

#[no_mangle]
pub extern "C" fn obs_module_load() -> bool {
    guard("obs_module_load", false, || {
        super::log::install();
        let v = super::obs_version();
        if !crate::version::is_supported(v) {
            // velora.so names no libobs, so the loader cannot stop an older OBS.
            log::error!(
                "obs-velora {} needs OBS {} or newer; this is OBS {} (libobs {}): not loading",
                crate::version::PLUGIN_VERSION,
                crate::version::display(crate::version::MIN_OBS_VERSION),
                super::obs_version_string(),
                crate::version::display(v)
            );
            return false;
        }
        if super::service::already_registered() {
            let here = super::dock::module_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            log::error!(
                "another copy of obs-velora is already loaded (OBS found the plugin in two places); \
                 the one in {here} is not loaded. Keep one install: the system package, the \
                 per-user copy or the Flatpak extension"
            );
            return false;
        }
        log::info!(
            "loading obs-velora {} (OBS {} / libobs {}) from {}",
            crate::version::PLUGIN_VERSION,
            super::obs_version_string(),
            crate::version::display(v),
            super::dock::module_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        );
        crate::text::set_lookup(Some(locale::text_string));
        crate::metrics::set_thread_usage(Some(super::thread_usage));
        super::ui::open();
        super::service::register(v);
        crate::host::install(Some(Arc::new(ObsHost)));
        true
    })
}

#[no_mangle]
pub extern "C" fn obs_module_post_load() {
    guard("obs_module_post_load", (), || {
        super::websocket::register();
        frontend::attach();
    })
}

#[no_mangle]
pub extern "C" fn obs_module_unload() {
    guard("obs_module_unload", (), || {
        frontend::detach();
        super::websocket::unregister();
        crate::session::finish();
        crate::status::clear_listeners();
        crate::host::install(None);
        stream_service::forget();
        crate::text::set_lookup(None);
        let left = crate::threads::live();
        if left.is_empty() {
            log::info!("unloaded; no thread of ours is running");
        } else {
            log::warn!("unloaded; threads of ours still running: {}", left.join(", "));
        }
    })
}
