//! The worker thread: owns the HTTP client, the token store and the login
//! flow; executes commands one at a time; polls live status only while it
//! is useful.

use super::requests::codes;
use super::{Cmd, Failure, LoginHandle, ObsEvent, Reply, CATEGORIES_TTL, POLL_IDLE, POLL_LIVE};
use crate::api::{self, ApiError, Client};
use crate::auth::{self, CancelToken, SessionError};
use crate::config::Endpoints;
use crate::core::Host;
use crate::status::{self, ErrorInfo, ErrorKind, Phase};
use crate::stream_config::{self, Protocol, ServiceSettings, SERVICE_ID};
use crate::Secret;
use serde_json::{json, Value};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why an authenticated call failed.
enum CallError {
    /// The session is gone (refresh refused or no refresh token).
    LoginRequired,
    Api(ApiError),
}

impl From<ApiError> for CallError {
    fn from(e: ApiError) -> Self {
        CallError::Api(e)
    }
}

impl CallError {
    fn failure(&self) -> Failure {
        match self {
            CallError::LoginRequired => {
                Failure::new(codes::SESSION_EXPIRED, crate::core::text("Velora.Error.SessionExpired"))
            }
            CallError::Api(e) => Failure::from_api(e),
        }
    }
}

struct Worker {
    host: Arc<dyn Host>,
    tx: Sender<Cmd>,
    endpoints: Option<Endpoints>,
    client: Option<Client>,
    session: Option<auth::Session>,
    login: Option<LoginHandle>,
    login_seq: u64,
    categories: Vec<api::Category>,
    categories_at: Option<Instant>,
    /// A service change waiting for the stream to end.
    pending: Option<ServiceSettings>,
    dock_visible: bool,
    streaming: bool,
    next_poll: Option<Instant>,
    backoff: Duration,
    /// Title/category/tags as Velora last reported or accepted them.
    remote: Info,
    /// Fields changed in OBS's service settings, waiting for the debounce.
    push: Info,
    push_due: Option<Instant>,
    /// When the configured stream key was last compared with Velora's.
    key_checked: Option<Instant>,
    /// Login threads (browser + loopback wait); joined before the worker ends
    /// so no thread of ours outlives the module.
    login_threads: Vec<std::thread::JoinHandle<()>>,
}

/// Title, category and tags; `None` = unknown / not given.
#[derive(Clone, Debug, Default, PartialEq)]
struct Info {
    title: Option<String>,
    category: Option<String>,
    tags: Option<Vec<String>>,
}

impl Info {
    fn is_empty(&self) -> bool {
        self.title.is_none() && self.category.is_none() && self.tags.is_none()
    }

    fn of_settings(v: &ServiceSettings) -> Info {
        Info {
            title: v.title.clone(),
            category: v.category_slug.clone(),
            tags: v.tags.clone(),
        }
    }
}

/// Several quick edits of the service settings become one request.
pub(crate) const PUSH_DEBOUNCE: Duration = Duration::from_millis(1500);

pub(super) fn run(host: Arc<dyn Host>, rx: Receiver<Cmd>, tx: Sender<Cmd>) {
    let mut w = Worker {
        host,
        tx,
        endpoints: None,
        client: None,
        session: None,
        login: None,
        login_seq: 0,
        categories: Vec::new(),
        categories_at: None,
        pending: None,
        dock_visible: false,
        streaming: false,
        next_poll: None,
        backoff: Duration::ZERO,
        remote: Info::default(),
        push: Info::default(),
        push_due: None,
        key_checked: None,
        login_threads: Vec::new(),
    };
    crate::ffi::guard::guard("worker.init", (), || w.init());
    loop {
        let next = [w.next_poll, w.push_due].into_iter().flatten().min();
        let timeout = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(timeout) {
            Ok(Cmd::Shutdown) => break,
            Ok(cmd) => crate::ffi::guard::guard("worker.command", (), || w.handle(cmd)),
            Err(RecvTimeoutError::Timeout) => crate::ffi::guard::guard("worker.timers", (), || w.timers()),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some((_, cancel, _)) = w.login.take() {
        cancel.cancel();
    }
    for t in w.login_threads.drain(..) {
        let _ = t.join();
    }
    log::info!("worker stopped");
}

fn reply(r: Option<Reply>, v: Result<Value, Failure>) {
    if let Some(r) = r {
        let _ = r.send(v);
    }
}

fn now_unix() -> u64 {
    auth::tokens::now_unix()
}

impl Worker {
    fn init(&mut self) {
        let dir = super::config_dir(self.host.as_ref());
        let prefs = super::prefs::load(&dir);
        super::set_prefs(prefs);
        self.configure();
        self.refresh_service_state();
    }

    /// (Re)builds endpoints, client and token session for the environment in
    /// the preferences. Touches the keyring: worker thread only.
    fn configure(&mut self) {
        let prefs = super::prefs();
        self.client = None;
        self.session = None;
        self.categories.clear();
        self.categories_at = None;
        match super::endpoints_for(&prefs) {
            Ok(ep) => {
                status::update(|s| {
                    s.environment = ep.environment.as_str().to_string();
                    s.api_base_url = ep.api_base.as_str().trim_end_matches('/').to_string();
                });
                match super::new_client(&ep) {
                    Ok(c) => self.client = Some(c),
                    Err(e) => {
                        log::warn!("Velora API client: {e}");
                        self.set_error(ErrorInfo {
                            kind: ErrorKind::Other,
                            message: e.user_message(),
                            retry_in_secs: None,
                        });
                    }
                }
                let store = super::open_store(&super::config_dir(self.host.as_ref()));
                match store.fallback_reason() {
                    None => log::info!("tokens are kept in the OS keyring"),
                    Some(why) => log::info!("no OS keyring ({why}): tokens are kept in a file only you can read"),
                }
                match auth::Session::open(store, ep.environment_key()) {
                    Ok(s) => {
                        let logged_in = s.is_logged_in();
                        let account = s.tokens().and_then(|t| t.account_name.clone());
                        self.session = Some(s);
                        status::update(|st| {
                            st.phase = if logged_in { Phase::Ready } else { Phase::LoggedOut };
                            st.account = account.clone();
                        });
                        if logged_in {
                            log::info!("restored the Velora session ({})", ep.environment_key());
                            self.after_login();
                        }
                    }
                    Err(e) => log::warn!("token store: {e}"),
                }
                self.endpoints = Some(ep);
            }
            Err(e) => {
                log::warn!("{e}");
                self.endpoints = None;
                self.set_error(ErrorInfo {
                    kind: ErrorKind::Other,
                    message: e.to_string(),
                    retry_in_secs: None,
                });
                status::update(|s| s.phase = Phase::LoggedOut);
            }
        }
    }

    fn set_error(&self, e: ErrorInfo) {
        status::update(|s| {
            s.last_error = Some(e);
            s.notice = None;
        });
    }

    fn clear_error(&self) {
        status::update(|s| s.last_error = None);
    }

    fn logged_in(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.is_logged_in())
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Login(r) => {
                let res = self.start_login();
                reply(r, res);
            }
            Cmd::CancelLogin(r) => {
                let had = self.login.take();
                if let Some((_, cancel, _)) = &had {
                    cancel.cancel();
                    log::info!("login cancelled");
                }
                status::update(|s| {
                    if s.phase == Phase::LoggingIn {
                        s.phase = Phase::LoggedOut;
                    }
                    s.login_url = None;
                });
                reply(r, Ok(json!({"ok": true, "cancelled": had.is_some()})));
            }
            Cmd::LoginDone { id, result } => self.finish_login(id, result),
            Cmd::Logout { restore, reply: r } => {
                let res = self.logout(restore);
                reply(r, res);
            }
            Cmd::ApplySetup { protocol, reply: r } => {
                let res = self.apply_setup(protocol);
                if let Err(f) = &res {
                    // The caller gets the error; the log says it without alarm.
                    log::info!("ApplySetup failed: {}", f.message);
                }
                reply(r, res);
            }
            Cmd::SetStreamInfo {
                title,
                category,
                tags,
                reply: r,
            } => {
                let res = self.set_stream_info(title, category, tags);
                reply(r, res);
            }
            Cmd::GetCategories { refresh, reply: r } => {
                let res = self.categories(refresh).map(|cats| {
                    json!({"ok": true, "categories": cats.iter().map(|c| json!({"slug": c.slug, "name": c.name, "imageUrl": c.image_url})).collect::<Vec<_>>()})
                });
                let res = res.map_err(|e| {
                    let f = e.failure();
                    self.note_call_error(&e);
                    f
                });
                reply(r, res);
            }
            Cmd::RegenerateKey { reply: r } => {
                let res = self.regenerate_key();
                reply(r, res);
            }
            Cmd::RestorePrevious { reply: r } => {
                let res = self.restore_previous();
                reply(r, res);
            }
            Cmd::SetEnvironment { env, custom_url } => {
                let mut p = super::prefs();
                p.environment = Some(env.as_str().to_string());
                p.custom_url = custom_url;
                super::set_prefs(p.clone());
                if let Err(e) = super::prefs::save(&super::config_dir(self.host.as_ref()), &p) {
                    log::warn!("could not save preferences: {e}");
                }
                if let Some((_, c, _)) = self.login.take() {
                    c.cancel();
                }
                self.clear_error();
                self.configure();
            }
            Cmd::DockVisible(v) => {
                self.dock_visible = v;
                if v {
                    self.refresh_service_state();
                    self.schedule_poll(Duration::from_millis(200));
                }
            }
            Cmd::ObsEvent(ev) => self.obs_event(ev),
            Cmd::Shutdown => {}
        }
    }

    // ---- login ----

    fn start_login(&mut self) -> Result<Value, Failure> {
        if self.logged_in() {
            return Ok(json!({"ok": true, "alreadyLoggedIn": true}));
        }
        if self.login.is_some() {
            return Ok(json!({"ok": true, "pending": true}));
        }
        let Some(ep) = self.endpoints.clone() else {
            return Err(Failure::new(
                codes::INVALID_REQUEST,
                crate::core::text("Velora.Error.NoEndpoints"),
            ));
        };
        let cfg = super::login_config(&ep, &super::prefs());
        let flow = super::start_login_flow(cfg).map_err(|e| {
            let msg = format!("{} ({e})", crate::core::text("Velora.Error.LoginStart"));
            self.set_error(ErrorInfo {
                kind: ErrorKind::Login,
                message: msg.clone(),
                retry_in_secs: None,
            });
            Failure::new(codes::INTERNAL, msg)
        })?;
        self.login_seq += 1;
        let id = self.login_seq;
        let cancel = CancelToken::new();
        let url = flow.authorize_url().to_string();
        self.login = Some((id, cancel.clone(), Instant::now()));
        status::update(|s| {
            s.phase = Phase::LoggingIn;
            s.login_url = Some(url);
            s.last_error = None;
            s.notice = None;
        });
        log::info!("login started: waiting for the browser");
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new().name("velora-login".into()).spawn(move || {
            if let Err(e) = flow.open_browser() {
                log::warn!("could not open a browser ({e}): the login link can be copied from the dock");
                status::update(|s| s.notice = Some(crate::core::text("Velora.Login.CopyLinkHint")));
            }
            let result = flow.wait(&cancel);
            let _ = tx.send(Cmd::LoginDone { id, result });
        });
        let spawned = spawned.map(|h| {
            self.login_threads.retain(|t| !t.is_finished());
            self.login_threads.push(h);
        });
        if let Err(e) = spawned {
            self.login = None;
            status::update(|s| s.phase = Phase::LoggedOut);
            return Err(Failure::new(
                codes::INTERNAL,
                format!("could not start the login thread: {e}"),
            ));
        }
        Ok(json!({"ok": true}))
    }

    fn finish_login(&mut self, id: u64, result: Result<auth::AuthCode, auth::LoginError>) {
        if self.login.as_ref().map(|l| l.0) != Some(id) {
            return; // a cancelled or replaced flow
        }
        self.login = None;
        status::update(|s| s.login_url = None);
        let code = match result {
            Ok(code) => code,
            Err(auth::LoginError::Cancelled) => {
                status::update(|s| s.phase = Phase::LoggedOut);
                return;
            }
            Err(e) => {
                log::warn!("login failed: {e}");
                let key = match e {
                    auth::LoginError::Denied { .. } => "Velora.Error.LoginDenied",
                    auth::LoginError::TimedOut => "Velora.Error.LoginTimedOut",
                    _ => "Velora.Error.LoginFailed",
                };
                status::update(|s| {
                    s.phase = Phase::LoggedOut;
                    s.last_error = Some(ErrorInfo {
                        kind: ErrorKind::Login,
                        message: crate::core::text(key),
                        retry_in_secs: None,
                    });
                });
                return;
            }
        };
        let (Some(client), Some(session)) = (self.client.as_ref(), self.session.as_mut()) else {
            status::update(|s| s.phase = Phase::LoggedOut);
            return;
        };
        match session.complete_login(&client, &code, now_unix()) {
            Ok(()) => {
                log::info!("logged in to Velora");
                status::update(|s| s.last_error = None);
                self.after_login();
            }
            Err(e) => {
                log::warn!("login failed: {e}");
                status::update(|s| {
                    s.phase = Phase::LoggedOut;
                    s.last_error = Some(ErrorInfo {
                        kind: ErrorKind::Login,
                        message: crate::core::text("Velora.Error.LoginFailed"),
                        retry_in_secs: None,
                    });
                });
            }
        }
    }

    /// After a login or a restored session: who is it, what is the stream like.
    fn after_login(&mut self) {
        let has_user_scope = self
            .session
            .as_ref()
            .and_then(|s| s.tokens())
            .and_then(|t| t.scope.clone())
            .is_none_or(|s| s.split_whitespace().any(|x| x == "user:read"));
        if has_user_scope {
            match self.call(|c, t| c.user(t)) {
                Ok(u) => {
                    let name = if u.display_name.trim().is_empty() {
                        u.username.clone()
                    } else {
                        u.display_name.clone()
                    };
                    if let Some(s) = self.session.as_mut() {
                        let _ = s.set_account_name(Some(name.clone()));
                    }
                    status::update(|s| s.account = Some(name));
                }
                Err(e) => self.note_call_error(&e),
            }
        }
        // Ready once we know who it is (the account shows with the state).
        if self.logged_in() {
            status::update(|s| s.phase = Phase::Ready);
        }
        self.fetch_info();
        self.refresh_service_state();
        self.schedule_poll(POLL_IDLE);
    }

    fn logout(&mut self, restore: bool) -> Result<Value, Failure> {
        if let Some((_, c, _)) = self.login.take() {
            c.cancel();
        }
        if let Some(s) = self.session.as_mut() {
            if let Err(e) = s.logout() {
                log::warn!("could not delete the stored tokens: {e}");
            }
        }
        super::set_key(None);
        let restored = if restore {
            self.restore_previous().is_ok()
        } else {
            false
        };
        status::update(|s| {
            s.phase = Phase::LoggedOut;
            s.account = None;
            s.login_url = None;
            s.last_error = None;
            s.notice = None;
            s.is_live = false;
            s.viewer_count = 0;
            s.started_at = None;
            s.key_hint = None;
        });
        self.next_poll = None;
        log::info!("logged out");
        Ok(json!({"ok": true, "restored": restored}))
    }

    // ---- authenticated calls ----

    /// Runs `f` with a fresh access token; after a 401 refreshes once and
    /// retries. A refused refresh ends the session (the OBS stream settings
    /// and any running stream are left alone).
    fn call<T>(&mut self, f: impl Fn(&Client, &Secret) -> Result<T, ApiError>) -> Result<T, CallError> {
        let client = self.client.as_ref().ok_or(CallError::Api(ApiError::Network {
            kind: api::NetworkKind::Other,
            message: "no API client".into(),
        }))?;
        let session = self.session.as_mut().ok_or(CallError::LoginRequired)?;
        let endpoint = client;
        let token = match session.access_token(&endpoint, now_unix()) {
            Ok(t) => t,
            Err(e) => return Err(session_error(e)),
        };
        match f(client, &token) {
            Err(ApiError::Unauthorized) => {
                let token = session
                    .refresh_after_unauthorized(&token, &endpoint, now_unix())
                    .map_err(session_error)?;
                f(client, &token).map_err(CallError::Api)
            }
            other => other.map_err(CallError::Api),
        }
    }

    /// Shows what went wrong; a lost session returns to logged out.
    fn note_call_error(&mut self, e: &CallError) {
        match e {
            CallError::LoginRequired => {
                log::warn!("the Velora session ended: login required");
                super::set_key(None);
                status::update(|s| {
                    s.phase = Phase::LoggedOut;
                    s.account = None;
                    s.notice = None;
                    s.last_error = Some(ErrorInfo {
                        kind: ErrorKind::SessionExpired,
                        message: crate::core::text("Velora.Error.SessionExpired"),
                        retry_in_secs: None,
                    });
                });
                self.next_poll = None;
            }
            CallError::Api(e) => {
                let info = super::error_info(e);
                if matches!(info.kind, ErrorKind::SessionExpired) {
                    status::update(|s| s.phase = Phase::LoggedOut);
                }
                self.set_error(info);
            }
        }
    }

    fn require_login(&self) -> Result<(), Failure> {
        if self.logged_in() {
            Ok(())
        } else if self.login.is_some() {
            Err(Failure::new(
                codes::LOGIN_PENDING,
                crate::core::text("Velora.Error.LoginPending"),
            ))
        } else {
            Err(Failure::not_logged_in())
        }
    }

    // ---- stream info and live status ----

    fn fetch_info(&mut self) -> bool {
        match self.call(|c, t| c.stream_info(t)) {
            Ok(info) => {
                self.backoff = Duration::ZERO;
                self.remote = Info {
                    title: Some(info.title.clone()),
                    category: Some(info.category_slug.clone()),
                    tags: Some(info.tags.clone()),
                };
                let shown = self.shown_info();
                status::update(|s| {
                    Self::show_info(s, &shown);
                    s.is_live = info.is_live;
                    s.viewer_count = info.viewer_count;
                    s.started_at = info.started_at.clone();
                    if s.last_error
                        .as_ref()
                        .is_some_and(|e| matches!(e.kind, ErrorKind::Network | ErrorKind::RateLimited))
                    {
                        s.last_error = None;
                    }
                });
                true
            }
            Err(e) => {
                if let CallError::Api(ApiError::RateLimited { retry_after, .. }) = &e {
                    self.schedule_poll(*retry_after + Duration::from_secs(1));
                } else if matches!(&e, CallError::Api(err) if err.is_retryable()) {
                    self.backoff = (self.backoff * 2).clamp(Duration::from_secs(15), Duration::from_secs(300));
                    self.schedule_poll(self.backoff);
                    let secs = self.backoff.as_secs();
                    self.note_call_error(&e);
                    status::update(|s| {
                        if let Some(le) = s.last_error.as_mut() {
                            le.retry_in_secs = Some(secs);
                        }
                    });
                    return false;
                }
                self.note_call_error(&e);
                false
            }
        }
    }

    /// What the dock shows: the profile's own title/category/tags where the
    /// Velora service of this profile carries them, else Velora's.
    fn shown_info(&self) -> Info {
        let profile = self
            .host
            .current_service()
            .and_then(|c| c.velora)
            .map(|v| Info::of_settings(&v))
            .unwrap_or_default();
        Info {
            title: profile.title.or(self.remote.title.clone()),
            category: profile.category.or(self.remote.category.clone()),
            tags: profile.tags.or(self.remote.tags.clone()),
        }
    }

    fn show_info(s: &mut status::Status, i: &Info) {
        let tags = i.tags.clone().unwrap_or_default();
        if s.title != i.title || s.category_slug != i.category || s.tags != tags {
            s.title = i.title.clone();
            s.category_slug = i.category.clone();
            s.tags = tags;
            s.info_generation += 1;
        }
    }

    fn timers(&mut self) {
        let now = Instant::now();
        if self.push_due.is_some_and(|t| t <= now) {
            self.push_due = None;
            self.push_settings();
        }
        if self.next_poll.is_some_and(|t| t <= now) {
            self.poll();
        }
    }

    /// Sends what changed in OBS's service settings (debounced), validated
    /// like `SetStreamInfo`. Never writes back into the settings.
    fn push_settings(&mut self) {
        let p = std::mem::take(&mut self.push);
        if p.is_empty() || !self.logged_in() {
            return;
        }
        log::info!("pushing stream info changed in OBS's stream settings to Velora");
        if let Err(f) = self.set_stream_info_from(p.title, p.category, p.tags, false) {
            log::warn!("stream info from OBS's settings not sent: {}", f.message);
        }
    }

    fn poll(&mut self) {
        self.next_poll = None;
        if !self.logged_in() {
            return;
        }
        let useful = self.dock_visible || self.streaming || self.host.streaming_active();
        if !useful {
            return;
        }
        let ok = self.fetch_info();
        if ok && !self.streaming && self.key_check_due() {
            self.check_key();
        }
        if self.next_poll.is_none() && ok {
            let live = self.streaming || status::snapshot().is_live;
            self.schedule_poll(if live { POLL_LIVE } else { POLL_IDLE });
        }
    }

    fn schedule_poll(&mut self, after: Duration) {
        let at = Instant::now() + after;
        self.next_poll = Some(match self.next_poll {
            Some(t) if t < at => t,
            _ => at,
        });
    }

    fn categories(&mut self, refresh: bool) -> Result<Vec<api::Category>, CallError> {
        let fresh = self.categories_at.is_some_and(|t| t.elapsed() < CATEGORIES_TTL);
        if !refresh && fresh && !self.categories.is_empty() {
            return Ok(self.categories.clone());
        }
        let cats = self.call(|c, t| c.categories(t))?;
        self.categories = cats.clone();
        self.categories_at = Some(Instant::now());
        status::update(|s| s.categories = super::category_items(&cats));
        Ok(cats)
    }

    fn set_stream_info(
        &mut self,
        title: Option<String>,
        category: Option<String>,
        tags: Option<Vec<String>>,
    ) -> Result<Value, Failure> {
        self.set_stream_info_from(title, category, tags, true)
    }

    /// Validates, sends only what differs from what Velora has, and (when
    /// `mirror`) writes the values into the profile's Velora service settings.
    fn set_stream_info_from(
        &mut self,
        title: Option<String>,
        category: Option<String>,
        tags: Option<Vec<String>>,
        mirror: bool,
    ) -> Result<Value, Failure> {
        self.require_login()?;
        let title = title.map(|t| t.trim().to_string());
        if let Some(t) = &title {
            let n = t.chars().count();
            if n > stream_config::TITLE_MAX_CHARS {
                let msg = crate::core::text("Velora.Error.TitleTooLong").replace("%1", &n.to_string());
                self.set_error(ErrorInfo {
                    kind: ErrorKind::Invalid,
                    message: msg.clone(),
                    retry_in_secs: None,
                });
                return Err(Failure::new(codes::INVALID, msg));
            }
        }
        let category = category.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if let Some(slug) = &category {
            match self.categories(false) {
                Ok(cats) if !cats.iter().any(|c| &c.slug == slug) => {
                    let msg = crate::core::text("Velora.Error.UnknownCategory").replace("%1", slug);
                    self.set_error(ErrorInfo {
                        kind: ErrorKind::Invalid,
                        message: msg.clone(),
                        retry_in_secs: None,
                    });
                    return Err(Failure::new(codes::NOT_FOUND, msg));
                }
                Ok(_) => {}
                Err(e) => {
                    let f = e.failure();
                    self.note_call_error(&e);
                    return Err(f);
                }
            }
        }
        let tags = tags.map(|t| stream_config::normalize_tags(t.iter().map(String::as_str)));
        if title.is_none() && category.is_none() && tags.is_none() {
            return Err(Failure::new(
                codes::INVALID_REQUEST,
                crate::core::text("Velora.Error.NothingToUpdate"),
            ));
        }
        // Only what differs from what Velora last reported.
        let cur = self.remote.clone();
        let update = api::StreamInfoUpdate {
            title: title.clone().filter(|t| cur.title.as_ref() != Some(t)),
            category_slug: category.clone().filter(|c| cur.category.as_ref() != Some(c)),
            tags: tags.clone().filter(|t| cur.tags.as_ref() != Some(t)),
        };
        let nothing = update.title.is_none() && update.category_slug.is_none() && update.tags.is_none();
        if !nothing {
            status::update(|s| s.busy = true);
            let res = self.call(|c, t| c.update_stream_info(t, &update));
            status::update(|s| s.busy = false);
            if let Err(e) = res {
                let f = e.failure();
                self.note_call_error(&e);
                return Err(f);
            }
        }
        if let Some(t) = &title {
            self.remote.title = Some(t.clone());
        }
        if let Some(c) = &category {
            self.remote.category = Some(c.clone());
        }
        if let Some(t) = &tags {
            self.remote.tags = Some(t.clone());
        }
        // The profile's Velora service carries what was sent (saved with the profile).
        if mirror {
            let cur = self.host.current_service().and_then(|c| c.velora);
            if let Some(mut v) = cur {
                let before = v.clone();
                if title.is_some() {
                    v.title = title.clone();
                }
                if category.is_some() {
                    v.category_slug = category.clone();
                }
                if tags.is_some() {
                    v.tags = tags.clone();
                }
                if v != before {
                    if let Err(e) = self.host.apply_velora_service(&v) {
                        log::warn!("could not save the stream info in OBS's stream settings: {e}");
                    }
                }
            }
        }
        let shown = self.shown_info();
        status::update(|s| {
            Self::show_info(s, &shown);
            s.last_error = None;
            s.notice = Some(crate::core::text("Velora.Notice.InfoUpdated"));
        });
        let mut sent = Vec::new();
        if update.title.is_some() {
            sent.push("title");
        }
        if update.category_slug.is_some() {
            sent.push("categorySlug");
        }
        if update.tags.is_some() {
            sent.push("tags");
        }
        let s = status::snapshot();
        Ok(
            json!({"ok": true, "sent": sent.join(","), "title": s.title, "categorySlug": s.category_slug, "tags": stream_config::join_tags(&s.tags)}),
        )
    }

    // ---- OBS's streaming service ----

    /// Re-reads OBS's current service: is it ours, which protocol, is there
    /// something to restore (PROFILE_CHANGED, STREAMING_STARTING, dock shown).
    fn refresh_service_state(&mut self) {
        let current = self.host.current_service();
        let active = current.as_ref().is_some_and(|c| c.type_id == SERVICE_ID);
        let protocol = current.as_ref().and_then(|c| c.velora.as_ref()).map(|v| v.protocol);
        let key_hint = current
            .as_ref()
            .and_then(|c| c.velora.as_ref())
            .filter(|v| !v.key.is_empty())
            .map(|v| v.key.hint());
        if let Some(k) = current
            .as_ref()
            .and_then(|c| c.velora.as_ref())
            .map(|v| v.key.clone())
            .filter(|k| !k.is_empty())
        {
            super::set_key(Some(k));
        }
        let can_restore = self.host.previous_service().is_some();
        let shown = self.shown_info();
        status::update(|s| {
            Self::show_info(s, &shown);
            if s.service_active != active && !active && self.logged_in() {
                log::info!("OBS's streaming service is not Velora (changed in Settings › Stream or by another tool)");
            }
            s.service_active = active;
            if let Some(p) = protocol {
                s.protocol = p;
            }
            s.key_hint = if active { key_hint } else { None };
            s.can_restore = can_restore;
        });
    }

    fn apply_setup(&mut self, protocol: Option<Protocol>) -> Result<Value, Failure> {
        self.require_login()?;
        let current = self.host.current_service();
        let current_velora = current.as_ref().and_then(|c| c.velora.clone());
        let protocol = protocol
            .or(current_velora.as_ref().map(|v| v.protocol))
            .unwrap_or_default();
        if !protocol.supported_on(self.host.obs_version()) {
            return Err(Failure::new(
                codes::UNSUPPORTED,
                crate::core::text("Velora.Error.WhipUnsupported"),
            ));
        }
        status::update(|s| s.busy = true);
        let setup = self.call(|c, t| c.stream_setup(t));
        status::update(|s| s.busy = false);
        let setup = match setup {
            Ok(s) => s,
            Err(e) => {
                // Nothing in OBS changes when the fetch fails.
                let f = e.failure();
                self.note_call_error(&e);
                return Err(f);
            }
        };
        let server = match protocol {
            Protocol::Rtmp => Some(setup.rtmp_url.clone()),
            Protocol::Srt => setup.srt_url.clone(),
            Protocol::Whip => setup.whip_url.as_ref().map(|u| u.expose().to_string()),
        }
        .filter(|s| !s.trim().is_empty());
        let Some(server) = server else {
            let msg =
                crate::core::text("Velora.Error.NoIngestForProtocol").replace("%1", &protocol.as_str().to_uppercase());
            return Err(Failure::new(codes::UNSUPPORTED, msg));
        };
        let snapshot = status::snapshot();
        let settings = ServiceSettings {
            server: server.clone(),
            key: setup.stream_key.clone(),
            protocol,
            title: current_velora
                .as_ref()
                .and_then(|v| v.title.clone())
                .or(snapshot.title.clone()),
            category_slug: current_velora
                .as_ref()
                .and_then(|v| v.category_slug.clone())
                .or(snapshot.category_slug.clone()),
            tags: current_velora
                .as_ref()
                .and_then(|v| v.tags.clone())
                .or(Some(snapshot.tags.clone())),
        };
        super::set_key(Some(setup.stream_key.clone()));
        // WHIP's URL embeds the key: report only what is safe.
        let shown_server = if protocol == Protocol::Whip {
            redact_whip(&server)
        } else {
            server.clone()
        };
        if self.streaming || self.host.streaming_active() {
            log::info!(
                "streaming: the Velora settings ({}) will be applied when the stream ends",
                protocol.as_str()
            );
            self.pending = Some(settings);
            status::update(|s| {
                s.pending_apply = true;
                s.notice = Some(crate::core::text("Velora.Notice.PendingApply"));
            });
            return Ok(json!({"ok": true, "protocol": protocol.as_str(), "server": shown_server, "pending": true}));
        }
        self.apply_now(&settings).map_err(|m| Failure::new(codes::OBS, m))?;
        Ok(json!({"ok": true, "protocol": protocol.as_str(), "server": shown_server, "pending": false}))
    }

    /// Makes `settings` OBS's streaming service now (keeping a copy of the
    /// user's own service the first time).
    fn apply_now(&mut self, settings: &ServiceSettings) -> Result<(), String> {
        self.host.apply_velora_service(settings)?;
        self.key_checked = Some(Instant::now());
        log::info!(
            "OBS now streams to Velora ({}, key {})",
            settings.protocol.as_str(),
            settings.key.hint()
        );
        self.pending = None;
        self.refresh_service_state();
        status::update(|s| {
            s.pending_apply = false;
            s.protocol = settings.protocol;
            s.last_error = None;
            s.notice = Some(crate::core::text("Velora.Notice.Applied"));
        });
        Ok(())
    }

    fn regenerate_key(&mut self) -> Result<Value, Failure> {
        self.require_login()?;
        status::update(|s| s.busy = true);
        let res = self.call(|c, t| c.regenerate_key(t));
        status::update(|s| s.busy = false);
        let key = match res {
            Ok(k) => k,
            Err(e) => {
                let f = e.failure();
                self.note_call_error(&e);
                return Err(f);
            }
        };
        log::info!("stream key regenerated (new key {})", key.hint());
        super::set_key(Some(key.clone()));
        let current = self.host.current_service();
        let mut applied = false;
        let mut pending = false;
        if let Some(mut v) = current.and_then(|c| c.velora) {
            if v.protocol == Protocol::Whip {
                // The WHIP URL embeds the key: fetch it again.
                drop(v);
                let r = self.apply_setup(Some(Protocol::Whip))?;
                pending = r["pending"].as_bool().unwrap_or(false);
                applied = !pending;
            } else {
                v.key = key.clone();
                if self.streaming || self.host.streaming_active() {
                    self.pending = Some(v);
                    pending = true;
                    status::update(|s| {
                        s.pending_apply = true;
                        s.notice = Some(crate::core::text("Velora.Notice.PendingApply"));
                    });
                } else {
                    self.apply_now(&v).map_err(|m| Failure::new(codes::OBS, m))?;
                    applied = true;
                }
            }
        }
        status::update(|s| {
            s.key_hint = Some(key.hint());
            if !pending {
                s.notice = Some(crate::core::text("Velora.Notice.KeyRegenerated"));
            }
        });
        Ok(json!({"ok": true, "applied": applied, "pending": pending, "keyHint": key.hint()}))
    }

    fn restore_previous(&mut self) -> Result<Value, Failure> {
        if self.streaming || self.host.streaming_active() {
            return Err(Failure::new(
                codes::OBS,
                crate::core::text("Velora.Error.BusyStreaming"),
            ));
        }
        let Some((type_id, _)) = self.host.previous_service() else {
            return Err(Failure::new(
                codes::NOTHING_TO_RESTORE,
                crate::core::text("Velora.Error.NothingToRestore"),
            ));
        };
        self.host
            .restore_previous_service()
            .map_err(|m| Failure::new(codes::OBS, m))?;
        log::info!("restored the previous streaming service ({type_id})");
        self.pending = None;
        self.refresh_service_state();
        status::update(|s| {
            s.pending_apply = false;
            s.notice = Some(crate::core::text("Velora.Notice.Restored"));
        });
        Ok(json!({"ok": true, "serviceType": type_id}))
    }

    fn obs_event(&mut self, ev: ObsEvent) {
        match ev {
            ObsEvent::StreamingStarting => {
                self.streaming = true;
                self.refresh_service_state();
                if self.key_check_due() {
                    self.check_key();
                }
                self.push_profile_info_before_live();
                self.schedule_poll(Duration::from_secs(5));
            }
            ObsEvent::StreamingStarted => {
                self.streaming = true;
                self.schedule_poll(Duration::from_secs(3));
            }
            ObsEvent::StreamingStopped => {
                self.streaming = false;
                if let Some(p) = self.pending.take() {
                    log::info!("stream ended: applying the queued Velora settings");
                    if let Err(e) = self.apply_now(&p) {
                        log::warn!("could not apply the queued settings: {e}");
                        self.pending = Some(p);
                    }
                }
                self.schedule_poll(Duration::from_secs(3));
            }
            ObsEvent::ProfileChanged => {
                self.pending = None;
                self.push = Info::default();
                self.push_due = None;
                status::update(|s| s.pending_apply = false);
                self.refresh_service_state();
            }
            ObsEvent::ServiceSettingsChanged { old, new } => {
                self.refresh_service_state();
                self.settings_edited(&old, &new);
            }
        }
    }
}

impl Worker {
    /// The key check is stale after `VELORA_KEY_CHECK_SECS` (default 600 s).
    fn key_check_due(&self) -> bool {
        let max = std::env::var("VELORA_KEY_CHECK_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(600);
        self.key_checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(max))
    }

    /// Compares the configured key with Velora's (one request). A key that
    /// was regenerated elsewhere is written into the Velora service in place
    /// (same service object), so an output that has not read it yet uses the
    /// new one, and the next start does for sure.
    fn check_key(&mut self) {
        if !self.logged_in() {
            return;
        }
        let Some(mut v) = self.host.current_service().and_then(|c| c.velora) else {
            return;
        };
        let setup = match self.call(|c, t| c.stream_setup(t)) {
            Ok(s) => s,
            Err(e) => {
                log::info!("stream key check skipped: {}", e.failure().message);
                return;
            }
        };
        self.key_checked = Some(Instant::now());
        let server = match v.protocol {
            Protocol::Whip => setup.whip_url.as_ref().map(|u| u.expose().to_string()),
            _ => None,
        };
        if setup.stream_key == v.key && server.as_ref().is_none_or(|s| *s == v.server) {
            return;
        }
        log::warn!(
            "the stream key was changed on Velora (now {}): updating OBS's Velora service",
            setup.stream_key.hint()
        );
        v.key = setup.stream_key.clone();
        if let Some(s) = server {
            v.server = s;
        }
        super::set_key(Some(setup.stream_key.clone()));
        if let Err(e) = self.host.apply_velora_service(&v) {
            log::warn!("could not update the stream key in OBS: {e}");
            return;
        }
        status::update(|s| {
            s.key_hint = Some(setup.stream_key.hint());
            s.notice = Some(crate::core::text("Velora.Notice.KeyChangedElsewhere"));
        });
    }

    /// The `velora` service's settings changed from outside the plugin (an
    /// obs-websocket client, a Stream Deck, a script): validate the changed
    /// title/category/tags now, send them after a short debounce. An invalid
    /// value is reported and not sent; the settings keep what was written.
    fn settings_edited(&mut self, old: &ServiceSettings, new: &ServiceSettings) {
        if !self.logged_in() {
            return;
        }
        let mut changed = false;
        if new.title != old.title && new.title != self.remote.title {
            if let Some(t) = &new.title {
                let n = t.trim().chars().count();
                if n > stream_config::TITLE_MAX_CHARS {
                    let msg = crate::core::text("Velora.Error.TitleTooLong").replace("%1", &n.to_string());
                    log::warn!("title from OBS's stream settings not sent: {n} characters");
                    self.set_error(ErrorInfo {
                        kind: ErrorKind::Invalid,
                        message: msg,
                        retry_in_secs: None,
                    });
                } else {
                    self.push.title = Some(t.clone());
                    changed = true;
                }
            }
        }
        if new.category_slug != old.category_slug && new.category_slug != self.remote.category {
            if let Some(c) = new.category_slug.clone().filter(|c| !c.trim().is_empty()) {
                self.push.category = Some(c);
                changed = true;
            }
        }
        if new.tags != old.tags && new.tags != self.remote.tags {
            if let Some(t) = &new.tags {
                self.push.tags = Some(t.clone());
                changed = true;
            }
        }
        if changed && self.push_due.is_none() {
            self.push_due = Some(Instant::now() + PUSH_DEBOUNCE);
        }
        let shown = self.shown_info();
        status::update(|s| Self::show_info(s, &shown));
    }

    /// STREAMING_STARTING: the profile's title/category/tags go to Velora when
    /// they differ from what it last reported ("update stream info before
    /// going live"). Runs here on the worker: the stream start never waits
    /// for it, and a failure is reported, not fatal.
    fn push_profile_info_before_live(&mut self) {
        if !self.logged_in() {
            return;
        }
        let Some(v) = self.host.current_service().and_then(|c| c.velora) else {
            return;
        };
        let mine = Info::of_settings(&v);
        let differs = |a: &Option<String>, b: &Option<String>| a.is_some() && a != b;
        let title = mine.title.clone().filter(|_| differs(&mine.title, &self.remote.title));
        let category = mine
            .category
            .clone()
            .filter(|_| differs(&mine.category, &self.remote.category));
        let tags = mine.tags.clone().filter(|t| self.remote.tags.as_ref() != Some(t));
        if title.is_none() && category.is_none() && tags.is_none() {
            return;
        }
        log::info!("going live: sending this profile's stream info to Velora");
        if let Err(f) = self.set_stream_info_from(title, category, tags, false) {
            log::warn!("stream info not sent before going live: {}", f.message);
        }
    }
}

fn session_error(e: SessionError) -> CallError {
    match e {
        SessionError::LoginRequired(_) => CallError::LoginRequired,
        SessionError::Unavailable(why) => CallError::Api(ApiError::Network {
            kind: api::NetworkKind::Other,
            message: why,
        }),
        SessionError::Store(e) => CallError::Api(ApiError::Network {
            kind: api::NetworkKind::Other,
            message: format!("token store: {e}"),
        }),
    }
}

/// `https://host:3334/live/<key>/whip` → `https://host:3334/live/…/whip`.
fn redact_whip(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let segs: Vec<String> = u
                .path_segments()
                .map(|s| s.map(|x| x.to_string()).collect())
                .unwrap_or_default();
            let red: Vec<String> = segs
                .iter()
                .map(|s| {
                    if s.len() >= 8 && s != "whip" && s != "live" {
                        "…".to_string()
                    } else {
                        s.clone()
                    }
                })
                .collect();
            u.set_path(&red.join("/"));
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(hidden)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn whip_urls_are_redacted() {
        let r = super::redact_whip("https://ingest.velora.tv:3334/live/live_abc123xyz789/whip");
        assert!(!r.contains("abc123"), "{r}");
        assert!(r.starts_with("https://ingest.velora.tv:3334/live/"));
    }
}
