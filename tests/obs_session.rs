//! Regressions of the session in real OBS.
//!
//! A 401 that survives a successful refresh used to set the phase to logged
//! out while keeping the tokens: *Log in* then answered "already logged in",
//! the dock showed no *Log out*, and a restart brought the same state back —
//! no way out. Now the session really ends (tokens deleted), says so, and
//! the next *Log in* works.

mod common;

use common::obs::Obs;
use serde_json::json;

#[test]
fn a_401_that_survives_a_refresh_ends_the_session_and_a_new_login_works() {
    let common::LoggedIn {
        mut ws,
        obs,
        home,
        velora,
        display,
    } = common::logged_in_obs();
    assert_eq!(ws.velora("ApplySetup", json!({}))["ok"], true);
    let service_before = ws.request("GetStreamServiceSettings", json!(null)).data;

    // Velora refuses every API call with 401, even right after a refresh
    // the token endpoint granted.
    velora.control(
        "POST",
        "faults",
        json!({"fail": {"count": 1000, "status": 401, "path": "/api/integrations"}}),
    );
    let r = ws.velora("GetCategories", json!({"refresh": true}));
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["code"], "SESSION_EXPIRED", "{r}");
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["phase"], "loggedOut", "{st}");
    assert_eq!(st["lastError"]["kind"], "sessionExpired", "{st}");
    // OBS's streaming setup is untouched.
    assert_eq!(ws.request("GetStreamServiceSettings", json!(null)).data, service_before);

    // Not stranded: a new login starts (not "already logged in") and works.
    velora.control("DELETE", "faults", json!({}));
    let r = ws.velora("Login", json!({}));
    assert_eq!(r["ok"], true, "{r}");
    assert!(r.get("alreadyLoggedIn").is_none(), "stranded: {r}");
    let st = ws.wait_status(30, |s| s["loggedIn"] == true);
    assert!(st.get("lastError").is_none(), "{st}");
    ws.close();
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}:\n{}", home.log_tail(30));

    // And the state is what a restart finds.
    let obs = Obs::start(&home, &display.name, &velora.obs_env("approve"));
    let mut ws = obs.ws();
    let st = ws.wait_status(15, |s| s["loggedIn"] == true);
    assert_eq!(st["account"], "Demo Streamer", "{st}");
    ws.close();
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}");
}
