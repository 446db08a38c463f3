//! Login in real OBS: the `Login` vendor request opens the (scripted) system
//! browser on the sandbox's consent page; the loopback redirect completes the
//! flow; tokens land in the OS keyring and survive an OBS restart.

mod common;

use common::obs::{our_problems, Obs, ObsHome};
use serde_json::json;
use std::time::Duration;

fn browser_env(velora: &common::sandbox::Velora, log: &std::path::Path, action: &str) -> Vec<(&'static str, String)> {
    let mut env = velora.obs_env(action);
    env.push(("FAKE_BROWSER_LOG", log.display().to_string()));
    env
}

#[test]
fn login_through_the_browser_survives_a_restart_and_logout_forgets_it() {
    let display = common::display();
    let velora = common::sandbox::Velora::start_with(|c| c.auto_approve = false);
    let home = ObsHome::new(true);
    let blog = home.dir.join("browser.log");
    let env = browser_env(&velora, &blog, "approve");

    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    let st = ws.wait_status(10, |s| s["apiBaseUrl"].as_str() == Some(velora.base_url().as_str()));
    assert_eq!(st["loggedIn"], false);

    // That Login never waits for the browser is shown below, with a
    // browser that never comes back.
    let r = ws.velora("Login", json!({}));
    assert_eq!(r["ok"], true, "{r}");

    let st = ws.wait_status(30, |s| s["loggedIn"] == true);
    assert_eq!(
        st["account"],
        "Demo Streamer",
        "{st}\n{}",
        common::obs::our_lines(&home.logs()).join("\n")
    );
    assert_eq!(st["loginPending"], false);
    assert!(st["lastError"].is_null(), "{st}");
    let browser_log = std::fs::read_to_string(&blog).unwrap_or_default();
    assert!(
        browser_log.contains("done approve"),
        "the scripted browser did not approve:\n{browser_log}"
    );

    ws.pump(Duration::from_millis(500));
    let events = ws.vendor_events("StatusChanged");
    assert!(
        events.iter().any(|e| e["loginPending"] == true),
        "no StatusChanged with loginPending: {events:?}"
    );
    assert!(
        events.iter().any(|e| e["loggedIn"] == true),
        "no StatusChanged with loggedIn: {events:?}"
    );
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    // Still logged in after a restart (tokens from the keyring / fallback file).
    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    let st = ws.wait_status(15, |s| s["loggedIn"] == true);
    assert_eq!(st["account"], "Demo Streamer");

    // Logout forgets the tokens.
    let r = ws.velora("Logout", json!({}));
    assert_eq!(r["ok"], true, "{r}");
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["loggedIn"], false);
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    std::thread::sleep(Duration::from_secs(3));
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["loggedIn"], false, "logout must delete the stored tokens: {st}");
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    let log = home.logs();
    if std::env::var("VELORA_TEST_KEYRING").is_ok() {
        assert!(
            log.contains("tokens are kept in the OS keyring"),
            "the real keyring was not used"
        );
    }
    for needle in ["vat_", "vrt_", "code_verifier", "code=", "state=", &velora.stream_key()] {
        assert!(!log.contains(needle), "the OBS log contains '{needle}'");
    }
    assert!(
        our_problems(&log).is_empty(),
        "warnings of ours: {:?}",
        our_problems(&log)
    );
}

#[test]
fn denied_login_and_cancel_leave_obs_logged_out_with_a_clear_error() {
    let display = common::display();
    let velora = common::sandbox::Velora::start();
    let home = ObsHome::new(true);
    let blog = home.dir.join("browser.log");

    let obs = Obs::start(&home, &display.name, &browser_env(&velora, &blog, "deny"));
    let mut ws = obs.ws();
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    let st = ws.wait_status(20, |s| s["lastError"]["kind"] == "login");
    assert_eq!(st["loggedIn"], false);
    assert_eq!(st["loginPending"], false);
    assert!(st["lastError"]["message"].as_str().unwrap().contains("denied"), "{st}");
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    // The user walks away: Cancel ends the wait at once; OBS exits promptly
    // even while a login is waiting.
    let obs = Obs::start(&home, &display.name, &browser_env(&velora, &blog, "none"));
    let mut ws = obs.ws();
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    ws.wait_status(5, |s| s["loginPending"] == true);
    let r = ws.velora("CancelLogin", json!({}));
    assert_eq!(r["cancelled"], true, "{r}");
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["loginPending"], false);
    assert_eq!(st["loggedIn"], false);
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    ws.wait_status(5, |s| s["loginPending"] == true);
    let t = std::time::Instant::now();
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "OBS took {:?} to exit during a login",
        t.elapsed()
    );
}

/// The production path is HTTPS, verified against what the system trusts. A
/// certificate from a CA the system does not know (a fresh throw-away CA,
/// installed nowhere; the scripted browser trusts it on its own, like a
/// browser with its own store) makes the login fail before the code is
/// exchanged: a clear error, nothing stored, OBS's service untouched.
#[test]
fn login_over_https_is_refused_when_the_system_does_not_trust_the_certificate() {
    let display = common::display();
    let pki = velora_sandbox::TestPki::generate().expect("throw-away CA");
    let velora = common::sandbox::Velora::start_tls(&pki);
    assert!(
        velora.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        velora.base_url()
    );
    let home = ObsHome::new(true);
    let ca = home.dir.join("untrusted-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let blog = home.dir.join("browser.log");
    let mut env = browser_env(&velora, &blog, "approve");
    env.push(("FAKE_BROWSER_CAFILE", ca.display().to_string()));

    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    // Ready, and OBS's service read on the UI thread (on a slow start the
    // first status has no service yet).
    let before = ws.wait_status(10, |s| {
        s["ready"] == true
            && s["serviceType"].is_string()
            && s["apiBaseUrl"].as_str() == Some(velora.base_url().as_str())
    });
    assert_eq!(before["loggedIn"], false);

    let r = ws.velora("Login", json!({}));
    assert_eq!(r["ok"], true, "{r}");
    let st = ws.wait_status(30, |s| s["loginPending"] == false && !s["lastError"].is_null());
    let log = home.logs();
    assert_eq!(st["loggedIn"], false, "{st}");
    let message = st["lastError"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("certificate is not trusted on this computer"),
        "unclear error: {st}\n{}",
        common::obs::our_lines(&log).join("\n")
    );
    // The browser got through (it trusts the CA itself) and handed the code
    // to OBS: the refusal is the plugin's own TLS check.
    let browser_log = std::fs::read_to_string(&blog).unwrap_or_default();
    assert!(browser_log.contains("done approve"), "browser:\n{browser_log}");
    // The token request never reached the server (refused in the handshake)
    // and was not retried.
    let token_requests: Vec<_> = velora
        .requests()
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/oauth/token")))
        .collect();
    assert!(token_requests.is_empty(), "{token_requests:?}");
    // Nothing changed in OBS.
    for k in ["serviceActive", "serviceType", "canRestore"] {
        assert_eq!(st[k], before[k], "{k} changed: {before} -> {st}");
    }
    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit {status}:\n{}", home.log_tail(60));
    let log = home.logs();
    assert!(
        log.contains("TLS certificate not trusted"),
        "{}",
        common::obs::our_lines(&log).join("\n")
    );
    for needle in ["vat_", "vrt_", "code_verifier", "code=", "state="] {
        assert!(!log.contains(needle), "the OBS log contains '{needle}'");
    }
    // No token was stored: a restart is still logged out.
    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    std::thread::sleep(Duration::from_secs(2));
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["loggedIn"], false, "{st}");
    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit {status}:\n{}", home.log_tail(60));
}
