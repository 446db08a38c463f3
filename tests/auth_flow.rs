//! Login flow against the in-process Velora sandbox, with the scripted browser
//! (`tests/scripts/fake-browser`) standing in for the user.
//!
//! The token requests go through the plugin's own `velora::api::Client` (its
//! `TokenEndpoint` implementation): JSON body as in the Velora docs, no client
//! secret (the plugin is a public client).
//!
//! The browser command is passed through `LoginConfig::browser` instead of
//! setting `$BROWSER`, so parallel tests do not race on the environment.
//!
//! The real-keyring test runs only with `VELORA_TEST_KEYRING=1` (and then
//! fails if no keyring is usable): `tests/scripts/with-keyring cargo test
//! --test auth_flow keyring`.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use velora::api::{ApiConfig, Client};
use velora::auth::flow::DEFAULT_TIMEOUT;
use velora::auth::listener::Rejection;
use velora::auth::record::now_unix;
use velora::auth::tokens::{exchange, LoginRequired};
use velora::auth::{
    AuthCode, Backend, BrowserLauncher, FlowEvent, LoginConfig, LoginError, LoginFlow, Session, SessionError,
    StoredTokens, TokenEndpoint, TokenError, TokenStore,
};
use velora::cancel::Cancel;
use velora::config::Endpoints;
use velora::Secret;
use velora_sandbox::{Config, Sandbox};

const CLIENT_ID: &str = "obs-velora-test";

fn sandbox(auto_approve: bool) -> Sandbox {
    Sandbox::start(Config {
        auto_approve,
        log_requests: false,
        ..Default::default()
    })
    .expect("sandbox starts")
}

fn fake_browser() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/fake-browser")
}

/// A `$BROWSER`-style command running the fake browser with `action`,
/// logging to `log`.
fn browser(action: &str, log: &Path) -> BrowserLauncher {
    BrowserLauncher::Command(format!(
        "'{}' --action={action} '--log={}' %s",
        fake_browser().display(),
        log.display()
    ))
}

fn login_config(sb: &Sandbox, launcher: BrowserLauncher) -> LoginConfig {
    let endpoints = Endpoints::for_api_base(&sb.base_url(), CLIENT_ID, None).unwrap();
    assert!(endpoints
        .authorize_url
        .as_str()
        .ends_with("/api/developer/oauth/authorize"));
    let mut cfg = LoginConfig::new(endpoints.authorize_url, CLIENT_ID);
    cfg.port = 0; // parallel tests: no fixed port
    cfg.timeout = Duration::from_secs(30);
    cfg.browser = launcher;
    cfg
}

/// Waits until the fake browser's log has its final `done` line.
fn wait_for_done(log: &Path) -> String {
    let t = Instant::now();
    loop {
        let text = fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|l| l.contains(" done ")) {
            return text;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "fake browser did not finish: {text}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// The plugin's API client pointed at the sandbox; it implements
/// [`TokenEndpoint`] (JSON token requests, no client secret).
fn api_client(sb: &Sandbox) -> Client {
    let endpoints = Endpoints::for_api_base(&sb.base_url(), CLIENT_ID, None).unwrap();
    Client::new(ApiConfig::new(endpoints)).unwrap()
}

/// `GET /stream/setup` with `token`: the HTTP status.
fn stream_setup_status(sb: &Sandbox, token: &Secret) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{}/api/integrations/oauth/stream/setup", sb.base_url()))
        .bearer_auth(token.expose())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Runs a login with the fake browser doing `action`; returns the result and
/// the browser's log.
fn run_login(sb: &Sandbox, action: &str) -> (Result<AuthCode, LoginError>, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let flow = LoginFlow::start(login_config(sb, browser(action, &log))).unwrap();
    // That a launcher still running is not waited for is
    // browser::tests::long_running_launcher_counts_as_opened.
    flow.open_browser().expect("fake browser launches");
    let result = flow.wait(&Cancel::new());
    let text = wait_for_done(&log);
    (result, text)
}

fn assert_log_has_no_secrets(log: &str, code: &AuthCode) {
    assert!(!log.contains(code.code.expose()), "code in the log: {log}");
    assert!(!log.contains(code.verifier.expose()));
}

#[test]
fn full_flow_with_consent_page_then_exchange() {
    let sb = sandbox(false);
    let (result, log) = run_login(&sb, "approve");
    let code = result.expect("code");
    assert!(log.contains("consent: POST"), "{log}");
    assert!(log.contains("callback-200"), "{log}");
    assert!(log.contains("Signed in to Velora"), "{log}");
    assert_log_has_no_secrets(&log, &code);

    let tokens = exchange(&api_client(&sb), &code, now_unix()).expect("exchange");
    assert!(tokens.refresh_token.is_some());
    assert_eq!(
        tokens.scope.as_deref(),
        Some("stream:key stream:read stream:write user:read")
    );
    let lifetime = tokens.expires_at.unwrap() - tokens.obtained_at.unwrap();
    assert_eq!(lifetime, 3600);
    assert_eq!(stream_setup_status(&sb, &tokens.access_token), 200);
}

#[test]
fn full_flow_with_auto_approve() {
    let sb = sandbox(true);
    let (result, log) = run_login(&sb, "approve");
    let code = result.expect("code");
    assert!(log.contains("authorize: HTTP 302"), "{log}");
    assert!(!log.contains("consent:"), "{log}");
    let tokens = exchange(&api_client(&sb), &code, now_unix()).unwrap();
    assert_eq!(stream_setup_status(&sb, &tokens.access_token), 200);
}

#[test]
fn deny_on_the_consent_page() {
    let sb = sandbox(false);
    let (result, log) = run_login(&sb, "deny");
    match result {
        Err(LoginError::Denied { description }) => {
            assert_eq!(
                description.as_deref(),
                Some("The user denied the authorization request")
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(log.contains("decision=deny"), "{log}");
    assert!(log.contains("callback-200"), "{log}");
    assert!(log.contains("Sign-in cancelled"), "{log}");
}

#[test]
fn deny_with_auto_approve_redirect() {
    let sb = sandbox(true);
    let (result, _log) = run_login(&sb, "deny");
    assert!(matches!(result, Err(LoginError::Denied { .. })), "{result:?}");
}

#[test]
fn wrong_state_keeps_waiting_until_cancel() {
    let sb = sandbox(true);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let flow = LoginFlow::start(login_config(&sb, browser("wrong-state", &log))).unwrap();
    flow.open_browser().unwrap();
    let cancel = Cancel::new();
    let (ev_tx, ev_rx) = mpsc::channel();
    let waiter = {
        let cancel = cancel.clone();
        thread::spawn(move || flow.wait_with_events(&cancel, move |ev| ev_tx.send(ev).unwrap()))
    };
    let ev = ev_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("a rejected callback");
    assert_eq!(ev, FlowEvent::Rejected(Rejection::StateMismatch));
    let text = wait_for_done(&log);
    assert!(text.contains("tampered with the state"), "{text}");
    assert!(text.contains("callback-400"), "{text}");
    assert!(text.contains("not recognized"), "{text}");

    // still waiting
    thread::sleep(Duration::from_millis(300));
    assert!(!waiter.is_finished(), "a wrong state must not end the flow");
    cancel.cancel();
    let result = waiter.join().unwrap();
    // Ended by the cancel, not by the flow's 30 s timeout.
    assert!(matches!(result, Err(LoginError::Cancelled)), "{result:?}");
}

#[test]
fn code_reuse_is_rejected_by_the_token_endpoint() {
    let sb = sandbox(true);
    let (result, _) = run_login(&sb, "approve");
    let code = result.unwrap();
    let ep = api_client(&sb);
    let first = exchange(&ep, &code, now_unix()).expect("first exchange");
    match exchange(&ep, &code, now_unix()) {
        Err(LoginError::Exchange(TokenError::Rejected { error, .. })) => {
            assert_eq!(error, "invalid_grant")
        }
        other => panic!("{other:?}"),
    }
    // the server revoked what the code had produced (RFC 6749 §4.1.2)
    assert_eq!(stream_setup_status(&sb, &first.access_token), 401);
}

#[test]
fn wrong_verifier_is_rejected() {
    let sb = sandbox(true);
    let (result, _) = run_login(&sb, "approve");
    let mut code = result.unwrap();
    code.verifier = Secret::new("x".repeat(43));
    let e = exchange(&api_client(&sb), &code, now_unix()).unwrap_err();
    assert!(
        matches!(&e, LoginError::Exchange(TokenError::Rejected { error, .. }) if error == "invalid_grant"),
        "{e}"
    );
}

#[test]
fn timeout_ends_the_flow() {
    let sb = sandbox(false);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let mut cfg = login_config(&sb, browser("none", &log));
    cfg.timeout = Duration::from_millis(1500);
    let t = Instant::now();
    let flow = LoginFlow::start(cfg).unwrap();
    let port = flow.port();
    flow.open_browser().unwrap();
    let result = flow.wait(&Cancel::new());
    assert!(matches!(result, Err(LoginError::TimedOut)), "{result:?}");
    // Not before its time, counted from the start (a lower bound: load
    // cannot make it fail).
    assert!(t.elapsed() >= Duration::from_millis(1500), "{:?}", t.elapsed());
    assert!(wait_for_done(&log).contains("done none"));
    // the listener is closed once the flow ended
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(300));
}

#[test]
fn taken_port_falls_back_to_an_ephemeral_port() {
    let sb = sandbox(true);
    let blocker = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let taken = blocker.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let mut cfg = login_config(&sb, browser("approve", &log));
    cfg.port = taken;
    let flow = LoginFlow::start(cfg).unwrap();
    assert!(flow.port_fallback());
    assert_ne!(flow.port(), taken);
    assert_eq!(
        flow.redirect_uri(),
        format!("http://127.0.0.1:{}/velora/callback", flow.port())
    );
    let expected = flow.redirect_uri().to_string();
    flow.open_browser().unwrap();
    let code = flow.wait(&Cancel::new()).expect("code via the fallback port");
    assert_eq!(code.redirect_uri, expected);
    exchange(&api_client(&sb), &code, now_unix()).expect("exchange");
    drop(blocker);
}

#[test]
fn failing_browser_leaves_the_link_to_copy() {
    let sb = sandbox(true);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let flow = LoginFlow::start(login_config(&sb, browser("fail", &log))).unwrap();
    let err = flow.open_browser().unwrap_err();
    assert!(err.to_string().contains("exited with"), "{err}");
    assert!(!err.to_string().contains("state="), "{err}");
    // the user copies the link into a browser: here, the fake one in the
    // foreground
    let url = flow.authorize_url().to_string();
    let waiter = thread::spawn(move || flow.wait(&Cancel::new()));
    let status = std::process::Command::new(fake_browser())
        .arg(&url)
        .env("FAKE_BROWSER_FOREGROUND", "1")
        .env("FAKE_BROWSER_ACTION", "approve")
        .status()
        .unwrap();
    assert!(status.success());
    waiter.join().unwrap().expect("code");
}

/// Logs in through the sandbox and returns a session over a file store.
fn logged_in_session(sb: &Sandbox, dir: &Path) -> (Session, Client) {
    let (result, _) = run_login(sb, "approve");
    let code = result.unwrap();
    let ep = api_client(sb);
    let mut session = Session::open(TokenStore::file_only(dir), "sandbox").unwrap();
    session.complete_login(&ep, &code, now_unix()).unwrap();
    (session, ep)
}

#[test]
fn refresh_works_and_rotates() {
    let sb = sandbox(true);
    let dir = tempfile::tempdir().unwrap();
    let (mut session, ep) = logged_in_session(&sb, dir.path());
    let first: StoredTokens = session.tokens().unwrap().clone();
    let now = now_unix();
    // not due: same token, no request
    assert_eq!(session.access_token(&ep, now).unwrap(), first.access_token);
    // due (60 s before expiry)
    let due = first.expires_at.unwrap() - 60;
    let second = session.access_token(&ep, due).unwrap();
    assert_ne!(second, first.access_token);
    let stored = Session::open(TokenStore::file_only(dir.path()), "sandbox").unwrap();
    let stored = stored.tokens().unwrap();
    assert_eq!(stored.access_token, second);
    assert_ne!(stored.refresh_token, first.refresh_token, "rotated");
    assert_eq!(stream_setup_status(&sb, &second), 200);
    // the spent refresh token is refused by the server
    assert!(matches!(
        TokenEndpoint::refresh(&ep, first.refresh_token.as_ref().unwrap()),
        Err(TokenError::Rejected { .. })
    ));
    // after a 401 for the current token: refresh again
    let third = session.refresh_after_unauthorized(&second, &ep, now_unix()).unwrap();
    assert_ne!(third, second);
    assert_eq!(stream_setup_status(&sb, &third), 200);
}

#[test]
fn refresh_after_revoke_requires_login() {
    let sb = sandbox(true);
    let dir = tempfile::tempdir().unwrap();
    let (mut session, ep) = logged_in_session(&sb, dir.path());
    let access = session.tokens().unwrap().access_token.clone();
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/_sandbox/revoke", sb.base_url()))
        .json(&json!({"all": true}))
        .send()
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(stream_setup_status(&sb, &access), 401);
    let e = session
        .refresh_after_unauthorized(&access, &ep, now_unix())
        .unwrap_err();
    match &e {
        SessionError::LoginRequired(LoginRequired::RefreshRejected { error, .. }) => {
            assert_eq!(error, "invalid_grant")
        }
        other => panic!("{other}"),
    }
    assert!(e.is_login_required());
    assert!(e.to_string().starts_with("login required"), "{e}");
    assert!(!session.is_logged_in());
    let reopened = Session::open(TokenStore::file_only(dir.path()), "sandbox").unwrap();
    assert!(!reopened.is_logged_in(), "stored tokens are gone");
}

#[test]
fn logout_forgets_tokens() {
    let sb = sandbox(true);
    let dir = tempfile::tempdir().unwrap();
    let (mut session, _ep) = logged_in_session(&sb, dir.path());
    session.logout().unwrap();
    let reopened = Session::open(TokenStore::file_only(dir.path()), "sandbox").unwrap();
    assert!(!reopened.is_logged_in());
}

/// The real OS keyring. Runs only with `VELORA_TEST_KEYRING=1`; then a
/// missing keyring is a failure, not a skip. Use
/// `tests/scripts/with-keyring cargo test --test auth_flow keyring`.
#[test]
fn real_keyring_round_trip() {
    if std::env::var("VELORA_TEST_KEYRING").as_deref() != Ok("1") {
        eprintln!("real_keyring_round_trip: VELORA_TEST_KEYRING is not 1; not testing the OS keyring");
        return;
    }
    let service = format!("obs-velora-test-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::open_with_service(dir.path(), true, &service);
    assert_eq!(
        store.backend(),
        Backend::Keyring,
        "VELORA_TEST_KEYRING=1 but the keyring is unavailable: {:?}",
        store.fallback_reason()
    );
    let tokens = StoredTokens {
        access_token: Secret::new("vat_keyring_test_access"),
        refresh_token: Some(Secret::new("vrt_keyring_test_refresh")),
        expires_at: Some(now_unix() + 3600),
        scope: Some("stream:key stream:read stream:write user:read".into()),
        account_name: Some("Keyring Test".into()),
        obtained_at: Some(now_unix()),
    };
    let envs = ["production", "custom:https://velora.example:8443"];
    store.save(envs[0], &tokens).unwrap();
    let mut other = tokens.clone();
    other.access_token = Secret::new("vat_other");
    store.save(envs[1], &other).unwrap();
    assert_eq!(store.backend(), Backend::Keyring, "{:?}", store.fallback_reason());
    // in the keyring, as JSON, not in a file
    let raw = keyring::Entry::new(&service, envs[0])
        .unwrap()
        .get_password()
        .expect("entry in the Secret Service");
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["access_token"], "vat_keyring_test_access");
    assert!(!store.file_path(envs[0]).unwrap().exists());
    // a second store (next OBS start) reads it back
    let again = TokenStore::open_with_service(dir.path(), true, &service);
    assert_eq!(again.backend(), Backend::Keyring);
    assert_eq!(again.load(envs[0]).unwrap(), Some(tokens));
    assert_eq!(again.load(envs[1]).unwrap(), Some(other));
    // overwrite, delete
    let mut newer = again.load(envs[0]).unwrap().unwrap();
    newer.access_token = Secret::new("vat_newer");
    again.save(envs[0], &newer).unwrap();
    assert_eq!(store.load(envs[0]).unwrap(), Some(newer));
    for env in envs {
        again.delete(env).unwrap();
        assert_eq!(again.load(env).unwrap(), None);
        assert!(matches!(
            keyring::Entry::new(&service, env).unwrap().get_password(),
            Err(keyring::Error::NoEntry)
        ));
    }
    again.delete(envs[0]).unwrap();
}
