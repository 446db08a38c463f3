//! What OBS's service *is*, seen from Velora ([`ServiceMode`]), and what to
//! do about it. OBS's Settings › Stream page and its auto-configuration
//! wizard know only OBS's own services: saved after any edit, they turn the
//! Velora service into `rtmp_common` "Velora" with an empty server (the key
//! kept), which cannot stream. Nobody picks that on purpose, so it is
//! repaired at once, on the UI thread that just read it, from what the plugin
//! knows of Velora's ingest ([`repair_for`]); when that is not known yet the
//! worker asks Velora for it ([`super::ObsService::ensure_ingest`]), and the
//! dock offers *Use Velora* meanwhile. A service the streamer picked (another
//! server, another platform) is never switched back by itself; OBS's custom
//! server pointing at Velora's ingest with the current key is recognised as
//! streaming to Velora.

use crate::api::StreamSetup;
use crate::host::CurrentService;
use crate::status::{self, ServiceMode, Status};
use crate::stream_config::{Protocol, ServiceSettings, SERVICE_ID};
use crate::text::tr;
use crate::Secret;
use std::sync::Mutex;

/// The name Settings › Stream shows for the `velora` service (and keeps in
/// the `rtmp_common` service it saves in its place).
pub const SERVICE_NAME: &str = "Velora";

/// What the plugin knows of Velora's ingest: from Velora's stream setup,
/// and from every `velora` service that could stream. Read on any thread
/// (the UI thread repairs with it without waiting for anyone).
#[derive(Clone, Debug, Default)]
struct Known {
    rtmp: Option<String>,
    srt: Option<String>,
    /// The key Velora last gave (setup, regeneration): it wins.
    key_setup: Option<Secret>,
    /// The key of the last working `velora` service.
    key_service: Option<Secret>,
    /// The last `velora` service that could stream, in this profile
    /// (protocol, WHIP URL, title, category, tags).
    last: Option<ServiceSettings>,
    /// A repair that OBS refused, by service fingerprint: not tried again
    /// until the service changes.
    failed_repair: Option<String>,
}

static KNOWN: Mutex<Option<Known>> = Mutex::new(None);

fn with_known<R>(f: impl FnOnce(&mut Known) -> R) -> R {
    let mut g = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Known::default))
}

fn known() -> Known {
    with_known(|k| k.clone())
}

impl Known {
    fn key(&self) -> Option<&Secret> {
        self.key_setup
            .as_ref()
            .or(self.key_service.as_ref())
            .filter(|k| !k.expose().trim().is_empty())
    }

    /// Velora's ingest URL for `protocol`, if known.
    fn url(&self, protocol: Protocol) -> Option<String> {
        let last = self
            .last
            .as_ref()
            .filter(|l| l.protocol == protocol)
            .map(|l| l.server.clone());
        match protocol {
            Protocol::Rtmp => self.rtmp.clone().or(last),
            Protocol::Srt => self.srt.clone().or(last),
            // The WHIP URL carries the key: only the service's own.
            Protocol::Whip => last,
        }
        .filter(|u| !u.trim().is_empty())
    }

    fn is_ingest(&self, server: &str) -> bool {
        let s = normalize_url(server);
        !s.is_empty()
            && [
                self.rtmp.as_deref(),
                self.srt.as_deref(),
                self.last.as_ref().map(|l| l.server.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|u| normalize_url(u) == s)
    }
}

/// `RTMP://Host:1935/live/` and `rtmp://host:1935/live` are one server.
fn normalize_url(u: &str) -> String {
    let u = u.trim().trim_end_matches('/');
    match u.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            format!(
                "{}://{}/{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase(),
                path
            )
        }
        None => u.to_string(),
    }
}

/// Velora's stream setup was read: its ingest and key are Velora's now.
pub(super) fn learn_setup(setup: &StreamSetup) {
    with_known(|k| {
        k.rtmp = Some(setup.rtmp_url.clone()).filter(|u| !u.trim().is_empty());
        k.srt = setup.srt_url.clone().filter(|u| !u.trim().is_empty());
        k.key_setup = Some(setup.stream_key.clone());
    });
}

pub(super) fn learn_key(key: &Secret) {
    with_known(|k| k.key_setup = Some(key.clone()));
}

/// UI thread, whenever OBS's service was read: a `velora` service that can
/// stream tells the ingest (and this profile's title, category, tags).
pub fn learn_service(current: Option<&CurrentService>) {
    let Some(v) = current.and_then(|c| c.velora.as_ref()) else {
        return;
    };
    if !v.can_connect() {
        return;
    }
    with_known(|k| {
        if k.last.as_ref() != Some(v) {
            k.key_service = Some(v.key.clone());
            k.last = Some(v.clone());
        }
    });
}

/// Another profile: its title, category and tags are its own (Velora's
/// ingest and key stay known).
pub fn forget_profile() {
    with_known(|k| k.last = None);
}

/// Logged out, or another environment: nothing of the account is kept.
pub(super) fn forget_account() {
    *KNOWN.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

pub(super) fn fingerprint(c: &CurrentService) -> String {
    let (name, server) = match (&c.velora, &c.other) {
        (Some(v), _) => ("", v.server.as_str()),
        (None, Some(o)) => (o.name.as_str(), o.server.as_str()),
        (None, None) => ("", ""),
    };
    format!("{}|{name}|{server}", c.type_id)
}

/// The pure rule: what `current` is, given what is known of Velora.
fn classify(current: Option<&CurrentService>, k: &Known) -> ServiceMode {
    let Some(c) = current else {
        return ServiceMode::Other;
    };
    if c.type_id == SERVICE_ID {
        return match &c.velora {
            Some(v) if v.server.trim().is_empty() => ServiceMode::Mangled,
            _ => ServiceMode::Velora,
        };
    }
    let Some(o) = &c.other else {
        return ServiceMode::Other;
    };
    let builtin = c.type_id == "rtmp_common" || c.type_id == "rtmp_custom";
    if builtin && k.is_ingest(&o.server) && k.key().is_some_and(|key| *key == o.key) {
        return ServiceMode::VeloraViaCustom;
    }
    if c.type_id == "rtmp_common" && o.name == SERVICE_NAME && o.server.trim().is_empty() {
        return ServiceMode::Mangled;
    }
    ServiceMode::Other
}

/// What OBS's service is, seen from Velora (any thread).
pub fn mode(current: Option<&CurrentService>) -> ServiceMode {
    classify(current, &known())
}

/// Whether Velora's ingest must be fetched to tell what `c` is (a custom
/// server, nothing known yet) or to repair it (mangled, ingest unknown).
pub(super) fn ingest_needed(c: &CurrentService) -> bool {
    let k = known();
    match classify(Some(c), &k) {
        ServiceMode::Mangled => repaired(c, &k, false).server.is_empty(),
        ServiceMode::Other => {
            k.key().is_none()
                && c.other.as_ref().is_some_and(|o| !o.server.trim().is_empty())
                && (c.type_id == "rtmp_common" || c.type_id == "rtmp_custom")
        }
        _ => false,
    }
}

/// The Velora service that replaces a mangled one: Velora's ingest for the
/// protocol last used (RTMP when `rtmp_only`, or when that one is unknown),
/// the key the streamer kept or typed in Settings › Stream (else Velora's),
/// this profile's title, category and tags. The server is empty when
/// Velora's ingest is not known.
fn repaired(c: &CurrentService, k: &Known, rtmp_only: bool) -> ServiceSettings {
    let typed = match (&c.velora, &c.other) {
        (Some(v), _) => v.key.clone(),
        (None, Some(o)) => o.key.clone(),
        (None, None) => Secret::default(),
    };
    let key = if typed.expose().trim().is_empty() {
        k.key().cloned().unwrap_or_default()
    } else {
        typed
    };
    let base = c.velora.clone().or(k.last.clone()).unwrap_or_default();
    let wanted = if rtmp_only {
        Protocol::Rtmp
    } else {
        k.last.as_ref().map_or(Protocol::Rtmp, |l| l.protocol)
    };
    let (protocol, server) = match k.url(wanted) {
        Some(u) => (wanted, u),
        None => (Protocol::Rtmp, k.url(Protocol::Rtmp).unwrap_or_default()),
    };
    ServiceSettings {
        server,
        key,
        protocol,
        title: base.title,
        category_slug: base.category_slug,
        tags: base.tags,
    }
}

/// UI thread, right after reading OBS's service: the Velora service to put
/// in place of a mangled one, when Velora's ingest is known (no waiting, no
/// network). `None`: nothing to repair, or it must wait for the ingest.
pub fn repair_for(current: Option<&CurrentService>) -> Option<ServiceSettings> {
    repair_with(current?, &known())
}

fn repair_with(c: &CurrentService, k: &Known) -> Option<ServiceSettings> {
    if classify(Some(c), k) != ServiceMode::Mangled || k.failed_repair.as_deref() == Some(&fingerprint(c)) {
        return None;
    }
    Some(repaired(c, k, false)).filter(ServiceSettings::can_connect)
}

/// OBS refused the repair of `current`: not tried again for this service.
pub fn repair_failed(current: &CurrentService, why: &str) {
    log::warn!("could not put the Velora service back: {why}");
    with_known(|k| k.failed_repair = Some(fingerprint(current)));
}

/// The repair was made (UI thread): said in the log and by the dock.
pub fn repaired_now(settings: &ServiceSettings) {
    log::info!(
        "OBS's stream settings saved the Velora service without its server: Velora set up again ({}, key {})",
        settings.protocol.as_str(),
        settings.key.hint()
    );
    status::update(|s| s.velora_notice(tr("Velora.Notice.Repaired")));
}

/// What to do with OBS's service at STREAMING_STARTING (UI thread), the
/// last moment before the output starts.
#[derive(Debug, PartialEq)]
pub enum StartFix {
    /// Nothing (the service is not a mangled Velora service).
    Keep,
    /// Stream with this Velora service instead (RTMP: the output OBS has
    /// just set up is an RTMP output).
    Repair(ServiceSettings),
    /// It cannot stream: the start fails with `message` (OBS shows it)
    /// rather than with OBS's generic connection error. `settings`: the
    /// Velora service (without a server) to put in place of OBS's
    /// `rtmp_common`, so that OBS asks the plugin before connecting.
    Refuse {
        settings: Option<ServiceSettings>,
        message: String,
    },
}

/// STREAMING_STARTING, UI thread: see [`StartFix`].
pub fn start_fix(current: Option<&CurrentService>) -> StartFix {
    match current {
        Some(c) => start_fix_with(c, &known()),
        None => StartFix::Keep,
    }
}

fn start_fix_with(c: &CurrentService, k: &Known) -> StartFix {
    if classify(Some(c), k) != ServiceMode::Mangled {
        return StartFix::Keep;
    }
    let fixed = repaired(c, k, true);
    if fixed.can_connect() {
        return StartFix::Repair(fixed);
    }
    StartFix::Refuse {
        settings: (c.type_id != SERVICE_ID).then_some(fixed),
        message: tr("Velora.Error.StartMangled"),
    }
}

/// The service fields of the board, from OBS's service as just read (any
/// thread, no waiting). A notice that says OBS streams to Velora goes the
/// moment that stops being true.
pub fn reflect(current: Option<&CurrentService>) {
    let mode = mode(current);
    status::update(|s| put_service(s, current, mode));
}

pub(super) fn put_service(s: &mut Status, current: Option<&CurrentService>, mode: ServiceMode) {
    if s.service_mode != mode && s.logged_in() {
        log::info!(
            "OBS's streaming service: {} (was {})",
            mode.as_str(),
            s.service_mode.as_str()
        );
    }
    let velora = current.and_then(|c| c.velora.as_ref());
    s.service_active = current.is_some_and(|c| c.is_velora());
    s.service_mode = mode;
    s.service_note = match mode {
        ServiceMode::Velora => None,
        ServiceMode::VeloraViaCustom => Some(tr("Velora.Dock.Service.ViaCustom")),
        ServiceMode::Mangled => Some(tr("Velora.Dock.Service.Mangled")),
        ServiceMode::Other => Some(tr("Velora.Dock.NotActive")),
    };
    if mode != ServiceMode::Velora && s.notice_needs_velora {
        // "OBS now streams to Velora." is not true any more.
        s.notice = None;
        s.notice_needs_velora = false;
    }
    if let Some(p) = velora.map(|v| v.protocol) {
        s.protocol = p;
    }
    let key = match mode {
        ServiceMode::Velora | ServiceMode::Mangled => velora.map(|v| v.key.clone()),
        ServiceMode::VeloraViaCustom => current.and_then(|c| c.other.as_ref()).map(|o| o.key.clone()),
        ServiceMode::Other => None,
    };
    s.key_hint = key.filter(|k| !k.is_empty()).map(|k| k.hint());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::OtherService;

    const INGEST: &str = "rtmp://127.0.0.1:1935/live";

    fn other(type_id: &str, name: &str, server: &str, key: &str) -> CurrentService {
        CurrentService {
            type_id: type_id.into(),
            velora: None,
            other: Some(OtherService {
                name: name.into(),
                server: server.into(),
                key: Secret::new(key),
            }),
        }
    }

    fn velora(server: &str, key: &str, protocol: Protocol) -> CurrentService {
        CurrentService {
            type_id: SERVICE_ID.into(),
            velora: Some(ServiceSettings {
                server: server.into(),
                key: Secret::new(key),
                protocol,
                title: Some("My title".into()),
                category_slug: Some("music".into()),
                tags: Some(vec!["a".into()]),
            }),
            other: None,
        }
    }

    /// What the plugin knows after seeing a working Velora service.
    fn seen(c: &CurrentService) -> Known {
        Known {
            key_service: c.velora.as_ref().map(|v| v.key.clone()),
            last: c.velora.clone(),
            ..Default::default()
        }
    }

    /// What Settings › Stream saves after an edit of the Velora service.
    fn mangled(key: &str) -> CurrentService {
        other("rtmp_common", SERVICE_NAME, "", key)
    }

    #[test]
    fn what_settings_stream_saves_is_recognised() {
        let k = seen(&velora(INGEST, "live_key_123456", Protocol::Rtmp));
        assert_eq!(
            classify(Some(&velora(INGEST, "k", Protocol::Rtmp)), &k),
            ServiceMode::Velora
        );
        assert_eq!(classify(Some(&mangled("live_key_123456")), &k), ServiceMode::Mangled);
        // Known or not, an empty "Velora" is mangled.
        assert_eq!(classify(Some(&mangled("x")), &Known::default()), ServiceMode::Mangled);
        assert_eq!(
            classify(Some(&velora("", "k", Protocol::Rtmp)), &k),
            ServiceMode::Mangled
        );
        // Velora's ingest and key in OBS's own services.
        for t in ["rtmp_custom", "rtmp_common"] {
            let c = other(t, "", "RTMP://127.0.0.1:1935/live/", "live_key_123456");
            assert_eq!(classify(Some(&c), &k), ServiceMode::VeloraViaCustom, "{t}");
        }
        // Another key, another server, another platform: the streamer's choice.
        assert_eq!(
            classify(Some(&other("rtmp_custom", "", INGEST, "other-key")), &k),
            ServiceMode::Other
        );
        assert_eq!(
            classify(
                Some(&other("rtmp_custom", "", "rtmp://a.invalid/live", "live_key_123456")),
                &k
            ),
            ServiceMode::Other
        );
        assert_eq!(
            classify(Some(&other("rtmp_common", "Twitch", "auto", "live_key_123456")), &k),
            ServiceMode::Other
        );
        assert_eq!(
            classify(Some(&other("rtmp_custom", "", "", "")), &k),
            ServiceMode::Other
        );
        // "Custom..." with an empty server is a choice too.
        assert_eq!(
            classify(Some(&other("rtmp_custom", "", "", "x")), &k),
            ServiceMode::Other
        );
        // Nothing known of Velora: a custom server is only "other".
        assert_eq!(
            classify(
                Some(&other("rtmp_custom", "", INGEST, "live_key_123456")),
                &Known::default()
            ),
            ServiceMode::Other
        );
        assert_eq!(classify(None, &k), ServiceMode::Other);
    }

    #[test]
    fn a_mangled_service_is_repaired_with_the_key_kept_or_typed() {
        let before = velora(INGEST, "live_key_123456", Protocol::Rtmp);
        let k = seen(&before);
        // The key the streamer typed in Settings › Stream is kept.
        let fixed = repair_with(&mangled("live_typed_999999"), &k).expect("repairable");
        assert_eq!(fixed.server, INGEST);
        assert_eq!(fixed.key.expose(), "live_typed_999999");
        assert_eq!(fixed.protocol, Protocol::Rtmp);
        assert_eq!(fixed.title.as_deref(), Some("My title"));
        assert_eq!(fixed.category_slug.as_deref(), Some("music"));
        // An emptied key field: Velora's key.
        let fixed = repair_with(&mangled(""), &k).expect("repairable");
        assert_eq!(fixed.key.expose(), "live_key_123456");
        // SRT stays SRT.
        let srt = velora("srt://127.0.0.1:9999", "live_key_123456", Protocol::Srt);
        let fixed = repair_with(&mangled("live_key_123456"), &seen(&srt)).unwrap();
        assert_eq!(
            (fixed.protocol, fixed.server.as_str()),
            (Protocol::Srt, "srt://127.0.0.1:9999")
        );
        // Nothing to repair in a working or a chosen service.
        assert!(repair_with(&before, &k).is_none());
        assert!(repair_with(&other("rtmp_custom", "", "rtmp://a.invalid/x", "y"), &k).is_none());
        // The ingest is not known: it waits (the worker asks Velora).
        assert!(repair_with(&mangled("live_key_123456"), &Known::default()).is_none());
        // OBS refused this very repair once: not again until the service changes.
        let mut refused = k.clone();
        refused.failed_repair = Some(fingerprint(&mangled("x")));
        assert!(repair_with(&mangled("x"), &refused).is_none());
    }

    #[test]
    fn velora_setup_is_enough_to_repair_and_recognise() {
        let k = Known {
            rtmp: Some(INGEST.into()),
            srt: Some("srt://127.0.0.1:9999".into()),
            key_setup: Some(Secret::new("live_new_key_777777")),
            // A service seen earlier with an older key: Velora's key wins.
            key_service: Some(Secret::new("live_old_key_000000")),
            ..Default::default()
        };
        assert_eq!(
            classify(Some(&other("rtmp_custom", "", INGEST, "live_new_key_777777")), &k),
            ServiceMode::VeloraViaCustom
        );
        assert_eq!(
            classify(Some(&other("rtmp_custom", "", INGEST, "live_old_key_000000")), &k),
            ServiceMode::Other
        );
        assert_eq!(
            classify(
                Some(&other("rtmp_custom", "", "srt://127.0.0.1:9999", "live_new_key_777777")),
                &k
            ),
            ServiceMode::VeloraViaCustom
        );
        let fixed = repair_with(&mangled(""), &k).unwrap();
        assert_eq!(fixed.server, INGEST);
        assert_eq!(fixed.key.expose(), "live_new_key_777777");
        assert_eq!(fixed.title, None);
    }

    #[test]
    fn start_streaming_with_a_mangled_service_never_reaches_obs_generic_error() {
        let k = seen(&velora("srt://127.0.0.1:9999", "live_key_123456", Protocol::Srt));
        // Known ingest, but OBS has set up an RTMP output: RTMP only.
        let mut with_rtmp = k.clone();
        with_rtmp.rtmp = Some(INGEST.into());
        match start_fix_with(&mangled("live_key_123456"), &with_rtmp) {
            StartFix::Repair(s) => assert_eq!((s.protocol, s.server.as_str()), (Protocol::Rtmp, INGEST)),
            other => panic!("{other:?}"),
        }
        // No RTMP ingest known: refused with the plugin's words, and OBS's
        // rtmp_common is replaced so that the plugin is asked.
        match start_fix_with(&mangled("live_key_123456"), &k) {
            StartFix::Refuse {
                settings: Some(s),
                message,
            } => {
                assert!(s.server.is_empty());
                assert_eq!(s.key.expose(), "live_key_123456");
                assert!(!message.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // Already a Velora service without a server: only the words.
        assert!(matches!(
            start_fix_with(&velora("", "k", Protocol::Rtmp), &Known::default()),
            StartFix::Refuse { settings: None, .. }
        ));
        assert_eq!(start_fix_with(&velora(INGEST, "k", Protocol::Rtmp), &k), StartFix::Keep);
        assert_eq!(
            start_fix_with(&other("rtmp_custom", "", "", ""), &k),
            StartFix::Keep,
            "the streamer's own (even empty) service is theirs"
        );
    }

    #[test]
    fn the_board_says_what_the_service_is_and_drops_stale_notices() {
        let mut s = Status::default();
        s.velora_notice("OBS now streams to Velora.".into());
        let c = velora(INGEST, "live_key_123456", Protocol::Rtmp);
        put_service(&mut s, Some(&c), ServiceMode::Velora);
        assert!(s.service_active && s.notice.is_some() && s.service_note.is_none());
        assert_eq!(s.key_hint.as_deref(), Some("…3456"));
        let m = mangled("live_key_123456");
        put_service(&mut s, Some(&m), ServiceMode::Mangled);
        assert!(!s.service_active);
        assert_eq!(s.notice, None, "a stale success notice next to a broken service");
        assert!(s.service_note.is_some());
        put_service(
            &mut s,
            Some(&other("rtmp_custom", "", "rtmp://x/y", "theirs_123456")),
            ServiceMode::Other,
        );
        assert_eq!(s.key_hint, None, "the key of another service is none of ours");
        // A plain notice (not about the service) stays.
        s.plain_notice("Stream info updated.".into());
        put_service(&mut s, Some(&m), ServiceMode::Mangled);
        assert!(s.notice.is_some());
    }

    #[test]
    fn urls_compare_without_case_or_trailing_slash() {
        assert_eq!(
            normalize_url("RTMP://Host:1935/live/"),
            normalize_url("rtmp://host:1935/live")
        );
        assert_ne!(normalize_url("rtmp://host/Live"), normalize_url("rtmp://host/live"));
    }
}
