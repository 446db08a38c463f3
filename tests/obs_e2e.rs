//! Real OBS (Debian's obs-studio) under Xvfb, driven through obs-websocket.

mod common;

use common::obs::{our_lines, our_problems, Obs, ObsHome};
use serde_json::json;

#[test]
fn plugin_loads_in_real_obs_and_answers_get_status() {
    let display = common::display();
    let home = ObsHome::new(true);
    let obs = Obs::start(&home, &display.name, &[]);
    let mut ws = obs.ws();

    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["ok"], true, "{st}");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert!(st["obsVersion"].as_str().unwrap().starts_with(char::is_numeric), "{st}");
    assert_eq!(st["loggedIn"], false);
    assert_eq!(st["serviceActive"], false, "a fresh profile streams with OBS's default service");
    assert!(st["apiBaseUrl"].as_str().unwrap().starts_with("http"));

    // Requests we did not register are refused by obs-websocket itself.
    let unknown = ws.request(
        "CallVendorRequest",
        json!({"vendorName": "velora", "requestType": "NoSuchRequest", "requestData": {"x": 1}}),
    );
    assert!(!unknown.ok);

    std::thread::sleep(std::time::Duration::from_secs(2));
    let shot = common::screenshot(&display.name, "obs-29-plugin-loaded");
    assert!(shot.is_some(), "screenshot failed");

    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit status after SIGINT: {status}");
    let log = home.logs();
    assert!(log.contains("[velora] loading obs-velora"), "{}", our_lines(&log).join("\n"));
    assert!(log.contains("[velora] service 'velora' registered"), "{}", our_lines(&log).join("\n"));
    assert!(log.contains("[velora] obs-websocket vendor 'velora' registered"), "{}", our_lines(&log).join("\n"));
    assert!(log.contains("[velora] unloaded"), "module unload did not run:\n{}", our_lines(&log).join("\n"));
    assert!(our_problems(&log).is_empty(), "warnings of ours: {:?}", our_problems(&log));
}
