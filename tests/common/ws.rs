//! The tests' face of the obs-websocket client (`obs_rig::ws`): no password,
//! and every failure is a test failure.

use obs_rig::ws::Client;
pub use obs_rig::ws::Reply;
use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Ws(Client);

impl Ws {
    /// Connects and identifies; the test OBS must not require a password.
    pub fn connect(port: u16) -> std::io::Result<Ws> {
        Client::connect(port, None)
            .map(Ws)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Sends a request and waits for its response (30 s).
    pub fn request(&mut self, request_type: &str, data: Value) -> Reply {
        self.0
            .request(request_type, data)
            .unwrap_or_else(|e| panic!("{request_type}: {e}"))
    }

    /// `CallVendorRequest` to vendor `velora`; returns the vendor's response object.
    pub fn velora(&mut self, request_type: &str, data: Value) -> Value {
        self.0
            .call_vendor("velora", request_type, data)
            .unwrap_or_else(|e| panic!("CallVendorRequest {request_type} failed: {e}"))
    }

    /// `CreateProfile`, then waits until OBS has made it and switched to it:
    /// obs-websocket answers before OBS has done either (the frontend API
    /// queues `NewProfile` on the UI thread), so a `SetCurrentProfile` right
    /// after it can find no such profile, or be undone by the late switch.
    pub fn create_profile(&mut self, name: &str) {
        let r = self.request("CreateProfile", serde_json::json!({"profileName": name}));
        assert!(r.ok, "CreateProfile {name}: {}", r.comment);
        let t = Instant::now();
        loop {
            let r = self.request("GetProfileList", serde_json::json!({}));
            let listed = r.data["profiles"]
                .as_array()
                .is_some_and(|p| p.iter().any(|n| n == name));
            if listed && r.data["currentProfileName"] == name {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "OBS never made profile {name}: {}",
                r.data
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls `GetStatus` until `pred` holds (panics with the last status after `secs`).
    pub fn wait_status(&mut self, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(secs) {
            last = self.velora("GetStatus", serde_json::json!({}));
            if pred(&last) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("status never matched; last: {last}");
    }

    /// Drains incoming events for `dur`.
    pub fn pump(&mut self, dur: Duration) {
        self.0.pump(dur).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Vendor events of `velora` seen so far (their `eventData`).
    pub fn vendor_events(&self, event_type: &str) -> Vec<Value> {
        self.0.vendor_events("velora", event_type)
    }

    /// Closes the connection the way a well-behaved client does, so OBS
    /// never waits for it at exit.
    pub fn close(self) {
        self.0.close();
    }

    /// `CallVendorRequest` to `velora` that may outlive OBS: `None` when the
    /// connection closed before the answer.
    pub fn try_velora(&mut self, request_type: &str, data: Value) -> Option<Value> {
        self.0.call_vendor("velora", request_type, data).ok()
    }
}
