//! The `velora` streaming service.
//!
//! OBS 29.0 calls `get_url`/`get_key`/`get_output_type`; 29.1+ calls
//! `get_protocol`/`get_connect_info`/`can_try_to_connect` (and requires
//! `get_protocol`). Both sets are implemented; the struct is registered with
//! the size the *running* libobs knows: 184 bytes before 29.1, 216 from 29.1.

use super::data::DataRef;
use super::settings_io::read_settings;
use super::{cstring, locale, stream_service, sys};
use crate::guard::guard;
use crate::stream_config::{keys, Protocol, ServiceSettings, OBS_29_1, SERVICE_ID};
use std::ffi::{c_char, c_void, CString};
use std::sync::Mutex;

/// `struct obs_service_info` as of OBS 29.1 (216 bytes on x86_64): the 29.0
/// struct from bindgen followed by the four callbacks 29.1 added. Later
/// fields (30+: audio track cap, flags, …) are left zero by libobs, which
/// copies only the size we pass.
#[repr(C)]
pub struct ServiceInfo291 {
    pub base: sys::obs_service_info,
    pub get_protocol: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    pub get_supported_audio_codecs: Option<unsafe extern "C" fn(*mut c_void) -> *mut *const c_char>,
    pub get_connect_info: Option<unsafe extern "C" fn(*mut c_void, u32) -> *const c_char>,
    pub can_try_to_connect: Option<unsafe extern "C" fn(*mut c_void) -> bool>,
}

const SIZE_29_0: usize = std::mem::size_of::<sys::obs_service_info>();
const SIZE_29_1: usize = std::mem::size_of::<ServiceInfo291>();
const _: () = assert!(SIZE_29_0 == 184 && SIZE_29_1 == 216);

/// The struct size to register with on the running OBS.
pub fn info_size_for(obs_version: u32) -> usize {
    if obs_version >= OBS_29_1 {
        SIZE_29_1
    } else {
        SIZE_29_0
    }
}

// Connect-info ids (obs-service.h, 29.1+).
const CONNECT_SERVER_URL: u32 = 0;
const CONNECT_STREAM_ID: u32 = 2;
const CONNECT_BEARER_TOKEN: u32 = 10;

/// The C strings handed to OBS. An output copies the server and key while
/// it starts, on its own thread, and `update` may run at that very moment
/// (a key changed on Velora, written in at STREAMING_STARTING): so a string
/// handed out once stays alive until the service is destroyed — outputs
/// hold a reference to the service while they use it. Only a change of
/// server or key adds strings (a few bytes each).
struct CStrings {
    server: *const c_char,
    key: *const c_char,
    protocol: &'static std::ffi::CStr,
    output_type: &'static std::ffi::CStr,
}

struct Inner {
    settings: ServiceSettings,
    c: CStrings,
    /// Owns every server/key string ever handed out (see [`CStrings`]).
    kept: Vec<CString>,
}

// SAFETY: the raw pointers in CStrings point into `kept`, which lives as
// long as Inner and is only appended to; Inner is guarded by a Mutex.
unsafe impl Send for Inner {}

pub struct VeloraService {
    inner: Mutex<Inner>,
}

fn static_cstr(s: &'static str) -> &'static std::ffi::CStr {
    match s {
        "RTMP" => c"RTMP",
        "RTMPS" => c"RTMPS",
        "SRT" => c"SRT",
        "WHIP" => c"WHIP",
        "rtmp_output" => c"rtmp_output",
        "ffmpeg_mpegts_muxer" => c"ffmpeg_mpegts_muxer",
        "whip_output" => c"whip_output",
        _ => c"",
    }
}

/// The pointer to a kept copy of `value`, adding one when it is new.
fn keep(kept: &mut Vec<CString>, value: &str) -> *const c_char {
    let c = cstring(value);
    if let Some(k) = kept.iter().find(|k| **k == c) {
        return k.as_ptr();
    }
    kept.push(c);
    kept.last().map_or(std::ptr::null(), |k| k.as_ptr())
}

impl VeloraService {
    fn new(settings: ServiceSettings) -> Self {
        let mut kept = Vec::new();
        let c = Self::cstrings(&mut kept, &settings);
        VeloraService {
            inner: Mutex::new(Inner { settings, c, kept }),
        }
    }

    fn cstrings(kept: &mut Vec<CString>, s: &ServiceSettings) -> CStrings {
        CStrings {
            server: keep(kept, &s.server),
            key: keep(kept, s.key.expose()),
            protocol: static_cstr(s.obs_protocol()),
            output_type: static_cstr(s.protocol.output_type()),
        }
    }

    fn update(&self, settings: ServiceSettings) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let g = &mut *g;
        g.c = Self::cstrings(&mut g.kept, &settings);
        g.settings = settings;
    }

    fn with<R>(&self, f: impl FnOnce(&Inner) -> R) -> R {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&g)
    }
}

/// # Safety
/// `data` is the pointer our `create` returned (or NULL).
unsafe fn service<'a>(data: *mut c_void) -> Option<&'a VeloraService> {
    // SAFETY: OBS passes back the pointer from `create` until `destroy`.
    unsafe { (data as *const VeloraService).as_ref() }
}

unsafe extern "C" fn get_name(_type_data: *mut c_void) -> *const c_char {
    guard("service.get_name", c"Velora".as_ptr(), || {
        locale::text(c"Velora.ServiceName")
    })
}

unsafe extern "C" fn create(settings: *mut sys::obs_data_t, _svc: *mut sys::obs_service_t) -> *mut c_void {
    guard("service.create", std::ptr::null_mut(), || {
        // SAFETY: OBS lends valid settings for the duration of create.
        let s = unsafe { DataRef::from_ptr(settings) }
            .map(read_settings)
            .unwrap_or_default();
        // A new velora service may be about to become the profile's.
        stream_service::queue_refresh();
        Box::into_raw(Box::new(VeloraService::new(s))) as *mut c_void
    })
}

unsafe extern "C" fn destroy(data: *mut c_void) {
    guard("service.destroy", (), || {
        if !data.is_null() {
            // SAFETY: the pointer came from Box::into_raw in create; OBS calls
            // destroy exactly once.
            drop(unsafe { Box::from_raw(data as *mut VeloraService) });
            // Settings › Stream, the wizard or a tool replaced our service.
            stream_service::queue_refresh();
        }
    })
}

unsafe extern "C" fn update(data: *mut c_void, settings: *mut sys::obs_data_t) {
    guard("service.update", (), || {
        // SAFETY: valid pointers for the duration of the callback.
        let (Some(svc), Some(s)) = (unsafe { service(data) }, unsafe { DataRef::from_ptr(settings) }) else {
            return;
        };
        let new = read_settings(s);
        let old = svc.with(|i| i.settings.clone());
        svc.update(new.clone());
        settings_changed(&old, &new);
    })
}

/// The service's `update` saw new settings: logged (never the key itself),
/// the copy refreshed, the session told (it pushes edited stream info).
fn settings_changed(old: &ServiceSettings, new: &ServiceSettings) {
    if old.server != new.server || old.protocol != new.protocol || old.key != new.key {
        log::info!(
            "service settings changed: protocol {}, server {}, key {}",
            new.protocol.as_str(),
            if new.server.is_empty() { "(empty)" } else { "(set)" },
            if new.key.is_empty() { "(empty)" } else { "(set)" }
        );
    }
    if old != new {
        stream_service::queue_refresh();
        crate::session::event(crate::session::Event::ServiceSettingsChanged {
            old: Box::new(old.clone()),
            new: Box::new(new.clone()),
        });
    }
}

unsafe extern "C" fn get_defaults(settings: *mut sys::obs_data_t) {
    guard("service.get_defaults", (), || {
        // SAFETY: OBS lends valid settings.
        if let Some(s) = unsafe { DataRef::from_ptr(settings) } {
            s.set_default_string(keys::PROTOCOL, Protocol::Rtmp.as_str());
            s.set_default_string(keys::SERVICE, "Velora");
        }
    })
}

unsafe extern "C" fn get_properties(_data: *mut c_void) -> *mut sys::obs_properties_t {
    guard("service.get_properties", std::ptr::null_mut(), service_properties)
}

unsafe extern "C" fn initialize(data: *mut c_void, _output: *mut sys::obs_output_t) -> bool {
    guard("service.initialize", false, || {
        // SAFETY: pointer from create.
        let ok = unsafe { service(data) }.is_some_and(|s| s.with(|i| i.settings.can_connect()));
        if !ok {
            log::warn!("{}", crate::text::tr("Velora.Error.NotConfigured"));
        }
        ok
    })
}

unsafe extern "C" fn get_url(data: *mut c_void) -> *const c_char {
    guard("service.get_url", std::ptr::null(), || {
        // SAFETY: pointer from create; the string lives until the next update.
        unsafe { service(data) }.map_or(std::ptr::null(), |s| s.with(|i| i.c.server))
    })
}

unsafe extern "C" fn get_key(data: *mut c_void) -> *const c_char {
    guard("service.get_key", std::ptr::null(), || {
        // SAFETY: as get_url.
        unsafe { service(data) }.map_or(std::ptr::null(), |s| {
            s.with(|i| match i.settings.protocol {
                // WHIP's URL carries the key; outputs must not append it.
                Protocol::Whip => std::ptr::null(),
                _ => i.c.key,
            })
        })
    })
}

unsafe extern "C" fn apply_encoder_settings(
    data: *mut c_void,
    video: *mut sys::obs_data_t,
    audio: *mut sys::obs_data_t,
) {
    guard("service.apply_encoder_settings", (), || {
        // SAFETY: pointers valid for the callback; either settings may be NULL.
        let Some(svc) = (unsafe { service(data) }) else { return };
        if svc.with(|i| i.settings.repeat_headers()) {
            if let Some(v) = unsafe { DataRef::from_ptr(video) } {
                v.set_bool("repeat_headers", true);
            }
        }
        let _ = audio;
    })
}

unsafe extern "C" fn get_output_type(data: *mut c_void) -> *const c_char {
    guard("service.get_output_type", std::ptr::null(), || {
        // SAFETY: pointer from create.
        unsafe { service(data) }.map_or(std::ptr::null(), |s| s.with(|i| i.c.output_type.as_ptr()))
    })
}

/// NULL-terminated codec lists; static so OBS can keep the pointers.
struct CodecList([*const c_char; 2]);
// SAFETY: the list only points at 'static C string literals.
unsafe impl Sync for CodecList {}
static H264: CodecList = CodecList([c"h264".as_ptr(), std::ptr::null()]);
static AAC: CodecList = CodecList([c"aac".as_ptr(), std::ptr::null()]);
static OPUS: CodecList = CodecList([c"opus".as_ptr(), std::ptr::null()]);

unsafe extern "C" fn get_supported_video_codecs(_data: *mut c_void) -> *mut *const c_char {
    guard("service.get_supported_video_codecs", H264.0.as_ptr() as *mut _, || {
        H264.0.as_ptr() as *mut *const c_char
    })
}

unsafe extern "C" fn get_supported_audio_codecs(data: *mut c_void) -> *mut *const c_char {
    guard("service.get_supported_audio_codecs", AAC.0.as_ptr() as *mut _, || {
        // SAFETY: pointer from create.
        let whip = unsafe { service(data) }.is_some_and(|s| s.with(|i| i.settings.protocol == Protocol::Whip));
        if whip {
            OPUS.0.as_ptr() as *mut _
        } else {
            AAC.0.as_ptr() as *mut _
        }
    })
}

unsafe extern "C" fn get_protocol(data: *mut c_void) -> *const c_char {
    guard("service.get_protocol", c"RTMP".as_ptr(), || {
        // SAFETY: pointer from create.
        unsafe { service(data) }.map_or(c"RTMP".as_ptr(), |s| s.with(|i| i.c.protocol.as_ptr()))
    })
}

unsafe extern "C" fn get_connect_info(data: *mut c_void, kind: u32) -> *const c_char {
    guard("service.get_connect_info", std::ptr::null(), || {
        // SAFETY: pointer from create; strings live until the next update.
        let Some(svc) = (unsafe { service(data) }) else {
            return std::ptr::null();
        };
        svc.with(|i| match (kind, i.settings.protocol) {
            (CONNECT_SERVER_URL, _) => i.c.server,
            (CONNECT_STREAM_ID, Protocol::Rtmp | Protocol::Srt) => i.c.key,
            (CONNECT_BEARER_TOKEN, Protocol::Whip) => std::ptr::null(),
            _ => std::ptr::null(),
        })
    })
}

unsafe extern "C" fn can_try_to_connect(data: *mut c_void) -> bool {
    guard("service.can_try_to_connect", false, || {
        // SAFETY: pointer from create.
        let ok = unsafe { service(data) }.is_some_and(|s| s.with(|i| i.settings.can_connect()));
        if !ok {
            // 29.1+ asks this instead of `initialize` before starting.
            log::warn!("{}", crate::text::tr("Velora.Error.NotConfigured"));
        }
        ok
    })
}

/// `obs_properties` of the `velora` service, so any UI that renders service
/// properties (and obs-websocket clients) can edit it.
pub fn service_properties() -> *mut sys::obs_properties_t {
    let t = |k: &str| cstring(&locale::text_string(k));
    // SAFETY: a fresh properties object; every string is copied by libobs.
    unsafe {
        let props = sys::obs_properties_create();
        let k = cstring(keys::SERVER);
        sys::obs_properties_add_text(
            props,
            k.as_ptr(),
            t("Velora.Service.Server").as_ptr(),
            sys::obs_text_type_OBS_TEXT_DEFAULT,
        );
        let k = cstring(keys::KEY);
        sys::obs_properties_add_text(
            props,
            k.as_ptr(),
            t("Velora.Service.StreamKey").as_ptr(),
            sys::obs_text_type_OBS_TEXT_PASSWORD,
        );
        let k = cstring(keys::PROTOCOL);
        let list = sys::obs_properties_add_list(
            props,
            k.as_ptr(),
            t("Velora.Service.Protocol").as_ptr(),
            sys::obs_combo_type_OBS_COMBO_TYPE_LIST,
            sys::obs_combo_format_OBS_COMBO_FORMAT_STRING,
        );
        let v = super::obs_version();
        for p in Protocol::ALL.into_iter().filter(|p| p.supported_on(v)) {
            let name = t(&format!("Velora.Protocol.{}", p.as_str()));
            let val = cstring(p.as_str());
            sys::obs_property_list_add_string(list, name.as_ptr(), val.as_ptr());
        }
        let k = cstring(keys::TITLE);
        let title = sys::obs_properties_add_text(
            props,
            k.as_ptr(),
            t("Velora.Service.Title").as_ptr(),
            sys::obs_text_type_OBS_TEXT_DEFAULT,
        );
        sys::obs_property_set_long_description(title, t("Velora.Service.TitleHint").as_ptr());
        let k = cstring(keys::CATEGORY_SLUG);
        let cats = sys::obs_properties_add_list(
            props,
            k.as_ptr(),
            t("Velora.Service.Category").as_ptr(),
            sys::obs_combo_type_OBS_COMBO_TYPE_EDITABLE,
            sys::obs_combo_format_OBS_COMBO_FORMAT_STRING,
        );
        for c in crate::status::snapshot().categories.iter() {
            let (name, slug) = (cstring(&c.name), cstring(&c.slug));
            sys::obs_property_list_add_string(cats, name.as_ptr(), slug.as_ptr());
        }
        let k = cstring(keys::TAGS);
        sys::obs_properties_add_text(
            props,
            k.as_ptr(),
            t("Velora.Service.Tags").as_ptr(),
            sys::obs_text_type_OBS_TEXT_DEFAULT,
        );
        props
    }
}

/// Whether a `velora` service type is registered already: another copy of
/// the plugin (e.g. a per-user copy next to the system package: OBS loads a
/// module once per place it finds it) initialized first.
pub fn already_registered() -> bool {
    // SAFETY: a 'static NUL-terminated id; the result is a string owned by
    // libobs (or the other copy) or NULL, and only compared with NULL.
    !unsafe { sys::obs_service_get_display_name(c"velora".as_ptr()) }.is_null()
}

/// Registers the `velora` service with the struct size the running libobs expects.
pub fn register(obs_version: u32) {
    let base = sys::obs_service_info {
        id: c"velora".as_ptr(),
        get_name: Some(get_name),
        create: Some(create),
        destroy: Some(destroy),
        update: Some(update),
        get_defaults: Some(get_defaults),
        get_properties: Some(get_properties),
        initialize: Some(initialize),
        get_url: Some(get_url),
        get_key: Some(get_key),
        apply_encoder_settings: Some(apply_encoder_settings),
        get_output_type: Some(get_output_type),
        get_supported_video_codecs: Some(get_supported_video_codecs),
        ..Default::default()
    };
    debug_assert_eq!(SERVICE_ID, "velora");
    let info = ServiceInfo291 {
        base,
        get_protocol: Some(get_protocol),
        get_supported_audio_codecs: Some(get_supported_audio_codecs),
        get_connect_info: Some(get_connect_info),
        can_try_to_connect: Some(can_try_to_connect),
    };
    let size = info_size_for(obs_version);
    // SAFETY: `info` is a valid struct of at least `size` bytes (216 ≥ 184);
    // libobs copies `size` bytes of it during the call and keeps no pointer
    // to it (the strings and callbacks it points at are 'static).
    unsafe { sys::obs_register_service_s(&info.base, size) };
    log::info!(
        "service '{SERVICE_ID}' registered ({size}-byte obs_service_info for OBS {})",
        crate::version::display(obs_version)
    );
}
