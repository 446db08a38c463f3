//! Which `log` records reach OBS's log, at which level, with which text.
//! (The FFI layer's logger writes what this decides.)
//!
//! The plugin's own records keep their level; warnings and errors say so in
//! the text, as OBS's log file has no level column. The libraries the plugin
//! links (rustls, hyper, reqwest, tokio) log too, through the same `log`
//! crate: their debug and info chatter is dropped before it is formatted,
//! and their warnings and errors come as plain lines naming the library.
//! A library's warning is not the plugin's: a TLS peer's alert or a socket
//! option refused on a closing connection is a network event, and the
//! plugin reports what it means (the call that failed, in its own words).

use std::fmt;

/// OBS's log levels, as far as the plugin uses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
    Debug,
}

/// The crate's own target prefix (its library name, `velora`).
const OURS: &str = "velora";

fn is_ours(target: &str) -> bool {
    target == OURS || target.strip_prefix(OURS).is_some_and(|rest| rest.starts_with("::"))
}

/// The level a record of `target` at `level` is written at; `None`: dropped.
pub fn level_for(target: &str, level: log::Level) -> Option<Level> {
    match (is_ours(target), level) {
        (true, log::Level::Error) => Some(Level::Error),
        (true, log::Level::Warn) => Some(Level::Warning),
        (true, log::Level::Info) => Some(Level::Info),
        (true, log::Level::Debug | log::Level::Trace) => Some(Level::Debug),
        (false, log::Level::Error | log::Level::Warn) => Some(Level::Info),
        (false, _) => None,
    }
}

/// The text of a record that [`level_for`] keeps.
pub fn text(target: &str, level: log::Level, args: &fmt::Arguments) -> String {
    if !is_ours(target) {
        let library = target.split("::").next().unwrap_or(target);
        let what = if level == log::Level::Error { "error" } else { "warning" };
        return format!("[velora] {library} ({what}): {args}");
    }
    match level {
        log::Level::Error => format!("[velora] error: {args}"),
        log::Level::Warn => format!("[velora] warning: {args}"),
        _ => format!("[velora] {args}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level as L;

    #[test]
    fn our_records_keep_their_level_and_say_it() {
        assert_eq!(level_for("velora::session::worker", L::Warn), Some(Level::Warning));
        assert_eq!(level_for("velora", L::Error), Some(Level::Error));
        assert_eq!(level_for("velora::ffi::module", L::Info), Some(Level::Info));
        assert_eq!(level_for("velora::api", L::Trace), Some(Level::Debug));
        assert_eq!(
            text("velora::session", L::Warn, &format_args!("login failed: {}", "denied")),
            "[velora] warning: login failed: denied"
        );
        assert_eq!(text("velora", L::Error, &format_args!("x")), "[velora] error: x");
        assert_eq!(text("velora::x", L::Info, &format_args!("ready")), "[velora] ready");
    }

    #[test]
    fn a_librarys_chatter_is_dropped_and_its_warnings_are_plain_lines_naming_it() {
        for target in ["rustls::common_state", "hyper_util::client::legacy", "reqwest", "tokio"] {
            assert_eq!(level_for(target, L::Debug), None);
            assert_eq!(level_for(target, L::Trace), None);
            assert_eq!(level_for(target, L::Info), None);
            assert_eq!(level_for(target, L::Warn), Some(Level::Info));
            assert_eq!(level_for(target, L::Error), Some(Level::Info));
        }
        // Not ours: a crate whose name only starts like ours.
        assert_eq!(level_for("velora_sandbox::api", L::Debug), None);
        let t = text(
            "rustls::common_state",
            L::Warn,
            &format_args!("Sending warning alert {}", "NoRenegotiation"),
        );
        assert_eq!(t, "[velora] rustls (warning): Sending warning alert NoRenegotiation");
        assert!(!t.contains("warning:"), "must not read as a warning of ours: {t}");
        assert_eq!(
            text("hyper_util::client", L::Error, &format_args!("boom")),
            "[velora] hyper_util (error): boom"
        );
    }
}
