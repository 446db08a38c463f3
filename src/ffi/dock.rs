//! Loads the Qt dock library that matches the Qt of the running OBS.
//!
//! One Rust build serves every OBS: `velora.so` links no Qt at all (OBS 28–31
//! refuse modules that link the other Qt major), and the dock libraries
//! `velora-dock-qt5.so` (OBS 29 on Debian 12) and `velora-dock-qt6.so` (OBS
//! 30+) lie in the subdirectory `velora/` of the directory velora.so was
//! loaded from. At FINISHED_LOADING the core asks the process which Qt it runs
//! (`qVersion()`), dlopens the matching library and hands it the core API.
//!
//! Why a subdirectory: OBS loads every `*.so` of a module folder that has no
//! `%module%` in its path (`/usr/lib/<multiarch>/obs-plugins`, Flatpak's
//! `/app/plugins/lib/obs-plugins`, `OBS_PLUGINS_PATH`) as a module, but never
//! looks into its subdirectories (libobs `find_modules_in_path`, 29.0–32.x).
//! The same relative place works in every layout:
//!
//! | layout | velora.so | docks |
//! |---|---|---|
//! | per user | `~/.config/obs-studio/plugins/velora/bin/64bit/` | `…/bin/64bit/velora/` |
//! | system, .deb | `/usr/lib/x86_64-linux-gnu/obs-plugins/` | `…/obs-plugins/velora/` |
//! | Flatpak extension | `/app/plugins/lib/obs-plugins/` (merged symlink) | `…/obs-plugins/velora/` (merged symlink) |
//!
//! Architecture-dependent files do not belong under `/usr/share` (the data
//! folder), so the docks stay under the library directory. Installs made
//! before this layout kept the docks beside velora.so: that place is still
//! tried second.

use super::dock_api::VeloraCoreApi;
use super::dock_calls::CORE_API;
use super::{cstr_to_string, cstring};
use std::ffi::{c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

type LoadFn = unsafe extern "C" fn(*const VeloraCoreApi, u32) -> bool;
type NotifyFn = unsafe extern "C" fn();
type UnloadFn = unsafe extern "C" fn();

static NOTIFY: AtomicUsize = AtomicUsize::new(0);
static UNLOAD: AtomicUsize = AtomicUsize::new(0);
static HANDLE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// The Qt major version of the running process (5 or 6), from `qVersion()`.
pub fn qt_major() -> Option<u32> {
    // SAFETY: dlsym on the global scope; qVersion is `extern "C" const char *qVersion()`
    // in both Qt 5 and Qt 6.
    unsafe {
        let p = libc::dlsym(libc::RTLD_DEFAULT, c"qVersion".as_ptr());
        if p.is_null() {
            return None;
        }
        let f: unsafe extern "C" fn() -> *const c_char = std::mem::transmute(p);
        let v = cstr_to_string(f());
        v.split('.').next().and_then(|m| m.parse().ok())
    }
}

/// The directory `velora.so` was loaded from.
pub fn module_dir() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr fills `info` for an address inside this library.
    let ok = unsafe { libc::dladdr(module_dir as *const c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let path = PathBuf::from(unsafe { cstr_to_string(info.dli_fname) });
    path.parent().map(|p| p.to_path_buf())
}

/// The dock library for a Qt major.
pub fn library_name(qt: u32) -> String {
    format!("velora-dock-qt{qt}.so")
}

/// The subdirectory of velora.so's directory that holds the dock libraries.
pub const DOCK_SUBDIR: &str = "velora";

/// Where the dock for `qt` may be, in the order tried: the `velora/`
/// subdirectory, then beside velora.so (installs of earlier versions).
pub fn library_candidates(module_dir: &Path, qt: u32) -> [PathBuf; 2] {
    [
        module_dir.join(DOCK_SUBDIR).join(library_name(qt)),
        module_dir.join(library_name(qt)),
    ]
}

/// Loads and starts the dock (UI thread, FINISHED_LOADING). Failing to load
/// the dock leaves the plugin working (service, automation) and says why.
pub fn load() {
    let Some(qt) = qt_major() else {
        log::info!("no Qt in this process: the dock is not loaded");
        return;
    };
    let Some(dir) = module_dir() else {
        log::warn!("cannot locate the plugin directory: the dock is not loaded");
        return;
    };
    let candidates = library_candidates(&dir, qt);
    let Some(path) = candidates.iter().find(|p| p.exists()).cloned() else {
        log::warn!(
            "dock library {} is missing: the dock is not loaded",
            candidates[0].display()
        );
        return;
    };
    if path != candidates[0] {
        log::info!("dock library found beside velora.so (layout of earlier versions)");
    }
    let c = cstring(&path.to_string_lossy());
    // SAFETY: dlopen of our own library; RTLD_LOCAL keeps its symbols private.
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local message or NULL.
        let err = unsafe { cstr_to_string(libc::dlerror()) };
        log::warn!("could not load {}: {err}", path.display());
        return;
    }
    // SAFETY: symbols of our dock library with the signatures in include/velora.h.
    let (load, notify, unload) = unsafe {
        (
            libc::dlsym(handle, c"velora_dock_load".as_ptr()),
            libc::dlsym(handle, c"velora_dock_notify".as_ptr()),
            libc::dlsym(handle, c"velora_dock_unload".as_ptr()),
        )
    };
    if load.is_null() || notify.is_null() || unload.is_null() {
        log::warn!("{} lacks the dock entry points", path.display());
        return;
    }
    HANDLE.store(handle, Ordering::SeqCst);
    NOTIFY.store(notify as usize, Ordering::SeqCst);
    UNLOAD.store(unload as usize, Ordering::SeqCst);
    // SAFETY: the function has the LoadFn signature; CORE_API is 'static.
    let ok = unsafe {
        let f: LoadFn = std::mem::transmute(load);
        f(&CORE_API, super::obs_version())
    };
    if ok {
        log::info!("dock loaded ({} for Qt {qt})", library_name(qt));
        crate::status::subscribe(|_| notify_dock());
    } else {
        log::warn!("the dock could not be created");
        NOTIFY.store(0, Ordering::SeqCst);
    }
}

/// Tells the dock to re-read the state (any thread).
pub fn notify_dock() {
    let f = NOTIFY.load(Ordering::SeqCst);
    if f != 0 {
        // SAFETY: set from the dock library's velora_dock_notify, which stays
        // loaded until process exit (never dlclosed).
        unsafe {
            let f: NotifyFn = std::mem::transmute(f);
            f();
        }
    }
}

/// EXIT: the dock drops its references before OBS deletes the widgets.
pub fn unload() {
    NOTIFY.store(0, Ordering::SeqCst);
    let f = UNLOAD.swap(0, Ordering::SeqCst);
    if f != 0 {
        // SAFETY: velora_dock_unload of the loaded dock library.
        unsafe {
            let f: UnloadFn = std::mem::transmute(f);
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docks_are_looked_up_in_the_subdirectory_first() {
        let c = library_candidates(Path::new("/usr/lib/x86_64-linux-gnu/obs-plugins"), 6);
        assert_eq!(
            c[0],
            Path::new("/usr/lib/x86_64-linux-gnu/obs-plugins/velora/velora-dock-qt6.so")
        );
        assert_eq!(
            c[1],
            Path::new("/usr/lib/x86_64-linux-gnu/obs-plugins/velora-dock-qt6.so")
        );
        let c = library_candidates(Path::new("/home/u/.config/obs-studio/plugins/velora/bin/64bit"), 5);
        assert_eq!(
            c[0],
            Path::new("/home/u/.config/obs-studio/plugins/velora/bin/64bit/velora/velora-dock-qt5.so")
        );
    }
}
