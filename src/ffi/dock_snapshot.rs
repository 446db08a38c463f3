//! The [`VeloraDockState`] snapshot the dock reads: built from the board
//! ([`Status`]) with every string it points at, handed over and taken back
//! whole (`state_get` / `state_free`).

use super::cstring;
use super::dock_api::{
    VeloraCategory, VeloraDockState, VeloraEnvironment, VeloraErrorKind, VeloraPhase, VeloraProtocol,
    VeloraRequestOutcome, VeloraServiceMode, VeloraThumbState,
};
use crate::guard::ui_guard;
use crate::status::{self, ErrorKind, Phase, ServiceMode, Status, Thumb};
use crate::stream_config::Protocol;
use std::ffi::{c_char, CString};

/// Keeps the snapshot's strings alive next to the C struct. `repr(C)` with
/// `state` first, so a pointer to `Owned` is a pointer to its state.
#[repr(C)]
struct Owned {
    state: VeloraDockState,
    _strings: Vec<CString>,
    _cats: Vec<VeloraCategory>,
    _requests: Vec<VeloraRequestOutcome>,
}

fn build(s: &Status) -> Box<Owned> {
    let mut strings: Vec<CString> = Vec::new();
    let mut keep = |v: &str| -> *const c_char {
        let c = cstring(v);
        let p = c.as_ptr();
        strings.push(c);
        p
    };
    let cats: Vec<VeloraCategory> = s
        .categories
        .iter()
        .map(|c| {
            let (thumb_state, path) = match &c.thumb {
                Thumb::None => (VeloraThumbState::None, ""),
                Thumb::Loading => (VeloraThumbState::Loading, ""),
                Thumb::Ready(p) => (VeloraThumbState::Ready, p.as_str()),
                Thumb::Failed => (VeloraThumbState::Failed, ""),
            };
            VeloraCategory {
                slug: keep(&c.slug),
                name: keep(&c.name),
                thumb_state,
                image_path: keep(path),
            }
        })
        .collect();
    let requests: Vec<VeloraRequestOutcome> = s
        .requests
        .iter()
        .map(|r| VeloraRequestOutcome {
            id: r.id,
            ok: r.ok,
            message: keep(&r.message),
        })
        .collect();
    let (error_kind, error_text, retry) = match &s.last_error {
        None => (VeloraErrorKind::None, keep(""), -1),
        Some(e) => (
            match e.kind {
                ErrorKind::SessionExpired => VeloraErrorKind::SessionExpired,
                ErrorKind::MissingPermission => VeloraErrorKind::MissingPermission,
                ErrorKind::StreamingDisabled => VeloraErrorKind::StreamingDisabled,
                ErrorKind::RateLimited => VeloraErrorKind::RateLimited,
                ErrorKind::Network => VeloraErrorKind::Network,
                ErrorKind::Invalid => VeloraErrorKind::Invalid,
                ErrorKind::Login => VeloraErrorKind::Login,
                ErrorKind::Other => VeloraErrorKind::Other,
                ErrorKind::Paced => VeloraErrorKind::Paced,
            },
            keep(&e.message),
            e.retry_in_secs.map_or(-1, |v| v as i64),
        ),
    };
    let env = crate::session::environment_choice();
    let state = VeloraDockState {
        phase: match s.phase {
            Phase::LoggedOut => VeloraPhase::LoggedOut,
            Phase::LoggingIn => VeloraPhase::LoggingIn,
            Phase::Ready => VeloraPhase::Ready,
        },
        busy: s.busy,
        account: keep(s.account.as_deref().unwrap_or("")),
        login_url: keep(s.login_url.as_deref().unwrap_or("")),
        environment: match env.0 {
            crate::config::Environment::Production => VeloraEnvironment::Production,
            crate::config::Environment::Sandbox => VeloraEnvironment::Sandbox,
            crate::config::Environment::Custom => VeloraEnvironment::Custom,
        },
        custom_url: keep(&env.1),
        api_base_url: keep(&s.api_base_url),
        is_live: s.is_live,
        viewer_count: s.viewer_count,
        started_at_unix: s
            .started_at
            .as_deref()
            .and_then(crate::timefmt::parse_rfc3339_unix)
            .unwrap_or(0),
        service_active: s.service_active,
        can_restore: s.can_restore,
        pending_apply: s.pending_apply,
        protocol: match s.protocol {
            Protocol::Rtmp => VeloraProtocol::Rtmp,
            Protocol::Srt => VeloraProtocol::Srt,
            Protocol::Whip => VeloraProtocol::Whip,
        },
        whip_supported: Protocol::Whip.supported_on(super::obs_version()),
        title: keep(s.title.as_deref().unwrap_or("")),
        category_slug: keep(s.category_slug.as_deref().unwrap_or("")),
        tags: keep(&s.tags.join(", ")),
        info_generation: s.info_generation,
        key_hint: keep(s.key_hint.as_deref().unwrap_or("")),
        error_kind,
        error_text,
        retry_in_secs: retry,
        notice_text: keep(s.notice.as_deref().unwrap_or("")),
        categories: std::ptr::null(),
        category_count: cats.len(),
        running_request: s.running_request.unwrap_or(0),
        requests: std::ptr::null(),
        request_count: requests.len(),
        login_secs_left: s.login_deadline.map_or(-1, |d| {
            d.saturating_duration_since(std::time::Instant::now()).as_secs() as i64
        }),
        key_checked_secs_ago: s.key_checked_at.map_or(-1, |t| t.elapsed().as_secs() as i64),
        key_check_max_age_secs: s.key_check_max_age_secs as i64,
        service_mode: match s.service_mode {
            ServiceMode::Velora => VeloraServiceMode::Velora,
            ServiceMode::VeloraViaCustom => VeloraServiceMode::ViaCustom,
            ServiceMode::Mangled => VeloraServiceMode::Mangled,
            ServiceMode::Other => VeloraServiceMode::Other,
        },
        service_note: keep(s.service_note.as_deref().unwrap_or("")),
    };
    let mut owned = Box::new(Owned {
        state,
        _strings: strings,
        _cats: cats,
        _requests: requests,
    });
    owned.state.categories = if owned._cats.is_empty() {
        std::ptr::null()
    } else {
        owned._cats.as_ptr()
    };
    owned.state.requests = if owned._requests.is_empty() {
        std::ptr::null()
    } else {
        owned._requests.as_ptr()
    };
    owned
}

pub(super) extern "C" fn api_state_get() -> *mut VeloraDockState {
    ui_guard("dock.state_get", std::ptr::null_mut(), || {
        let owned = build(&status::snapshot());
        // `state` is the first field of the boxed Owned: the pointer to it is
        // the pointer to the box, which state_free turns back into a Box.
        Box::into_raw(owned) as *mut VeloraDockState
    })
}

pub(super) extern "C" fn api_state_free(state: *mut VeloraDockState) {
    ui_guard("dock.state_free", (), || {
        if !state.is_null() {
            // SAFETY: `state` came from api_state_get: a Box<Owned> pointer
            // (repr(C), state first) cast to its first field, cast back here.
            drop(unsafe { Box::from_raw(state as *mut Owned) });
        }
    })
}
