//! The session: logged out → logging in → ready (→ live), and the one worker
//! thread that owns the HTTP client, the token store and every network call.
//!
//! This file is the session's face: the requests the streamer can make
//! ([`Request`], answered with a typed [`Reply`] or a [`Failure`]), the
//! events OBS reports ([`Event`]), and starting and stopping the worker.
//! OBS and Qt callbacks only *send* here, never wait on the network;
//! automation requests wait for their answer (bounded) on obs-websocket's
//! threads. Results reach the faces through [`crate::status`].
//!
//! Rooms: `worker` (the loop, dispatch and timers), `setup` (environment,
//! client and token store, read once), `api` (authenticated calls: refresh
//! after a 401, the end of a session), `login`, `info` (title, category,
//! tags, live status), `poll` (when to ask again), `service` (OBS's
//! streaming service: apply, restore, regenerate, key check), `prefs`,
//! `thumbnails` (category pictures: fetched, checked, cached on disk) and
//! `account` (the name "Logged in as" shows).

mod account;
mod api;
mod info;
mod login;
mod poll;
pub mod prefs;
pub mod service;
mod setup;
mod thumbnails;
mod worker;

pub use crate::errors::Failure;
pub use prefs::Prefs;
pub use thumbnails::{MAX_IMAGE_BYTES as THUMB_MAX_BYTES, MAX_PIXELS as THUMB_MAX_PIXELS, MAX_SIDE as THUMB_MAX_SIDE};

use crate::api::Category;
use crate::auth;
use crate::cancel::Cancel;
use crate::config::Environment;
use crate::host::Host;
use crate::status::{self, RequestOutcome};
use crate::stream_config::{Protocol, ServiceSettings};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an automation request waits for its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Live polling: every 15 s while streaming (4 requests a minute).
pub const POLL_LIVE: Duration = Duration::from_secs(15);
/// Every 60 s while the dock is visible and OBS is not streaming.
pub const POLL_IDLE: Duration = Duration::from_secs(60);
/// Categories are cached this long.
pub const CATEGORIES_TTL: Duration = Duration::from_secs(6 * 3600);

/// What the streamer asks (from the dock or obs-websocket).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Login,
    CancelLogin,
    Logout {
        restore_previous: bool,
    },
    ApplySetup {
        protocol: Option<Protocol>,
    },
    SetStreamInfo {
        title: Option<String>,
        category: Option<String>,
        tags: Option<Vec<String>>,
    },
    GetCategories {
        refresh: bool,
    },
    RegenerateKey,
    /// Compares OBS's stream key with Velora's now (one request).
    CheckKey,
    RestorePrevious,
    SetEnvironment {
        env: Environment,
        custom_url: String,
    },
}

/// How a request succeeded.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    LoginStarted,
    AlreadyLoggedIn,
    LoginAlreadyPending,
    LoginCancelled {
        was_pending: bool,
    },
    LoggedOut {
        restored: bool,
    },
    Applied {
        protocol: Protocol,
        /// The ingest URL, safe to show (a WHIP URL's key elided).
        server_shown: String,
        /// Live: applied when the stream ends.
        pending: bool,
    },
    InfoUpdated {
        /// The fields actually sent to Velora.
        sent: Vec<&'static str>,
        title: Option<String>,
        category: Option<String>,
        tags: Vec<String>,
    },
    Categories(Vec<Category>),
    KeyRegenerated {
        applied: bool,
        pending: bool,
        key_hint: String,
    },
    Restored {
        service_type: String,
    },
    KeyChecked {
        /// The key had been changed on Velora; OBS now uses the new one.
        changed: bool,
        key_hint: String,
    },
    EnvironmentSet,
}

pub type Outcome = Result<Reply, Failure>;

/// What happened in OBS (or around the worker); nobody waits for an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    StreamingStarting,
    StreamingStarted,
    StreamingStopped,
    ProfileChanged,
    /// OBS's streaming service changed (seen on the UI thread).
    ServiceChanged,
    /// OBS's Settings dialog or auto-configuration wizard closed (the
    /// service was read again on the UI thread just before).
    SettingsClosed,
    /// The `velora` service's `update` saw new settings (a tool wrote them).
    ServiceSettingsChanged {
        old: Box<ServiceSettings>,
        new: Box<ServiceSettings>,
    },
    DockVisible(bool),
    /// The plugin's preferences changed in memory: save them.
    SavePrefs,
}

/// Who waits for a request's outcome.
pub(crate) enum ReplyTo {
    /// The dock: the outcome goes on the status board under this id.
    Dock(u64),
    /// An automation request waiting in [`call`].
    Caller(Sender<Outcome>),
}

impl ReplyTo {
    /// Delivers the outcome (never blocks).
    pub(crate) fn deliver(self, outcome: Outcome) {
        match self {
            ReplyTo::Dock(id) => status::update(|s| {
                s.finish_request(RequestOutcome {
                    id,
                    ok: outcome.is_ok(),
                    message: match &outcome {
                        Ok(r) => worker::confirmation(r),
                        Err(f) => f.message(),
                    },
                })
            }),
            ReplyTo::Caller(tx) => {
                let _ = tx.send(outcome);
            }
        }
    }
}

pub(crate) enum Msg {
    Request(Request, ReplyTo),
    Event(Event),
    /// A login's browser wait ended (from the login thread).
    LoginDone {
        id: u64,
        result: Result<auth::AuthCode, auth::LoginError>,
    },
    /// Wakes the loop to look at the stop flag.
    Wake,
}

struct Handle {
    tx: Sender<Msg>,
    stop: Cancel,
    join: Option<JoinHandle<()>>,
}

static WORKER: Mutex<Option<Handle>> = Mutex::new(None);
/// A worker that did not end within the EXIT wait; waited for at unload.
static LINGERING: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);
/// Set once the worker was stopped (OBS is exiting): nothing waits for it then.
static STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// How long OBS's EXIT waits for the worker, and unload once more after it.
/// Everything the worker waits on is cancelled by the stop flag (HTTP, retry
/// sleeps, the login, waits for the UI thread), so it ends in milliseconds;
/// only a call into the OS keyring cannot be interrupted.
const EXIT_WAIT: Duration = Duration::from_millis(600);
const UNLOAD_WAIT: Duration = Duration::from_millis(600);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the worker (FINISHED_LOADING). Nothing touches the network or the
/// keyring before this, and then only on the worker thread. The preferences
/// are read here, before the dock asks for them.
pub fn start(host: Arc<dyn Host>) {
    let mut g = lock(&WORKER);
    if g.is_some() {
        return;
    }
    STOPPED.store(false, Ordering::SeqCst);
    prefs::load_into_memory(host.as_ref());
    let (tx, rx) = channel();
    let stop = Cancel::new();
    let ctx = worker::Ctx::new(host, tx.clone(), stop.clone());
    match crate::threads::spawn("velora-worker", move || worker::run(ctx, rx)) {
        Ok(j) => {
            *g = Some(Handle {
                tx,
                stop,
                join: Some(j),
            })
        }
        Err(e) => log::error!("could not start the worker thread: {e}"),
    }
}

fn wait_for(j: &JoinHandle<()>, limit: Duration) -> bool {
    let t = Instant::now();
    while !j.is_finished() && t.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
    j.is_finished()
}

/// Stops the worker (EXIT, UI thread): sets the stop flag, which abandons
/// whatever it waits on, and waits for it briefly. Every automation request
/// still waiting is answered at once.
pub fn stop() {
    STOPPED.store(true, Ordering::SeqCst);
    let h = lock(&WORKER).take();
    let Some(mut h) = h else { return };
    h.stop.cancel();
    let _ = h.tx.send(Msg::Wake);
    if let Some(j) = h.join.take() {
        if wait_for(&j, EXIT_WAIT) {
            let _ = j.join();
        } else {
            log::warn!("the worker is still busy (an OS keyring call?): waiting for it at unload");
            *lock(&LINGERING) = Some(j);
        }
    }
}

/// Unload: waits (bounded) for a worker that did not end at EXIT. A worker
/// stuck inside the OS keyring is left behind with a warning rather than
/// hold OBS's exit (OBS never unmaps its modules).
pub fn finish() {
    stop();
    if let Some(j) = lock(&LINGERING).take() {
        if wait_for(&j, UNLOAD_WAIT) {
            let _ = j.join();
        } else {
            log::warn!("the worker did not end in time; OBS exits without waiting for it");
        }
    }
}

/// The worker runs (from FINISHED_LOADING until EXIT).
pub fn is_running() -> bool {
    lock(&WORKER).is_some()
}

fn send(msg: Msg) -> bool {
    let g = lock(&WORKER);
    match g.as_ref() {
        Some(h) => h.tx.send(msg).is_ok(),
        None => false,
    }
}

/// How long a request that arrives while OBS is still loading waits for the
/// worker (it starts at FINISHED_LOADING).
const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// Sends a request and waits for its outcome (bounded): automation, on
/// obs-websocket's threads. A request that arrives before the worker runs
/// (obs-websocket answers before OBS has finished loading) waits for it.
pub fn call(req: Request) -> Outcome {
    let t = Instant::now();
    while !is_running() && !STOPPED.load(Ordering::SeqCst) && t.elapsed() < STARTUP_WAIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (tx, rx) = channel();
    if !send(Msg::Request(req, ReplyTo::Caller(tx))) {
        return Err(Failure::NotReady);
    }
    match rx.recv_timeout(REQUEST_TIMEOUT) {
        Ok(r) => r,
        Err(RecvTimeoutError::Timeout) => Err(Failure::TimedOut),
        // The worker stopped (OBS is closing) before answering.
        Err(RecvTimeoutError::Disconnected) => Err(Failure::NotReady),
    }
}

/// Sends a request for the dock; returns its id, under which the outcome
/// appears on the status board ([`status::Status::requests`]). Never waits.
pub fn dock_request(req: Request) -> u64 {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    status::update(|s| s.running_request = Some(id));
    if !send(Msg::Request(req, ReplyTo::Dock(id))) {
        ReplyTo::Dock(id).deliver(Err(Failure::NotReady));
    }
    id
}

/// Reports something that happened in OBS. Never waits.
pub fn event(ev: Event) {
    send(Msg::Event(ev));
}

/// The stream key of the service OBS uses, only for an explicit "reveal"
/// by the user.
pub fn reveal_key(host: &dyn Host) -> Option<crate::Secret> {
    host.current_service()
        .and_then(|c| c.velora)
        .map(|v| v.key)
        .filter(|k| !k.is_empty())
}

/// The environment in effect (chosen in the dock, else from
/// `VELORA_API_URL`) and the custom URL.
pub fn environment_choice() -> (Environment, String) {
    let p = prefs::current();
    let env = p
        .environment()
        .or_else(|| setup::endpoints_for(&p).ok().map(|e| e.environment))
        .unwrap_or(Environment::Production);
    let url = if p.custom_url.is_empty() && env == Environment::Custom {
        setup::endpoints_for(&p)
            .map(|e| e.api_base.to_string())
            .unwrap_or_default()
    } else {
        p.custom_url.clone()
    };
    (env, url)
}

/// True once: the first time the plugin runs (the dock shows itself).
pub fn take_first_run() -> bool {
    let first = prefs::update(|p| {
        let first = !p.dock_shown_once;
        p.dock_shown_once = true;
        first
    });
    if first {
        event(Event::SavePrefs);
    }
    first
}
