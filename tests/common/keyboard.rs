//! The keyboard of a person at OBS, through xdotool (there is no window
//! manager under Xvfb, so focus is given by hand).

use std::process::Command;
use std::time::Duration;

/// Runs xdotool on `display`; its output, trimmed.
pub fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool (apt-get install xdotool)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Gives OBS's main window the keyboard focus.
pub fn focus_obs(display: &str) {
    let ids = xdotool(display, &["search", "--onlyvisible", "--name", "^OBS [0-9]"]);
    let id = ids.lines().next().expect("OBS main window").to_string();
    xdotool(display, &["windowfocus", "--sync", &id]);
    std::thread::sleep(Duration::from_millis(300));
}

/// One key (or chord, `alt+l`), then a moment for OBS to react.
pub fn key(display: &str, k: &str) {
    xdotool(display, &["key", "--clearmodifiers", k]);
    std::thread::sleep(Duration::from_millis(300));
}

/// Types `text` a character every `delay_ms`, then a moment for OBS.
pub fn type_text(display: &str, text: &str, delay_ms: u32) {
    xdotool(display, &["type", "--delay", &delay_ms.to_string(), text]);
    std::thread::sleep(Duration::from_millis(400));
}
