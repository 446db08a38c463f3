//! Every `extern "C"` entry point runs inside [`guard`]: a panic is logged and
//! turned into a safe fallback value, never unwound into OBS (which would abort).

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; on panic logs `where_` and the panic message, returns `fallback`.
pub fn guard<R>(where_: &str, fallback: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = panic_message(payload.as_ref());
            log::error!("panic in {where_}: {msg}; continuing with a safe default");
            fallback
        }
    }
}

/// [`guard`] for code that runs on OBS's UI thread: also measures how long it
/// held the thread ([`crate::metrics::held_micros`]), and says so in the log
/// when that was longer than a frame.
pub fn ui_guard<R>(where_: &str, fallback: R, f: impl FnOnce() -> R) -> R {
    let mark = crate::metrics::mark();
    let r = guard(where_, fallback, f);
    let held = crate::metrics::held_since(mark);
    crate::metrics::record_ui_call(held.micros);
    if held.micros > crate::metrics::UI_FRAME_MICROS {
        log::warn!("{where_} held OBS's UI thread for {held}");
    }
    r
}

/// The text of a panic payload. Our secrets are `Secret`, which formats as
/// `[redacted]`, so a panic message that formats one never shows the value.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_fallbacks() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guard("test", 7, || -> i32 { panic!("boom") });
        std::panic::set_hook(prev);
        assert_eq!(r, 7);
        assert_eq!(guard("test", 7, || 1), 1);
    }

    #[test]
    fn secret_in_panic_is_redacted() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let key = crate::Secret::new("live_supersecretkey");
        let err = std::panic::catch_unwind(|| panic!("bad key {key}")).unwrap_err();
        std::panic::set_hook(prev);
        let msg = panic_message(err.as_ref());
        assert!(!msg.contains("supersecret"), "{msg}");
        assert!(msg.contains("[redacted]"));
    }
}
