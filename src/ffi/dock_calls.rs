//! The core's side of the dock's calls ([`CORE_API`]): texts, actions sent
//! to the session as requests (each returns its id), the key reveal, and
//! the dock's own time on the UI thread.

use super::dock_api::{VeloraCoreApi, VeloraEnvironment, VeloraProtocol, VeloraUiMark, VELORA_DOCK_ABI_VERSION};
use super::dock_snapshot::{api_state_free, api_state_get};
use super::{cstring, locale};
use crate::guard::ui_guard;
use crate::session::{self, Request};
use crate::stream_config::Protocol;
use std::ffi::{c_char, CStr, CString};

/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn opt_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: per the function's contract.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

extern "C" fn api_text(key: *const c_char) -> *const c_char {
    // SAFETY: the dock passes a NUL-terminated key (or NULL, which is returned as is).
    ui_guard("dock.text", key, || unsafe { locale::obs_module_text(key) })
}

/// Sends a dock request; 0 when the guard caught a panic.
fn request(where_: &str, make: impl FnOnce() -> Request) -> u64 {
    ui_guard(where_, 0, || session::dock_request(make()))
}

extern "C" fn api_login() -> u64 {
    request("dock.login", || Request::Login)
}

extern "C" fn api_cancel_login() -> u64 {
    request("dock.cancel_login", || Request::CancelLogin)
}

extern "C" fn api_logout(restore_previous: bool) -> u64 {
    request("dock.logout", || Request::Logout { restore_previous })
}

extern "C" fn api_use_velora(protocol: VeloraProtocol) -> u64 {
    let protocol = match protocol {
        VeloraProtocol::Rtmp => Protocol::Rtmp,
        VeloraProtocol::Srt => Protocol::Srt,
        VeloraProtocol::Whip => Protocol::Whip,
    };
    request("dock.use_velora", || Request::ApplySetup {
        protocol: Some(protocol),
    })
}

extern "C" fn api_restore_previous() -> u64 {
    request("dock.restore_previous", || Request::RestorePrevious)
}

extern "C" fn api_update_stream_info(title: *const c_char, category_slug: *const c_char, tags: *const c_char) -> u64 {
    request("dock.update_stream_info", || {
        // SAFETY: the dock passes NULL or valid strings for the call.
        let (title, category, tags) = unsafe { (opt_str(title), opt_str(category_slug), opt_str(tags)) };
        Request::SetStreamInfo {
            title,
            category,
            tags: tags.map(|g| crate::stream_config::split_tags(&g)),
        }
    })
}

extern "C" fn api_regenerate_key() -> u64 {
    request("dock.regenerate_key", || Request::RegenerateKey)
}

extern "C" fn api_reveal_key() -> *mut c_char {
    ui_guard("dock.reveal_key", std::ptr::null_mut(), || {
        match crate::host::get().and_then(|h| session::reveal_key(h.as_ref())) {
            Some(k) => cstring(k.expose()).into_raw(),
            None => std::ptr::null_mut(),
        }
    })
}

extern "C" fn api_string_free(s: *mut c_char) {
    ui_guard("dock.string_free", (), || {
        if !s.is_null() {
            // SAFETY: `s` came from CString::into_raw in api_reveal_key.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

extern "C" fn api_set_environment(env: VeloraEnvironment, custom_url: *const c_char) -> u64 {
    request("dock.set_environment", || {
        // SAFETY: NULL or a valid string for the call.
        let url = unsafe { opt_str(custom_url) }.unwrap_or_default();
        let env = match env {
            VeloraEnvironment::Production => crate::config::Environment::Production,
            VeloraEnvironment::Sandbox => crate::config::Environment::Sandbox,
            VeloraEnvironment::Custom => crate::config::Environment::Custom,
        };
        Request::SetEnvironment {
            env,
            custom_url: url.trim().to_string(),
        }
    })
}

extern "C" fn api_refresh_categories() -> u64 {
    request("dock.refresh_categories", || Request::GetCategories { refresh: true })
}

extern "C" fn api_dock_visible(visible: bool) {
    ui_guard("dock.dock_visible", (), || {
        session::event(session::Event::DockVisible(visible))
    })
}

extern "C" fn api_first_run() -> bool {
    ui_guard("dock.first_run", false, session::take_first_run)
}

extern "C" fn api_check_key() -> u64 {
    request("dock.check_key", || Request::CheckKey)
}

// Neither goes through ui_guard: that would count these calls themselves.
extern "C" fn api_ui_mark() -> VeloraUiMark {
    crate::guard::guard("dock.ui_mark", VeloraUiMark::from(None), || {
        VeloraUiMark::from(Some(crate::metrics::mark()))
    })
}

extern "C" fn api_report_ui_time(since: VeloraUiMark, what: *const c_char) {
    crate::guard::guard("dock.report_ui_time", (), || {
        let Some(mark) = since.to_mark() else {
            return;
        };
        let held = crate::metrics::held_since(mark);
        crate::metrics::record_ui_call(held.micros);
        if held.micros > crate::metrics::UI_FRAME_MICROS {
            // SAFETY: the dock passes NULL or a string valid for the call.
            let what = unsafe { opt_str(what) }.unwrap_or_default();
            log::warn!("the dock's {what} held OBS's UI thread for {held}");
        }
    })
}

extern "C" fn api_settings_closed() {
    ui_guard("dock.settings_closed", (), super::stream_service::settings_closed)
}

/// The table handed to the dock.
pub static CORE_API: VeloraCoreApi = VeloraCoreApi {
    abi_version: VELORA_DOCK_ABI_VERSION,
    text: api_text,
    state_get: api_state_get,
    state_free: api_state_free,
    login: api_login,
    cancel_login: api_cancel_login,
    logout: api_logout,
    use_velora: api_use_velora,
    restore_previous: api_restore_previous,
    update_stream_info: api_update_stream_info,
    regenerate_key: api_regenerate_key,
    reveal_key: api_reveal_key,
    string_free: api_string_free,
    set_environment: api_set_environment,
    refresh_categories: api_refresh_categories,
    dock_visible: api_dock_visible,
    first_run: api_first_run,
    check_key: api_check_key,
    ui_mark: api_ui_mark,
    report_ui_time: api_report_ui_time,
    settings_closed: api_settings_closed,
};

/// The symbol the dock library is looked up by; cbindgen emits it so the
/// header names the whole contract in one place.
#[no_mangle]
pub extern "C" fn velora_core_api() -> *const VeloraCoreApi {
    ui_guard("velora_core_api", &CORE_API, || &CORE_API)
}
