//! Backend of the `log` crate: every record goes to OBS's `blog` with the
//! `[velora]` prefix, so no message types the prefix by hand. Outside OBS
//! (unit tests) nothing is installed and `log` macros are no-ops.

use super::sys;
use std::ffi::CString;

struct BlogLogger;

static LOGGER: BlogLogger = BlogLogger;

impl log::Log for BlogLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let level = match record.level() {
            log::Level::Error => sys::LOG_ERROR,
            log::Level::Warn => sys::LOG_WARNING,
            log::Level::Info => sys::LOG_INFO,
            log::Level::Debug | log::Level::Trace => sys::LOG_DEBUG,
        };
        // Warnings and errors say so in the text: OBS's log file has no level column.
        let text = match record.level() {
            log::Level::Error => format!("[velora] error: {}", record.args()),
            log::Level::Warn => format!("[velora] warning: {}", record.args()),
            _ => format!("[velora] {}", record.args()),
        };
        write(level as i32, &text);
    }

    fn flush(&self) {}
}

fn write(level: i32, text: &str) {
    let msg = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: "%s" with one NUL-terminated string argument matches blog's
    // printf-style contract; both strings outlive the call.
    unsafe { sys::blog(level, c"%s".as_ptr(), msg.as_ptr()) };
}

/// Installs the logger once per process (a second call is harmless).
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}
