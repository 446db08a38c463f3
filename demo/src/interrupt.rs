//! Ctrl-C (SIGINT), SIGTERM and SIGHUP become a flag that every wait of the
//! demo polls: the demo then tears everything down in its own order instead
//! of dying with OBS, the sandbox and nginx still running. The children run
//! in process groups of their own, so the terminal's Ctrl-C reaches only us.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `on_signal` has the signature signal(2) expects and does
        // nothing but an atomic store, which is async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
