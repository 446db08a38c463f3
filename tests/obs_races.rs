//! OBS objects are read only where it is safe. While automation requests
//! hammer `GetStatus` (which reads the streaming service) from several
//! threads, the UI thread switches profiles back and forth and other tools
//! replace and update the streaming service — what Settings › Stream, the
//! profile menu and Stream Deck plugins do. No crash, no hang, and the status
//! follows the real service.

mod common;

use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn status_reads_survive_profile_switches_and_service_replacement() {
    // (`on` keeps the display until the end.)
    let on = common::logged_in_obs();
    let (mut ws, obs, home, velora) = (on.ws, on.obs, on.home, on.velora);
    assert_eq!(ws.velora("ApplySetup", json!({}))["ok"], true);
    ws.create_profile("Second");

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let hammers: Vec<_> = (0..3)
        .map(|_| {
            let (stop, reads, port) = (stop.clone(), reads.clone(), obs.port);
            std::thread::spawn(move || {
                let mut ws = common::ws::Ws::connect(port).unwrap();
                while !stop.load(Ordering::SeqCst) {
                    let st = ws.velora("GetStatus", json!({}));
                    assert_eq!(st["ok"], true, "{st}");
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    for round in 0..12 {
        let profile = if round % 2 == 0 { "Second" } else { "Untitled" };
        let r = ws.request("SetCurrentProfile", json!({"profileName": profile}));
        assert!(r.ok, "SetCurrentProfile: {}", r.comment);
        // Another tool replaces the service, then writes into a velora one.
        let r = ws.request(
            "SetStreamServiceSettings",
            json!({"streamServiceType": "rtmp_custom", "streamServiceSettings": {"server": format!("rtmp://other.invalid/{round}"), "key": "x"}}),
        );
        assert!(r.ok, "{}", r.comment);
        let r = ws.request(
            "SetStreamServiceSettings",
            json!({"streamServiceType": "velora", "streamServiceSettings": {"server": velora.rtmp_url(), "key": "k", "title": format!("Round {round}")}}),
        );
        assert!(r.ok, "{}", r.comment);
        // Ours, then replaced again in the same breath.
        assert_eq!(ws.velora("ApplySetup", json!({}))["ok"], true);
        let r = ws.request(
            "SetStreamServiceSettings",
            json!({"streamServiceType": "rtmp_common", "streamServiceSettings": {"service": "Twitch", "key": "y"}}),
        );
        assert!(r.ok, "{}", r.comment);
    }
    // The status follows the real service at once (read on the UI thread
    // for the request).
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["serviceType"], "rtmp_common", "{st}");
    assert_eq!(st["serviceActive"], false, "{st}");
    stop.store(true, Ordering::SeqCst);
    for h in hammers {
        h.join().expect("a GetStatus hammer failed");
    }
    assert!(reads.load(Ordering::SeqCst) > 50, "the hammers barely ran");
    let st = ws.velora("GetStatus", json!({}));
    if st["uiThreadMaxMs"].as_f64().unwrap_or(99.0) >= 16.0 {
        let log = home.logs();
        let held: Vec<&str> = log.lines().filter(|l| l.contains("held OBS's UI thread")).collect();
        panic!("the UI thread was held: {st}\n{}", held.join("\n"));
    }
    ws.pump(Duration::from_millis(200));
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}:\n{}", home.log_tail(40));
}

/// A tool replaces OBS's service through obs-websocket (which tells no one)
/// and asks for the status in the next breath: the status is never behind,
/// whichever way the service went (CI saw a stale `serviceActive` once on
/// OBS 32, where OBS's UI thread had not read the service yet).
#[test]
fn the_status_right_after_a_tool_replaces_the_service_is_never_behind() {
    // (`on` keeps the display until the end.)
    let on = common::logged_in_obs();
    let (mut ws, obs, home, velora) = (on.ws, on.obs, on.home, on.velora);
    let mut behind = Vec::new();
    for round in 0..40 {
        let (ty, settings) = match round % 3 {
            0 => (
                "rtmp_custom",
                json!({"server": format!("rtmp://other.invalid/{round}"), "key": "x"}),
            ),
            1 => ("velora", json!({"server": velora.rtmp_url(), "key": "k"})),
            _ => ("rtmp_common", json!({"service": "Twitch", "key": "y"})),
        };
        let r = ws.request(
            "SetStreamServiceSettings",
            json!({"streamServiceType": ty, "streamServiceSettings": settings}),
        );
        assert!(r.ok, "{}", r.comment);
        let st = ws.velora("GetStatus", json!({}));
        if st["serviceType"] != ty || st["serviceActive"] != (ty == "velora") {
            behind.push(format!(
                "round {round}: set {ty}, status said {} / {}",
                st["serviceType"], st["serviceActive"]
            ));
        }
    }
    assert!(
        behind.is_empty(),
        "the status was behind OBS's service:\n{}",
        behind.join("\n")
    );
    let st = ws.velora("GetStatus", json!({}));
    assert!(st["uiThreadMaxMs"].as_f64().unwrap_or(99.0) < 16.0, "{st}");
    ws.pump(Duration::from_millis(200));
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}:\n{}", home.log_tail(40));
}
