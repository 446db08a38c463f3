//! The module's identity and language: the exports `OBS_DECLARE_MODULE()`
//! and `OBS_MODULE_USE_DEFAULT_LOCALE("velora", "en-US")` define in C (module
//! pointer, locale table, `obs_module_text`), and the module's config path.

use super::{cstr_to_string, cstring, sys};
use crate::guard::guard;
use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};

static MODULE: AtomicPtr<sys::obs_module_t> = AtomicPtr::new(std::ptr::null_mut());
static LOOKUP: AtomicPtr<sys::lookup_t> = AtomicPtr::new(std::ptr::null_mut());

#[no_mangle]
pub extern "C" fn obs_module_set_pointer(module: *mut sys::obs_module_t) {
    guard("obs_module_set_pointer", (), || MODULE.store(module, Ordering::SeqCst))
}

#[no_mangle]
pub extern "C" fn obs_current_module() -> *mut sys::obs_module_t {
    guard("obs_current_module", std::ptr::null_mut(), || {
        MODULE.load(Ordering::SeqCst)
    })
}

/// # Safety
/// Called by libobs with NULL or a NUL-terminated locale name.
#[no_mangle]
pub unsafe extern "C" fn obs_module_set_locale(locale: *const c_char) {
    guard("obs_module_set_locale", (), || {
        // SAFETY: the module pointer is set by OBS before any locale call; the
        // returned lookup is ours until destroyed.
        let new = unsafe { sys::obs_module_load_locale(obs_current_module(), c"en-US".as_ptr(), locale) };
        let old = LOOKUP.swap(new, Ordering::SeqCst);
        if !old.is_null() {
            // SAFETY: `old` was created by obs_module_load_locale and is no longer reachable.
            unsafe { sys::text_lookup_destroy(old) };
        }
    })
}

#[no_mangle]
pub extern "C" fn obs_module_free_locale() {
    guard("obs_module_free_locale", (), || {
        let old = LOOKUP.swap(std::ptr::null_mut(), Ordering::SeqCst);
        if !old.is_null() {
            // SAFETY: as in obs_module_set_locale.
            unsafe { sys::text_lookup_destroy(old) };
        }
    })
}

/// # Safety
/// `val` is NULL or a NUL-terminated key.
#[no_mangle]
pub unsafe extern "C" fn obs_module_text(val: *const c_char) -> *const c_char {
    guard("obs_module_text", val, || {
        let mut out = val;
        let lookup = LOOKUP.load(Ordering::SeqCst);
        if !lookup.is_null() && !val.is_null() {
            // SAFETY: valid lookup and key; `out` receives a string owned by the lookup.
            unsafe { sys::text_lookup_getstr(lookup, val, &mut out) };
        }
        out
    })
}

/// # Safety
/// `val` is NULL or a NUL-terminated key; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn obs_module_get_string(val: *const c_char, out: *mut *const c_char) -> bool {
    guard("obs_module_get_string", false, || {
        let lookup = LOOKUP.load(Ordering::SeqCst);
        if lookup.is_null() || val.is_null() || out.is_null() {
            return false;
        }
        // SAFETY: valid lookup, key and out pointer.
        unsafe { sys::text_lookup_getstr(lookup, val, out) }
    })
}

/// A localized string as a C pointer owned by the locale table (valid until
/// the locale changes, like every `obs_module_text` result).
pub fn text(key: &CStr) -> *const c_char {
    // SAFETY: a valid NUL-terminated key.
    unsafe { obs_module_text(key.as_ptr()) }
}

/// A localized string, copied. Falls back to the key itself.
pub fn text_string(key: &str) -> String {
    let k = cstring(key);
    // SAFETY: a valid key; obs_module_text returns either it or a lookup-owned string.
    unsafe { cstr_to_string(obs_module_text(k.as_ptr())) }
}

/// `obs_module_config_path(file)`: the plugin's own config directory.
pub fn config_path(file: &str) -> Option<std::path::PathBuf> {
    let f = cstring(file);
    // SAFETY: module pointer is valid after load; the result is bmalloc'ed and freed here.
    unsafe {
        let p = sys::obs_module_get_config_path(obs_current_module(), f.as_ptr());
        if p.is_null() {
            return None;
        }
        let s = cstr_to_string(p);
        sys::bfree(p as *mut _);
        Some(std::path::PathBuf::from(s))
    }
}
