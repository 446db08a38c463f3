//! Safe entry points for the headless test (`tests/obs_headless.rs`): start a
//! bare libobs, load a module file, create a service and read it back. Not
//! used by the plugin itself; kept here because it needs `unsafe`.
#![doc(hidden)]

use super::data::OwnedData;
use super::{cstr_to_string, cstring, sys};

/// `obs_startup("en-US", NULL, NULL)`.
pub fn startup() -> bool {
    // SAFETY: called once per process before any other libobs use.
    unsafe { sys::obs_startup(c"en-US".as_ptr(), std::ptr::null(), std::ptr::null_mut()) }
}

/// `obs_shutdown()`.
pub fn shutdown() {
    // SAFETY: after startup; nothing of ours is used afterwards.
    unsafe { sys::obs_shutdown() }
}

/// `obs_reset_video` with OpenGL at 640x360/30 (Mesa's software renderer
/// under Xvfb); returns libobs's code (0 = success). Outputs need video.
pub fn reset_video() -> i32 {
    let ovi = sys::obs_video_info {
        graphics_module: c"libobs-opengl".as_ptr(),
        fps_num: 30,
        fps_den: 1,
        base_width: 640,
        base_height: 360,
        output_width: 640,
        output_height: 360,
        output_format: sys::video_format_VIDEO_FORMAT_NV12,
        adapter: 0,
        gpu_conversion: true,
        colorspace: sys::video_colorspace_VIDEO_CS_709,
        range: sys::video_range_type_VIDEO_RANGE_PARTIAL,
        scale_type: sys::obs_scale_type_OBS_SCALE_BICUBIC,
    };
    // SAFETY: a fully initialized struct whose strings are 'static.
    unsafe { sys::obs_reset_video(&ovi as *const _ as *mut _) }
}

/// Opens and initializes a module file; returns `obs_open_module`'s code on failure.
pub fn load_module(path: &str, data_path: &str) -> Result<(), i32> {
    let (p, d) = (cstring(path), cstring(data_path));
    let mut module: *mut sys::obs_module_t = std::ptr::null_mut();
    // SAFETY: valid strings; `module` receives a handle owned by libobs.
    let code = unsafe { sys::obs_open_module(&mut module, p.as_ptr(), d.as_ptr()) };
    if code != 0 {
        return Err(code);
    }
    // SAFETY: module was just opened.
    if unsafe { sys::obs_init_module(module) } {
        Ok(())
    } else {
        Err(-100)
    }
}

/// Registered service type ids (`obs_enum_service_types`).
pub fn service_types() -> Vec<String> {
    let mut out = Vec::new();
    let mut id: *const std::ffi::c_char = std::ptr::null();
    let mut i = 0;
    // SAFETY: enumerates static ids owned by libobs.
    while unsafe { sys::obs_enum_service_types(i, &mut id) } {
        out.push(unsafe { cstr_to_string(id) });
        i += 1;
    }
    out
}

/// A service created through libobs.
pub struct Service(*mut sys::obs_service_t);

impl Service {
    pub fn create(type_id: &str, settings_json: &str) -> Option<Service> {
        let settings = OwnedData::from_json(settings_json)?;
        let (t, n) = (cstring(type_id), cstring("harness"));
        // SAFETY: valid id, name and settings; returns an owned reference or NULL.
        let p = unsafe { sys::obs_service_create(t.as_ptr(), n.as_ptr(), settings.as_ptr(), std::ptr::null_mut()) };
        (!p.is_null()).then_some(Service(p))
    }

    pub fn url(&self) -> String {
        // SAFETY: valid service; the string is copied at once.
        unsafe { cstr_to_string(sys::obs_service_get_url(self.0)) }
    }

    pub fn key(&self) -> String {
        // SAFETY: as url.
        unsafe { cstr_to_string(sys::obs_service_get_key(self.0)) }
    }

    pub fn output_type(&self) -> String {
        // SAFETY: as url.
        unsafe { cstr_to_string(sys::obs_service_get_output_type(self.0)) }
    }

    pub fn name(&self) -> String {
        let t = cstring(&self.type_id());
        // SAFETY: display name of a registered type.
        unsafe { cstr_to_string(sys::obs_service_get_display_name(t.as_ptr())) }
    }

    pub fn type_id(&self) -> String {
        // SAFETY: as url.
        unsafe { cstr_to_string(sys::obs_service_get_type(self.0)) }
    }

    /// Tries to start an `rtmp_output` with this service (needs obs-outputs
    /// loaded). Returns `obs_output_start`'s result.
    pub fn try_start_rtmp_output(&self) -> bool {
        // SAFETY: creates, starts (if possible), stops and releases an output
        // entirely within this call.
        unsafe {
            let o = sys::obs_output_create(
                c"rtmp_output".as_ptr(),
                c"harness-out".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            if o.is_null() {
                return false;
            }
            sys::obs_output_set_service(o, self.0);
            let started = sys::obs_output_start(o);
            if started {
                sys::obs_output_force_stop(o);
            }
            sys::obs_output_release(o);
            started
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { sys::obs_service_release(self.0) }
    }
}
