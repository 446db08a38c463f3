//! The one picture of the plugin's state that every face renders: the dock,
//! `GetStatus` and the `StatusChanged` event. The session owns and updates it;
//! everyone else reads snapshots. No secrets in here: the stream key appears
//! only as a hint (`…z789`).

use crate::stream_config::Protocol;
use once_cell::sync::Lazy;
use std::sync::{Arc, Mutex, RwLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    LoggedOut,
    LoggingIn,
    Ready,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::LoggedOut => "loggedOut",
            Phase::LoggingIn => "loggingIn",
            Phase::Ready => "ready",
        }
    }
}

/// What kind of trouble, so each face can say what to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Log in again.
    SessionExpired,
    /// The account did not grant a scope we need.
    MissingPermission,
    /// Streaming is not enabled on the Velora account.
    StreamingDisabled,
    /// Rate limited: retrying later.
    RateLimited,
    /// Network or server trouble: retrying.
    Network,
    /// The input was rejected (by us or the server).
    Invalid,
    /// The login did not complete (denied, timed out, browser trouble).
    Login,
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::SessionExpired => "sessionExpired",
            ErrorKind::MissingPermission => "missingPermission",
            ErrorKind::StreamingDisabled => "streamingDisabled",
            ErrorKind::RateLimited => "rateLimited",
            ErrorKind::Network => "network",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Login => "login",
            ErrorKind::Other => "other",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// Plain words for the user (localized, never a secret).
    pub message: String,
    /// Seconds until an automatic retry, when one is scheduled.
    pub retry_in_secs: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct CategoryItem {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Status {
    pub phase: Phase,
    /// A request is in flight (the dock shows a spinner-ish hint).
    pub busy: bool,
    /// The authorize URL while logging in, for "Copy login link".
    pub login_url: Option<String>,
    pub account: Option<String>,
    pub environment: String,
    pub api_base_url: String,
    pub last_error: Option<ErrorInfo>,
    /// Inline confirmation, e.g. "Stream info updated".
    pub notice: Option<String>,
    pub is_live: bool,
    pub viewer_count: u64,
    pub started_at: Option<String>,
    pub title: Option<String>,
    pub category_slug: Option<String>,
    pub tags: Vec<String>,
    pub protocol: Protocol,
    pub service_active: bool,
    pub can_restore: bool,
    pub pending_apply: bool,
    pub key_hint: Option<String>,
    pub categories: Vec<CategoryItem>,
    /// Bumped whenever title/category/tags change from outside the editor.
    pub info_generation: u64,
}

impl Status {
    pub fn logged_in(&self) -> bool {
        self.phase == Phase::Ready
    }
}

type Listener = Arc<dyn Fn(&Status) + Send + Sync>;

struct Board {
    status: RwLock<Status>,
    listeners: Mutex<Vec<Listener>>,
}

static BOARD: Lazy<Board> = Lazy::new(|| Board {
    status: RwLock::new(Status::default()),
    listeners: Mutex::new(Vec::new()),
});

/// A copy of the current status.
pub fn snapshot() -> Status {
    BOARD.status.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Changes the status; listeners hear about it when something changed.
pub fn update(f: impl FnOnce(&mut Status)) {
    let (changed, now) = {
        let mut g = BOARD.status.write().unwrap_or_else(|e| e.into_inner());
        let before = g.clone();
        f(&mut g);
        (*g != before, g.clone())
    };
    if changed {
        let listeners: Vec<Listener> = BOARD.listeners.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for l in listeners {
            l(&now);
        }
    }
}

/// Registers a listener (called on the thread that made the change: it
/// must not block, only hand over).
pub fn subscribe(l: impl Fn(&Status) + Send + Sync + 'static) {
    BOARD
        .listeners
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::new(l));
}

/// Drops every listener (module unload).
pub fn clear_listeners() {
    BOARD.listeners.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn listeners_hear_only_changes() {
        static N: AtomicUsize = AtomicUsize::new(0);
        subscribe(|_| {
            N.fetch_add(1, Ordering::SeqCst);
        });
        let before = N.load(Ordering::SeqCst);
        update(|s| s.viewer_count = 4242);
        update(|s| s.viewer_count = 4242);
        assert_eq!(N.load(Ordering::SeqCst), before + 1);
        assert_eq!(snapshot().viewer_count, 4242);
    }
}
