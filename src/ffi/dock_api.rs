//! The C ABI between the Rust core and the Qt dock (`dock/`), turned into
//! `include/velora.h` by cbindgen.
//!
//! The dock is a separate shared library per Qt major (`velora-dock-qt5.so`,
//! `velora-dock-qt6.so`) that the core loads at FINISHED_LOADING after
//! checking which Qt the running OBS uses (see `ffi::dock`). The core hands
//! it a [`VeloraCoreApi`] table: the dock reads [`VeloraDockState`] snapshots
//! and forwards clicks; it holds no logic and does no I/O. When the state
//! changes, the core calls the dock's `velora_dock_notify()` from any thread;
//! the dock re-reads the state on its UI thread (queued call).

use super::guard::ui_guard;
use super::{cstring, module};
use crate::status::{self, ErrorKind, Phase, Status};
use crate::stream_config::Protocol;
use std::ffi::{c_char, CStr, CString};

/// Bumped on any incompatible change of this file.
pub const VELORA_DOCK_ABI_VERSION: u32 = 1;

/// Velora's title limit in Unicode characters (the dock's counter).
/// (A literal so that cbindgen can write it; checked below.)
pub const VELORA_TITLE_MAX_CHARS: u32 = 140;
const _: () = assert!(VELORA_TITLE_MAX_CHARS as usize == crate::stream_config::TITLE_MAX_CHARS);

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraPhase {
    LoggedOut = 0,
    LoggingIn = 1,
    Ready = 2,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraErrorKind {
    None = 0,
    SessionExpired = 1,
    MissingPermission = 2,
    StreamingDisabled = 3,
    RateLimited = 4,
    Network = 5,
    Invalid = 6,
    Login = 7,
    Other = 8,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraProtocol {
    Rtmp = 0,
    Srt = 1,
    Whip = 2,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraEnvironment {
    Production = 0,
    Sandbox = 1,
    Custom = 2,
}

/// One category of the picker. Strings are owned by the state snapshot.
#[repr(C)]
pub struct VeloraCategory {
    pub slug: *const c_char,
    pub name: *const c_char,
}

/// A snapshot of everything the dock renders. Every string is UTF-8, never
/// NULL (empty when unknown), owned by the snapshot and valid until
/// `state_free`.
#[repr(C)]
pub struct VeloraDockState {
    pub phase: VeloraPhase,
    pub busy: bool,
    pub account: *const c_char,
    pub login_url: *const c_char,
    pub environment: VeloraEnvironment,
    pub custom_url: *const c_char,
    pub api_base_url: *const c_char,
    pub is_live: bool,
    pub viewer_count: u64,
    /// Unix seconds when the stream started (0 when offline or unknown).
    pub started_at_unix: i64,
    pub service_active: bool,
    pub can_restore: bool,
    pub pending_apply: bool,
    pub protocol: VeloraProtocol,
    pub whip_supported: bool,
    pub title: *const c_char,
    pub category_slug: *const c_char,
    /// Comma-separated.
    pub tags: *const c_char,
    pub info_generation: u64,
    /// "…z789" or empty.
    pub key_hint: *const c_char,
    pub error_kind: VeloraErrorKind,
    pub error_text: *const c_char,
    /// Seconds until an automatic retry; -1 when none is scheduled.
    pub retry_in_secs: i64,
    pub notice_text: *const c_char,
    pub categories: *const VeloraCategory,
    pub category_count: usize,
}

/// The table of core functions the dock may call (UI thread only, none blocks).
#[repr(C)]
pub struct VeloraCoreApi {
    pub abi_version: u32,
    /// `obs_module_text` of the plugin's locale.
    pub text: extern "C" fn(key: *const c_char) -> *const c_char,
    pub state_get: extern "C" fn() -> *mut VeloraDockState,
    pub state_free: extern "C" fn(state: *mut VeloraDockState),
    pub login: extern "C" fn(),
    pub cancel_login: extern "C" fn(),
    /// Logs out; `restore_previous` also puts back the streaming service the
    /// user had before Velora.
    pub logout: extern "C" fn(restore_previous: bool),
    /// Fetches the ingest settings and makes Velora OBS's streaming service.
    pub use_velora: extern "C" fn(protocol: VeloraProtocol),
    pub restore_previous: extern "C" fn(),
    /// NULL leaves a field as it is; tags are comma-separated.
    pub update_stream_info: extern "C" fn(title: *const c_char, category_slug: *const c_char, tags: *const c_char),
    /// Only after the user confirmed.
    pub regenerate_key: extern "C" fn(),
    /// The full stream key, only when the user asked to reveal it; free with `string_free`.
    pub reveal_key: extern "C" fn() -> *mut c_char,
    pub string_free: extern "C" fn(s: *mut c_char),
    pub set_environment: extern "C" fn(env: VeloraEnvironment, custom_url: *const c_char),
    pub refresh_categories: extern "C" fn(),
    /// The dock became visible / hidden (live polling runs only while useful).
    pub dock_visible: extern "C" fn(visible: bool),
    /// True the first time the plugin ever runs (show the dock once).
    pub first_run: extern "C" fn() -> bool,
}

/// Keeps the snapshot's strings alive next to the C struct. `repr(C)` with
/// `state` first, so a pointer to `Owned` is a pointer to its state.
#[repr(C)]
struct Owned {
    state: VeloraDockState,
    _strings: Vec<CString>,
    _cats: Vec<VeloraCategory>,
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
        .map(|c| VeloraCategory {
            slug: keep(&c.slug),
            name: keep(&c.name),
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
    };
    let mut owned = Box::new(Owned {
        state,
        _strings: strings,
        _cats: cats,
    });
    owned.state.categories = if owned._cats.is_empty() {
        std::ptr::null()
    } else {
        owned._cats.as_ptr()
    };
    owned
}

/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn opt_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: per the function's contract.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

extern "C" fn api_text(key: *const c_char) -> *const c_char {
    // SAFETY: the dock passes a NUL-terminated key (or NULL, which is returned as is).
    ui_guard("dock.text", key, || unsafe { module::obs_module_text(key) })
}

extern "C" fn api_state_get() -> *mut VeloraDockState {
    ui_guard("dock.state_get", std::ptr::null_mut(), || {
        let owned = build(&status::snapshot());
        // `state` is the first field of the boxed Owned: the pointer to it is
        // the pointer to the box, which state_free turns back into a Box.
        Box::into_raw(owned) as *mut VeloraDockState
    })
}

extern "C" fn api_state_free(state: *mut VeloraDockState) {
    ui_guard("dock.state_free", (), || {
        if !state.is_null() {
            // SAFETY: `state` came from api_state_get: a Box<Owned> pointer
            // (repr(C), state first) cast to its first field, cast back here.
            drop(unsafe { Box::from_raw(state as *mut Owned) });
        }
    })
}

extern "C" fn api_login() {
    ui_guard("dock.login", (), crate::session::login)
}

extern "C" fn api_cancel_login() {
    ui_guard("dock.cancel_login", (), crate::session::cancel_login)
}

extern "C" fn api_logout(restore_previous: bool) {
    ui_guard("dock.logout", (), || crate::session::logout(restore_previous))
}

extern "C" fn api_use_velora(protocol: VeloraProtocol) {
    let p = match protocol {
        VeloraProtocol::Rtmp => Protocol::Rtmp,
        VeloraProtocol::Srt => Protocol::Srt,
        VeloraProtocol::Whip => Protocol::Whip,
    };
    ui_guard("dock.use_velora", (), || crate::session::apply_setup_async(Some(p)))
}

extern "C" fn api_restore_previous() {
    ui_guard("dock.restore_previous", (), crate::session::restore_previous_async)
}

extern "C" fn api_update_stream_info(title: *const c_char, category_slug: *const c_char, tags: *const c_char) {
    ui_guard("dock.update_stream_info", (), || {
        // SAFETY: the dock passes NULL or valid strings for the call.
        let (t, c, g) = unsafe { (opt_str(title), opt_str(category_slug), opt_str(tags)) };
        crate::session::set_stream_info_async(t, c, g.map(|g| crate::stream_config::split_tags(&g)));
    })
}

extern "C" fn api_regenerate_key() {
    ui_guard("dock.regenerate_key", (), crate::session::regenerate_key_async)
}

extern "C" fn api_reveal_key() -> *mut c_char {
    ui_guard(
        "dock.reveal_key",
        std::ptr::null_mut(),
        || match crate::session::reveal_key() {
            Some(k) => cstring(k.expose()).into_raw(),
            None => std::ptr::null_mut(),
        },
    )
}

extern "C" fn api_string_free(s: *mut c_char) {
    ui_guard("dock.string_free", (), || {
        if !s.is_null() {
            // SAFETY: `s` came from CString::into_raw in api_reveal_key.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

extern "C" fn api_set_environment(env: VeloraEnvironment, custom_url: *const c_char) {
    ui_guard("dock.set_environment", (), || {
        // SAFETY: NULL or a valid string for the call.
        let url = unsafe { opt_str(custom_url) }.unwrap_or_default();
        let e = match env {
            VeloraEnvironment::Production => crate::config::Environment::Production,
            VeloraEnvironment::Sandbox => crate::config::Environment::Sandbox,
            VeloraEnvironment::Custom => crate::config::Environment::Custom,
        };
        crate::session::set_environment(e, &url);
    })
}

extern "C" fn api_refresh_categories() {
    ui_guard("dock.refresh_categories", (), crate::session::refresh_categories_async)
}

extern "C" fn api_dock_visible(visible: bool) {
    ui_guard("dock.dock_visible", (), || crate::session::set_dock_visible(visible))
}

extern "C" fn api_first_run() -> bool {
    ui_guard("dock.first_run", false, crate::session::take_first_run)
}

/// The table handed to the dock.
pub static CORE_API: VeloraCoreApi = VeloraCoreApi {
    abi_version: VELORA_DOCK_ABI_VERSION,
    text: api_text,
    state_get: api_state_get,
    state_free: api_state_free,
    login: api_login,
    cancel_login: api_cancel_login,
    logout: api_logout,
    use_velora: api_use_velora,
    restore_previous: api_restore_previous,
    update_stream_info: api_update_stream_info,
    regenerate_key: api_regenerate_key,
    reveal_key: api_reveal_key,
    string_free: api_string_free,
    set_environment: api_set_environment,
    refresh_categories: api_refresh_categories,
    dock_visible: api_dock_visible,
    first_run: api_first_run,
};

/// The symbol the dock library is looked up by; cbindgen emits it so the
/// header names the whole contract in one place.
#[no_mangle]
pub extern "C" fn velora_core_api() -> *const VeloraCoreApi {
    ui_guard("velora_core_api", &CORE_API, || &CORE_API)
}
