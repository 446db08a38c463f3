//! The Velora dock in real OBS: screenshots of each state (saved under
//! target/artifacts/ for people to look at) and a keyboard click-through with
//! xdotool: log in with the button, type a title, update, see it at Velora.

mod common;

use common::keyboard::{focus_obs, key, type_text};
use common::obs::{our_problems, Obs, ObsHome};
use common::sandbox::Velora;
use serde_json::json;
use std::time::Duration;

fn shot(display: &str, name: &str) {
    std::thread::sleep(Duration::from_millis(700));
    assert!(common::screenshot(display, name).is_some(), "screenshot {name}");
}

#[test]
fn dock_states_and_keyboard_click_through() {
    let display = common::display();
    let d = display.name.clone();
    let velora = Velora::start_with(|c| c.auto_approve = false);
    let home = ObsHome::new(true);

    // 1. First run: the dock shows itself, logged out. The browser never comes back.
    let obs = Obs::start(&home, &d, &velora.obs_env("none"));
    let mut ws = obs.ws();
    let st = ws.wait_status(10, |s| s["ready"] == true);
    assert_eq!(st["phase"], "loggedOut");
    shot(&d, "dock-1-logged-out");
    assert!(
        home.last_log().contains("[velora] dock loaded"),
        "{}",
        home.log_tail(40)
    );

    // 2. Log in with the button (Alt+L): waiting for the browser; then Cancel (Alt+N).
    focus_obs(&d);
    key(&d, "alt+l");
    ws.wait_status(10, |s| s["loginPending"] == true);
    shot(&d, "dock-2-logging-in");
    key(&d, "alt+n");
    ws.wait_status(10, |s| s["phase"] == "loggedOut");
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    // 3. Log in for real with the button; the consent page is approved.
    let obs = Obs::start(&home, &d, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    ws.wait_status(10, |s| s["ready"] == true);
    focus_obs(&d);
    key(&d, "alt+l");
    ws.wait_status(30, |s| s["loggedIn"] == true && s["title"].is_string());
    // Use Velora (Alt+O... the button's mnemonic is Alt+L in the ready page: "Use Ve&lora").
    focus_obs(&d);
    key(&d, "alt+l");
    ws.wait_status(10, |s| s["serviceActive"] == true);
    shot(&d, "dock-3-ready-offline");

    // 4. Type a title in the dock and update (Alt+I focuses the title, Alt+U updates).
    focus_obs(&d);
    key(&d, "alt+i");
    key(&d, "ctrl+a");
    type_text(&d, "Typed in the Velora dock", 20);
    key(&d, "alt+u");
    let ok = common::wait_for(Duration::from_secs(10), || {
        (velora.state()["title"] == "Typed in the Velora dock").then_some(())
    });
    assert!(
        ok.is_some(),
        "the dock's title never reached Velora: {}",
        velora.state()
    );
    shot(&d, "dock-4-info-updated");

    // 5. Live.
    assert!(ws.request("StartStream", json!(null)).ok);
    common::wait_for(Duration::from_secs(30), || velora.is_live().then_some(())).expect("live");
    ws.wait_status(25, |s| {
        s["isLive"] == true && s["viewerCount"].as_u64().unwrap_or(0) > 0
    });
    shot(&d, "dock-5-live");
    let _ = ws.request("StopStream", json!(null));
    common::wait_for(Duration::from_secs(15), || (!velora.is_live()).then_some(()));

    // 6. An error: the session is revoked at Velora; the next update says "log in again".
    velora.control("POST", "revoke", json!({"all": true}));
    focus_obs(&d);
    key(&d, "alt+i");
    key(&d, "ctrl+a");
    type_text(&d, "After revocation", 20);
    key(&d, "alt+u");
    ws.wait_status(10, |s| s["lastError"]["kind"] == "sessionExpired");
    shot(&d, "dock-6-error-session-expired");

    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));
    let log = home.logs();
    assert!(!log.contains(&velora.stream_key()), "the key reached the log");
    let problems: Vec<String> = our_problems(&log)
        .into_iter()
        .filter(|l| !l.contains("login required"))
        .collect();
    assert!(problems.is_empty(), "warnings of ours: {problems:?}");
}
