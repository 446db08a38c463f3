//! The OBS frontend API, resolved with `dlsym` at run time.
//!
//! The plugin never links `libobs-frontend-api`: symbols differ between OBS
//! versions (`obs_frontend_add_dock` is gone in 32, which loads plugins with
//! RTLD_NOW), so one build loads everywhere. When no frontend is present
//! (a bare libobs, as in the headless test), every call is a no-op.

use super::sys;
use once_cell::sync::Lazy;
use std::ffi::{c_char, c_void, CStr};

pub type EventCb = unsafe extern "C" fn(event: u32, private_data: *mut c_void);

/// Function pointers of the frontend API that the running OBS exports.
pub struct Frontend {
    pub add_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    pub remove_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    pub get_streaming_service: Option<unsafe extern "C" fn() -> *mut sys::obs_service_t>,
    pub set_streaming_service: Option<unsafe extern "C" fn(*mut sys::obs_service_t)>,
    pub save_streaming_service: Option<unsafe extern "C" fn()>,
    pub get_current_profile_path: Option<unsafe extern "C" fn() -> *mut c_char>,
    pub streaming_active: Option<unsafe extern "C" fn() -> bool>,
    /// Returns a new reference (release it).
    pub get_streaming_output: Option<unsafe extern "C" fn() -> *mut sys::obs_output_t>,
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
    set_streaming_service: sym(c"obs_frontend_set_streaming_service"),
    save_streaming_service: sym(c"obs_frontend_save_streaming_service"),
    get_current_profile_path: sym(c"obs_frontend_get_current_profile_path"),
    streaming_active: sym(c"obs_frontend_streaming_active"),
    get_streaming_output: sym(c"obs_frontend_get_streaming_output"),
});

/// `obs_frontend_streaming_active()` (false without a frontend).
pub fn streaming_active() -> bool {
    // SAFETY: a plain query of the frontend.
    FRONTEND.streaming_active.is_some_and(|f| unsafe { f() })
}
