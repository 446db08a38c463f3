//! The worker thread: owns the HTTP client, the token store and the login;
//! takes one message at a time, keeps the timers (polling, the debounced
//! push) and hands each job to its room. It checks the stop flag before
//! every message, and everything it waits on watches that flag too, so it
//! ends within milliseconds of OBS quitting, whatever the network does.

use super::account::Account;
use super::api::{Api, CallError};
use super::info::{Source, StreamInfo};
use super::login::{Finished, Login};
use super::poll::Poller;
use super::service::{Lookup, ObsService};
use super::setup::{self, Tuning};
use super::thumbnails::Thumbnails;
use super::{prefs, Event, Failure, Msg, Outcome, Reply, Request, POLL_IDLE};
use crate::api::Priority;
use crate::auth::LoginError;
use crate::cancel::Cancel;
use crate::guard::guard;
use crate::host::Host;
use crate::status::{self, ErrorInfo, ErrorKind, Phase};
use crate::text::tr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every room needs: OBS, the stop flag, the way back to the loop.
pub(crate) struct Ctx {
    host: Arc<dyn Host>,
    tx: Sender<Msg>,
    stop: Cancel,
    tuning: Tuning,
    config_dir: PathBuf,
}

impl Ctx {
    pub(crate) fn new(host: Arc<dyn Host>, tx: Sender<Msg>, stop: Cancel) -> Ctx {
        let config_dir = host
            .config_dir()
            .unwrap_or_else(|| std::env::temp_dir().join("obs-velora"));
        Ctx {
            host,
            tx,
            stop,
            tuning: Tuning::from_env(),
            config_dir,
        }
    }
}

/// How often OBS's streaming service is read again, whatever else happens.
const SERVICE_CHECK: Duration = Duration::from_secs(2);

struct Worker {
    ctx: Ctx,
    next_service_check: Instant,
    /// Client and tokens of the environment in use (none when its address
    /// is not valid).
    api: Option<Api>,
    login: Login,
    info: StreamInfo,
    service: ObsService,
    poll: Poller,
    thumbs: Thumbnails,
    account: Account,
}

pub(super) fn run(ctx: Ctx, rx: Receiver<Msg>) {
    let ctx_retry_min = ctx.tuning.retry_min;
    let thumbs = Thumbnails::new(&ctx.config_dir, ctx.tuning.thumb_cache_bytes);
    let key_check_max_age = ctx.tuning.key_check_max_age + POLL_IDLE;
    status::update(|s| s.key_check_max_age_secs = key_check_max_age.as_secs());
    let mut w = Worker {
        ctx,
        next_service_check: Instant::now() + SERVICE_CHECK,
        api: None,
        login: Login::default(),
        info: StreamInfo::default(),
        service: ObsService::default(),
        poll: Poller::new(ctx_retry_min),
        thumbs,
        account: Account::default(),
    };
    guard("worker.init", (), || w.configure());
    loop {
        if w.ctx.stop.is_cancelled() {
            break;
        }
        let timeout = w
            .next_timer()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(timeout) {
            Ok(msg) if w.ctx.stop.is_cancelled() => {
                refuse(msg);
                break;
            }
            Ok(msg) => guard("worker.message", (), || w.dispatch(msg)),
            Err(RecvTimeoutError::Timeout) => guard("worker.timers", (), || w.timers()),
            Err(RecvTimeoutError::Disconnected) => break,
        }
        guard("worker.thumbnails", (), || w.thumbs.sync(&w.info));
    }
    w.thumbs.shutdown();
    // Everyone still waiting gets an answer now, not at their timeout.
    while let Ok(msg) = rx.try_recv() {
        refuse(msg);
    }
    w.login.shutdown(Duration::from_millis(300));
    crate::auth::browser::reap();
    log::info!("worker stopped");
}

/// Answers a message that arrives while stopping.
fn refuse(msg: Msg) {
    if let Msg::Request(_, reply) = msg {
        reply.deliver(Err(Failure::NotReady));
    }
}

/// The client of a logged-in session, else why not. (A free function, so
/// that it borrows only these two fields of the worker.)
fn logged_in_api<'a>(login: &Login, api: &'a mut Option<Api>) -> Result<&'a mut Api, Failure> {
    if login.is_pending() {
        return Err(Failure::LoginPending);
    }
    match api.as_mut() {
        Some(a) if a.logged_in() => Ok(a),
        _ => Err(Failure::NotLoggedIn),
    }
}

/// The confirmation a dock request shows when it succeeded.
pub(super) fn confirmation(r: &Reply) -> String {
    match r {
        Reply::Applied { pending: true, .. } | Reply::KeyRegenerated { pending: true, .. } => {
            tr("Velora.Notice.PendingApply")
        }
        Reply::Applied { .. } => tr("Velora.Notice.Applied"),
        Reply::InfoUpdated { .. } => tr("Velora.Notice.InfoUpdated"),
        Reply::KeyRegenerated { .. } => tr("Velora.Notice.KeyRegenerated"),
        Reply::Restored { .. } => tr("Velora.Notice.Restored"),
        Reply::KeyChecked { changed: true, .. } => tr("Velora.Notice.KeyChangedElsewhere"),
        Reply::KeyChecked { changed: false, .. } => tr("Velora.Notice.KeyChecked"),
        _ => String::new(),
    }
}

impl Worker {
    fn host(&self) -> &dyn Host {
        self.ctx.host.as_ref()
    }

    fn logged_in(&self) -> bool {
        self.api.as_ref().is_some_and(Api::logged_in)
    }

    fn streaming_now(&self) -> bool {
        self.poll.streaming || self.host().streaming_active()
    }

    fn next_timer(&self) -> Option<Instant> {
        // Picture downloads run in slices between messages: come back at once.
        let thumbs = self.thumbs.busy().then(Instant::now);
        [
            self.poll.next(),
            self.info.push_due(),
            Some(self.next_service_check),
            thumbs,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The phase follows from the tokens and the login: it is derived here,
    /// in one place, never set on its own (no "logged out" with tokens kept,
    /// no "logged in" without them).
    fn sync_phase(&mut self) {
        let phase = if self.login.is_pending() {
            Phase::LoggingIn
        } else if self.logged_in() {
            Phase::Ready
        } else {
            Phase::LoggedOut
        };
        let account = self.api.as_ref().filter(|a| a.logged_in()).and_then(Api::account);
        status::update(|s| {
            s.phase = phase;
            s.account = account;
            if phase == Phase::LoggedOut {
                s.is_live = false;
                s.viewer_count = 0;
                s.started_at = None;
            }
        });
        if phase != Phase::Ready {
            self.poll.stop();
        }
    }

    /// (Re)builds client and session for the environment in the preferences.
    fn configure(&mut self) {
        self.login.cancel();
        self.api = None;
        self.info.reset();
        let p = prefs::current();
        match setup::open(&p, &self.ctx.tuning, &self.ctx.config_dir, &self.ctx.stop) {
            Ok(api) => self.api = Some(api),
            Err(e) => status::update(|s| s.last_error = Some(e)),
        }
        let loopback = self.api.as_ref().is_some_and(|a| a.client().endpoints().is_loopback());
        self.thumbs.configure(loopback);
        self.sync_phase();
        self.service.show(self.ctx.host.as_ref(), self.logged_in());
        self.info.show(self.ctx.host.as_ref());
        if self.logged_in() {
            self.after_login();
        }
    }

    fn dispatch(&mut self, msg: Msg) {
        match msg {
            Msg::Request(req, reply) => {
                let outcome = self.request(req);
                if let Err(f) = &outcome {
                    self.note(f);
                    self.retry_later(f);
                }
                reply.deliver(outcome);
            }
            Msg::Event(ev) => self.event(ev),
            Msg::LoginDone { id, result } => self.login_done(id, result),
            Msg::Wake => {}
        }
    }

    /// Shows a failure on the board; a session that ended goes to logged out.
    fn note(&mut self, f: &Failure) {
        match f {
            Failure::NotReady | Failure::LoginPending | Failure::NotLoggedIn => {}
            Failure::SessionEnded => {
                log::warn!("the Velora session ended: login required");
                status::update(|s| {
                    s.notice = None;
                    s.last_error = Some(f.info());
                });
                self.sync_phase();
            }
            _ => {
                log::info!("request failed: {}", f.message());
                status::update(|s| {
                    s.notice = None;
                    s.last_error = Some(f.info());
                });
            }
        }
    }

    fn request(&mut self, req: Request) -> Outcome {
        let host = self.ctx.host.clone();
        let stop = self.ctx.stop.clone();
        let streaming = self.streaming_now();
        match req {
            Request::Login => self.start_login(),
            Request::CancelLogin => {
                let was_pending = self.login.cancel();
                self.sync_phase();
                Ok(Reply::LoginCancelled { was_pending })
            }
            Request::Logout { restore_previous } => {
                self.login.cancel();
                if let Some(a) = self.api.as_mut() {
                    a.forget();
                }
                self.service.forget_account();
                let restored =
                    restore_previous && self.service.restore_previous(host.as_ref(), &stop, streaming).is_ok();
                status::update(|s| {
                    s.last_error = None;
                    s.notice = None;
                    s.key_hint = None;
                });
                self.sync_phase();
                self.service.show(host.as_ref(), false);
                log::info!("logged out");
                Ok(Reply::LoggedOut { restored })
            }
            Request::ApplySetup { protocol } => {
                let api = logged_in_api(&self.login, &mut self.api)?;
                let r = self.service.apply_setup(api, host.as_ref(), &stop, protocol, streaming);
                self.service.show(host.as_ref(), true);
                self.info.show(host.as_ref());
                r
            }
            Request::SetStreamInfo { title, category, tags } => {
                let api = logged_in_api(&self.login, &mut self.api)?;
                self.info
                    .set(api, host.as_ref(), &stop, title, category, tags, Source::Streamer)
            }
            Request::GetCategories { refresh } => {
                let api = logged_in_api(&self.login, &mut self.api)?;
                // The streamer asked again for a list already shown: pictures
                // that were unusable are tried once more. (The dock's own
                // first request of a session is not such a request.)
                if refresh && !self.info.category_list().is_empty() {
                    self.thumbs.retry_failed();
                }
                self.info
                    .categories(api, refresh, Priority::User)
                    .map(Reply::Categories)
                    .map_err(|e| e.failure())
            }
            Request::RegenerateKey => {
                let api = logged_in_api(&self.login, &mut self.api)?;
                let r = self.service.regenerate_key(api, host.as_ref(), &stop, streaming);
                self.service.show(host.as_ref(), true);
                r
            }
            Request::CheckKey => {
                let api = logged_in_api(&self.login, &mut self.api)?;
                let changed = self.service.check_key(api, host.as_ref(), &stop, Priority::User)?;
                self.service.show(host.as_ref(), true);
                Ok(Reply::KeyChecked {
                    changed,
                    key_hint: status::snapshot().key_hint.clone().unwrap_or_default(),
                })
            }
            Request::RestorePrevious => {
                let r = self.service.restore_previous(host.as_ref(), &stop, streaming);
                self.service.show(host.as_ref(), self.logged_in());
                r
            }
            Request::SetEnvironment { env, custom_url } => {
                let p = prefs::update(|p| {
                    p.environment = Some(env.as_str().to_string());
                    p.custom_url = custom_url;
                    p.clone()
                });
                self.save_prefs(&p);
                status::update(|s| s.last_error = None);
                self.service.forget_account();
                self.configure();
                Ok(Reply::EnvironmentSet)
            }
        }
    }

    fn save_prefs(&self, p: &prefs::Prefs) {
        if let Err(e) = prefs::save(&self.ctx.config_dir, p) {
            log::warn!("could not save the preferences: {e}");
        }
    }

    fn event(&mut self, ev: Event) {
        let host = self.ctx.host.clone();
        let stop = self.ctx.stop.clone();
        match ev {
            Event::StreamingStarting => {
                self.poll.streaming = true;
                self.service.show(host.as_ref(), self.logged_in());
                let mut failed = None;
                if let Some(api) = self.api.as_mut().filter(|a| a.logged_in()) {
                    if self.service.key_check_due(self.ctx.tuning.key_check_max_age) {
                        let _ = self.service.check_key(api, host.as_ref(), &stop, Priority::Background);
                    }
                    failed = self.info.before_live(api, host.as_ref(), &stop).err();
                }
                if let Some(f) = failed {
                    log::warn!("stream info not sent before going live: {}", f.message());
                    self.note(&f);
                }
                self.poll.schedule(Duration::from_secs(5));
            }
            Event::StreamingStarted => {
                self.poll.streaming = true;
                self.poll.schedule(Duration::from_secs(3));
            }
            Event::StreamingStopped => {
                self.poll.streaming = false;
                self.account.offline();
                self.service.stream_stopped(host.as_ref(), &stop);
                self.service.show(host.as_ref(), self.logged_in());
                self.poll.schedule(Duration::from_secs(3));
            }
            Event::ProfileChanged => {
                self.service.profile_changed();
                self.info.profile_changed();
                self.service.show(host.as_ref(), self.logged_in());
                self.info.show(host.as_ref());
            }
            Event::ServiceChanged | Event::SettingsClosed => {
                self.service.show(host.as_ref(), self.logged_in());
                let why = if ev == Event::SettingsClosed {
                    Lookup::SettingsClosed
                } else {
                    Lookup::Changed
                };
                if let Some(api) = self.api.as_mut().filter(|a| a.logged_in()) {
                    self.service.ensure_ingest(api, host.as_ref(), why);
                }
                self.info.show(host.as_ref());
            }
            Event::ServiceSettingsChanged { old, new } => {
                self.service.show(host.as_ref(), self.logged_in());
                self.info.edited(self.logged_in(), host.as_ref(), &old, &new);
            }
            Event::DockVisible(v) => {
                self.poll.dock_visible = v;
                if v {
                    self.service.show(host.as_ref(), self.logged_in());
                    self.poll.schedule(Duration::from_millis(200));
                }
            }
            Event::SavePrefs => self.save_prefs(&prefs::current()),
        }
    }

    // ---- login ----

    fn start_login(&mut self) -> Outcome {
        if self.logged_in() {
            return Ok(Reply::AlreadyLoggedIn);
        }
        let Some(api) = self.api.as_ref() else {
            return Err(Failure::BadRequest(tr("Velora.Error.NoEndpoints")));
        };
        let cfg = setup::login_config(api.client().endpoints(), &prefs::current(), &self.ctx.tuning);
        let r = self.login.start(cfg, self.ctx.tx.clone());
        self.sync_phase();
        r
    }

    fn login_done(&mut self, id: u64, result: Result<crate::auth::AuthCode, LoginError>) {
        let Finished::Code(code) = self.login.finished(id, result) else {
            self.sync_phase();
            return;
        };
        let completed = match self.api.as_mut() {
            Some(api) => api.complete_login(&code),
            None => Err(LoginError::Config("no Velora server configured".into())),
        };
        match completed {
            Ok(()) => log::info!("logged in to Velora"),
            // Logged in for this run; the store is tried again later.
            Err(LoginError::Store(e)) => log::warn!("logged in, but the tokens could not be saved: {e}"),
            Err(e) => {
                log::warn!("login failed: {e}");
                status::update(|s| {
                    s.last_error = Some(ErrorInfo {
                        kind: ErrorKind::Login,
                        message: tr(e.message_key()),
                        retry_in_secs: None,
                    })
                });
            }
        }
        if self.logged_in() {
            status::update(|s| s.last_error = None);
            // Ready once it is known who it is (the account shows with the state).
            self.after_login();
        } else {
            self.sync_phase();
        }
    }

    /// After a login or a restored session: who is it, what is the stream like.
    fn after_login(&mut self) {
        let host = self.ctx.host.clone();
        let Some(api) = self.api.as_mut() else { return };
        if api.tokens_unsaved() {
            status::update(|s| s.plain_notice(tr("Velora.Notice.LoginNotSaved")));
        }
        if let Err(e) = self.account.identify(api) {
            self.call_failed(&e);
        }
        self.sync_phase();
        if !self.logged_in() {
            return;
        }
        self.poll_now(Priority::Background);
        self.service.show(host.as_ref(), true);
        if let Some(api) = self.api.as_mut() {
            self.service.ensure_ingest(api, host.as_ref(), Lookup::Changed);
        }
        self.poll.schedule(POLL_IDLE);
    }

    fn call_failed(&mut self, e: &CallError) {
        self.note(&e.failure());
    }

    /// A request of the streamer's failed because Velora could not be
    /// reached (or paced us): poll again after the backoff, so the plugin
    /// sees by itself when Velora is back and the complaint goes away.
    fn retry_later(&mut self, f: &Failure) {
        let Failure::Api(d) = f else { return };
        if !self.logged_in() {
            return;
        }
        let wait = d.info.retry_in_secs.map(std::time::Duration::from_secs);
        let e = match d.class {
            crate::errors::ApiClass::RateLimited => crate::api::ApiError::RateLimited {
                retry_after: wait.unwrap_or(Duration::from_secs(10)),
                message: String::new(),
            },
            crate::errors::ApiClass::Paced => crate::api::ApiError::Paced {
                retry_after: wait.unwrap_or(Duration::from_secs(10)),
            },
            crate::errors::ApiClass::Network | crate::errors::ApiClass::Server => crate::api::ApiError::Network {
                kind: crate::api::NetworkKind::Other,
                message: String::new(),
            },
            _ => return,
        };
        if let Some(secs) = self.poll.failed(&e) {
            status::update(|s| {
                if let Some(le) = s.last_error.as_mut() {
                    le.retry_in_secs.get_or_insert(secs);
                }
            });
        }
    }

    // ---- timers ----

    fn timers(&mut self) {
        let now = Instant::now();
        let host = self.ctx.host.clone();
        let stop = self.ctx.stop.clone();
        if self.next_service_check <= now {
            self.next_service_check = now + SERVICE_CHECK;
            host.refresh_service();
        }
        if self.info.push_due().is_some_and(|t| t <= now) {
            let pushed = match self.api.as_mut() {
                Some(api) => self.info.push(api, host.as_ref(), &stop),
                None => {
                    self.info.profile_changed();
                    Ok(())
                }
            };
            if let Err(f) = pushed {
                log::warn!("stream info from OBS's settings not sent: {}", f.message());
                self.note(&f);
            }
        }
        if self.thumbs.busy() {
            self.thumbs.pump(&stop);
        }
        if self.poll.is_due(now) {
            self.poll.take();
            if self.logged_in() && self.poll.useful(host.streaming_active()) {
                let ok = self.poll_now(Priority::Background);
                if ok && !self.poll.streaming {
                    if let Some(api) = self.api.as_mut() {
                        // A mangled service still waiting for Velora's ingest.
                        self.service.ensure_ingest(api, host.as_ref(), Lookup::VeloraAnswers);
                        if self.service.key_check_due(self.ctx.tuning.key_check_max_age) {
                            let _ = self.service.check_key(api, host.as_ref(), &stop, Priority::Background);
                        }
                    }
                }
            }
        }
    }

    /// One poll of stream info and live status; schedules the next.
    fn poll_now(&mut self, priority: Priority) -> bool {
        let host = self.ctx.host.clone();
        let Some(api) = self.api.as_mut() else { return false };
        match self.info.fetch(api, host.as_ref(), priority) {
            Ok(()) => {
                let board = status::snapshot();
                let live = self.poll.streaming || board.is_live;
                if board.is_live && board.account.is_none() {
                    let title = self.info.remote_title().unwrap_or_default().to_string();
                    self.account.while_live(api, &title, board.started_at.as_deref());
                    self.sync_phase();
                } else if !board.is_live {
                    self.account.offline();
                }
                self.poll.succeeded(live);
                true
            }
            Err(e) => {
                let retry = e.api().and_then(|a| self.poll.failed(a));
                self.call_failed(&e);
                if let Some(secs) = retry {
                    status::update(|s| {
                        if let Some(le) = s.last_error.as_mut() {
                            le.retry_in_secs = Some(secs);
                        }
                    });
                }
                false
            }
        }
    }
}
