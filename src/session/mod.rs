//! The session: logged out → logging in → ready (→ live), and the one worker
//! thread that owns the HTTP client, the token store and every network call.
//!
//! OBS and Qt callbacks only *send* commands here (never wait on the
//! network). Vendor requests wait for their reply with a bounded timeout on
//! obs-websocket's own threads. Results reach the faces through
//! [`crate::status`] (the dock re-reads on its UI thread; `StatusChanged` is
//! emitted to obs-websocket).

use crate::api::{self, ApiError, Client};
use crate::auth::{self, CancelToken, LoginConfig, LoginError, LoginFlow, TokenStore};
use crate::config::{Endpoints, Environment};
use crate::core::Host;
use crate::status::{self, CategoryItem, ErrorInfo, ErrorKind, Phase};
use crate::stream_config::{Protocol, ServiceSettings, SERVICE_ID};
use crate::Secret;
use once_cell::sync::Lazy;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod prefs;
mod requests;
mod worker;

pub use prefs::Prefs;
pub use requests::codes as requests_codes;
pub use requests::Failure;

/// How long a vendor request waits for the worker.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Live polling: every 15 s while streaming (4 requests a minute).
pub const POLL_LIVE: Duration = Duration::from_secs(15);
/// Every 60 s while the dock is visible and OBS is not streaming.
pub const POLL_IDLE: Duration = Duration::from_secs(60);
/// Categories are cached this long.
pub const CATEGORIES_TTL: Duration = Duration::from_secs(6 * 3600);

type Reply = Sender<Result<Value, Failure>>;

/// What the faces ask of the worker.
pub(crate) enum Cmd {
    Login(Option<Reply>),
    CancelLogin(Option<Reply>),
    Logout {
        restore: bool,
        reply: Option<Reply>,
    },
    LoginDone {
        id: u64,
        result: Result<auth::AuthCode, LoginError>,
    },
    ApplySetup {
        protocol: Option<Protocol>,
        reply: Option<Reply>,
    },
    SetStreamInfo {
        title: Option<String>,
        category: Option<String>,
        tags: Option<Vec<String>>,
        reply: Option<Reply>,
    },
    GetCategories {
        refresh: bool,
        reply: Option<Reply>,
    },
    RegenerateKey {
        reply: Option<Reply>,
    },
    RestorePrevious {
        reply: Option<Reply>,
    },
    SetEnvironment {
        env: Environment,
        custom_url: String,
    },
    DockVisible(bool),
    /// STREAMING_STARTING / STOPPED / PROFILE_CHANGED and the service `update`.
    ObsEvent(ObsEvent),
    Shutdown,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ObsEvent {
    StreamingStarting,
    StreamingStarted,
    StreamingStopped,
    ProfileChanged,
    ServiceSettingsChanged {
        old: Box<ServiceSettings>,
        new: Box<ServiceSettings>,
    },
}

struct Handle {
    tx: Sender<Cmd>,
    join: Option<JoinHandle<()>>,
}

static HANDLE: Lazy<Mutex<Option<Handle>>> = Lazy::new(|| Mutex::new(None));
/// Prefs are readable by the faces without asking the worker.
static PREFS: Lazy<Mutex<Prefs>> = Lazy::new(|| Mutex::new(Prefs::default()));
/// The stream key, for an explicit "reveal" only.
static KEY: Lazy<Mutex<Option<Secret>>> = Lazy::new(|| Mutex::new(None));

/// Starts the worker (FINISHED_LOADING). Nothing touches the network or the
/// keyring before this, and then only on the worker thread.
pub fn start(host: Arc<dyn Host>) {
    let mut g = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_some() {
        return;
    }
    let (tx, rx) = channel();
    let worker_tx = tx.clone();
    let join = std::thread::Builder::new()
        .name("velora-worker".into())
        .spawn(move || worker::run(host, rx, worker_tx));
    match join {
        Ok(j) => *g = Some(Handle { tx, join: Some(j) }),
        Err(e) => log::error!("could not start the worker thread: {e}"),
    }
}

/// A worker that did not stop within the EXIT grace period; joined at unload.
static LINGERING: Lazy<Mutex<Option<JoinHandle<()>>>> = Lazy::new(|| Mutex::new(None));

/// Stops the worker (EXIT): a waiting login is cancelled at once; a request
/// in flight may take until its timeout, so OBS's UI waits at most 2 s here
/// and the rest happens in [`finish`] at unload, after the window is gone.
pub fn stop() {
    STOPPED.store(true, std::sync::atomic::Ordering::SeqCst);
    let h = HANDLE.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut h) = h {
        let _ = h.tx.send(Cmd::Shutdown);
        if let Some(j) = h.join.take() {
            let t = Instant::now();
            while !j.is_finished() && t.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(10));
            }
            if j.is_finished() {
                let _ = j.join();
            } else {
                log::info!("a request to Velora is still running: finishing it before unload");
                *LINGERING.lock().unwrap_or_else(|e| e.into_inner()) = Some(j);
            }
        }
    }
}

/// Unload: no thread of ours may outlive the module.
pub fn finish() {
    stop();
    if let Some(j) = LINGERING.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = j.join();
    }
}

pub fn is_running() -> bool {
    HANDLE.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

fn send(cmd: Cmd) -> bool {
    let g = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    match g.as_ref() {
        Some(h) => h.tx.send(cmd).is_ok(),
        None => false,
    }
}

/// Set once the worker was stopped (OBS is exiting): nothing waits for it then.
static STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// How long a request that arrives while OBS is still loading waits for the
/// worker (it starts at FINISHED_LOADING).
const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// Sends a command built with a reply channel and waits (bounded). A request
/// that arrives before the worker runs (obs-websocket answers before OBS has
/// finished loading) waits for it instead of failing.
pub(crate) fn call(make: impl FnOnce(Reply) -> Cmd) -> Result<Value, Failure> {
    let t = Instant::now();
    while !is_running() && !STOPPED.load(std::sync::atomic::Ordering::SeqCst) && t.elapsed() < STARTUP_WAIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (tx, rx) = channel();
    if !send(make(tx)) {
        return Err(Failure::not_ready());
    }
    match rx.recv_timeout(REQUEST_TIMEOUT) {
        Ok(r) => r,
        Err(RecvTimeoutError::Timeout) => Err(Failure::new(
            requests::codes::TIMEOUT,
            "Velora did not answer in time; the request may still complete",
        )),
        Err(RecvTimeoutError::Disconnected) => Err(Failure::not_ready()),
    }
}

// ---- the faces' entry points (never block on the network) ----

pub fn login() {
    send(Cmd::Login(None));
}

pub fn cancel_login() {
    send(Cmd::CancelLogin(None));
}

pub fn logout(restore: bool) {
    send(Cmd::Logout { restore, reply: None });
}

pub fn apply_setup_async(protocol: Option<Protocol>) {
    send(Cmd::ApplySetup { protocol, reply: None });
}

pub fn restore_previous_async() {
    send(Cmd::RestorePrevious { reply: None });
}

pub fn set_stream_info_async(title: Option<String>, category: Option<String>, tags: Option<Vec<String>>) {
    send(Cmd::SetStreamInfo {
        title,
        category,
        tags,
        reply: None,
    });
}

pub fn regenerate_key_async() {
    send(Cmd::RegenerateKey { reply: None });
}

pub fn refresh_categories_async() {
    send(Cmd::GetCategories {
        refresh: true,
        reply: None,
    });
}

pub fn set_dock_visible(visible: bool) {
    send(Cmd::DockVisible(visible));
}

pub fn set_environment(env: Environment, custom_url: &str) {
    send(Cmd::SetEnvironment {
        env,
        custom_url: custom_url.trim().to_string(),
    });
}

pub fn obs_event(ev: ObsEvent) {
    send(Cmd::ObsEvent(ev));
}

/// The stream key, only for an explicit "reveal" by the user.
pub fn reveal_key() -> Option<Secret> {
    KEY.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn set_key(key: Option<Secret>) {
    *KEY.lock().unwrap_or_else(|e| e.into_inner()) = key;
}

/// The environment in effect (chosen in the dock, else from
/// `VELORA_API_URL`) and the custom URL.
pub fn environment_choice() -> (Environment, String) {
    let p = PREFS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let env = p
        .environment()
        .or_else(|| endpoints_for(&p).ok().map(|e| e.environment))
        .unwrap_or(Environment::Production);
    let url = if p.custom_url.is_empty() && env == Environment::Custom {
        endpoints_for(&p).map(|e| e.api_base.to_string()).unwrap_or_default()
    } else {
        p.custom_url.clone()
    };
    (env, url)
}

/// True once: the first time the plugin runs (the dock shows itself).
pub fn take_first_run() -> bool {
    let mut p = PREFS.lock().unwrap_or_else(|e| e.into_inner());
    if p.dock_shown_once {
        return false;
    }
    p.dock_shown_once = true;
    let copy = p.clone();
    drop(p);
    prefs::save_in_background(copy);
    true
}

pub(crate) fn prefs() -> Prefs {
    PREFS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn set_prefs(p: Prefs) {
    *PREFS.lock().unwrap_or_else(|e| e.into_inner()) = p;
}

/// `GetStatus` as JSON, from the status board (no worker round trip).
pub fn status_json(host: &dyn Host) -> Value {
    let s = status::snapshot();
    let current = host.current_service();
    let velora = current.as_ref().and_then(|c| c.velora.clone());
    let active = current.as_ref().is_some_and(|c| c.type_id == SERVICE_ID);
    json!({
        "ok": true,
        "version": crate::version::PLUGIN_VERSION,
        "obsVersion": host.obs_version_string(),
        "obsApiVersion": crate::version::display(host.obs_version()),
        "apiBaseUrl": if s.api_base_url.is_empty() { crate::settings::api_base_url() } else { s.api_base_url.clone() },
        "environment": s.environment,
        "phase": s.phase.as_str(),
        // The worker runs (from FINISHED_LOADING until EXIT).
        "ready": is_running(),
        "loggedIn": s.phase == Phase::Ready,
        "loginPending": s.phase == Phase::LoggingIn,
        "account": s.account,
        "lastError": s.last_error.as_ref().map(|e| json!({"kind": e.kind.as_str(), "message": e.message, "retryInSecs": e.retry_in_secs})),
        "serviceActive": active,
        "serviceType": current.as_ref().map(|c| c.type_id.clone()),
        "protocol": velora.as_ref().map(|v| v.protocol.as_str()).unwrap_or(s.protocol.as_str()),
        "pendingApply": s.pending_apply,
        "canRestore": s.can_restore,
        "isLive": s.is_live,
        "viewerCount": s.viewer_count,
        "startedAt": s.started_at,
        "title": s.title,
        "categorySlug": s.category_slug,
        // A comma-separated string: obs_data (and so obs-websocket) drops arrays of strings.
        "tags": crate::stream_config::join_tags(&s.tags),
        "keyHint": s.key_hint,
        "busy": s.busy,
        "uiThreadMaxMs": crate::metrics::ui_stats().0,
        "uiThreadCalls": crate::metrics::ui_stats().1,
        "uiThreadSlowCalls": crate::metrics::ui_stats().2,
        "dockSetupMs": crate::metrics::dock_creation_ms(),
    })
}

/// Plain-words error for the faces (never a secret).
pub fn error_info(e: &ApiError) -> ErrorInfo {
    let t = crate::core::text;
    let server_msg = |m: &str, key: &str| if m.trim().is_empty() { t(key) } else { m.to_string() };
    match e {
        ApiError::Unauthorized => ErrorInfo {
            kind: ErrorKind::SessionExpired,
            message: t("Velora.Error.SessionExpired"),
            retry_in_secs: None,
        },
        ApiError::Forbidden { message } => {
            let lower = message.to_lowercase();
            if lower.contains("not enabled") || lower.contains("streaming") && !lower.contains("scope") {
                ErrorInfo {
                    kind: ErrorKind::StreamingDisabled,
                    message: server_msg(message, "Velora.Error.StreamingDisabled"),
                    retry_in_secs: None,
                }
            } else {
                ErrorInfo {
                    kind: ErrorKind::MissingPermission,
                    message: server_msg(message, "Velora.Error.MissingPermission"),
                    retry_in_secs: None,
                }
            }
        }
        ApiError::RateLimited { retry_after, .. } => ErrorInfo {
            kind: ErrorKind::RateLimited,
            message: t("Velora.Error.RateLimited"),
            retry_in_secs: Some(retry_after.as_secs().max(1)),
        },
        ApiError::Network { .. } | ApiError::Server { .. } => ErrorInfo {
            kind: ErrorKind::Network,
            message: t("Velora.Error.Network"),
            retry_in_secs: None,
        },
        ApiError::NotFound { message } | ApiError::Invalid { message, .. } => ErrorInfo {
            kind: ErrorKind::Invalid,
            message: server_msg(message, "Velora.Error.Invalid"),
            retry_in_secs: None,
        },
        other => ErrorInfo {
            kind: ErrorKind::Other,
            message: other.user_message(),
            retry_in_secs: None,
        },
    }
}

/// Where the plugin keeps its own (non-secret) files.
pub(crate) fn config_dir(host: &dyn Host) -> PathBuf {
    host.config_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("obs-velora"))
}

/// Converts categories for the status board.
pub(crate) fn category_items(cats: &[api::Category]) -> Vec<CategoryItem> {
    cats.iter()
        .map(|c| CategoryItem {
            slug: c.slug.clone(),
            name: c.name.clone(),
        })
        .collect()
}

pub(crate) fn endpoints_for(prefs: &Prefs) -> Result<Endpoints, crate::config::ConfigError> {
    crate::config::resolve_from_env(&prefs.endpoint_settings())
}

/// The one HTTP client. `VELORA_HTTP_TIMEOUT_MS` shortens the overall
/// request timeout (tests of a slow server).
pub(crate) fn new_client(endpoints: &Endpoints) -> Result<Client, ApiError> {
    let mut cfg = api::ApiConfig::new(endpoints.clone());
    if let Some(ms) = std::env::var("VELORA_HTTP_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        cfg.timeout = Duration::from_millis(ms.max(100));
    }
    Client::new(cfg)
}

pub(crate) fn login_config(endpoints: &Endpoints, prefs: &Prefs) -> LoginConfig {
    let mut cfg = LoginConfig::new(endpoints.authorize_url.clone(), endpoints.client_id.clone());
    if let Some(p) = prefs.redirect_port {
        cfg.port = p;
    }
    if let Ok(p) = std::env::var("VELORA_REDIRECT_PORT") {
        if let Ok(p) = p.trim().parse() {
            cfg.port = p;
        }
    }
    if let Ok(secs) = std::env::var("VELORA_LOGIN_TIMEOUT_SECS") {
        if let Ok(s) = secs.trim().parse::<u64>() {
            cfg.timeout = Duration::from_secs(s.max(1));
        }
    }
    cfg
}

pub(crate) fn start_login_flow(cfg: LoginConfig) -> Result<LoginFlow, LoginError> {
    LoginFlow::start(cfg)
}

pub(crate) fn open_store(dir: &std::path::Path) -> TokenStore {
    TokenStore::open(dir, true)
}

pub(crate) type LoginHandle = (u64, CancelToken, Instant);
