//! The only place with `unsafe` and `extern "C"`.
//!
//! - `sys`: bindgen output over the installed libobs headers.
//! - `log`: the `log` crate's backend, writing through `blog` with `[velora]`.
//! - `locale`: module pointer, locale table, `obs_module_text`, config path.
//! - `module`: `obs_module_load` / `post_load` / `unload` and the `Host`.
//! - `data`: small safe wrappers over `obs_data_t`.
//! - `service`: the `velora` streaming service (29.0 and 29.1+ callbacks).
//! - `frontend_api`: the frontend API, resolved with dlsym at run time.
//! - `frontend`: the frontend's events.
//! - `settings_io`: the `velora` service's settings to and from `obs_data`.
//! - `stream_service`: the profile's streaming service, read and changed on
//!   the UI thread only.
//! - `ui`: hops to OBS's UI thread.
//! - `websocket`: obs-websocket vendor requests and events.
//! - `dock`, `dock_api`: loading the Qt dock and the C ABI it calls
//!   (`dock_snapshot`: the state it reads; `dock_calls`: its calls).
//!
//! Every `extern "C"` entry runs inside `crate::guard` (a panic becomes a
//! safe fallback value).

pub mod data;
pub mod dock;
pub mod dock_api;
mod dock_calls;
mod dock_snapshot;
pub mod frontend;
pub mod frontend_api;
pub mod harness;
pub mod locale;
pub mod log;
pub mod module;
pub mod service;
pub mod settings_io;
pub mod stream_service;
pub mod ui;
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

/// The calling thread's CPU time and voluntary context switches
/// (`getrusage(RUSAGE_THREAD)`) and its run-queue time
/// (`/proc/thread-self/schedstat`), for [`crate::metrics::held_micros`].
pub fn thread_usage() -> Option<crate::metrics::ThreadUsage> {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the rusage we own; RUSAGE_THREAD is the
    // calling thread (Linux).
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return None;
    }
    let micros = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    Some(crate::metrics::ThreadUsage {
        cpu_micros: micros(ru.ru_utime) + micros(ru.ru_stime),
        waits: ru.ru_nvcsw as u64,
        queued_micros: run_queue_micros(),
    })
}

/// How long the calling thread has stood runnable in a run queue, waiting
/// for a CPU (the second field of `/proc/thread-self/schedstat`, in ns).
/// Opened and read each time: no descriptor or thread-local outlives a call
/// (the UI thread outlives this module).
fn run_queue_micros() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(ns / 1000)
}
