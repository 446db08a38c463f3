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
    /// Velora rate-limited us: retrying later.
    RateLimited,
    /// The plugin paces itself (its own request budget): going ahead later.
    Paced,
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
            ErrorKind::Paced => "paced",
            ErrorKind::Network => "network",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Login => "login",
            ErrorKind::Other => "other",
        }
    }
}

/// What OBS's streaming service is, seen from Velora (`GetStatus.serviceMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceMode {
    /// The `velora` service, with its ingest.
    Velora,
    /// OBS's own custom/common RTMP service, pointing at Velora's current
    /// ingest with the current key: it streams to Velora.
    VeloraViaCustom,
    /// What Settings › Stream (or its wizard) leaves of the Velora service
    /// after an edit: `rtmp_common` "Velora" without a server (or a `velora`
    /// service without one). It cannot stream.
    Mangled,
    /// Anything else: a service the streamer chose.
    #[default]
    Other,
}

impl ServiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Velora => "velora",
            ServiceMode::VeloraViaCustom => "veloraViaCustom",
            ServiceMode::Mangled => "mangled",
            ServiceMode::Other => "other",
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

/// How a request of the dock's ended, by the id it got when it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestOutcome {
    pub id: u64,
    pub ok: bool,
    /// What to tell the streamer (a confirmation or the failure), localized.
    pub message: String,
}

/// How many finished requests the board remembers.
pub(crate) const REQUESTS_KEPT: usize = 8;

/// A category's picture, as far as the plugin got with it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Thumb {
    /// The category has no picture (`imageUrl` is null): a placeholder.
    #[default]
    None,
    /// Being fetched (a placeholder meanwhile).
    Loading,
    /// Checked (format, bytes, pixels) and cached on disk at this path.
    Ready(String),
    /// Could not be fetched or failed the checks (a placeholder).
    Failed,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct CategoryItem {
    pub slug: String,
    pub name: String,
    /// Where the picture comes from (never shown; the dock gets [`Thumb`]).
    pub image_url: Option<String>,
    pub thumb: Thumb,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Status {
    pub phase: Phase,
    /// A request is in flight (the dock shows a spinner-ish hint).
    pub busy: bool,
    /// The authorize URL while logging in, for "Copy login link".
    pub login_url: Option<String>,
    /// When a waiting login gives up.
    pub login_deadline: Option<std::time::Instant>,
    pub account: Option<String>,
    pub environment: String,
    pub api_base_url: String,
    pub last_error: Option<ErrorInfo>,
    /// Inline confirmation, e.g. "Stream info updated".
    pub notice: Option<String>,
    /// The notice says OBS streams to Velora ("OBS now streams to Velora."):
    /// it goes away the moment OBS's service is not Velora's.
    pub notice_needs_velora: bool,
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
    /// The dock's requests that finished, newest last (at most [`REQUESTS_KEPT`]).
    pub requests: Vec<RequestOutcome>,
    /// The dock request being worked on.
    pub running_request: Option<u64>,
    /// When the stream key OBS uses was last compared with Velora's.
    pub key_checked_at: Option<std::time::Instant>,
    /// How old that check may be and still count as recent (the pre-live
    /// check's age limit plus one idle poll, in seconds).
    pub key_check_max_age_secs: u64,
    /// What OBS's streaming service is, seen from Velora.
    pub service_mode: ServiceMode,
    /// What the dock says about the service when it is not plainly the
    /// Velora service (localized; never a secret).
    pub service_note: Option<String>,
}

impl Status {
    /// A confirmation about OBS streaming to Velora (see
    /// [`Status::notice_needs_velora`]).
    pub fn velora_notice(&mut self, text: String) {
        self.notice = Some(text);
        self.notice_needs_velora = true;
    }

    /// Any other confirmation.
    pub fn plain_notice(&mut self, text: String) {
        self.notice = Some(text);
        self.notice_needs_velora = false;
    }

    /// Records how a dock request ended.
    pub fn finish_request(&mut self, outcome: RequestOutcome) {
        if self.running_request == Some(outcome.id) {
            self.running_request = None;
        }
        self.requests.push(outcome);
        let extra = self.requests.len().saturating_sub(REQUESTS_KEPT);
        self.requests.drain(..extra);
    }
}

impl Status {
    pub fn logged_in(&self) -> bool {
        self.phase == Phase::Ready
    }
}

type Listener = Arc<dyn Fn(&Status) + Send + Sync>;

/// The board is published, not shared: readers (the dock's render on OBS's
/// UI thread, `GetStatus` on obs-websocket's threads, the worker) take the
/// current version, an `Arc`, in a pointer-sized critical section, and never
/// wait for a writer's work or for each other (a reader copying the whole
/// board under a read lock made the UI thread queue behind a waiting writer:
/// 16-27 ms on a loaded machine while `GetStatus` was hammered). Writers
/// take turns on their own lock, build the next version aside, then swap it
/// in.
struct Board {
    current: RwLock<Arc<Status>>,
    writer: Mutex<()>,
    listeners: Mutex<Vec<Listener>>,
}

static BOARD: Lazy<Board> = Lazy::new(|| Board {
    current: RwLock::new(Arc::new(Status::default())),
    writer: Mutex::new(()),
    listeners: Mutex::new(Vec::new()),
});

/// The current status (a published version: it never changes under you).
pub fn snapshot() -> Arc<Status> {
    BOARD.current.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Changes the status; listeners hear about it when something changed.
pub fn update(f: impl FnOnce(&mut Status)) {
    let now = {
        let _turn = BOARD.writer.lock().unwrap_or_else(|e| e.into_inner());
        let before = snapshot();
        let mut next = Status::clone(&before);
        f(&mut next);
        if next == *before {
            return;
        }
        let next = Arc::new(next);
        *BOARD.current.write().unwrap_or_else(|e| e.into_inner()) = next.clone();
        next
    };
    let listeners: Vec<Listener> = BOARD.listeners.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for l in listeners {
        l(&now);
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
