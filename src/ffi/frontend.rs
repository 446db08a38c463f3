//! The OBS frontend API, resolved with `dlsym` at run time.
//!
//! The plugin never links `libobs-frontend-api`: symbols differ between OBS
//! versions (`obs_frontend_add_dock` is gone in 32, which loads plugins with
//! RTLD_NOW), so one build loads everywhere. When no frontend is present
//! (a bare libobs, as in the headless test), every call is a no-op.

use super::data::OwnedData;
use super::guard::ui_guard;
use super::{cstr_to_string, cstring, service, sys};
use crate::core::{CurrentService, Host};
use crate::stream_config::{keys, Protocol, ServiceSettings, SERVICE_ID};
use once_cell::sync::Lazy;
use std::ffi::{c_char, c_void, CStr};

type EventCb = unsafe extern "C" fn(event: u32, private_data: *mut c_void);

/// Function pointers of the frontend API that the running OBS exports.
pub struct Frontend {
    add_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    remove_event_callback: Option<unsafe extern "C" fn(EventCb, *mut c_void)>,
    get_streaming_service: Option<unsafe extern "C" fn() -> *mut sys::obs_service_t>,
    set_streaming_service: Option<unsafe extern "C" fn(*mut sys::obs_service_t)>,
    save_streaming_service: Option<unsafe extern "C" fn()>,
    get_current_profile_path: Option<unsafe extern "C" fn() -> *mut c_char>,
    pub streaming_active: Option<unsafe extern "C" fn() -> bool>,
}

fn sym<T: Copy>(name: &CStr) -> Option<T> {
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: dlsym with RTLD_DEFAULT searches the global scope of the
    // process (where the OBS executable's libobs-frontend-api lives) and
    // returns NULL when absent.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        None
    } else {
        // SAFETY: T is the function pointer type of that symbol's C
        // declaration in obs-frontend-api.h, pointer-sized (checked above).
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
    }
}

pub static FRONTEND: Lazy<Frontend> = Lazy::new(|| Frontend {
    add_event_callback: sym(c"obs_frontend_add_event_callback"),
    remove_event_callback: sym(c"obs_frontend_remove_event_callback"),
    get_streaming_service: sym(c"obs_frontend_get_streaming_service"),
    set_streaming_service: sym(c"obs_frontend_set_streaming_service"),
    save_streaming_service: sym(c"obs_frontend_save_streaming_service"),
    get_current_profile_path: sym(c"obs_frontend_get_current_profile_path"),
    streaming_active: sym(c"obs_frontend_streaming_active"),
});

// obs_frontend_event values (append-only enum, stable across 29–32).
pub(crate) const EVENT_STREAMING_STARTING: u32 = 0;
pub(crate) const EVENT_STREAMING_STARTED: u32 = 1;
pub(crate) const EVENT_STREAMING_STOPPED: u32 = 3;
pub(crate) const EVENT_PROFILE_CHANGED: u32 = 15;
pub(crate) const EVENT_EXIT: u32 = 17;
pub(crate) const EVENT_FINISHED_LOADING: u32 = 26;

unsafe extern "C" fn on_event(event: u32, _private: *mut c_void) {
    use crate::session::{self, ObsEvent};
    if event == EVENT_FINISHED_LOADING {
        // The one-time construction of the dock's widgets is measured on its
        // own (OBS builds every dock on this thread at start-up).
        let t = std::time::Instant::now();
        super::guard::guard("frontend.dock_load", (), super::dock::load);
        crate::metrics::record_dock_creation(t.elapsed().as_micros() as u64);
    }
    if event == EVENT_EXIT {
        // OBS is closing: waiting here for the worker (bounded, 2 s) is part of
        // the shutdown, not UI work, so it is logged rather than timed.
        super::guard::guard("frontend.exit", (), || {
            let t = std::time::Instant::now();
            super::dock::unload();
            super::websocket::unregister();
            session::stop();
            log::info!("shutdown: worker stopped in {} ms", t.elapsed().as_millis());
        });
        return;
    }
    ui_guard("frontend.on_event", (), || match event {
        EVENT_FINISHED_LOADING => {
            // Only now: the worker (network, keyring).
            if let Some(host) = crate::core::host() {
                crate::core::start_status_events();
                session::start(host);
            }
        }
        EVENT_STREAMING_STARTING => session::obs_event(ObsEvent::StreamingStarting),
        EVENT_STREAMING_STARTED => session::obs_event(ObsEvent::StreamingStarted),
        EVENT_STREAMING_STOPPED => session::obs_event(ObsEvent::StreamingStopped),
        EVENT_PROFILE_CHANGED => session::obs_event(ObsEvent::ProfileChanged),
        _ => {}
    })
}

/// Hooks into the frontend (post_load). A no-op without a frontend.
pub fn attach() {
    match FRONTEND.add_event_callback {
        // SAFETY: on_event is a valid callback for the life of the module; it
        // is removed in detach before unload.
        Some(add) => unsafe { add(on_event, std::ptr::null_mut()) },
        None => log::info!("no OBS frontend in this process: frontend features are off"),
    }
}

/// Unhooks (unload).
pub fn detach() {
    if let Some(remove) = FRONTEND.remove_event_callback {
        // SAFETY: same callback/private pair as attach.
        unsafe { remove(on_event, std::ptr::null_mut()) };
    }
}

/// The current streaming service's type and, for `velora`, its settings.
pub fn current_service() -> Option<CurrentService> {
    let get = FRONTEND.get_streaming_service?;
    // SAFETY: returns a borrowed pointer (no reference taken) or NULL; we use
    // it only within this call, on the caller's thread, like obs-websocket does.
    unsafe {
        let svc = get();
        if svc.is_null() {
            return None;
        }
        let type_id = cstr_to_string(sys::obs_service_get_type(svc));
        let velora = if type_id == SERVICE_ID {
            OwnedData::from_owned_ptr(sys::obs_service_get_settings(svc)).map(|d| service::read_settings(d.view()))
        } else {
            None
        };
        Some(CurrentService { type_id, velora })
    }
}

/// `obs_properties` of the `velora` service, so any UI that renders service
/// properties (and obs-websocket clients) can edit it.
pub fn service_properties() -> *mut sys::obs_properties_t {
    let t = |k: &str| cstring(&super::module::text_string(k));
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
        for c in crate::status::snapshot().categories {
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

/// The current profile's directory (where OBS keeps service.json).
pub fn profile_dir() -> Option<std::path::PathBuf> {
    let f = FRONTEND.get_current_profile_path?;
    // SAFETY: returns a bmalloc'ed string (or NULL) that we free.
    unsafe {
        let p = f();
        if p.is_null() {
            return None;
        }
        let s = cstr_to_string(p);
        sys::bfree(p as *mut c_void);
        Some(std::path::PathBuf::from(s))
    }
}

/// The file beside service.json that keeps the user's previous service.
pub const PREVIOUS_SERVICE_FILE: &str = "velora-previous-service.json";

fn previous_service_path() -> Option<std::path::PathBuf> {
    profile_dir().map(|d| d.join(PREVIOUS_SERVICE_FILE))
}

type UiTask = Box<dyn FnOnce() + Send>;

unsafe extern "C" fn ui_trampoline(param: *mut c_void) {
    ui_guard("frontend.ui_task", (), || {
        // SAFETY: param is the Box<UiTask> leaked by run_on_ui, run once.
        let task = unsafe { Box::from_raw(param as *mut UiTask) };
        task();
    })
}

/// Runs `f` on OBS's UI thread and waits for it (5 s at most). Called from
/// the worker, never from the UI thread itself (then it runs inline).
pub fn run_on_ui<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    // SAFETY: plain query of libobs's task threads.
    if unsafe { sys::obs_in_task_thread(sys::obs_task_type_OBS_TASK_UI) } {
        return Ok(f());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let task: UiTask = Box::new(move || {
        let _ = tx.send(f());
    });
    let param = Box::into_raw(Box::new(task)) as *mut c_void;
    // SAFETY: the trampoline takes ownership of `param` exactly once.
    unsafe { sys::obs_queue_task(sys::obs_task_type_OBS_TASK_UI, Some(ui_trampoline), param, false) };
    rx.recv_timeout(std::time::Duration::from_secs(5))
        .map_err(|_| "OBS's UI thread did not answer in time".to_string())
}

/// Settings JSON for a `velora` service.
fn velora_settings_json(s: &ServiceSettings) -> serde_json::Value {
    let mut v = serde_json::json!({
        keys::SERVER: s.server,
        keys::KEY: s.key.expose(),
        keys::PROTOCOL: s.protocol.as_str(),
        keys::SERVICE: "Velora",
    });
    if let Some(t) = &s.title {
        v[keys::TITLE] = t.clone().into();
    }
    if let Some(c) = &s.category_slug {
        v[keys::CATEGORY_SLUG] = c.clone().into();
    }
    if let Some(t) = &s.tags {
        v[keys::TAGS] = crate::stream_config::join_tags(t).into();
    }
    v
}

/// UI thread: replace (or update) the streaming service and save it.
fn apply_on_ui(settings_json: String) -> Result<(), String> {
    let (Some(get), Some(set), Some(save)) = (
        FRONTEND.get_streaming_service,
        FRONTEND.set_streaming_service,
        FRONTEND.save_streaming_service,
    ) else {
        return Err("no OBS frontend".into());
    };
    let data = OwnedData::from_json(&settings_json).ok_or("invalid settings")?;
    // SAFETY: UI thread; `get` lends the current service; every object we
    // create is released; set_streaming_service takes its own reference.
    unsafe {
        let cur = get();
        let cur_type = if cur.is_null() {
            String::new()
        } else {
            cstr_to_string(sys::obs_service_get_type(cur))
        };
        if !cur.is_null() && cur_type != SERVICE_ID {
            if let Some(path) = previous_service_path() {
                if !path.exists() {
                    let settings = OwnedData::from_owned_ptr(sys::obs_service_get_settings(cur))
                        .map(|d| d.view().to_json())
                        .unwrap_or_else(|| "{}".into());
                    let backup = serde_json::json!({"type": cur_type, "settings": serde_json::from_str::<serde_json::Value>(&settings).unwrap_or_default()});
                    write_private(&path, &backup.to_string())
                        .map_err(|e| format!("could not keep a copy of the previous service: {e}"))?;
                }
            }
        }
        if cur_type == SERVICE_ID {
            sys::obs_service_update(cur, data.as_ptr());
        } else {
            let svc = sys::obs_service_create(
                c"velora".as_ptr(),
                c"default_service".as_ptr(),
                data.as_ptr(),
                std::ptr::null_mut(),
            );
            if svc.is_null() {
                return Err("OBS could not create the Velora service".into());
            }
            set(svc);
            sys::obs_service_release(svc);
        }
        save();
    }
    Ok(())
}

/// Writes a file only the user can read (it holds a stream key, like service.json).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

fn restore_on_ui(type_id: String, settings_json: String) -> Result<(), String> {
    let (Some(set), Some(save)) = (FRONTEND.set_streaming_service, FRONTEND.save_streaming_service) else {
        return Err("no OBS frontend".into());
    };
    let data = OwnedData::from_json(&settings_json).ok_or("invalid settings")?;
    let t = cstring(&type_id);
    // SAFETY: UI thread; the new service is released after OBS took its reference.
    unsafe {
        let svc = sys::obs_service_create(
            t.as_ptr(),
            c"default_service".as_ptr(),
            data.as_ptr(),
            std::ptr::null_mut(),
        );
        if svc.is_null() {
            return Err(format!("OBS could not create a '{type_id}' service"));
        }
        set(svc);
        sys::obs_service_release(svc);
        save();
    }
    Ok(())
}

/// [`Host`] over libobs and the frontend API.
pub struct ObsHost;

impl Host for ObsHost {
    fn text(&self, key: &str) -> String {
        super::module::text_string(key)
    }

    fn obs_version(&self) -> u32 {
        super::obs_version()
    }

    fn obs_version_string(&self) -> String {
        super::obs_version_string()
    }

    fn current_service(&self) -> Option<CurrentService> {
        current_service()
    }

    fn emit_event(&self, name: &str, data: serde_json::Value) {
        super::websocket::emit(name, &data);
    }

    fn streaming_active(&self) -> bool {
        // SAFETY: a plain query of the frontend.
        FRONTEND.streaming_active.is_some_and(|f| unsafe { f() })
    }

    fn config_dir(&self) -> Option<std::path::PathBuf> {
        super::module::config_path("")
    }

    fn apply_velora_service(&self, settings: &ServiceSettings) -> Result<(), String> {
        let json = velora_settings_json(settings).to_string();
        run_on_ui(move || apply_on_ui(json))?
    }

    fn previous_service(&self) -> Option<(String, String)> {
        let text = std::fs::read_to_string(previous_service_path()?).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some((v["type"].as_str()?.to_string(), v["settings"].to_string()))
    }

    fn restore_previous_service(&self) -> Result<(), String> {
        let (type_id, settings) = self.previous_service().ok_or("nothing to restore")?;
        run_on_ui(move || restore_on_ui(type_id, settings))??;
        if let Some(p) = previous_service_path() {
            let _ = std::fs::remove_file(p);
        }
        Ok(())
    }
}
