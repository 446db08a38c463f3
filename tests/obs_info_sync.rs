//! Title, category and tags live in OBS's stream settings too and flow both
//! ways: SetStreamInfo → the profile's service settings; settings written by
//! another tool → Velora (validated, debounced); per-profile values pushed
//! when the stream starts, without ever holding the start up.

mod common;

use common::obs::{Obs, ObsHome};
use common::sandbox::Velora;
use common::ws::Ws;
use serde_json::{json, Value};
use std::time::Duration;

fn login_and_apply(ws: &mut Ws) {
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    ws.wait_status(30, |s| s["loggedIn"] == true && s["title"].is_string());
    let r = ws.velora("ApplySetup", json!({}));
    assert_eq!(r["ok"], true, "{r}");
}

fn service_settings(ws: &mut Ws) -> Value {
    let r = ws.request("GetStreamServiceSettings", json!(null));
    assert_eq!(r.data["streamServiceType"], "velora", "{:?}", r.data);
    r.data["streamServiceSettings"].clone()
}

fn edit_settings(ws: &mut Ws, settings: Value) {
    let r = ws.request(
        "SetStreamServiceSettings",
        json!({"streamServiceType": "velora", "streamServiceSettings": settings}),
    );
    assert!(r.ok, "SetStreamServiceSettings: {}", r.comment);
}

fn puts(velora: &Velora) -> usize {
    velora.requests().iter().filter(|q| q["method"] == "PUT").count()
}

#[test]
fn settings_written_by_a_tool_reach_velora_debounced_and_validated() {
    let display = common::display();
    let velora = Velora::start();
    let home = ObsHome::new(true);
    let obs = Obs::start(&home, &display.name, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    login_and_apply(&mut ws);

    velora.control("DELETE", "requests", json!({}));
    edit_settings(&mut ws, json!({"title": "From a deck", "categorySlug": "music"}));
    let ok = common::wait_for(Duration::from_secs(8), || {
        let st = velora.state();
        (st["title"] == "From a deck" && st["categorySlug"] == "music").then_some(())
    });
    assert!(
        ok.is_some(),
        "the sandbox never got the deck's title: {}",
        velora.state()
    );
    // The edit kept the server and key (merged into the service settings).
    assert_eq!(service_settings(&mut ws)["key"], velora.stream_key().as_str());

    // Five quick edits: at most two requests, the last value wins.
    velora.control("DELETE", "requests", json!({}));
    for i in 1..=5 {
        edit_settings(&mut ws, json!({"title": format!("Quick edit {i}")}));
        std::thread::sleep(Duration::from_millis(150));
    }
    let ok = common::wait_for(Duration::from_secs(8), || {
        (velora.state()["title"] == "Quick edit 5").then_some(())
    });
    assert!(ok.is_some(), "last edit not sent: {}", velora.state());
    std::thread::sleep(Duration::from_secs(2));
    let n = puts(&velora);
    assert!((1..=2).contains(&n), "five rapid edits made {n} PUTs");

    // An invalid title is not sent; the reason is reported; the settings keep it.
    velora.control("DELETE", "requests", json!({}));
    let long = "x".repeat(141);
    edit_settings(&mut ws, json!({"title": long}));
    let st = ws.wait_status(5, |s| s["lastError"]["kind"] == "invalid");
    assert!(st["lastError"]["message"].as_str().unwrap().contains("141"), "{st}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(puts(&velora), 0, "an invalid title must not be sent");
    assert_eq!(velora.state()["title"], "Quick edit 5");
    assert_eq!(
        service_settings(&mut ws)["title"],
        long.as_str(),
        "the plugin must not revert what the tool wrote"
    );
    ws.pump(Duration::from_millis(300));
    assert!(
        ws.vendor_events("StatusChanged")
            .iter()
            .any(|e| e["lastError"]["kind"] == "invalid"),
        "no StatusChanged carried the error"
    );
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));
}

#[test]
fn set_stream_info_is_saved_in_the_profile_and_survives_a_restart() {
    let display = common::display();
    let velora = Velora::start();
    let home = ObsHome::new(true);
    let env = velora.obs_env("approve");
    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    login_and_apply(&mut ws);

    let r = ws.velora(
        "SetStreamInfo",
        json!({"title": "Saved in OBS", "categorySlug": "just-chatting", "tags": "talk, cozy"}),
    );
    assert_eq!(r["ok"], true, "{r}");
    let s = service_settings(&mut ws);
    assert_eq!(s["title"], "Saved in OBS");
    assert_eq!(s["categorySlug"], "just-chatting");
    assert_eq!(s["tags"], "talk, cozy");
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    let s = service_settings(&mut ws);
    assert_eq!(s["title"], "Saved in OBS");
    assert_eq!(s["categorySlug"], "just-chatting");
    assert_eq!(s["tags"], "talk, cozy");
    let st = ws.wait_status(15, |s| s["loggedIn"] == true && s["title"].is_string());
    assert_eq!(st["title"], "Saved in OBS");
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));
    // No new place holds the key: only OBS's own service.json has it.
    let key = velora.stream_key();
    for entry in walk(&home.config) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        if text.contains(&key) {
            let name = entry.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                name == "service.json" || name.starts_with("service.json"),
                "the key is also in {}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn each_profile_keeps_its_title_and_it_is_sent_when_the_stream_starts() {
    let display = common::display();
    let velora = Velora::start();
    let home = ObsHome::new(true);
    let obs = Obs::start(&home, &display.name, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    login_and_apply(&mut ws);
    assert_eq!(
        ws.velora(
            "SetStreamInfo",
            json!({"title": "Coding title", "categorySlug": "software-and-game-development"})
        )["ok"],
        true
    );

    ws.create_profile("Music");
    let r = ws.request("SetCurrentProfile", json!({"profileName": "Music"}));
    assert!(r.ok, "SetCurrentProfile: {}", r.comment);
    assert_eq!(ws.velora("ApplySetup", json!({}))["ok"], true);
    assert_eq!(
        ws.velora(
            "SetStreamInfo",
            json!({"title": "Music title", "categorySlug": "music"})
        )["ok"],
        true
    );
    assert_eq!(velora.state()["title"], "Music title");

    // Back to the first profile: the dock shows its own title ...
    let r = ws.request("SetCurrentProfile", json!({"profileName": "Untitled"}));
    assert!(r.ok);
    ws.wait_status(5, |s| s["title"] == "Coding title");
    assert_eq!(
        velora.state()["title"],
        "Music title",
        "switching profiles alone sends nothing"
    );

    // ... and starting the stream sends it, even when Velora fails (not fatal).
    let r = ws.request("StartStream", json!(null));
    assert!(r.ok);
    let ok = common::wait_for(Duration::from_secs(20), || {
        (velora.state()["title"] == "Coding title" && velora.is_live()).then_some(())
    });
    assert!(
        ok.is_some(),
        "the profile's title did not reach Velora at stream start: {}",
        velora.state()
    );
    assert_eq!(velora.state()["categorySlug"], "software-and-game-development");
    let _ = ws.request("StopStream", json!(null));
    common::wait_for(Duration::from_secs(15), || (!velora.is_live()).then_some(()));

    let r = ws.request("SetCurrentProfile", json!({"profileName": "Music"}));
    assert!(r.ok);
    velora.control(
        "POST",
        "faults",
        json!({"fail": {"count": 50, "status": 500, "path": "/api/integrations/oauth/stream/info"}}),
    );
    let r = ws.request("StartStream", json!(null));
    assert!(r.ok);
    let ok = common::wait_for(Duration::from_secs(20), || velora.is_live().then_some(()));
    velora.control("DELETE", "faults", json!({}));
    assert!(ok.is_some(), "the stream must start even when Velora answers 500");
    let _ = ws.request("StopStream", json!(null));
    common::wait_for(Duration::from_secs(15), || (!velora.is_live()).then_some(()));
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));
}
