//! Safe wrappers over `obs_data_t`: an owned handle that releases on drop and
//! a borrowed view for the settings OBS lends to callbacks.

use super::{cstr_to_string, cstring, sys};
use std::ptr::NonNull;

/// An `obs_data_t` reference we own (released on drop).
pub struct OwnedData(NonNull<sys::obs_data_t>);

// SAFETY: obs_data_t is reference counted with atomics and its accessors lock
// internally; moving the handle between threads is what OBS itself does.
unsafe impl Send for OwnedData {}

impl OwnedData {
    pub fn new() -> Self {
        // SAFETY: obs_data_create returns a new object with one reference.
        let p = unsafe { sys::obs_data_create() };
        OwnedData(NonNull::new(p).expect("obs_data_create returned NULL"))
    }

    /// Parses JSON into a new object; `None` when libobs rejects the text.
    pub fn from_json(json: &str) -> Option<Self> {
        let c = cstring(json);
        // SAFETY: valid NUL-terminated string; the result is owned or NULL.
        let p = unsafe { sys::obs_data_create_from_json(c.as_ptr()) };
        NonNull::new(p).map(OwnedData)
    }

    /// Takes over a reference the caller already owns (e.g. from
    /// `obs_service_get_settings`).
    ///
    /// # Safety
    /// `p` must be NULL or a data object carrying one reference for us.
    pub unsafe fn from_owned_ptr(p: *mut sys::obs_data_t) -> Option<Self> {
        NonNull::new(p).map(OwnedData)
    }

    pub fn view(&self) -> DataRef<'_> {
        DataRef {
            ptr: self.0,
            _life: std::marker::PhantomData,
        }
    }

    pub fn as_ptr(&self) -> *mut sys::obs_data_t {
        self.0.as_ptr()
    }
}

impl Default for OwnedData {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OwnedData {
    fn drop(&mut self) {
        // SAFETY: we hold exactly one reference.
        unsafe { sys::obs_data_release(self.0.as_ptr()) }
    }
}

/// A borrowed `obs_data_t` (valid for `'a`).
#[derive(Clone, Copy)]
pub struct DataRef<'a> {
    ptr: NonNull<sys::obs_data_t>,
    _life: std::marker::PhantomData<&'a ()>,
}

impl<'a> DataRef<'a> {
    /// # Safety
    /// `p` must be NULL or a valid data object that outlives `'a`.
    pub unsafe fn from_ptr(p: *mut sys::obs_data_t) -> Option<DataRef<'a>> {
        NonNull::new(p).map(|ptr| DataRef {
            ptr,
            _life: std::marker::PhantomData,
        })
    }

    pub fn as_ptr(&self) -> *mut sys::obs_data_t {
        self.ptr.as_ptr()
    }

    pub fn get_string(&self, key: &str) -> String {
        let k = cstring(key);
        // SAFETY: valid object and key; the result is owned by the object and
        // copied before anything can change it.
        unsafe { cstr_to_string(sys::obs_data_get_string(self.as_ptr(), k.as_ptr())) }
    }

    pub fn set_string(&self, key: &str, value: &str) {
        let (k, v) = (cstring(key), cstring(value));
        // SAFETY: valid object, key and value; libobs copies the strings.
        unsafe { sys::obs_data_set_string(self.as_ptr(), k.as_ptr(), v.as_ptr()) }
    }

    pub fn set_default_string(&self, key: &str, value: &str) {
        let (k, v) = (cstring(key), cstring(value));
        // SAFETY: as set_string.
        unsafe { sys::obs_data_set_default_string(self.as_ptr(), k.as_ptr(), v.as_ptr()) }
    }

    pub fn get_bool(&self, key: &str) -> bool {
        let k = cstring(key);
        // SAFETY: valid object and key.
        unsafe { sys::obs_data_get_bool(self.as_ptr(), k.as_ptr()) }
    }

    pub fn set_bool(&self, key: &str, value: bool) {
        let k = cstring(key);
        // SAFETY: valid object and key.
        unsafe { sys::obs_data_set_bool(self.as_ptr(), k.as_ptr(), value) }
    }

    pub fn has_user_value(&self, key: &str) -> bool {
        let k = cstring(key);
        // SAFETY: valid object and key.
        unsafe { sys::obs_data_has_user_value(self.as_ptr(), k.as_ptr()) }
    }

    pub fn erase(&self, key: &str) {
        let k = cstring(key);
        // SAFETY: valid object and key.
        unsafe { sys::obs_data_erase(self.as_ptr(), k.as_ptr()) }
    }

    /// The object as JSON text (only user-set values, like OBS saves it).
    pub fn to_json(&self) -> String {
        // SAFETY: the returned string is owned by the object; copied at once.
        unsafe { cstr_to_string(sys::obs_data_get_json(self.as_ptr())) }
    }

    /// Copies every item of `other` into this object.
    pub fn apply(&self, other: DataRef<'_>) {
        // SAFETY: both objects are valid for the call.
        unsafe { sys::obs_data_apply(self.as_ptr(), other.as_ptr()) }
    }

    /// A new reference-counted copy of this object's user values.
    pub fn to_owned_copy(&self) -> OwnedData {
        OwnedData::from_json(&self.to_json()).unwrap_or_default()
    }
}
