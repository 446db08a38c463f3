//! The frontend's streaming service (the profile's `service.json`).
//!
//! OBS replaces or updates it on the UI thread (Settings › Stream, profile
//! switches, the auto-configuration wizard, our own apply), and the pointer
//! the frontend lends is not reference-counted for us; `obs_data` has no
//! lock. So it is read only on the UI thread, into a copy every other thread
//! reads ([`current`]), refreshed on frontend events, after our own changes
//! and whenever a `velora` service is created, updated or destroyed.

use super::data::OwnedData;
use super::frontend_api::{self, FRONTEND};
use super::settings_io::{read_settings, velora_settings_json};
use super::{cstr_to_string, cstring, sys, ui};
use crate::cancel::Cancel;
use crate::host::{CurrentService, OtherService};
use crate::reads::{Ask, Reads};
use crate::session::service::{self as policy, StartFix};
use crate::stream_config::{ServiceSettings, SERVICE_ID};
use crate::Secret;
use std::sync::Mutex;
use std::time::Duration;

static CACHE: Mutex<Option<CurrentService>> = Mutex::new(None);
/// Reads of the service on the UI thread, numbered for [`settle`].
static READS: Reads = Reads::new();

/// How long [`settle`] waits for OBS's UI thread: a UI thread that busy
/// (a dialog being built) leaves the caller the copy as it is.
pub const SETTLE_WAIT: Duration = Duration::from_millis(250);

/// The file beside service.json that keeps the user's previous service.
pub const PREVIOUS_SERVICE_FILE: &str = "velora-previous-service.json";

/// The service as last seen on the UI thread (any thread).
pub fn current() -> Option<CurrentService> {
    CACHE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// UI thread only: reads the current service.
fn read() -> Option<CurrentService> {
    let get = FRONTEND.get_streaming_service?;
    // SAFETY: on the UI thread, where the frontend replaces the service, the
    // borrowed pointer stays valid for this call; the settings reference we
    // take is released by OwnedData.
    unsafe {
        let svc = get();
        if svc.is_null() {
            return None;
        }
        let type_id = cstr_to_string(sys::obs_service_get_type(svc));
        let settings = OwnedData::from_owned_ptr(sys::obs_service_get_settings(svc));
        let (velora, other) = match settings {
            Some(d) if type_id == SERVICE_ID => (Some(read_settings(d.view())), None),
            Some(d) => {
                let v = d.view();
                let other = OtherService {
                    name: v.get_string("service"),
                    server: v.get_string("server").trim().to_string(),
                    key: Secret::new(v.get_string("key").trim()),
                };
                (None, Some(other))
            }
            None => (None, None),
        };
        Some(CurrentService { type_id, velora, other })
    }
}

/// UI thread: refreshes the copy; the session hears when it changed. Off
/// the UI thread it queues a refresh instead. What Settings › Stream left of
/// the Velora service is repaired here, at once, when Velora's ingest is
/// known (the session decides; nothing here waits).
pub fn refresh() {
    thread_local! {
        static IN_REFRESH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !ui::on_ui_thread() || IN_REFRESH.with(|r| r.get()) {
        // Never re-entered: a refresh that OBS would run inside this one
        // (from a service callback) comes after it.
        queue_refresh();
        return;
    }
    IN_REFRESH.with(|r| r.set(true));
    let now = refresh_inner();
    IN_REFRESH.with(|r| r.set(false));
    let changed = {
        let mut g = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *g != now;
        *g = now.clone();
        changed
    };
    if changed {
        // The board says it now, whatever the worker is busy with.
        policy::reflect(now.as_ref());
        crate::session::event(crate::session::Event::ServiceChanged);
    }
}

/// Reads the service and repairs it when it is a mangled Velora service.
fn refresh_inner() -> Option<CurrentService> {
    let now = read();
    policy::learn_service(now.as_ref());
    if frontend_api::streaming_active() {
        return now;
    }
    let (Some(cur), Some(fixed)) = (now.as_ref(), policy::repair_for(now.as_ref())) else {
        return now;
    };
    match replace_on_ui(&fixed) {
        Ok(()) => {
            let after = read();
            if policy::repair_for(after.as_ref()).is_some() {
                // OBS did not take it: not tried again for this service.
                policy::repair_failed(cur, "OBS kept its own service");
            } else {
                policy::repaired_now(&fixed);
            }
            policy::learn_service(after.as_ref());
            after
        }
        Err(e) => {
            policy::repair_failed(cur, &e);
            now
        }
    }
}

/// OBS's Settings dialog or auto-configuration wizard closed (UI thread,
/// from the dock): the service is read (and repaired) now.
pub fn settings_closed() {
    refresh();
    crate::session::event(crate::session::Event::SettingsClosed);
}

/// STREAMING_STARTING (UI thread, after OBS set up the output, before it
/// starts): a mangled Velora service is replaced by the Velora service when
/// Velora's ingest is known; otherwise the start fails with the plugin's
/// words (OBS shows the output's last error) instead of OBS's generic
/// connection error. Nothing here waits.
pub fn before_start() {
    let now = read();
    let fix = policy::start_fix(now.as_ref());
    let (settings, message) = match fix {
        StartFix::Keep => return,
        StartFix::Repair(s) => (Some(s), None),
        StartFix::Refuse { settings, message } => (settings, Some(message)),
    };
    let Some(get_output) = FRONTEND.get_streaming_output else {
        return;
    };
    // SAFETY: UI thread; the output reference we get is released below; the
    // service we create is released after OBS (and the output) hold it.
    unsafe {
        let output = get_output();
        if let Some(s) = &settings {
            let Some(data) = OwnedData::from_json(&velora_settings_json(s).to_string()) else {
                sys::obs_output_release(output);
                return;
            };
            let (Some(set), Some(save)) = (FRONTEND.set_streaming_service, FRONTEND.save_streaming_service) else {
                sys::obs_output_release(output);
                return;
            };
            let svc = sys::obs_service_create(
                c"velora".as_ptr(),
                c"default_service".as_ptr(),
                data.as_ptr(),
                std::ptr::null_mut(),
            );
            if !svc.is_null() {
                // First the frontend's service: releasing the old one
                // unlinks it from the output; then the output's.
                set(svc);
                save();
                if !output.is_null() {
                    sys::obs_output_set_service(output, svc);
                }
                sys::obs_service_release(svc);
                if message.is_none() {
                    policy::repaired_now(s);
                }
            }
        }
        if let (Some(m), false) = (&message, output.is_null()) {
            let m = cstring(m);
            sys::obs_output_set_last_error(output, m.as_ptr());
            log::warn!("Start Streaming refused: the Velora service has no server (Velora's ingest is not known yet)");
        }
        if !output.is_null() {
            sys::obs_output_release(output);
        }
    }
}

/// Any thread: a refresh on the UI thread soon (bursts become one).
pub fn queue_refresh() -> u64 {
    let ask = READS.ask();
    if let Ask::Queue(n) = ask {
        ui::queue(move || {
            READS.started(n);
            refresh();
            READS.finished(n);
        });
    }
    ask.number()
}

/// Any thread but the UI thread: has OBS's service read afresh on the UI
/// thread and waits for that read, so the copy is at least as new as the
/// moment of the call (a tool that replaced the service through
/// obs-websocket and then asks for the status sees its change). Waits at
/// most [`SETTLE_WAIT`] and never once OBS is quitting (its UI thread may
/// then be waiting for the caller's thread); on the UI thread it waits for
/// nothing (the read could not run meanwhile).
pub fn settle() {
    if ui::on_ui_thread() || ui::is_closed() {
        return;
    }
    let n = queue_refresh();
    READS.wait(n, SETTLE_WAIT, ui::is_closed);
}

/// Unload: nothing of OBS's is kept.
pub fn forget() {
    *CACHE.lock().unwrap_or_else(|e| e.into_inner()) = None;
    // A read OBS never ran (queued at EXIT) must not block the next load's.
    READS.dropped();
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
        sys::bfree(p as *mut std::ffi::c_void);
        Some(std::path::PathBuf::from(s))
    }
}

fn previous_service_path() -> Option<std::path::PathBuf> {
    profile_dir().map(|d| d.join(PREVIOUS_SERVICE_FILE))
}

/// UI thread: makes `settings` the streaming service without keeping a
/// copy of the one it replaces (Velora's own, mangled or via custom).
fn replace_on_ui(settings: &ServiceSettings) -> Result<(), String> {
    apply_on_ui(velora_settings_json(settings).to_string(), None)
}

/// UI thread: the streamer's own service (type and settings) as the copy
/// *Restore previous settings* puts back; `None` when there is none or it
/// is Velora's.
fn own_service_on_ui() -> Option<serde_json::Value> {
    let get = FRONTEND.get_streaming_service?;
    // SAFETY: UI thread; `get` lends the current service (not released);
    // its settings are a new reference, released by OwnedData.
    unsafe {
        let cur = get();
        if cur.is_null() {
            return None;
        }
        let cur_type = cstr_to_string(sys::obs_service_get_type(cur));
        if cur_type == SERVICE_ID {
            return None;
        }
        let settings = OwnedData::from_owned_ptr(sys::obs_service_get_settings(cur))
            .map(|d| d.view().to_json())
            .unwrap_or_else(|| "{}".into());
        Some(serde_json::json!({
            "type": cur_type,
            "settings": serde_json::from_str::<serde_json::Value>(&settings).unwrap_or_default(),
        }))
    }
}

/// UI thread: replace (or update) the streaming service and save it.
/// `kept`: the copy of the streamer's service just written; when OBS's
/// service is no longer that one (changed in between), nothing changes.
fn apply_on_ui(settings_json: String, kept: Option<serde_json::Value>) -> Result<(), String> {
    let (Some(get), Some(set), Some(save)) = (
        FRONTEND.get_streaming_service,
        FRONTEND.set_streaming_service,
        FRONTEND.save_streaming_service,
    ) else {
        return Err("no OBS frontend".into());
    };
    let data = OwnedData::from_json(&settings_json).ok_or("invalid settings")?;
    if kept.is_some() && own_service_on_ui() != kept {
        return Err("OBS's streaming service changed meanwhile: nothing was changed, try again".into());
    }
    // SAFETY: UI thread; `get` lends the current service; every object we
    // create is released; set_streaming_service takes its own reference.
    unsafe {
        let cur = get();
        let cur_type = if cur.is_null() {
            String::new()
        } else {
            cstr_to_string(sys::obs_service_get_type(cur))
        };
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

/// Makes `velora` the profile's service with `settings` (UI thread; waits).
/// The first time, the streamer's own service is kept for *Restore previous
/// settings*: read on the UI thread, written and synced to disk here, never
/// on OBS's UI thread (a sync waits for the disk: tens of ms on a busy one).
pub fn apply(settings: &ServiceSettings, cancel: &Cancel) -> Result<(), String> {
    let json = velora_settings_json(settings).to_string();
    let mut written = None;
    let mut kept = None;
    if let Some(path) = previous_service_path().filter(|p| !p.exists()) {
        kept = ui::run_on_ui(cancel, own_service_on_ui)?;
        if let Some(copy) = &kept {
            crate::fsutil::write_private(&path, copy.to_string().as_bytes())
                .map_err(|e| format!("could not keep a copy of the previous service: {e}"))?;
            written = Some(path);
        }
    }
    let r = ui::run_on_ui(cancel, move || {
        let r = apply_on_ui(json, kept);
        refresh();
        r
    })
    .and_then(|r| r);
    if let (Err(_), Some(path)) = (&r, written) {
        // Nothing was replaced: the copy is not of a service Velora took over.
        let _ = crate::fsutil::remove_if_exists(&path);
    }
    r
}

/// [`apply`] without keeping a copy of the service it replaces.
pub fn replace(settings: &ServiceSettings, cancel: &Cancel) -> Result<(), String> {
    let json = velora_settings_json(settings).to_string();
    ui::run_on_ui(cancel, move || {
        let r = apply_on_ui(json, None);
        refresh();
        r
    })?
}

/// The saved copy of the user's previous service: type id and settings JSON.
pub fn previous() -> Option<(String, String)> {
    let text = std::fs::read_to_string(previous_service_path()?).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((v["type"].as_str()?.to_string(), v["settings"].to_string()))
}

/// Puts the previous service back (UI thread; waits) and forgets the copy.
pub fn restore(cancel: &Cancel) -> Result<(), String> {
    let (type_id, settings) = previous().ok_or("nothing to restore")?;
    ui::run_on_ui(cancel, move || {
        let r = restore_on_ui(type_id, settings);
        refresh();
        r
    })??;
    if let Some(p) = previous_service_path() {
        let _ = crate::fsutil::remove_if_exists(&p);
    }
    Ok(())
}
