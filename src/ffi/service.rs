//! The `velora` streaming service.
//!
//! OBS 29.0 calls `get_url`/`get_key`/`get_output_type`; 29.1+ calls
//! `get_protocol`/`get_connect_info`/`can_try_to_connect` (and requires
//! `get_protocol`). Both sets are implemented; the struct is registered with
//! the size the *running* libobs knows: 184 bytes before 29.1, 216 from 29.1.

use super::data::DataRef;
use super::guard::guard;
use super::{cstring, sys};
use crate::stream_config::{keys, Protocol, ServiceSettings, OBS_29_1, SERVICE_ID};
use crate::Secret;
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

/// C strings handed to OBS stay alive until the next `update` (or destroy),
/// the same lifetime OBS's own services give them.
struct CStrings {
    server: CString,
    key: CString,
    protocol: &'static std::ffi::CStr,
    output_type: &'static std::ffi::CStr,
}

struct Inner {
    settings: ServiceSettings,
    c: CStrings,
}

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

/// Reads the service settings from OBS's settings object.
pub fn read_settings(data: DataRef<'_>) -> ServiceSettings {
    let tags = data.get_string(keys::TAGS);
    let opt = |k: &str| Some(data.get_string(k)).filter(|s| data.has_user_value(k) || !s.is_empty());
    ServiceSettings {
        server: data.get_string(keys::SERVER).trim().to_string(),
        key: Secret::new(data.get_string(keys::KEY).trim()),
        protocol: Protocol::parse(&data.get_string(keys::PROTOCOL)).unwrap_or_default(),
        title: opt(keys::TITLE),
        category_slug: opt(keys::CATEGORY_SLUG),
        tags: if data.has_user_value(keys::TAGS) {
            Some(crate::stream_config::split_tags(&tags))
        } else {
            None
        },
    }
}

impl VeloraService {
    fn new(settings: ServiceSettings) -> Self {
        VeloraService {
            inner: Mutex::new(Inner {
                c: Self::cstrings(&settings),
                settings,
            }),
        }
    }

    fn cstrings(s: &ServiceSettings) -> CStrings {
        CStrings {
            server: cstring(&s.server),
            key: cstring(s.key.expose()),
            protocol: static_cstr(s.obs_protocol()),
            output_type: static_cstr(s.protocol.output_type()),
        }
    }

    fn update(&self, settings: ServiceSettings) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.c = Self::cstrings(&settings);
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
        super::module::text(c"Velora.ServiceName")
    })
}

unsafe extern "C" fn create(settings: *mut sys::obs_data_t, _svc: *mut sys::obs_service_t) -> *mut c_void {
    guard("service.create", std::ptr::null_mut(), || {
        // SAFETY: OBS lends valid settings for the duration of create.
        let s = unsafe { DataRef::from_ptr(settings) }
            .map(read_settings)
            .unwrap_or_default();
        Box::into_raw(Box::new(VeloraService::new(s))) as *mut c_void
    })
}

unsafe extern "C" fn destroy(data: *mut c_void) {
    guard("service.destroy", (), || {
        if !data.is_null() {
            // SAFETY: the pointer came from Box::into_raw in create; OBS calls
            // destroy exactly once.
            drop(unsafe { Box::from_raw(data as *mut VeloraService) });
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
        crate::core::on_service_settings_changed(&old, &new);
    })
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
    guard(
        "service.get_properties",
        std::ptr::null_mut(),
        super::frontend::service_properties,
    )
}

unsafe extern "C" fn initialize(data: *mut c_void, _output: *mut sys::obs_output_t) -> bool {
    guard("service.initialize", false, || {
        // SAFETY: pointer from create.
        let ok = unsafe { service(data) }.is_some_and(|s| s.with(|i| i.settings.can_connect()));
        if !ok {
            log::warn!("{}", crate::core::text("Velora.Error.NotConfigured"));
        }
        ok
    })
}

unsafe extern "C" fn get_url(data: *mut c_void) -> *const c_char {
    guard("service.get_url", std::ptr::null(), || {
        // SAFETY: pointer from create; the string lives until the next update.
        unsafe { service(data) }.map_or(std::ptr::null(), |s| s.with(|i| i.c.server.as_ptr()))
    })
}

unsafe extern "C" fn get_key(data: *mut c_void) -> *const c_char {
    guard("service.get_key", std::ptr::null(), || {
        // SAFETY: as get_url.
        unsafe { service(data) }.map_or(std::ptr::null(), |s| {
            s.with(|i| match i.settings.protocol {
                // WHIP's URL carries the key; outputs must not append it.
                Protocol::Whip => std::ptr::null(),
                _ => i.c.key.as_ptr(),
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
            (CONNECT_SERVER_URL, _) => i.c.server.as_ptr(),
            (CONNECT_STREAM_ID, Protocol::Rtmp | Protocol::Srt) => i.c.key.as_ptr(),
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
            log::warn!("{}", crate::core::text("Velora.Error.NotConfigured"));
        }
        ok
    })
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
