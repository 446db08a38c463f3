//! The frontend's events: what the plugin does at FINISHED_LOADING, on
//! stream start/stop, profile changes and EXIT.

use super::frontend_api::FRONTEND;
use super::stream_service;
use crate::guard::{guard, ui_guard};
use crate::session::{self, Event};
use std::ffi::c_void;

// obs_frontend_event values (append-only enum, stable across 29–32).
pub(crate) const EVENT_STREAMING_STARTING: u32 = 0;
pub(crate) const EVENT_STREAMING_STARTED: u32 = 1;
pub(crate) const EVENT_STREAMING_STOPPED: u32 = 3;
pub(crate) const EVENT_PROFILE_CHANGED: u32 = 15;
pub(crate) const EVENT_EXIT: u32 = 17;
pub(crate) const EVENT_FINISHED_LOADING: u32 = 26;

unsafe extern "C" fn on_event(event: u32, _private: *mut c_void) {
    if event == EVENT_FINISHED_LOADING {
        // The one-time construction of the dock's widgets is measured on its
        // own (OBS builds every dock on this thread at start-up).
        let t = std::time::Instant::now();
        guard("frontend.dock_load", (), super::dock::load);
        crate::metrics::record_dock_creation(t.elapsed().as_micros() as u64);
    }
    if event == EVENT_EXIT {
        // OBS is closing: waiting here for the worker (bounded) is part of
        // the shutdown, not UI work, so it is logged rather than timed.
        guard("frontend.exit", (), || {
            let t = std::time::Instant::now();
            super::dock::unload();
            super::websocket::unregister();
            session::stop();
            // OBS tears the frontend down next: nothing of ours runs on its
            // UI thread any more (our service's destroy, when OBS releases
            // it, would otherwise queue a refresh).
            super::ui::close();
            log::info!("shutdown: worker stopped in {} ms", t.elapsed().as_millis());
        });
        return;
    }
    ui_guard("frontend.on_event", (), || match event {
        EVENT_FINISHED_LOADING => {
            // Only now: the worker (network, keyring).
            stream_service::refresh();
            if let Some(host) = crate::host::get() {
                crate::automation::start_status_events();
                session::start(host);
            }
        }
        EVENT_STREAMING_STARTING => {
            // The last moment before the output starts: a mangled Velora
            // service must not end in OBS's generic connection error.
            stream_service::before_start();
            stream_service::refresh();
            session::event(Event::StreamingStarting)
        }
        EVENT_STREAMING_STARTED => session::event(Event::StreamingStarted),
        EVENT_STREAMING_STOPPED => session::event(Event::StreamingStopped),
        EVENT_PROFILE_CHANGED => {
            crate::session::service::forget_profile();
            stream_service::refresh();
            session::event(Event::ProfileChanged)
        }
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
