//! Backend of the `log` crate: the records `crate::logline` keeps go to
//! OBS's `blog` with the `[velora]` prefix, so no message types the prefix by
//! hand. Outside OBS (unit tests) nothing is installed and `log` macros are
//! no-ops.

use super::sys;
use std::ffi::CString;

struct BlogLogger;

static LOGGER: BlogLogger = BlogLogger;

impl log::Log for BlogLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        crate::logline::level_for(m.target(), m.level()).is_some()
    }

    fn log(&self, record: &log::Record) {
        // Which records, at which level, with which text: crate::logline.
        let Some(level) = crate::logline::level_for(record.target(), record.level()) else {
            return;
        };
        let level = match level {
            crate::logline::Level::Error => sys::LOG_ERROR,
            crate::logline::Level::Warning => sys::LOG_WARNING,
            crate::logline::Level::Info => sys::LOG_INFO,
            crate::logline::Level::Debug => sys::LOG_DEBUG,
        };
        let text = crate::logline::text(record.target(), record.level(), record.args());
        write(level as i32, format_for(record.file(), record.line()), &text);
    }

    fn flush(&self) {}
}

/// OBS's log drops a line when the 30 lines before it came through the
/// same format pointer with about the same characters ("Last log entry
/// repeated for N more lines"): its guard against a call site that spams.
/// A C plugin passes one format string per call site; so do we: each call
/// site (file and line) gets one of these "%s" strings, each at its own
/// address, so lines from different places are never taken for repeats.
static FORMATS: [[u8; 3]; 64] = [*b"%s\0"; 64];

/// The "%s" format of a call site (see [`FORMATS`]).
fn format_for(file: Option<&str>, line: Option<u32>) -> &'static [u8; 3] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a
    for b in file.unwrap_or("").bytes().chain(line.unwrap_or(0).to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    &FORMATS[(h % FORMATS.len() as u64) as usize]
}

fn write(level: i32, format: &'static [u8; 3], text: &str) {
    let msg = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: `format` is "%s" and NUL-terminated; with one NUL-terminated
    // string argument it matches blog's printf-style contract; both strings
    // outlive the call.
    unsafe { sys::blog(level, format.as_ptr() as *const std::ffi::c_char, msg.as_ptr()) };
}

/// Installs the logger once per process (a second call is harmless).
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_site_keeps_its_own_format_and_each_is_percent_s() {
        assert!(FORMATS.iter().all(|f| f == b"%s\0"));
        let a = format_for(Some("src/session/worker.rs"), Some(10));
        assert!(std::ptr::eq(a, format_for(Some("src/session/worker.rs"), Some(10))));
        // Call sites spread over the formats: nearby lines of one file differ.
        let distinct: std::collections::HashSet<*const u8> = (1..=20)
            .map(|l| format_for(Some("src/session/worker.rs"), Some(l)).as_ptr())
            .collect();
        assert!(distinct.len() >= 15, "{}", distinct.len());
    }
}
