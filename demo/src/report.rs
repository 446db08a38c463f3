//! What the demo prints: one line per step with its time. Never a secret.

use std::io::Write;
use std::time::Duration;

/// One line on stdout. A closed stdout (the reader of a pipe gone, e.g.
/// `| tee` ended by Ctrl-C) must not stop the teardown: errors are ignored.
pub fn line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// `8 ms` under a second, `1.2 s` above.
pub fn took(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub fn done(text: &str, d: Duration) {
    line(&format!("✓ {text} ({})", took(d)));
}

pub fn skipped(text: &str) {
    line(&format!("– {text}"));
}

/// What the person should do next (with a desktop).
pub fn todo(text: &str) {
    line(&format!("→ {text}"));
}

pub fn failed(step: &str, why: &str) {
    line(&format!("✗ {step}: {why}"));
}

/// Indented detail lines under a failure.
pub fn detail(title: &str, body: &str) {
    line(&format!("  {title}"));
    for l in body.lines() {
        line(&format!("    {l}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(took(Duration::from_millis(8)), "8 ms");
        assert_eq!(took(Duration::from_millis(999)), "999 ms");
        assert_eq!(took(Duration::from_millis(1234)), "1.2 s");
        assert_eq!(took(Duration::from_secs(75)), "75.0 s");
    }
}
