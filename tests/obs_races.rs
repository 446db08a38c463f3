//! OBS objects are read only where it is safe. While automation requests
//! hammer `GetStatus` (which reads the streaming service) from several
//! threads, the UI thread switches profiles back and forth and other tools
//! replace and update the streaming service — what Settings › Stream, the
//! profile menu and Stream Deck plugins do. No crash, no hang, and the status
//! follows the real service.

mod common;

use common::obs::{Obs, ObsHome};
use common::sandbox::Velora;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn status_reads_survive_profile_switches_and_service_replacement() {
    let display = common::display();
    let velora = Velora::start();
    let home = ObsHome::new(true);
    let obs = Obs::start(&home, &display.name, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    ws.wait_status(30, |s| s["loggedIn"] == true);
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
    // The status follows the real service (seen on the UI thread).
    let st = ws.wait_status(5, |s| s["serviceType"] == "rtmp_common");
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
