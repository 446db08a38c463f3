//! OBS's streaming service: *Use Velora* (fetch the ingest, make `velora`
//! the profile's service), *Restore previous settings*, key regeneration and
//! the stream-key check before going live. Nothing changes while OBS
//! streams: a change asked for then is kept and applied when the stream
//! ends. A failed request never changes or clears the service.
//!
//! What OBS's service *is*, seen from Velora, and the repair of what
//! Settings › Stream leaves of the Velora service: `mode.rs`.

mod mode;

pub use mode::{
    forget_profile, learn_service, mode, reflect, repair_failed, repair_for, repaired_now, start_fix, StartFix,
    SERVICE_NAME,
};

use super::api::Api;
use super::Reply;
use crate::api::{Priority, StreamSetup};
use crate::cancel::Cancel;
use crate::errors::Failure;
use crate::host::{CurrentService, Host};
use crate::status::{self, ServiceMode};
use crate::stream_config::{Protocol, ServiceSettings};
use crate::text::{tr, tr_args};
use crate::Secret;
use mode::{fingerprint, forget_account, ingest_needed, learn_key, learn_setup, put_service};
use std::time::{Duration, Instant};

#[derive(Default)]
pub(super) struct ObsService {
    /// A service change waiting for the stream to end.
    pending: Option<ServiceSettings>,
    /// When the configured stream key was last compared with Velora's.
    key_checked: Option<Instant>,
    /// The service Velora's ingest was last fetched for, to recognise it
    /// (one request per service seen, not per refresh).
    looked_up_for: Option<String>,
    /// When fetching Velora's ingest last failed: background attempts wait
    /// [`LOOKUP_RETRY`] after it (every service change would otherwise
    /// spend the request budget on a Velora that does not answer).
    lookup_failed: Option<Instant>,
}

/// How long background lookups of Velora's ingest wait after a failed one.
const LOOKUP_RETRY: Duration = Duration::from_secs(30);

/// Why the worker looks at Velora's ingest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    /// OBS's service changed, or a login: background, not right after a failure.
    Changed,
    /// OBS's Settings or wizard just closed: the streamer acted, and the
    /// dock shows the result (a request of the streamer's budget).
    SettingsClosed,
    /// A poll just succeeded: Velora answers again.
    VeloraAnswers,
}

/// `https://host:3334/live/<key>/whip` → `https://host:3334/live/…/whip`.
pub(super) fn redact_whip(url: &str) -> String {
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

/// The ingest URL of `protocol` in a setup answer.
fn ingest_for(setup: &StreamSetup, protocol: Protocol) -> Option<String> {
    match protocol {
        Protocol::Rtmp => Some(setup.rtmp_url.clone()),
        Protocol::Srt => setup.srt_url.clone(),
        Protocol::Whip => setup.whip_url.as_ref().map(|u| u.expose().to_string()),
    }
    .filter(|s| !s.trim().is_empty())
}

fn streaming(host: &dyn Host, streaming: bool) -> bool {
    streaming || host.streaming_active()
}

impl ObsService {
    /// Puts what OBS's service is on the board: ours or not, which protocol,
    /// the key's hint, whether there is something to restore.
    pub fn show(&self, host: &dyn Host, _logged_in: bool) {
        let current = host.current_service();
        let mode = mode(current.as_ref());
        let can_restore = host.previous_service().is_some();
        let pending = self.pending.is_some();
        status::update(|s| {
            put_service(s, current.as_ref(), mode);
            s.can_restore = can_restore;
            s.pending_apply = pending;
        });
    }

    /// OBS's service changed (or Settings › Stream closed): when Velora's
    /// ingest is needed to tell what it is or to repair it, and not known
    /// yet, asks Velora once for this service (a background request), then
    /// has the service read again (the UI thread repairs it).
    pub fn ensure_ingest(&mut self, api: &mut Api, host: &dyn Host, why: Lookup) {
        if !api.logged_in() {
            return;
        }
        if why == Lookup::Changed && self.lookup_failed.is_some_and(|t| t.elapsed() < LOOKUP_RETRY) {
            return;
        }
        let Some(c) = host.current_service() else {
            return;
        };
        let needed = ingest_needed(&c);
        let print = fingerprint(&c);
        if !needed || self.looked_up_for.as_deref() == Some(&print) {
            return;
        }
        let priority = match why {
            Lookup::SettingsClosed => Priority::User,
            Lookup::Changed | Lookup::VeloraAnswers => Priority::Background,
        };
        match api.call(priority, |cl, t| cl.stream_setup(t)) {
            Ok(setup) => {
                learn_setup(&setup);
                // Checked only when the key OBS holds is Velora's: a repaired
                // or custom service keeps the key the streamer typed, which
                // the check before going live must still compare.
                if holds_key(&c, &setup.stream_key) {
                    self.set_key_checked(Some(Instant::now()));
                }
                self.looked_up_for = Some(print);
                self.lookup_failed = None;
                host.refresh_service();
                self.show(host, true);
            }
            Err(e) => {
                self.lookup_failed = Some(Instant::now());
                log::info!("Velora's ingest not read: {}", e.failure().message());
            }
        }
    }

    /// A profile change forgets what was queued for the old profile.
    pub fn profile_changed(&mut self) {
        self.pending = None;
        self.looked_up_for = None;
        // Another profile, maybe another key: not checked yet.
        self.set_key_checked(None);
    }

    fn set_key_checked(&mut self, at: Option<Instant>) {
        self.key_checked = at;
        status::update(|s| s.key_checked_at = at);
    }

    /// Logged out or another environment: what was known of the account goes.
    pub fn forget_account(&mut self) {
        self.looked_up_for = None;
        self.lookup_failed = None;
        self.set_key_checked(None);
        forget_account();
    }

    pub fn key_check_due(&self, max_age: Duration) -> bool {
        self.key_checked.is_none_or(|t| t.elapsed() >= max_age)
    }

    /// *Use Velora*: fetches the ingest and makes it OBS's service (or queues
    /// it while live). Nothing in OBS changes when the fetch fails.
    pub fn apply_setup(
        &mut self,
        api: &mut Api,
        host: &dyn Host,
        cancel: &Cancel,
        protocol: Option<Protocol>,
        streaming_now: bool,
    ) -> Result<Reply, Failure> {
        let current = host.current_service().and_then(|c| c.velora);
        let protocol = protocol.or(current.as_ref().map(|v| v.protocol)).unwrap_or_default();
        if !protocol.supported_on(host.obs_version()) {
            return Err(Failure::Unsupported(tr("Velora.Error.WhipUnsupported")));
        }
        status::update(|s| s.busy = true);
        let setup = api.call(Priority::User, |c, t| c.stream_setup(t));
        status::update(|s| s.busy = false);
        let setup = setup.map_err(|e| e.failure())?;
        learn_setup(&setup);
        let Some(server) = ingest_for(&setup, protocol) else {
            return Err(Failure::Unsupported(tr_args(
                "Velora.Error.NoIngestForProtocol",
                &[&protocol.as_str().to_uppercase()],
            )));
        };
        let board = status::snapshot();
        let settings = ServiceSettings {
            server: server.clone(),
            key: setup.stream_key.clone(),
            protocol,
            title: current.as_ref().and_then(|v| v.title.clone()).or(board.title.clone()),
            category_slug: current
                .as_ref()
                .and_then(|v| v.category_slug.clone())
                .or(board.category_slug.clone()),
            tags: current
                .as_ref()
                .and_then(|v| v.tags.clone())
                .or(Some(board.tags.clone())),
        };
        // WHIP's URL embeds the key: report only what is safe.
        let server_shown = if protocol == Protocol::Whip {
            redact_whip(&server)
        } else {
            server
        };
        if streaming(host, streaming_now) {
            log::info!(
                "streaming: the Velora settings ({}) will be applied when the stream ends",
                protocol.as_str()
            );
            self.queue(settings);
            return Ok(Reply::Applied {
                protocol,
                server_shown,
                pending: true,
            });
        }
        self.apply_now(host, cancel, &settings)?;
        Ok(Reply::Applied {
            protocol,
            server_shown,
            pending: false,
        })
    }

    fn queue(&mut self, settings: ServiceSettings) {
        self.pending = Some(settings);
        status::update(|s| {
            s.pending_apply = true;
            s.plain_notice(tr("Velora.Notice.PendingApply"));
        });
    }

    /// Makes `settings` OBS's streaming service now (keeping a copy of the
    /// user's own service the first time).
    fn apply_now(&mut self, host: &dyn Host, cancel: &Cancel, settings: &ServiceSettings) -> Result<(), Failure> {
        // A mangled Velora service, or a custom server pointing at Velora,
        // is not the streamer's own service to keep a copy of.
        let ours = matches!(
            mode(host.current_service().as_ref()),
            ServiceMode::Mangled | ServiceMode::VeloraViaCustom
        );
        if ours {
            host.replace_with_velora_service(settings, cancel)
        } else {
            host.apply_velora_service(settings, cancel)
        }
        .map_err(Failure::Obs)?;
        self.set_key_checked(Some(Instant::now()));
        self.pending = None;
        log::info!(
            "OBS now streams to Velora ({}, key {})",
            settings.protocol.as_str(),
            settings.key.hint()
        );
        status::update(|s| {
            s.pending_apply = false;
            s.protocol = settings.protocol;
            s.last_error = None;
            s.velora_notice(tr("Velora.Notice.Applied"));
        });
        Ok(())
    }

    /// The stream ended: what was queued is applied now.
    pub fn stream_stopped(&mut self, host: &dyn Host, cancel: &Cancel) {
        if let Some(p) = self.pending.take() {
            log::info!("stream ended: applying the queued Velora settings");
            if let Err(f) = self.apply_now(host, cancel, &p) {
                log::warn!("could not apply the queued settings: {}", f.message());
                self.pending = Some(p);
            }
        }
    }

    pub fn regenerate_key(
        &mut self,
        api: &mut Api,
        host: &dyn Host,
        cancel: &Cancel,
        streaming_now: bool,
    ) -> Result<Reply, Failure> {
        status::update(|s| s.busy = true);
        let res = api.call(Priority::User, |c, t| c.regenerate_key(t));
        status::update(|s| s.busy = false);
        let key: Secret = res.map_err(|e| e.failure())?;
        learn_key(&key);
        log::info!("stream key regenerated (new key {})", key.hint());
        let mut applied = false;
        let mut pending = false;
        if let Some(mut v) = host.current_service().and_then(|c| c.velora) {
            if v.protocol == Protocol::Whip {
                // The WHIP URL embeds the key: fetch it again.
                if let Reply::Applied { pending: p, .. } =
                    self.apply_setup(api, host, cancel, Some(Protocol::Whip), streaming_now)?
                {
                    pending = p;
                    applied = !p;
                }
            } else {
                v.key = key.clone();
                if streaming(host, streaming_now) {
                    self.queue(v);
                    pending = true;
                } else {
                    self.apply_now(host, cancel, &v)?;
                    applied = true;
                }
            }
        }
        status::update(|s| {
            s.key_hint = Some(key.hint());
            if !pending {
                s.velora_notice(tr("Velora.Notice.KeyRegenerated"));
            }
        });
        Ok(Reply::KeyRegenerated {
            applied,
            pending,
            key_hint: key.hint(),
        })
    }

    pub fn restore_previous(
        &mut self,
        host: &dyn Host,
        cancel: &Cancel,
        streaming_now: bool,
    ) -> Result<Reply, Failure> {
        if streaming(host, streaming_now) {
            return Err(Failure::Obs(tr("Velora.Error.BusyStreaming")));
        }
        let Some((type_id, _)) = host.previous_service() else {
            return Err(Failure::NothingToRestore);
        };
        host.restore_previous_service(cancel).map_err(Failure::Obs)?;
        log::info!("restored the previous streaming service ({type_id})");
        self.pending = None;
        status::update(|s| {
            s.pending_apply = false;
            s.plain_notice(tr("Velora.Notice.Restored"));
        });
        Ok(Reply::Restored { service_type: type_id })
    }

    /// Compares the configured key with Velora's (one request). A key that
    /// was regenerated elsewhere is written into the Velora service; the
    /// service keeps every string it handed to an output alive, so an output
    /// that is starting reads either key, never freed memory.
    ///
    /// Background checks (before going live, while idle) ignore a failure
    /// (logged); the streamer's *Check* gets it. `Ok(true)`: the key was
    /// changed on Velora and OBS now uses the new one.
    pub fn check_key(
        &mut self,
        api: &mut Api,
        host: &dyn Host,
        cancel: &Cancel,
        priority: Priority,
    ) -> Result<bool, Failure> {
        if !api.logged_in() {
            return Err(Failure::NotLoggedIn);
        }
        let Some(mut v) = host.current_service().and_then(|c| c.velora) else {
            return Err(Failure::BadRequest(tr("Velora.Error.NotUsingVelora")));
        };
        if priority == Priority::User {
            status::update(|s| s.busy = true);
        }
        let setup = api.call(priority, |c, t| c.stream_setup(t));
        if priority == Priority::User {
            status::update(|s| s.busy = false);
        }
        let setup = match setup {
            Ok(s) => s,
            Err(e) => {
                let f = e.failure();
                log::info!("stream key check skipped: {}", f.message());
                return Err(f);
            }
        };
        self.set_key_checked(Some(Instant::now()));
        learn_setup(&setup);
        // A service waiting for Velora's ingest is repaired now (UI thread).
        host.refresh_service();
        let whip = (v.protocol == Protocol::Whip)
            .then(|| ingest_for(&setup, Protocol::Whip))
            .flatten();
        if setup.stream_key == v.key && whip.as_ref().is_none_or(|s| *s == v.server) {
            return Ok(false);
        }
        log::warn!(
            "the stream key was changed on Velora (now {}): updating OBS's Velora service",
            setup.stream_key.hint()
        );
        v.key = setup.stream_key.clone();
        if let Some(s) = whip {
            v.server = s;
        }
        if let Err(e) = host.apply_velora_service(&v, cancel) {
            log::warn!("could not update the stream key in OBS: {e}");
            return Err(Failure::Obs(e));
        }
        status::update(|s| {
            s.key_hint = Some(setup.stream_key.hint());
            s.velora_notice(tr("Velora.Notice.KeyChangedElsewhere"));
        });
        Ok(true)
    }
}

/// Whether the key OBS's service holds is `key`.
fn holds_key(c: &CurrentService, key: &Secret) -> bool {
    let held = c.velora.as_ref().map(|v| &v.key).or(c.other.as_ref().map(|o| &o.key));
    held == Some(key)
}

#[cfg(test)]
mod tests {
    use crate::host::{CurrentService, OtherService};
    use crate::Secret;

    #[test]
    fn only_velora_s_own_key_counts_as_checked() {
        let velora_key = Secret::new("live_velora");
        let custom = |key: &str| CurrentService {
            type_id: "rtmp_custom".into(),
            velora: None,
            other: Some(OtherService {
                name: String::new(),
                server: "rtmp://ingest.velora.invalid/live".into(),
                key: Secret::new(key),
            }),
        };
        assert!(super::holds_key(&custom("live_velora"), &velora_key));
        assert!(!super::holds_key(&custom("typed_by_hand"), &velora_key));
        let none = CurrentService {
            type_id: "velora".into(),
            velora: None,
            other: None,
        };
        assert!(!super::holds_key(&none, &velora_key));
    }

    #[test]
    fn whip_urls_are_redacted() {
        let r = super::redact_whip("https://ingest.velora.tv:3334/live/live_abc123xyz789/whip");
        assert!(!r.contains("abc123"), "{r}");
        assert!(r.starts_with("https://ingest.velora.tv:3334/live/"));
    }
}
