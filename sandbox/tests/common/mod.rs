//! Shared helpers for the sandbox integration tests.
#![allow(dead_code)]

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use reqwest::header::LOCATION;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use velora_sandbox::{Config, Sandbox};

pub const CLIENT_ID: &str = "obs-velora-test";
pub const REDIRECT: &str = "http://127.0.0.1:43210/callback";
pub const ALL_SCOPES: &str = "stream:key stream:read stream:write user:read";

pub fn quiet(cfg: Config) -> Config {
    Config {
        log_requests: false,
        ..cfg
    }
}

pub fn start(cfg: Config) -> Sandbox {
    Sandbox::start(quiet(cfg)).expect("sandbox starts")
}

pub fn start_auto() -> Sandbox {
    start(Config {
        auto_approve: true,
        ..Config::default()
    })
}

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// (verifier, S256 challenge)
pub fn pkce() -> (String, String) {
    use rand::Rng;
    let verifier: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_url(
    sb: &Sandbox,
    client_id: &str,
    redirect: &str,
    scope: &str,
    challenge: &str,
    state: &str,
) -> String {
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    format!("{}/api/developer/oauth/authorize?{q}", sb.base_url())
}

/// Query parameters of a redirect Location.
pub fn location_params(resp: &Response) -> HashMap<String, String> {
    assert_eq!(resp.status(), 302, "expected a redirect");
    let loc = resp.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(loc.starts_with(REDIRECT) || loc.starts_with("http://"), "{loc}");
    let q = loc.split_once('?').map(|x| x.1).unwrap_or("");
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap()
        .into_iter()
        .collect()
}

/// Run the authorize step against an auto-approving sandbox; returns the code.
pub fn get_code(sb: &Sandbox, scope: &str, challenge: &str) -> String {
    let resp = client()
        .get(authorize_url(sb, CLIENT_ID, REDIRECT, scope, challenge, "st4te"))
        .send()
        .unwrap();
    let p = location_params(&resp);
    assert_eq!(p["state"], "st4te");
    p["code"].clone()
}

/// Consent-page flow (no auto-approve): GET the page, POST the decision.
pub fn consent(sb: &Sandbox, scope: &str, challenge: &str, decision: &str, user: &str) -> Response {
    let c = client();
    let page = c
        .get(authorize_url(sb, CLIENT_ID, REDIRECT, scope, challenge, "st4te"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("request id in page") + marker.len();
    let id = &html[start..start + html[start..].find('"').unwrap()];
    c.post(format!("{}/api/developer/oauth/authorize/decision", sb.base_url()))
        .form(&[("request_id", id), ("decision", decision), ("user", user)])
        .send()
        .unwrap()
}

pub fn exchange(sb: &Sandbox, code: &str, verifier: &str) -> Response {
    client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .json(&json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "code_verifier": verifier,
        }))
        .send()
        .unwrap()
}

/// Full PKCE dance on an auto-approving sandbox; returns the token response JSON.
pub fn login(sb: &Sandbox, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let code = get_code(sb, scope, &challenge);
    let resp = exchange(sb, &code, &verifier);
    assert_eq!(resp.status(), 200);
    resp.json().unwrap()
}

pub fn token(sb: &Sandbox, scope: &str) -> String {
    login(sb, scope)["access_token"].as_str().unwrap().to_string()
}

pub fn api_get(sb: &Sandbox, path: &str, token: &str) -> Response {
    client()
        .get(format!("{}{path}", sb.base_url()))
        .bearer_auth(token)
        .send()
        .unwrap()
}

pub fn token_request(sb: &Sandbox, body: Value) -> Response {
    client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .json(&body)
        .send()
        .unwrap()
}

pub fn control(sb: &Sandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = client().request(method, format!("{}/_sandbox/{path}", sb.base_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().unwrap();
    assert!(resp.status().is_success(), "control {path}: {}", resp.status());
    if resp.status() == 204 {
        Value::Null
    } else {
        resp.json().unwrap()
    }
}

pub fn state(sb: &Sandbox) -> Value {
    control(sb, reqwest::Method::GET, "state", None)
}

pub fn hook(sb: &Sandbox, path: &str, key: &str) -> u16 {
    client()
        .post(format!("{}/ingest/{path}", sb.base_url()))
        .form(&[
            ("call", "publish"),
            ("app", "live"),
            ("name", key),
            ("addr", "127.0.0.1"),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

pub fn header_u64(resp: &Response, name: &str) -> u64 {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}
