//! The OBS frontend API, resolved with `dlsym` at run time.
//!
//! The plugin never links `libobs-frontend-api`: symbols differ between OBS
//! versions (`obs_frontend_add_dock` is gone in 32, which loads plugins with
//! RTLD_NOW), so one build loads everywhere. When no frontend is present
//! (a bare libobs, as in the headless test), every call is a no-op.

use super::data::{DataRef, OwnedData};
use super::guard::guard;
use super::{cstr_to_string, cstring, service, sys};
use crate::core::{CurrentService, Host};
use crate::stream_config::{keys, Protocol, SERVICE_ID};
use once_cell::sync::Lazy;
use std::ffi::{c_char, c_void, CStr};

type EventCb = unsafe extern "C" fn(event: u32, private_data: *mut c_void);

/// Function pointers of the frontend API that the running OBS exports.
pub struct Frontend {
    add_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    remove_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    get_streaming_service: Option<unsafe extern "C" fn() -> *mut sys::obs_service_t>,
    pub streaming_active: Option<unsafe extern "C" fn() -> bool>,
}

fn sym<T: Copy>(name: &CStr) -> Option<T> {
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: dlsym with RTLD_DEFAULT searches the global scope of the
    // process (where the OBS executable's libobs-frontend-api lives) and
    // returns NULL when absent.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        None
    } else {
        // SAFETY: T is the function pointer type of that symbol's C
        // declaration in obs-frontend-api.h, pointer-sized (checked above).
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
    }
}

pub static FRONTEND: Lazy<Frontend> = Lazy::new(|| Frontend {
    add_event_callback: sym(c"obs_frontend_add_event_callback"),
    remove_event_callback: sym(c"obs_frontend_remove_event_callback"),
    get_streaming_service: sym(c"obs_frontend_get_streaming_service"),
    streaming_active: sym(c"obs_frontend_streaming_active"),
});

// obs_frontend_event values (append-only enum, stable across 29–32).
pub const EVENT_STREAMING_STARTING: u32 = 0;
pub const EVENT_STREAMING_STARTED: u32 = 1;
pub const EVENT_STREAMING_STOPPED: u32 = 3;
pub const EVENT_PROFILE_CHANGED: u32 = 15;
pub const EVENT_EXIT: u32 = 17;
pub const EVENT_FINISHED_LOADING: u32 = 26;

unsafe extern "C" fn on_event(event: u32, _private: *mut c_void) {
    guard("frontend.on_event", (), || match event {
        EVENT_FINISHED_LOADING => {
            log::info!("OBS finished loading");
        }
        EVENT_EXIT => {
            super::websocket::unregister();
        }
        EVENT_STREAMING_STARTING | EVENT_STREAMING_STARTED | EVENT_STREAMING_STOPPED | EVENT_PROFILE_CHANGED => {}
        _ => {}
    })
}

/// Hooks into the frontend (post_load). A no-op without a frontend.
pub fn attach() {
    match FRONTEND.add_event_callback {
        // SAFETY: on_event is a valid callback for the life of the module; it
        // is removed in detach before unload.
        Some(add) => unsafe { add(on_event, std::ptr::null_mut()) },
        None => log::info!("no OBS frontend in this process: frontend features are off"),
    }
}

/// Unhooks (unload).
pub fn detach() {
    if let Some(remove) = FRONTEND.remove_event_callback {
        // SAFETY: same callback/private pair as attach.
        unsafe { remove(on_event, std::ptr::null_mut()) };
    }
}

/// The current streaming service's type and, for `velora`, its settings.
pub fn current_service() -> Option<CurrentService> {
    let get = FRONTEND.get_streaming_service?;
    // SAFETY: returns a borrowed pointer (no reference taken) or NULL; we use
    // it only within this call, on the caller's thread, like obs-websocket does.
    unsafe {
        let svc = get();
        if svc.is_null() {
            return None;
        }
        let type_id = cstr_to_string(sys::obs_service_get_type(svc));
        let velora = if type_id == SERVICE_ID {
            OwnedData::from_owned_ptr(sys::obs_service_get_settings(svc)).map(|d| service::read_settings(d.view()))
        } else {
            None
        };
        Some(CurrentService { type_id, velora })
    }
}

/// `obs_properties` of the `velora` service, so any UI that renders service
/// properties (and obs-websocket clients) can edit it.
pub fn service_properties() -> *mut sys::obs_properties_t {
    let t = |k: &str| cstring(&super::module::text_string(k));
    // SAFETY: a fresh properties object; every string is copied by libobs.
    unsafe {
        let props = sys::obs_properties_create();
        let k = cstring(keys::SERVER);
        sys::obs_properties_add_text(props, k.as_ptr(), t("Velora.Service.Server").as_ptr(), sys::obs_text_type_OBS_TEXT_DEFAULT);
        let k = cstring(keys::KEY);
        sys::obs_properties_add_text(props, k.as_ptr(), t("Velora.Service.StreamKey").as_ptr(), sys::obs_text_type_OBS_TEXT_PASSWORD);
        let k = cstring(keys::PROTOCOL);
        let list = sys::obs_properties_add_list(
            props,
            k.as_ptr(),
            t("Velora.Service.Protocol").as_ptr(),
            sys::obs_combo_type_OBS_COMBO_TYPE_LIST,
            sys::obs_combo_format_OBS_COMBO_FORMAT_STRING,
        );
        let v = super::obs_version();
        for p in Protocol::ALL.into_iter().filter(|p| p.supported_on(v)) {
            let name = t(&format!("Velora.Protocol.{}", p.as_str()));
            let val = cstring(p.as_str());
            sys::obs_property_list_add_string(list, name.as_ptr(), val.as_ptr());
        }
        props
    }
}

/// [`Host`] over libobs and the frontend API.
pub struct ObsHost;

impl Host for ObsHost {
    fn text(&self, key: &str) -> String {
        super::module::text_string(key)
    }

    fn obs_version(&self) -> u32 {
        super::obs_version()
    }

    fn obs_version_string(&self) -> String {
        super::obs_version_string()
    }

    fn current_service(&self) -> Option<CurrentService> {
        current_service()
    }

    fn emit_event(&self, name: &str, data: serde_json::Value) {
        super::websocket::emit(name, &data);
    }
}

#[allow(dead_code)]
fn _type_check(_: DataRef<'_>, _: *const c_char) {}
