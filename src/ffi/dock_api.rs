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
//!
//! Every action returns a request id; the snapshot lists how the latest
//! requests ended ([`VeloraRequestOutcome`]), so the dock shows the answer to
//! the click it made and never takes a late answer to an earlier click for
//! it.
//!
//! This file is the contract; `dock_snapshot` builds the state the dock
//! reads, `dock_calls` answers its calls and exports `velora_core_api`
//! (cbindgen reads this file and that one).

use std::ffi::c_char;

/// Bumped on any incompatible change of this file.
pub const VELORA_DOCK_ABI_VERSION: u32 = 4;

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
    /// The plugin paces its own requests: it goes ahead by itself.
    Paced = 9,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraProtocol {
    Rtmp = 0,
    Srt = 1,
    Whip = 2,
}

/// What OBS's streaming service is, seen from Velora.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraServiceMode {
    /// The Velora service.
    Velora = 0,
    /// OBS's custom server pointing at Velora's ingest with the current key.
    ViaCustom = 1,
    /// Settings › Stream left the Velora service without its server.
    Mangled = 2,
    /// Another service (the streamer's choice).
    Other = 3,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraEnvironment {
    Production = 0,
    Sandbox = 1,
    Custom = 2,
}

/// Where a category's picture stands.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VeloraThumbState {
    /// The category has no picture: show the placeholder.
    None = 0,
    /// Being fetched: the placeholder meanwhile.
    Loading = 1,
    /// `image_path` is a checked picture (PNG, JPEG, GIF or WebP, at most
    /// `VELORA_THUMB_MAX_SIDE` pixels a side and `VELORA_THUMB_MAX_PIXELS`
    /// in all, `VELORA_THUMB_MAX_BYTES` bytes).
    Ready = 2,
    /// Could not be fetched or failed the checks: the placeholder.
    Failed = 3,
}

/// One category of the picker. Strings are owned by the state snapshot.
#[repr(C)]
pub struct VeloraCategory {
    pub slug: *const c_char,
    pub name: *const c_char,
    pub thumb_state: VeloraThumbState,
    /// The cached picture file when `thumb_state` is Ready, else empty.
    pub image_path: *const c_char,
}

/// The limits every Ready picture was checked against (the dock checks
/// again before decoding). Literals for cbindgen; checked below.
pub const VELORA_THUMB_MAX_BYTES: u32 = 524288;
pub const VELORA_THUMB_MAX_SIDE: u32 = 1024;
pub const VELORA_THUMB_MAX_PIXELS: u32 = 1048576;
const _: () = assert!(VELORA_THUMB_MAX_BYTES as usize == crate::session::THUMB_MAX_BYTES);
const _: () = assert!(VELORA_THUMB_MAX_SIDE == crate::session::THUMB_MAX_SIDE);
const _: () = assert!(VELORA_THUMB_MAX_PIXELS as u64 == crate::session::THUMB_MAX_PIXELS);

/// How one of the dock's requests ended. `message` is what to tell the
/// streamer (a confirmation, or why it failed); owned by the snapshot.
#[repr(C)]
pub struct VeloraRequestOutcome {
    pub id: u64,
    pub ok: bool,
    pub message: *const c_char,
}

/// A reading of the UI thread's clock and CPU usage, taken by `ui_mark`
/// before the dock's own work and handed back to `report_ui_time` after it.
/// Opaque to the dock. `valid` is false when the reading failed.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VeloraUiMark {
    pub valid: bool,
    pub has_usage: bool,
    pub at_micros: u64,
    pub cpu_micros: u64,
    pub waits: u64,
    pub has_queued: bool,
    pub queued_micros: u64,
}

impl From<Option<crate::metrics::Mark>> for VeloraUiMark {
    fn from(m: Option<crate::metrics::Mark>) -> Self {
        let usage = m.and_then(|m| m.usage);
        VeloraUiMark {
            valid: m.is_some(),
            has_usage: usage.is_some(),
            at_micros: m.map_or(0, |m| m.at_micros),
            cpu_micros: usage.map_or(0, |u| u.cpu_micros),
            waits: usage.map_or(0, |u| u.waits),
            has_queued: usage.is_some_and(|u| u.queued_micros.is_some()),
            queued_micros: usage.and_then(|u| u.queued_micros).unwrap_or(0),
        }
    }
}

impl VeloraUiMark {
    pub(super) fn to_mark(self) -> Option<crate::metrics::Mark> {
        self.valid.then_some(crate::metrics::Mark {
            at_micros: self.at_micros,
            usage: self.has_usage.then_some(crate::metrics::ThreadUsage {
                cpu_micros: self.cpu_micros,
                waits: self.waits,
                queued_micros: self.has_queued.then_some(self.queued_micros),
            }),
        })
    }
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
    /// The dock request being worked on (0: none).
    pub running_request: u64,
    /// The latest finished requests, oldest first.
    pub requests: *const VeloraRequestOutcome,
    pub request_count: usize,
    /// Seconds until a waiting login gives up; -1 when none waits.
    pub login_secs_left: i64,
    /// Seconds since OBS's stream key was last compared with Velora's; -1
    /// when it has not been (this run, this profile).
    pub key_checked_secs_ago: i64,
    /// A check younger than this counts as recent (the checklist).
    pub key_check_max_age_secs: i64,
    /// What OBS's streaming service is.
    pub service_mode: VeloraServiceMode,
    /// What to say about it when it is not plainly the Velora service
    /// (localized); empty when there is nothing to say.
    pub service_note: *const c_char,
}

/// The table of core functions the dock may call (UI thread only, none
/// blocks). Actions return the request's id (see [`VeloraRequestOutcome`]).
#[repr(C)]
pub struct VeloraCoreApi {
    pub abi_version: u32,
    /// `obs_module_text` of the plugin's locale.
    pub text: extern "C" fn(key: *const c_char) -> *const c_char,
    pub state_get: extern "C" fn() -> *mut VeloraDockState,
    pub state_free: extern "C" fn(state: *mut VeloraDockState),
    pub login: extern "C" fn() -> u64,
    pub cancel_login: extern "C" fn() -> u64,
    /// Logs out; `restore_previous` also puts back the streaming service the
    /// user had before Velora.
    pub logout: extern "C" fn(restore_previous: bool) -> u64,
    /// Fetches the ingest settings and makes Velora OBS's streaming service.
    pub use_velora: extern "C" fn(protocol: VeloraProtocol) -> u64,
    pub restore_previous: extern "C" fn() -> u64,
    /// NULL leaves a field as it is; tags are comma-separated.
    pub update_stream_info:
        extern "C" fn(title: *const c_char, category_slug: *const c_char, tags: *const c_char) -> u64,
    /// Only after the user confirmed.
    pub regenerate_key: extern "C" fn() -> u64,
    /// The full stream key, only when the user asked to reveal it; free with `string_free`.
    pub reveal_key: extern "C" fn() -> *mut c_char,
    pub string_free: extern "C" fn(s: *mut c_char),
    pub set_environment: extern "C" fn(env: VeloraEnvironment, custom_url: *const c_char) -> u64,
    pub refresh_categories: extern "C" fn() -> u64,
    /// The dock became visible / hidden (live polling runs only while useful).
    pub dock_visible: extern "C" fn(visible: bool),
    /// True the first time the plugin ever runs (show the dock once).
    pub first_run: extern "C" fn() -> bool,
    /// Compares OBS's stream key with Velora's now (the checklist's *Check*).
    pub check_key: extern "C" fn() -> u64,
    /// Taken before the dock's own work on the UI thread (rendering a
    /// snapshot, decoding a picture)...
    pub ui_mark: extern "C" fn() -> VeloraUiMark,
    /// ...and handed back after it: how long that work held the thread is
    /// counted in `GetStatus.uiThreadMaxMs`, like the core's own calls.
    /// `what` names the work in the log when it took longer than a frame.
    pub report_ui_time: extern "C" fn(since: VeloraUiMark, what: *const c_char),
    /// OBS's Settings dialog or auto-configuration wizard closed: the core
    /// reads the streaming service again now.
    pub settings_closed: extern "C" fn(),
}

#[cfg(test)]
mod tests {
    use super::VeloraUiMark;
    use crate::metrics::{Mark, ThreadUsage};

    #[test]
    fn a_ui_mark_comes_back_as_it_went() {
        let with = Mark {
            at_micros: 7,
            usage: Some(ThreadUsage {
                cpu_micros: 5,
                waits: 3,
                queued_micros: Some(11),
            }),
        };
        let unqueued = Mark {
            at_micros: 8,
            usage: Some(ThreadUsage {
                cpu_micros: 5,
                waits: 3,
                queued_micros: None,
            }),
        };
        let without = Mark {
            at_micros: 9,
            usage: None,
        };
        assert_eq!(VeloraUiMark::from(Some(with)).to_mark(), Some(with));
        assert_eq!(VeloraUiMark::from(Some(without)).to_mark(), Some(without));
        assert_eq!(VeloraUiMark::from(Some(unqueued)).to_mark(), Some(unqueued));
        assert_eq!(VeloraUiMark::from(None).to_mark(), None);
    }
}
