//! obs-websocket vendor `velora`, reimplemented from obs-websocket-api.h
//! (a header-only C API over proc handlers and calldata).
//!
//! Requests arrive on obs-websocket's thread pool, never the UI thread.

use super::data::{DataRef, OwnedData};
use super::{cstring, sys};
use crate::automation;
use crate::guard::guard;
use serde_json::Value;
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

static PH: AtomicPtr<sys::proc_handler_t> = AtomicPtr::new(std::ptr::null_mut());
static VENDOR: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REGISTERED: AtomicBool = AtomicBool::new(false);

type RequestFn = unsafe extern "C" fn(*mut sys::obs_data_t, *mut sys::obs_data_t, *mut c_void);

/// `struct obs_websocket_request_callback` (copied by obs-websocket).
#[repr(C)]
struct RequestCallback {
    callback: RequestFn,
    priv_data: *mut c_void,
}

/// A calldata that frees its stack on drop (`calldata_free`).
struct CallData(sys::calldata_t);

impl CallData {
    fn new() -> Self {
        CallData(sys::calldata_t::default())
    }

    fn set_string(&mut self, name: &CStr, value: &str) {
        let v = cstring(value);
        // SAFETY: copies len+1 bytes (with the NUL) into the calldata stack.
        unsafe {
            sys::calldata_set_data(
                &mut self.0,
                name.as_ptr(),
                v.as_ptr() as *const c_void,
                v.as_bytes_with_nul().len(),
            )
        }
    }

    fn set_ptr(&mut self, name: &CStr, p: *mut c_void) {
        // SAFETY: stores the pointer value itself (calldata_set_ptr).
        unsafe {
            sys::calldata_set_data(
                &mut self.0,
                name.as_ptr(),
                &p as *const *mut c_void as *const c_void,
                std::mem::size_of::<*mut c_void>(),
            )
        }
    }

    fn get_ptr(&self, name: &CStr) -> *mut c_void {
        let mut p: *mut c_void = std::ptr::null_mut();
        // SAFETY: reads a pointer-sized value into `p` when present.
        unsafe {
            sys::calldata_get_data(
                &self.0,
                name.as_ptr(),
                &mut p as *mut *mut c_void as *mut c_void,
                std::mem::size_of::<*mut c_void>(),
            )
        };
        p
    }

    fn get_bool(&self, name: &CStr) -> bool {
        let mut b = false;
        // SAFETY: reads a bool-sized value into `b` when present.
        unsafe { sys::calldata_get_data(&self.0, name.as_ptr(), &mut b as *mut bool as *mut c_void, 1) };
        b
    }

    fn call(&mut self, ph: *mut sys::proc_handler_t, proc_name: &CStr) -> bool {
        // SAFETY: ph is a live proc handler; the calldata is ours.
        unsafe { sys::proc_handler_call(ph, proc_name.as_ptr(), &mut self.0) }
    }
}

impl Drop for CallData {
    fn drop(&mut self) {
        if !self.0.fixed && !self.0.stack.is_null() {
            // SAFETY: the stack was bmalloc'ed by calldata_set_data.
            unsafe { sys::bfree(self.0.stack as *mut c_void) };
        }
    }
}

unsafe extern "C" fn on_request(req: *mut sys::obs_data_t, resp: *mut sys::obs_data_t, private: *mut c_void) {
    let name = automation::REQUESTS.get(private as usize).copied().unwrap_or("");
    let out = guard(
        "websocket.request",
        automation::error(automation::codes::INTERNAL, "internal error"),
        || {
            // SAFETY: obs-websocket lends the request data for this call.
            let json = unsafe { DataRef::from_ptr(req) }
                .map(|d| d.to_json())
                .unwrap_or_default();
            let data: Value = serde_json::from_str(&json).unwrap_or(Value::Object(Default::default()));
            automation::handle(name, &data)
        },
    );
    guard("websocket.response", (), || {
        // SAFETY: obs-websocket lends the response data for this call.
        if let (Some(resp), Some(src)) = (
            unsafe { DataRef::from_ptr(resp) },
            OwnedData::from_json(&out.to_string()),
        ) {
            resp.apply(src.view());
        }
    });
}

/// Registers the vendor and its requests (from `obs_module_post_load`).
pub fn register() {
    // SAFETY: the global proc handler exists while libobs runs.
    let global = unsafe { sys::obs_get_proc_handler() };
    if global.is_null() {
        return;
    }
    let mut cd = CallData::new();
    if !cd.call(global, c"obs_websocket_api_get_ph") {
        log::info!("obs-websocket not available: automation requests are off");
        return;
    }
    let ph = cd.get_ptr(c"ph") as *mut sys::proc_handler_t;
    if ph.is_null() {
        log::info!("obs-websocket not available: automation requests are off");
        return;
    }
    PH.store(ph, Ordering::SeqCst);

    let mut cd = CallData::new();
    cd.set_string(c"name", automation::VENDOR);
    cd.call(ph, c"vendor_register");
    let vendor = cd.get_ptr(c"vendor");
    if vendor.is_null() {
        log::warn!("obs-websocket refused the vendor '{}'", automation::VENDOR);
        return;
    }
    VENDOR.store(vendor, Ordering::SeqCst);

    let mut ok = 0;
    for (i, name) in automation::REQUESTS.iter().enumerate() {
        let mut cb = RequestCallback {
            callback: on_request,
            priv_data: i as *mut c_void,
        };
        let mut cd = CallData::new();
        cd.set_string(c"type", name);
        cd.set_ptr(c"callback", &mut cb as *mut RequestCallback as *mut c_void);
        cd.set_ptr(c"vendor", vendor);
        cd.call(ph, c"vendor_request_register");
        if cd.get_bool(c"success") {
            ok += 1;
        } else {
            log::warn!("obs-websocket refused the request '{name}'");
        }
    }
    REGISTERED.store(true, Ordering::SeqCst);
    log::info!(
        "obs-websocket vendor '{}' registered with {ok} requests",
        automation::VENDOR
    );
}

/// Unregisters the requests while obs-websocket is still alive (EXIT event),
/// so no request can reach a module that is being unloaded.
pub fn unregister() {
    if !REGISTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let (ph, vendor) = (PH.load(Ordering::SeqCst), VENDOR.load(Ordering::SeqCst));
    if ph.is_null() || vendor.is_null() {
        return;
    }
    for name in automation::REQUESTS {
        let mut cd = CallData::new();
        cd.set_string(c"type", name);
        cd.set_ptr(c"vendor", vendor);
        cd.call(ph, c"vendor_request_unregister");
    }
    VENDOR.store(std::ptr::null_mut(), Ordering::SeqCst);
}

/// Emits a vendor event (`vendor_event_emit`); a no-op without obs-websocket.
pub fn emit(event: &str, data: &Value) {
    let (ph, vendor) = (PH.load(Ordering::SeqCst), VENDOR.load(Ordering::SeqCst));
    if ph.is_null() || vendor.is_null() {
        return;
    }
    let Some(d) = OwnedData::from_json(&data.to_string()) else {
        return;
    };
    let mut cd = CallData::new();
    cd.set_string(c"type", event);
    cd.set_ptr(c"data", d.as_ptr() as *mut c_void);
    cd.set_ptr(c"vendor", vendor);
    cd.call(ph, c"vendor_event_emit");
}
