//! Contract tests: `velora::api::Client` against the in-process Velora
//! sandbox. Every documented request/response example round-trips through
//! the client, and every error path maps to the right `ApiError`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use oauth2::PkceCodeChallenge;
use serde_json::{json, Value};
use velora::api::{ApiConfig, ApiError, BudgetConfig, Client, NetworkKind, RetryPolicy, StreamInfoUpdate};
use velora::config::Endpoints;
use velora::Secret;
use velora_sandbox::{Config, Sandbox};

const CLIENT_ID: &str = "obs-velora-contract";
const ALL_SCOPES: &str = "stream:key stream:read stream:write user:read";

fn start() -> Sandbox {
    Sandbox::start(Config {
        auto_approve: true,
        log_requests: false,
        ..Config::default()
    })
    .expect("sandbox starts")
}

fn endpoints(sb: &Sandbox) -> Endpoints {
    Endpoints::for_api_base(&sb.base_url(), CLIENT_ID, None).expect("loopback endpoints")
}

/// A client whose own budget never gets in the way.
fn client_with(sb: &Sandbox, tweak: impl FnOnce(&mut ApiConfig)) -> Client {
    let mut cfg = ApiConfig::new(endpoints(sb));
    cfg.budget = BudgetConfig::UNLIMITED;
    tweak(&mut cfg);
    Client::new(cfg).expect("client")
}

fn client(sb: &Sandbox) -> Client {
    client_with(sb, |_| {})
}

fn raw() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn control(sb: &Sandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = raw().request(method, format!("{}/_sandbox/{path}", sb.base_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().expect("control request");
    assert!(resp.status().is_success(), "control {path}: {}", resp.status());
    resp.json().expect("control JSON")
}

fn faults(sb: &Sandbox, body: Value) {
    control(sb, reqwest::Method::POST, "faults", Some(body));
}

/// `(method, path, status)` of every API request the sandbox saw.
fn requests(sb: &Sandbox) -> Vec<(String, String, u16)> {
    control(sb, reqwest::Method::GET, "requests", None)["requests"]
        .as_array()
        .expect("requests array")
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap() as u16,
            )
        })
        .collect()
}

fn requests_to(sb: &Sandbox, path: &str) -> Vec<(String, u16)> {
    requests(sb)
        .into_iter()
        .filter(|(_, p, _)| p == path)
        .map(|(m, _, s)| (m, s))
        .collect()
}

fn demo_user_state(sb: &Sandbox) -> Value {
    let state = control(sb, reqwest::Method::GET, "state", None);
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == "user_demo")
        .cloned()
        .expect("demo user in state")
}

/// Runs the authorization request (auto-approved) and returns the code and
/// the PKCE verifier.
fn authorize(sb: &Sandbox, scope: &str, login_hint: Option<&str>, redirect: &str) -> (Secret, Secret) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut url = url::Url::parse(&format!("{}/api/developer/oauth/authorize", sb.base_url())).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", scope)
            .append_pair("state", "st4te")
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if let Some(h) = login_hint {
            q.append_pair("login_hint", h);
        }
    }
    let resp = raw().get(url).send().expect("authorize");
    assert_eq!(resp.status(), 302, "authorize redirects");
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(redirect), "{location}");
    let loc = url::Url::parse(&location).unwrap();
    let param = |k: &str| loc.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some("st4te"));
    let code = param("code").expect("code in redirect");
    (Secret::new(code), Secret::new(verifier.secret().as_str()))
}

const REDIRECT: &str = "http://127.0.0.1:38287/velora/callback";

/// Logs in through the client; returns (access, refresh).
fn login(sb: &Sandbox, c: &Client, scope: &str, hint: Option<&str>) -> (Secret, Secret) {
    let (code, verifier) = authorize(sb, scope, hint, REDIRECT);
    let t = c.exchange_code(&code, REDIRECT, &verifier).expect("code exchange");
    (t.access_token, t.refresh_token.expect("refresh token"))
}

fn token(sb: &Sandbox, c: &Client) -> Secret {
    login(sb, c, ALL_SCOPES, None).0
}

// ---------------------------------------------------------------------------
// Documented examples

#[test]
fn exchange_code_and_refresh_round_trip() {
    let sb = start();
    let c = client(&sb);
    let (code, verifier) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    let t = c.exchange_code(&code, REDIRECT, &verifier).unwrap();
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.expires_in, Some(3600));
    assert!(t.access_token.expose().starts_with("vat_"));
    let mut scopes = t.scopes();
    scopes.sort();
    assert_eq!(scopes, vec!["stream:key", "stream:read", "stream:write", "user:read"]);
    let refresh = t.refresh_token.clone().expect("refresh token issued");
    // Nothing secret in Debug.
    let dbg = format!("{t:?}");
    assert!(!dbg.contains(t.access_token.expose()) && !dbg.contains(refresh.expose()));
    // The token works.
    assert_eq!(c.user(&t.access_token).unwrap().id, "user_demo");

    // The code is single use: OAuth invalid_grant.
    let again = c.exchange_code(&code, REDIRECT, &verifier).unwrap_err();
    assert!(
        matches!(&again, ApiError::OAuth { error, .. } if error == "invalid_grant"),
        "{again:?}"
    );
    assert!(!again.to_string().contains(code.expose()));

    // Refresh (rotating): a new pair; the old refresh token is spent.
    let sb2 = start();
    let c2 = client(&sb2);
    let (access, refresh) = login(&sb2, &c2, ALL_SCOPES, None);
    let r = c2.refresh(&refresh).unwrap();
    assert_ne!(r.access_token, access);
    assert!(r.refresh_token.is_some());
    assert!(c2.stream_info(&r.access_token).is_ok());
    let spent = c2.refresh(&refresh).unwrap_err();
    assert!(
        matches!(&spent, ApiError::OAuth { error, .. } if error == "invalid_grant"),
        "{spent:?}"
    );
    assert!(spent.needs_login());
    assert!(!spent.to_string().contains(refresh.expose()));
}

#[test]
fn wrong_verifier_is_an_oauth_error() {
    let sb = start();
    let c = client(&sb);
    let (code, _) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    let wrong = Secret::new("x".repeat(64));
    let e = c.exchange_code(&code, REDIRECT, &wrong).unwrap_err();
    match &e {
        ApiError::OAuth { error, description } => {
            assert_eq!(error, "invalid_grant");
            assert!(description.as_deref().unwrap_or("").contains("PKCE"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains(code.expose()));
}

#[test]
fn client_implements_the_token_endpoint() {
    use velora::auth::{TokenEndpoint, TokenError};
    let sb = start();
    let c = client(&sb);
    let (code, verifier) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    let g = TokenEndpoint::exchange_code(&c, &code, REDIRECT, &verifier).unwrap();
    assert_eq!(g.expires_in, Some(3600));
    let rt = g.refresh_token.clone().unwrap();
    let g2 = TokenEndpoint::refresh(&c, &rt).unwrap();
    assert_ne!(g2.access_token, g.access_token);
    match TokenEndpoint::refresh(&c, &rt) {
        Err(TokenError::Rejected { error, .. }) => assert_eq!(error, "invalid_grant"),
        other => panic!("{other:?}"),
    }
    // A 5xx keeps the session (Unavailable, not Rejected).
    faults(
        &sb,
        json!({"fail": {"count": 1, "status": 503, "path": "/api/developer/oauth/token"}}),
    );
    let rt2 = g2.refresh_token.clone().unwrap();
    assert!(matches!(
        TokenEndpoint::refresh(&c, &rt2),
        Err(TokenError::Unavailable(_))
    ));
    assert!(TokenEndpoint::refresh(&c, &rt2).is_ok());
}

#[test]
fn stream_setup_round_trip() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let s = c.stream_setup(&tok).unwrap();
    let state = demo_user_state(&sb);
    assert_eq!(s.stream_key.expose(), state["streamKey"].as_str().unwrap());
    assert!(s.stream_key.expose().starts_with("live_"));
    assert_eq!(s.rtmp_url, "rtmp://127.0.0.1:1935/live");
    assert_eq!(s.srt_url.as_deref(), Some("srt://127.0.0.1:9999"));
    assert_eq!(
        s.whip_url.as_ref().unwrap().expose(),
        format!("http://127.0.0.1:8889/live/{}/whip", s.stream_key.expose())
    );
    assert_eq!(s.ingest_server.as_deref(), Some("127.0.0.1"));
    let dbg = format!("{s:?}");
    assert!(!dbg.contains(s.stream_key.expose()), "{dbg}");
}

#[test]
fn stream_info_get_and_put_round_trip() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);

    let info = c.stream_info(&tok).unwrap();
    assert_eq!(info.title, "Building an awesome project!");
    assert_eq!(info.category_slug, "software-and-game-development");
    assert_eq!(info.category_name, "Software & Game Development");
    assert_eq!(info.tags, vec!["rust", "obs"]);
    assert!(!info.is_live);
    assert_eq!(info.viewer_count, 0);
    assert_eq!(info.started_at, None);

    // The documented PUT example.
    let update = StreamInfoUpdate {
        title: Some("Building a chat bot with Node.js".into()),
        category_slug: Some("software-and-game-development".into()),
        tags: None,
    };
    let r = c.update_stream_info(&tok, &update).unwrap();
    assert!(r.success);
    assert_eq!(r.message.as_deref(), Some("Stream info updated"));
    let info = c.stream_info(&tok).unwrap();
    assert_eq!(info.title, "Building a chat bot with Node.js");
    // Tags untouched: `None` fields are not sent.
    assert_eq!(info.tags, vec!["rust", "obs"]);

    // Only tags and category.
    let update = StreamInfoUpdate {
        category_slug: Some("music".into()),
        tags: Some(vec!["synth".into(), "live".into()]),
        ..Default::default()
    };
    assert!(c.update_stream_info(&tok, &update).unwrap().success);
    let info = c.stream_info(&tok).unwrap();
    assert_eq!(info.title, "Building a chat bot with Node.js");
    assert_eq!(info.category_slug, "music");
    assert_eq!(info.category_name, "Music");
    assert_eq!(info.tags, vec!["synth", "live"]);

    // Live status.
    control(
        &sb,
        reqwest::Method::POST,
        "live",
        Some(json!({"live": true, "viewerCount": 142})),
    );
    let info = c.stream_info(&tok).unwrap();
    assert!(info.is_live);
    assert_eq!(info.viewer_count, 142);
    assert!(info.started_at.as_deref().unwrap().ends_with('Z'));

    // The PUT bodies were what the docs show.
    let puts = requests_to(&sb, "/api/integrations/oauth/stream/info")
        .into_iter()
        .filter(|(m, _)| m == "PUT")
        .count();
    assert_eq!(puts, 2);
}

#[test]
fn categories_round_trip() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let cats = c.categories(&tok).unwrap();
    assert_eq!(cats.len(), 8);
    assert_eq!(cats[0].slug, "just-chatting");
    assert_eq!(cats[0].name, "Just Chatting");
    assert_eq!(
        cats[0].image_url,
        Some(format!("{}/category-images/just-chatting.png", sb.base_url()))
    );
    let music = cats.iter().find(|c| c.slug == "music").unwrap();
    assert_eq!(music.image_url, None);
    let slugs: HashSet<&str> = cats.iter().map(|c| c.slug.as_str()).collect();
    assert_eq!(slugs.len(), 8);
}

#[test]
fn regenerate_key_round_trip() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let old = c.stream_setup(&tok).unwrap().stream_key;
    let new = c.regenerate_key(&tok).unwrap();
    assert_ne!(old, new);
    assert!(new.expose().starts_with("live_"));
    assert_eq!(format!("{new:?}"), "[redacted]");
    assert_eq!(c.stream_setup(&tok).unwrap().stream_key, new);
    // Documented as a GET.
    assert_eq!(
        requests_to(&sb, "/api/integrations/oauth/stream/key/regenerate"),
        vec![("GET".to_string(), 200)]
    );
}

#[test]
fn user_profile() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let u = c.user(&tok).unwrap();
    assert_eq!(u.id, "user_demo");
    assert_eq!(u.username, "demo_streamer");
    assert_eq!(u.display_name, "Demo Streamer");
}

#[test]
fn live_streams_pagination_walks_all_pages() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);

    // One page with everything.
    let all = c.live_streams(&tok, None, None).unwrap();
    assert_eq!(all.streams.len(), 7);
    assert_eq!(all.cursor, None);
    let first = &all.streams[0];
    assert!(!first.id.is_empty() && !first.username.is_empty() && !first.title.is_empty());
    assert!(first.thumbnail_url.as_deref().unwrap().ends_with(".svg"));
    assert!(first.started_at.is_some());

    // Pages of 3: 3 + 3 + 1, no duplicates, same order.
    let mut cursor: Option<String> = None;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let page = c.live_streams(&tok, cursor.as_deref(), Some(3)).unwrap();
        pages += 1;
        assert!(page.streams.len() <= 3);
        ids.extend(page.streams.iter().map(|s| s.id.clone()));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = all.streams.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, expected);

    // A live user shows up.
    control(&sb, reqwest::Method::POST, "live", Some(json!({"live": true})));
    let all = c.live_streams(&tok, None, Some(100)).unwrap();
    assert_eq!(all.streams.len(), 8);
    assert!(all.streams.iter().any(|s| s.user_id == "user_demo"));

    // A bad cursor is a 400 and the cursor is not echoed by the client.
    let e = c.live_streams(&tok, Some("!!not-a-cursor!!"), None).unwrap_err();
    assert!(matches!(e, ApiError::Invalid { status: 400, .. }), "{e:?}");
}

// ---------------------------------------------------------------------------
// Error paths

#[test]
fn unauthorized_after_token_expiry_then_refresh_works() {
    let sb = start();
    let c = client(&sb);
    let (access, refresh) = login(&sb, &c, ALL_SCOPES, None);
    control(&sb, reqwest::Method::POST, "expire-tokens", None);
    let e = c.stream_info(&access).unwrap_err();
    assert_eq!(e, ApiError::Unauthorized);
    assert!(e.needs_login());
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains(access.expose()));
    // Not retried: exactly one 401.
    let infos = requests_to(&sb, "/api/integrations/oauth/stream/info");
    assert_eq!(infos, vec![("GET".to_string(), 401)]);
    let fresh = c.refresh(&refresh).unwrap().access_token;
    assert!(c.stream_info(&fresh).is_ok());
}

#[test]
fn unauthorized_after_revocation() {
    let sb = start();
    let c = client(&sb);
    let (access, refresh) = login(&sb, &c, ALL_SCOPES, None);
    control(&sb, reqwest::Method::POST, "revoke", Some(json!({"all": true})));
    assert_eq!(c.stream_setup(&access).unwrap_err(), ApiError::Unauthorized);
    assert_eq!(c.user(&access).unwrap_err(), ApiError::Unauthorized);
    let e = c.refresh(&refresh).unwrap_err();
    assert!(
        matches!(&e, ApiError::OAuth { error, .. } if error == "invalid_grant"),
        "{e:?}"
    );
    assert!(e.needs_login());
    // A bogus token too.
    assert_eq!(
        c.stream_info(&Secret::new("vat_bogus")).unwrap_err(),
        ApiError::Unauthorized
    );
}

#[test]
fn forbidden_without_scope() {
    let sb = start();
    let c = client(&sb);
    let (tok, _) = login(&sb, &c, "stream:read user:read", None);
    // Reading works...
    assert!(c.stream_info(&tok).is_ok());
    // ...writing needs stream:write...
    let e = c
        .update_stream_info(
            &tok,
            &StreamInfoUpdate {
                title: Some("nope".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    match &e {
        ApiError::Forbidden { message } => assert!(message.contains("stream:write"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
    // ...and the key needs stream:key.
    match c.stream_setup(&tok).unwrap_err() {
        ApiError::Forbidden { message } => assert!(message.contains("stream:key"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Not retried.
    assert_eq!(
        requests_to(&sb, "/api/integrations/oauth/stream/setup"),
        vec![("GET".to_string(), 403)]
    );
    assert_eq!(demo_user_state(&sb)["title"], "Building an awesome project!");
}

#[test]
fn forbidden_for_a_user_without_streaming() {
    let sb = start();
    let c = client(&sb);
    let (tok, _) = login(&sb, &c, ALL_SCOPES, Some("no_stream_user"));
    assert_eq!(c.user(&tok).unwrap().id, "user_nostream");
    for e in [
        c.stream_setup(&tok).unwrap_err(),
        c.stream_info(&tok).unwrap_err(),
        c.regenerate_key(&tok).unwrap_err(),
    ] {
        match &e {
            ApiError::Forbidden { message } => {
                assert!(message.contains("Streaming is not enabled"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(velora::errors::describe(&e)
            .info
            .message
            .contains("Streaming is not enabled"));
    }
}

#[test]
fn client_credentials_token_is_forbidden_on_stream_endpoints() {
    let sb = start();
    let c = client(&sb);
    let resp: Value = raw()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "scope": ALL_SCOPES,
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let tok = Secret::new(resp["access_token"].as_str().expect("access token"));
    for e in [
        c.stream_setup(&tok).unwrap_err(),
        c.stream_info(&tok).unwrap_err(),
        c.categories(&tok).unwrap_err(),
    ] {
        assert!(matches!(e, ApiError::Forbidden { .. }), "{e:?}");
    }
    // /api/streams only needs a valid token.
    assert_eq!(c.live_streams(&tok, None, None).unwrap().streams.len(), 7);
}

#[test]
fn unknown_category_is_not_found() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let e = c
        .update_stream_info(
            &tok,
            &StreamInfoUpdate {
                category_slug: Some("no-such-category".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        e,
        ApiError::NotFound {
            message: "Category not found".into()
        }
    );
    assert_eq!(
        c.stream_info(&tok).unwrap().category_slug,
        "software-and-game-development"
    );
}

#[test]
fn invalid_requests_are_400_and_422() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    // 141 characters, sent as is (the client does not pre-validate).
    let long = StreamInfoUpdate {
        title: Some("a".repeat(141)),
        ..Default::default()
    };
    assert!(long.validate().is_err());
    let e = c.update_stream_info(&tok, &long).unwrap_err();
    match &e {
        ApiError::Invalid { status, message } => {
            assert_eq!(*status, 400);
            assert!(message.contains("140"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
    // Exactly 140 is fine.
    let ok = StreamInfoUpdate {
        title: Some("b".repeat(140)),
        ..Default::default()
    };
    assert!(c.update_stream_info(&tok, &ok).is_ok());
    // Too many tags: 422.
    let tags = StreamInfoUpdate {
        tags: Some((0..11).map(|i| format!("t{i}")).collect()),
        ..Default::default()
    };
    assert!(matches!(
        c.update_stream_info(&tok, &tags).unwrap_err(),
        ApiError::Invalid { status: 422, .. }
    ));
    // Not retried: one PUT per call.
    let puts: Vec<u16> = requests_to(&sb, "/api/integrations/oauth/stream/info")
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(puts, vec![400, 200, 422]);
}

#[test]
fn rate_limit_storm_is_rate_limited_and_honoured() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    faults(&sb, json!({"rateLimitStorm": {"count": 1, "retryAfter": 2}}));
    let e = c.stream_info(&tok).unwrap_err();
    let wait = match &e {
        ApiError::RateLimited { retry_after, .. } => *retry_after,
        other => panic!("{other:?}"),
    };
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(2), "{wait:?}");
    assert!(e.is_retryable());
    let sent = requests(&sb).len();
    // Within the pause the client does not send at all.
    let e2 = c.categories(&tok).unwrap_err();
    assert!(matches!(e2, ApiError::RateLimited { .. }), "{e2:?}");
    assert!(e2.retry_after().unwrap() <= wait);
    assert_eq!(requests(&sb).len(), sent, "nothing sent while paused");
    let snap = c.rate_limit();
    assert!(snap.blocked_for.is_some());
    assert_eq!(snap.remaining, Some(0));
    // After the pause it works again.
    std::thread::sleep(e2.retry_after().unwrap() + Duration::from_millis(50));
    assert!(c.stream_info(&tok).is_ok());
    assert_eq!(c.rate_limit().blocked_for, None);
}

#[test]
fn server_rate_limit_remaining_zero_stops_the_client() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    // The sandbox profile allows 30 per minute per token.
    for i in 0..30 {
        c.stream_info(&tok).unwrap_or_else(|e| panic!("request {i}: {e:?}"));
    }
    let snap = c.rate_limit();
    assert_eq!(snap.limit, Some(30));
    assert_eq!(snap.remaining, Some(0));
    assert!(snap.reset_in.is_some());
    assert!(snap.blocked_for.is_some());
    // The 31st is refused by the client, not by the server.
    let e = c.stream_info(&tok).unwrap_err();
    match &e {
        ApiError::RateLimited { retry_after, .. } => {
            assert!(*retry_after > Duration::ZERO && *retry_after <= Duration::from_secs(61))
        }
        other => panic!("{other:?}"),
    }
    let log = requests_to(&sb, "/api/integrations/oauth/stream/info");
    assert_eq!(log.len(), 30);
    assert!(log.iter().all(|(_, s)| *s == 200), "no 429 was provoked");
}

#[test]
fn sandbox_budget_is_20_requests_per_minute_and_says_it_is_ours() {
    let sb = start();
    let c = client_with(&sb, |cfg| cfg.budget = BudgetConfig::default());
    assert_eq!(c.rate_limit().budget_remaining, 20);
    let tok = token(&sb, &c); // 1
    for _ in 0..19 {
        c.stream_info(&tok).unwrap(); // 2..=20
    }
    assert_eq!(c.rate_limit().budget_remaining, 0);
    let e = c.stream_info(&tok).unwrap_err();
    match &e {
        // The plugin's own pacing, not Velora's: it says so.
        ApiError::Paced { retry_after } => {
            assert!(*retry_after > Duration::from_secs(50), "{retry_after:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(velora::errors::describe(&e).info.kind, velora::status::ErrorKind::Paced);
    let sent = requests(&sb)
        .into_iter()
        .filter(|(_, p, _)| p != "/api/developer/oauth/authorize")
        .count();
    assert_eq!(sent, 20, "the 21st request was not sent");
}

#[test]
fn server_error_is_retried_then_succeeds() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    faults(&sb, json!({"fail": {"count": 1, "status": 500}}));
    let t0 = Instant::now();
    let info = c.stream_info(&tok).unwrap();
    assert_eq!(info.title, "Building an awesome project!");
    assert!(t0.elapsed() >= Duration::from_millis(125), "backed off");
    assert_eq!(
        requests_to(&sb, "/api/integrations/oauth/stream/info"),
        vec![("GET".to_string(), 500), ("GET".to_string(), 200)]
    );
    // The idempotent PUT is retried too.
    faults(&sb, json!({"fail": {"count": 1, "status": 503}}));
    let r = c
        .update_stream_info(
            &tok,
            &StreamInfoUpdate {
                title: Some("Retried".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(r.success);
    assert_eq!(c.stream_info(&tok).unwrap().title, "Retried");
}

#[test]
fn persistent_server_error_gives_up_after_two_retries() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    faults(&sb, json!({"fail": {"count": 100, "status": 500}}));
    let t0 = Instant::now();
    let e = c.categories(&tok).unwrap_err();
    let elapsed = t0.elapsed();
    match &e {
        ApiError::Server { status, message } => {
            assert_eq!(*status, 500);
            assert!(message.contains("Injected fault"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    let log = requests_to(&sb, "/api/integrations/oauth/stream/categories");
    assert_eq!(log.len(), 3, "1 attempt + 2 retries: {log:?}");
    assert!(log.iter().all(|(_, s)| *s == 500));
}

#[test]
fn key_regeneration_is_never_retried() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let before = demo_user_state(&sb)["streamKey"].as_str().unwrap().to_string();
    faults(
        &sb,
        json!({"fail": {"count": 1, "status": 500, "path": "/api/integrations/oauth/stream/key/regenerate"}}),
    );
    let e = c.regenerate_key(&tok).unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 500, .. }), "{e:?}");
    assert_eq!(
        requests_to(&sb, "/api/integrations/oauth/stream/key/regenerate"),
        vec![("GET".to_string(), 500)]
    );
    assert_eq!(demo_user_state(&sb)["streamKey"].as_str().unwrap(), before);
}

#[test]
fn token_requests_are_never_retried() {
    let sb = start();
    let c = client(&sb);
    let (code, verifier) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    faults(
        &sb,
        json!({"fail": {"count": 1, "status": 502, "path": "/api/developer/oauth/token"}}),
    );
    let e = c.exchange_code(&code, REDIRECT, &verifier).unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 502, .. }), "{e:?}");
    assert_eq!(
        requests_to(&sb, "/api/developer/oauth/token"),
        vec![("POST".to_string(), 502)]
    );
    // The fault hit before the code was consumed: the next try works.
    assert!(c.exchange_code(&code, REDIRECT, &verifier).is_ok());
}

#[test]
fn every_shape_of_broken_answer_is_a_clear_error() {
    let sb = start();
    let c = client_with(&sb, |cfg| cfg.retry = RetryPolicy::NONE);
    let tok = token(&sb, &c);
    for kind in ["truncated", "garbage", "wrongTypes"] {
        faults(&sb, json!({"malformed": {"count": 1, "kind": kind}}));
        let e = c.stream_info(&tok).unwrap_err();
        assert!(matches!(e, ApiError::InvalidResponse { .. }), "{kind}: {e:?}");
    }
    // A 3 MiB body (no Content-Length) is cut off at the cap, not read whole.
    faults(&sb, json!({"malformed": {"count": 1, "kind": "huge"}}));
    match c.stream_info(&tok).unwrap_err() {
        ApiError::InvalidResponse { description } => assert!(description.contains("too large"), "{description}"),
        other => panic!("{other:?}"),
    }
    // A 429 that says nothing about when to retry: the client pauses anyway.
    faults(&sb, json!({"rateLimitStorm": {"count": 1, "kind": "bare"}}));
    match c.stream_info(&tok).unwrap_err() {
        ApiError::RateLimited { retry_after, .. } => assert!(retry_after >= Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(c.stream_info(&tok), Err(ApiError::RateLimited { .. })),
        "still paused"
    );
}

#[test]
fn a_proxy_page_at_the_token_endpoint_never_ends_the_session() {
    use velora::auth::{TokenEndpoint, TokenError};
    let sb = start();
    let c = client(&sb);
    let (code, verifier) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    let t = c.exchange_code(&code, REDIRECT, &verifier).unwrap();
    let refresh = t.refresh_token.unwrap();
    for status in [400, 401, 403] {
        faults(
            &sb,
            json!({"fail": {"count": 1, "status": status, "kind": "html", "path": "/api/developer/oauth/token"}}),
        );
        match TokenEndpoint::refresh(&c, &refresh) {
            Err(TokenError::Unavailable(_)) => {}
            other => panic!("{status}: {other:?}"),
        }
    }
    // The real refusal still ends it.
    control(&sb, reqwest::Method::POST, "revoke", Some(json!({"all": true})));
    match TokenEndpoint::refresh(&c, &refresh) {
        Err(TokenError::Rejected { error, .. }) => assert_eq!(error, "invalid_grant"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_json_is_invalid_response_without_the_body() {
    let sb = start();
    let c = client(&sb);
    let tok = token(&sb, &c);
    let key = demo_user_state(&sb)["streamKey"].as_str().unwrap().to_string();
    faults(&sb, json!({"malformed": {"count": 1}}));
    let e = c.stream_setup(&tok).unwrap_err();
    match &e {
        ApiError::InvalidResponse { description } => {
            assert!(description.starts_with("stream setup:"), "{description}");
        }
        other => panic!("{other:?}"),
    }
    for text in [
        e.to_string(),
        format!("{e:?}"),
        velora::errors::describe(&e).info.message,
    ] {
        assert!(!text.contains(&key), "{text}");
        assert!(!text.contains("live_"), "{text}");
    }
    // Not retried.
    assert_eq!(requests_to(&sb, "/api/integrations/oauth/stream/setup").len(), 1);
    // Malformed token response.
    let (code, verifier) = authorize(&sb, ALL_SCOPES, None, REDIRECT);
    faults(&sb, json!({"malformed": {"count": 1}}));
    let e = c.exchange_code(&code, REDIRECT, &verifier).unwrap_err();
    assert!(matches!(e, ApiError::InvalidResponse { .. }), "{e:?}");
    assert!(!e.to_string().contains("vat_") && !e.to_string().contains("vrt_"));
}

#[test]
fn slow_server_times_out() {
    let sb = start();
    let c = client_with(&sb, |cfg| {
        cfg.timeout = Duration::from_millis(500);
        cfg.retry = RetryPolicy::NONE;
    });
    let tok = token(&sb, &c);
    faults(&sb, json!({"latencyMs": 1500}));
    // An error at all, and a timeout: the client did not wait for the
    // answer that comes after 1.5 s.
    let e = c.live_streams(&tok, Some("c2VjcmV0LWN1cnNvcg"), Some(5)).unwrap_err();
    match &e {
        ApiError::Network { kind, message } => {
            assert_eq!(*kind, NetworkKind::Timeout);
            assert!(message.contains("/api/streams"), "{message}");
            // Never the query or a header.
            assert!(!message.contains("c2VjcmV0"), "{message}");
            assert!(!message.contains('?'), "{message}");
            assert!(!message.contains(tok.expose()), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    control(&sb, reqwest::Method::DELETE, "faults", None);
    assert!(c.stream_info(&tok).is_ok());
}

#[test]
fn a_stalled_request_ends_the_moment_it_is_cancelled() {
    let sb = start();
    let cancel = velora::cancel::Cancel::new();
    let c = client_with(&sb, |cfg| cfg.cancel = cancel.clone());
    let tok = token(&sb, &c);
    // A stalled server (a black-holed connection, a hung proxy).
    faults(&sb, json!({"latencyMs": 60000}));
    let c2 = c.clone();
    let waiter = std::thread::spawn(move || {
        let t0 = Instant::now();
        (c2.stream_info(&tok), t0)
    });
    std::thread::sleep(Duration::from_millis(300));
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (r, _) = waiter.join().unwrap();
    assert!(matches!(r, Err(ApiError::Cancelled)), "{r:?}");
    // Ended by the cancel: the server answers after a minute and the
    // client's own timeout is 15 s (a margin, not a speed check).
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(10),
        "{:?}",
        cancelled_at.elapsed()
    );
    // Once cancelled, nothing more is sent.
    let before = requests(&sb).len();
    assert!(matches!(c.categories(&Secret::new("x")), Err(ApiError::Cancelled)));
    assert_eq!(requests(&sb).len(), before);
    control(&sb, reqwest::Method::DELETE, "faults", None);
}

#[test]
fn a_click_outranks_background_work() {
    let sb = start();
    // The sandbox's documented 30/min: 20 for us, 10 of them for background work.
    let c = client_with(&sb, |cfg| cfg.budget = BudgetConfig::default());
    let tok = token(&sb, &c); // 1 (a click: the login)
    let bg = c.background();
    let mut background = 0;
    loop {
        match bg.stream_info(&tok) {
            Ok(_) => background += 1,
            Err(ApiError::Paced { retry_after }) => {
                assert!(retry_after > Duration::from_secs(50), "{retry_after:?}");
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(background, 10);
    // Polling is paused, but the streamer's clicks still go through.
    for _ in 0..9 {
        c.stream_setup(&tok).unwrap();
    }
    assert!(matches!(c.stream_info(&tok), Err(ApiError::Paced { .. })));
}

#[test]
fn slow_server_retried_gets_bounded() {
    // Default retries on a GET that keeps timing out: 3 attempts, then Network.
    let sb = start();
    let c = client_with(&sb, |cfg| cfg.timeout = Duration::from_millis(300));
    let tok = token(&sb, &c);
    faults(&sb, json!({"latencyMs": 1000}));
    let t0 = Instant::now();
    let e = c.user(&tok).unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(
            e,
            ApiError::Network {
                kind: NetworkKind::Timeout,
                ..
            }
        ),
        "{e:?}"
    );
    // 3 × 300 ms + at most 1.25 s of backoff.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[test]
fn connection_refused_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ep = Endpoints::for_api_base(&format!("http://127.0.0.1:{port}"), CLIENT_ID, None).unwrap();
    let mut cfg = ApiConfig::new(ep);
    cfg.retry = RetryPolicy::NONE;
    let c = Client::new(cfg).unwrap();
    let tok = Secret::new("vat_never_sent_anywhere");
    let e = c.stream_info(&tok).unwrap_err();
    match &e {
        ApiError::Network { kind, message } => {
            assert_eq!(*kind, NetworkKind::ConnectionRefused, "{message}");
            assert!(
                message.starts_with("GET /api/integrations/oauth/stream/info"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    assert!(!e.to_string().contains(tok.expose()));
    // The token endpoint too.
    let e = c
        .exchange_code(&Secret::new("code123456"), REDIRECT, &Secret::new("verifier123456"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            ApiError::Network {
                kind: NetworkKind::ConnectionRefused,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("code123456") && !e.to_string().contains("verifier123456"));
}

#[test]
fn https_is_required_off_loopback() {
    assert!(Endpoints::for_api_base("http://api.velora.tv", CLIENT_ID, None).is_err());
    let mut ep = Endpoints::for_api_base("https://api.velora.tv", CLIENT_ID, None).unwrap();
    ep.api_base = url::Url::parse("http://api.velora.tv/").unwrap();
    let e = Client::new(ApiConfig::new(ep)).unwrap_err();
    assert!(matches!(e, ApiError::Config { .. }), "{e:?}");
    assert!(e.to_string().contains("HTTPS"), "{e}");
}

#[test]
fn rate_limit_snapshot_follows_the_headers() {
    let sb = start();
    let c = client(&sb);
    let snap = c.rate_limit();
    assert_eq!((snap.limit, snap.remaining), (None, None));
    let tok = token(&sb, &c);
    c.stream_info(&tok).unwrap();
    let snap = c.rate_limit();
    assert_eq!(snap.limit, Some(30));
    assert_eq!(snap.remaining, Some(29));
    let reset = snap.reset_in.expect("reset known");
    assert!(reset <= Duration::from_secs(60), "{reset:?}");
    assert_eq!(snap.blocked_for, None);
    c.stream_info(&tok).unwrap();
    assert_eq!(c.rate_limit().remaining, Some(28));
}

#[test]
fn errors_never_show_tokens() {
    let sb = start();
    let c = client(&sb);
    let (tok, refresh) = login(&sb, &c, "stream:read", None);
    let mut errors = vec![
        c.stream_setup(&tok).unwrap_err(),                                     // 403
        c.update_stream_info(&tok, &StreamInfoUpdate::default()).unwrap_err(), // 403
    ];
    control(&sb, reqwest::Method::POST, "revoke", Some(json!({"all": true})));
    errors.push(c.stream_info(&tok).unwrap_err()); // 401
    errors.push(c.refresh(&refresh).unwrap_err()); // OAuth
    faults(&sb, json!({"fail": {"count": 5, "status": 500}}));
    errors.push(c.user(&tok).unwrap_err()); // 500 after retries
    assert_eq!(errors.len(), 5);
    for e in &errors {
        for text in [
            e.to_string(),
            format!("{e:?}"),
            velora::errors::describe(e).info.message,
        ] {
            assert!(!text.contains(tok.expose()), "{text}");
            assert!(!text.contains(refresh.expose()), "{text}");
        }
    }
    assert!(!format!("{c:?}").contains(tok.expose()));
}
