//! The login in the system browser: one flow at a time, on its own thread
//! (the browser launcher, then the wait for the loopback redirect), ended by
//! the redirect, *Cancel*, the timeout or OBS quitting.

use super::{Msg, Reply};
use crate::auth::{self, LoginConfig, LoginError, LoginFlow};
use crate::cancel::Cancel;
use crate::errors::Failure;
use crate::status::{self, ErrorInfo, ErrorKind};
use crate::text::tr;
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct Pending {
    id: u64,
    cancel: Cancel,
}

#[derive(Default)]
pub(super) struct Login {
    pending: Option<Pending>,
    seq: u64,
    /// Login threads, joined before the worker ends (no thread of ours
    /// outlives the module).
    threads: Vec<JoinHandle<()>>,
}

/// How a finished browser wait turned out.
pub(super) enum Finished {
    /// A stale flow (cancelled or replaced): nothing to do.
    Ignored,
    Cancelled,
    /// The browser brought a code: exchange it.
    Code(auth::AuthCode),
    /// Denied, timed out, or the listener failed: shown on the board.
    Failed,
}

impl Login {
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens the listener and starts the browser on a thread of its own.
    pub fn start(&mut self, cfg: LoginConfig, tx: Sender<Msg>) -> Result<Reply, Failure> {
        if self.pending.is_some() {
            return Ok(Reply::LoginAlreadyPending);
        }
        let timeout = cfg.timeout;
        let flow = LoginFlow::start(cfg).map_err(|e| {
            let msg = format!("{} ({e})", tr("Velora.Error.LoginStart"));
            status::update(|s| {
                s.last_error = Some(ErrorInfo {
                    kind: ErrorKind::Login,
                    message: msg.clone(),
                    retry_in_secs: None,
                })
            });
            Failure::Internal(msg)
        })?;
        self.seq += 1;
        let id = self.seq;
        let cancel = Cancel::new();
        let url = flow.authorize_url().to_string();
        let thread_cancel = cancel.clone();
        let spawned = crate::threads::spawn("velora-login", move || {
            if let Err(e) = flow.open_browser_unless(&thread_cancel) {
                log::warn!("could not open a browser ({e}): the login link can be copied from the dock");
                status::update(|s| s.plain_notice(tr("Velora.Login.CopyLinkHint")));
            }
            let result = flow.wait(&thread_cancel);
            let _ = tx.send(Msg::LoginDone { id, result });
        });
        match spawned {
            Ok(h) => {
                self.threads.retain(|t| !t.is_finished());
                self.threads.push(h);
            }
            Err(e) => return Err(Failure::Internal(format!("could not start the login thread: {e}"))),
        }
        self.pending = Some(Pending { id, cancel });
        status::update(|s| {
            s.login_url = Some(url);
            s.login_deadline = Some(Instant::now() + timeout);
            s.last_error = None;
            s.notice = None;
        });
        log::info!("login started: waiting for the browser");
        Ok(Reply::LoginStarted)
    }

    /// Cancels a waiting login; true when there was one.
    pub fn cancel(&mut self) -> bool {
        let had = self.pending.take();
        if let Some(p) = &had {
            p.cancel.cancel();
            log::info!("login cancelled");
        }
        status::update(|s| {
            s.login_url = None;
            s.login_deadline = None;
        });
        had.is_some()
    }

    /// The browser wait of flow `id` ended.
    pub fn finished(&mut self, id: u64, result: Result<auth::AuthCode, LoginError>) -> Finished {
        if self.pending.as_ref().map(|p| p.id) != Some(id) {
            return Finished::Ignored;
        }
        self.pending = None;
        status::update(|s| {
            s.login_url = None;
            s.login_deadline = None;
        });
        match result {
            Ok(code) => Finished::Code(code),
            Err(LoginError::Cancelled) => Finished::Cancelled,
            Err(e) => {
                log::warn!("login failed: {e}");
                let key = e.message_key();
                status::update(|s| {
                    s.last_error = Some(ErrorInfo {
                        kind: ErrorKind::Login,
                        message: tr(key),
                        retry_in_secs: None,
                    })
                });
                Finished::Failed
            }
        }
    }

    /// Worker shutdown: cancels the flow and joins the login threads (the
    /// wait ends within ~25 ms of the cancel; the browser launcher is
    /// watched with the same flag).
    pub fn shutdown(&mut self, limit: Duration) {
        self.cancel();
        let t = Instant::now();
        for h in self.threads.drain(..) {
            while !h.is_finished() && t.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(2));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                log::warn!("a login thread did not end in time");
            }
        }
    }
}
