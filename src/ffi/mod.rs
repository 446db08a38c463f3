//! The only place with `unsafe` and `extern "C"`.
//!
//! - `sys`: bindgen output over the installed libobs headers.
//! - `guard`: the panic guard every exported function runs inside.
//! - `log`: the `log` crate's backend, writing through `blog` with `[velora]`.
//! - `module`: the `obs_module_*` exports (what OBS_DECLARE_MODULE and
//!   OBS_MODULE_USE_DEFAULT_LOCALE would define in C).
//! - `data`: small safe wrappers over `obs_data_t`.
//! - `service`: the `velora` streaming service (29.0 and 29.1+ callbacks).
//! - `frontend`: the frontend API, resolved with dlsym at run time.
//! - `websocket`: obs-websocket vendor requests and events.

pub mod data;
pub mod dock;
pub mod dock_api;
pub mod frontend;
pub mod guard;
pub mod harness;
pub mod log;
pub mod module;
pub mod service;
pub mod websocket;

#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    clippy::all,
    unsafe_op_in_unsafe_fn,
    rustdoc::all
)]
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/obs_bindings.rs"));
}

/// The running libobs version (`obs_get_version()`), e.g. 0x1d000002 for 29.0.2.
pub fn obs_version() -> u32 {
    // SAFETY: obs_get_version only reads a compile-time constant of libobs.
    unsafe { sys::obs_get_version() }
}

/// The running libobs version string, e.g. "29.0.2.1-1+b1" on Debian.
pub fn obs_version_string() -> String {
    // SAFETY: returns a static string owned by libobs (or NULL).
    unsafe { cstr_to_string(sys::obs_get_version_string()) }
}

/// Copies a C string owned by someone else; NULL becomes "".
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string valid for this call.
pub unsafe fn cstr_to_string(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A `CString` from text that might contain NUL bytes (they are dropped).
pub fn cstring(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', "")).unwrap_or_default()
}
