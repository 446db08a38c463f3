//! Opening the authorize URL in the user's system browser.
//!
//! Never an embedded web view. Linux (and the BSDs) honor `$BROWSER` first: a
//! colon-separated list of commands tried in order, each with `%s` standing for
//! the URL (`%%` for a literal `%`), the URL appended when there is no `%s`.
//! Then `xdg-open`. macOS uses `open`; Windows the shell's URL handler
//! (`rundll32 url.dll,FileProtocolHandler`, then `explorer`).
//!
//! The URL is always one argument of its own and never goes through a shell.
//! When nothing can be opened the caller gets an error and shows the URL for
//! the user to copy.
//!
//! [`open`] may block for up to [`LAUNCH_GRACE`] while it watches a launcher
//! fail fast; call it off the UI thread.

use crate::cancel::Cancel;
use std::fmt;
use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How long a launcher may run before it counts as started: a launcher that
/// exits within this time is judged by its exit status (non-zero: try the next
/// one); one still running (a browser in the foreground) counts as opened and
/// is reaped in the background.
pub const LAUNCH_GRACE: Duration = Duration::from_millis(2500);

/// Which browser to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BrowserLauncher {
    /// The platform default (`$BROWSER` then `xdg-open`; `open`; the shell).
    /// `$BROWSER` is read when the browser is opened.
    #[default]
    System,
    /// Only these commands, in the `$BROWSER` format (colon-separated list,
    /// `%s` placeholder). Tests use it instead of setting the process
    /// environment, which would race between parallel tests.
    Command(String),
    /// Do not open anything: the caller shows the URL.
    Disabled,
}

/// Why the browser could not be opened. The Display text never contains the
/// URL (it carries the `state` value).
#[derive(Debug)]
pub enum BrowserError {
    /// [`BrowserLauncher::Disabled`].
    Disabled,
    /// No command to try (e.g. an empty `$BROWSER` on a platform without a
    /// default).
    NoCommand,
    /// Every command failed; one entry per command: program name and reason.
    AllFailed(Vec<(String, String)>),
}

impl fmt::Display for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrowserError::Disabled => f.write_str("opening a browser is disabled"),
            BrowserError::NoCommand => f.write_str("no browser command is available"),
            BrowserError::AllFailed(list) => {
                f.write_str("could not open a browser: ")?;
                for (i, (prog, why)) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{prog}: {why}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for BrowserError {}

/// The platform whose default launchers to use (a parameter so the command
/// lists of every platform are testable anywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Linux, the BSDs and other Unix desktops: `$BROWSER`, then `xdg-open`.
    Unix,
    MacOs,
    Windows,
}

impl Platform {
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Unix
        }
    }
}

/// Opens `url` with `launcher` on the current platform.
pub fn open(url: &str, launcher: &BrowserLauncher) -> Result<(), BrowserError> {
    open_unless(url, launcher, &Cancel::new())
}

/// [`open`], giving up the watch on a launcher the moment `cancel` fires.
pub fn open_unless(url: &str, launcher: &BrowserLauncher, cancel: &Cancel) -> Result<(), BrowserError> {
    let commands = match launcher {
        BrowserLauncher::Disabled => return Err(BrowserError::Disabled),
        BrowserLauncher::Command(spec) => parse_browser_list(spec, url),
        BrowserLauncher::System => {
            let env = std::env::var("BROWSER").ok();
            system_commands(Platform::current(), env.as_deref(), url)
        }
    };
    run_first_that_works(&commands, cancel)
}

/// The commands (argv vectors) to try, in order, for the platform default.
pub fn system_commands(platform: Platform, browser_env: Option<&str>, url: &str) -> Vec<Vec<String>> {
    match platform {
        Platform::Unix => {
            let mut cmds = browser_env
                .map(|spec| parse_browser_list(spec, url))
                .unwrap_or_default();
            cmds.push(vec!["xdg-open".to_string(), url.to_string()]);
            cmds
        }
        Platform::MacOs => vec![vec!["open".to_string(), url.to_string()]],
        Platform::Windows => vec![
            vec![
                "rundll32".to_string(),
                "url.dll,FileProtocolHandler".to_string(),
                url.to_string(),
            ],
            vec!["explorer".to_string(), url.to_string()],
        ],
    }
}

/// Parses a `$BROWSER` value: colon-separated commands; each is split into
/// words like a shell would (quotes, backslash escapes; no expansion); `%s` in
/// a word becomes the URL, `%%` a literal `%`; without any `%s` the URL is
/// appended as the last argument. Empty entries are skipped.
pub fn parse_browser_list(spec: &str, url: &str) -> Vec<Vec<String>> {
    spec.split(':')
        .filter_map(|entry| {
            let words = split_words(entry)?;
            if words.is_empty() {
                return None;
            }
            let mut has_placeholder = false;
            let mut argv: Vec<String> = words
                .iter()
                .map(|w| {
                    let (s, had) = substitute(w, url);
                    has_placeholder |= had;
                    s
                })
                .collect();
            if !has_placeholder {
                argv.push(url.to_string());
            }
            Some(argv)
        })
        .collect()
}

fn substitute(word: &str, url: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let mut had = false;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.peek() {
                Some('s') => {
                    chars.next();
                    out.push_str(url);
                    had = true;
                }
                Some('%') => {
                    chars.next();
                    out.push('%');
                }
                _ => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    (out, had)
}

/// Shell-like word splitting without expansion. `None` on an unterminated
/// quote (the entry is skipped).
fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => cur.push(c),
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

fn run_first_that_works(commands: &[Vec<String>], cancel: &Cancel) -> Result<(), BrowserError> {
    if commands.is_empty() {
        return Err(BrowserError::NoCommand);
    }
    let mut failures = Vec::new();
    for argv in commands {
        let prog = argv[0].clone();
        match launch(argv, cancel) {
            Ok(()) => {
                log::info!("opened the browser with {prog}");
                return Ok(());
            }
            Err(why) => {
                log::info!("browser launcher {prog} failed: {why}");
                failures.push((prog, why));
            }
        }
    }
    Err(BrowserError::AllFailed(failures))
}

/// Launchers still running (a browser started in the foreground): reaped
/// by later calls, never waited for by a thread of ours.
static RUNNING: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Reaps launchers that have ended since (no zombies left behind).
pub fn reap() {
    let mut g = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    g.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
}

fn launch(argv: &[String], cancel: &Cancel) -> Result<(), String> {
    reap();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| describe_spawn_error(&e))?;
    match wait_for(&mut child, LAUNCH_GRACE, cancel) {
        Ok(Some(status)) if status.success() => Ok(()),
        // explorer.exe reports 1 even when it opened the URL
        Ok(Some(status)) if argv[0] == "explorer" && status.code() == Some(1) => Ok(()),
        Ok(Some(status)) => Err(format!("exited with {status}")),
        Ok(None) => {
            // Still running: a browser in the foreground. Reaped later.
            RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(child);
            Ok(())
        }
        Err(e) => Err(format!("wait failed: {e}")),
    }
}

fn wait_for(child: &mut Child, grace: Duration, cancel: &Cancel) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + grace;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline || cancel.is_cancelled() {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn describe_spawn_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "not found".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://x.test/authorize?a=1&b=%20c";

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn browser_list_with_and_without_placeholder() {
        let cmds = parse_browser_list("firefox:chromium --new-window %s::w3m '%s' x", URL);
        assert_eq!(
            cmds,
            vec![
                v(&["firefox", URL]),
                v(&["chromium", "--new-window", URL]),
                v(&["w3m", URL, "x"]),
            ]
        );
    }

    #[test]
    fn placeholder_inside_a_word_and_percent_escape() {
        let cmds = parse_browser_list("br --url=%s --pct=100%%", URL);
        assert_eq!(cmds, vec![v(&["br", &format!("--url={URL}"), "--pct=100%"])]);
        // a lone % stays; no %s means the URL is appended
        let cmds = parse_browser_list("br 50%x", URL);
        assert_eq!(cmds, vec![v(&["br", "50%x", URL])]);
    }

    #[test]
    fn quoting_and_paths_with_spaces() {
        let cmds = parse_browser_list(r#""/opt/My Browser/br" --flag\ one "a\"b""#, URL);
        assert_eq!(cmds, vec![v(&["/opt/My Browser/br", "--flag one", "a\"b", URL])]);
        // unterminated quote: entry skipped, others kept
        let cmds = parse_browser_list("'broken:ok", URL);
        assert_eq!(cmds, vec![v(&["ok", URL])]);
        assert!(parse_browser_list("", URL).is_empty());
        assert!(parse_browser_list(" : ", URL).is_empty());
    }

    #[test]
    fn system_commands_per_platform() {
        assert_eq!(system_commands(Platform::Unix, None, URL), vec![v(&["xdg-open", URL])]);
        assert_eq!(
            system_commands(Platform::Unix, Some("a:b %s"), URL),
            vec![v(&["a", URL]), v(&["b", URL]), v(&["xdg-open", URL])]
        );
        assert_eq!(
            system_commands(Platform::MacOs, Some("ignored"), URL),
            vec![v(&["open", URL])]
        );
        let win = system_commands(Platform::Windows, None, URL);
        assert_eq!(win[0], v(&["rundll32", "url.dll,FileProtocolHandler", URL]));
        assert_eq!(win[1], v(&["explorer", URL]));
    }

    #[cfg(unix)]
    #[test]
    fn launch_results() {
        // first fails (non-zero), second missing, third works
        let r = open(
            URL,
            &BrowserLauncher::Command("false:/nonexistent/velora-browser:true".into()),
        );
        assert!(r.is_ok(), "{r:?}");

        let r = open(
            URL,
            &BrowserLauncher::Command("false:/nonexistent/velora-browser".into()),
        );
        let err = r.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("false: exited with"), "{text}");
        assert!(text.contains("/nonexistent/velora-browser: not found"), "{text}");
        assert!(!text.contains("x.test"), "the URL must not be in the error: {text}");

        assert!(matches!(
            open(URL, &BrowserLauncher::Disabled),
            Err(BrowserError::Disabled)
        ));
        assert!(matches!(
            open(URL, &BrowserLauncher::Command(String::new())),
            Err(BrowserError::NoCommand)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn long_running_launcher_counts_as_opened() {
        let r = open(URL, &BrowserLauncher::Command("sleep 5 %s".into()));
        // `sleep 5 URL` fails fast (bad argument); use sh to ignore the URL
        assert!(r.is_err());
        // A launcher that keeps running (a browser in the foreground) is
        // not waited for: `open` comes back while it still runs.
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("ended");
        let cmd = format!("sh -c 'sleep 30; touch \"$0\"' '{}' %s", mark.display());
        let r = open(URL, &BrowserLauncher::Command(cmd));
        assert!(r.is_ok(), "{r:?}");
        assert!(!mark.exists(), "open waited for the launcher to end");
    }
}
