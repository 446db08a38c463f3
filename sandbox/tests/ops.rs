//! Rate limits, fault injection, ingest hooks, persistence.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use velora_sandbox::{Config, RateProfile};

#[test]
fn rate_limit_headers_decrease_and_31st_request_is_429() {
    let sb = start_auto();
    let t = token(&sb, "stream:read");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut last = u64::MAX;
    for i in 1..=30u64 {
        let r = api_get(&sb, "/api/integrations/oauth/stream/info", &t);
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(header_u64(&r, "x-ratelimit-limit"), 30);
        let remaining = header_u64(&r, "x-ratelimit-remaining");
        assert_eq!(remaining, 30 - i);
        assert!(remaining < last);
        last = remaining;
        let reset = header_u64(&r, "x-ratelimit-reset");
        assert!(
            reset > now && reset <= now + 61,
            "reset {reset} is an epoch time within the window"
        );
    }
    let r = api_get(&sb, "/api/integrations/oauth/stream/info", &t);
    assert_eq!(r.status(), 429);
    let retry = header_u64(&r, "retry-after");
    assert!((1..=60).contains(&retry));
    assert_eq!(header_u64(&r, "x-ratelimit-retry-after"), retry);
    assert_eq!(header_u64(&r, "x-ratelimit-remaining"), 0);
    assert_eq!(r.json::<Value>().unwrap()["message"], "Rate limit exceeded");

    // Limits are per token: a fresh token still works.
    let t2 = token(&sb, "stream:read");
    assert_eq!(api_get(&sb, "/api/integrations/oauth/stream/info", &t2).status(), 200);
    // Control endpoints are not rate limited.
    assert!(state(&sb).is_object());
}

#[test]
fn token_endpoint_and_errors_carry_rate_limit_headers() {
    let sb = start_auto();
    let r = token_request(&sb, json!({"grant_type": "nope", "client_id": CLIENT_ID}));
    assert_eq!(r.status(), 400);
    assert_eq!(header_u64(&r, "x-ratelimit-limit"), 30);
    let first = header_u64(&r, "x-ratelimit-remaining");
    let r = client().get(format!("{}/api/streams", sb.base_url())).send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        header_u64(&r, "x-ratelimit-remaining"),
        first - 1,
        "same IP bucket when unauthenticated"
    );
}

#[test]
fn production_profile_allows_more() {
    let sb = start(Config {
        auto_approve: true,
        rate_limit: RateProfile::Production,
        ..Config::default()
    });
    let t = token(&sb, "stream:read");
    for _ in 0..40 {
        let r = api_get(&sb, "/api/streams", &t);
        assert_eq!(r.status(), 200);
        assert_eq!(header_u64(&r, "x-ratelimit-limit"), 800);
    }
    let r = api_get(&sb, "/api/streams", &t);
    assert_eq!(header_u64(&r, "x-ratelimit-remaining"), 800 - 41);
}

#[test]
fn fault_injection() {
    let sb = start(Config {
        auto_approve: true,
        rate_limit: RateProfile::Production,
        ..Config::default()
    });
    let t = token(&sb, ALL_SCOPES);
    let info = "/api/integrations/oauth/stream/info";

    // Two 503s on a path prefix, then normal.
    control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"fail": {"count": 2, "status": 503, "path": "/api/integrations"}})),
    );
    assert_eq!(api_get(&sb, "/api/streams", &t).status(), 200, "other paths unaffected");
    for _ in 0..2 {
        let r = api_get(&sb, info, &t);
        assert_eq!(r.status(), 503);
        assert!(r.json::<Value>().unwrap()["message"].is_string());
    }
    assert_eq!(api_get(&sb, info, &t).status(), 200);

    // Default status 500.
    control(&sb, Method::POST, "faults", Some(json!({"fail": {"count": 1}})));
    assert_eq!(api_get(&sb, info, &t).status(), 500);

    // Malformed JSON once.
    control(&sb, Method::POST, "faults", Some(json!({"malformed": {"count": 1}})));
    let body = api_get(&sb, info, &t).text().unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    assert!(api_get(&sb, info, &t).json::<Value>().is_ok());

    // 429 storm.
    control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"rateLimitStorm": {"count": 2}})),
    );
    for _ in 0..2 {
        let r = api_get(&sb, info, &t);
        assert_eq!(r.status(), 429);
        assert!(header_u64(&r, "retry-after") >= 1);
        assert!(r.headers().contains_key("x-ratelimit-retry-after"));
    }
    assert_eq!(api_get(&sb, info, &t).status(), 200);

    // Latency, then cleared.
    control(&sb, Method::POST, "faults", Some(json!({"latencyMs": 300})));
    let start = Instant::now();
    assert_eq!(api_get(&sb, info, &t).status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    // Control endpoints are never delayed, and clearing the faults ends the
    // latency: with a minute of it, coming back within half of that can
    // only mean no delay (not a speed check).
    control(&sb, Method::POST, "faults", Some(json!({"latencyMs": 60_000})));
    let start = Instant::now();
    let f = control(&sb, Method::GET, "faults", None);
    assert_eq!(f["latencyMs"], 60_000);
    control(&sb, Method::DELETE, "faults", None);
    assert_eq!(api_get(&sb, info, &t).status(), 200);
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());

    // Bad fault spec.
    let r = client()
        .post(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&json!({"fail": {"count": 1, "status": 200}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn ingest_hooks_and_regenerate() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    let key = state(&sb)["streamKey"].as_str().unwrap().to_string();

    assert_eq!(hook(&sb, "on_publish", "live_wrongwrongwrongwrongwron"), 403);
    assert_eq!(hook(&sb, "on_publish", ""), 403);
    assert_eq!(state(&sb)["isLive"], false);

    assert_eq!(hook(&sb, "on_publish", &key), 200);
    let s = state(&sb);
    assert_eq!(s["isLive"], true);
    assert!(s["startedAt"].is_string());
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["isLive"], true);
    let streams: Value = api_get(&sb, "/api/streams", &t).json().unwrap();
    assert!(streams["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["userId"] == "user_demo"));

    assert_eq!(hook(&sb, "on_publish_done", &key), 200);
    assert_eq!(state(&sb)["isLive"], false);

    // Query-string form of the hook also works.
    let r = client()
        .post(format!("{}/ingest/on_publish?name={key}&app=live", sb.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    hook(&sb, "on_publish_done", &key);

    // Regenerate: the old key stops working at once.
    let new_key = api_get(&sb, "/api/integrations/oauth/stream/key/regenerate", &t)
        .json::<Value>()
        .unwrap()["streamKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hook(&sb, "on_publish", &key), 403);
    assert_eq!(hook(&sb, "on_publish", &new_key), 200);
    assert_eq!(state(&sb)["streamKey"], new_key);

    // The non-streaming user's key is refused.
    let other = state(&sb)["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == "user_nostream")
        .unwrap()["streamKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hook(&sb, "on_publish", &other), 403);
}

#[test]
fn simulated_viewers_grow_with_time() {
    let sb = start_auto();
    let key = state(&sb)["streamKey"].as_str().unwrap().to_string();
    assert_eq!(hook(&sb, "on_publish", &key), 200);
    assert_eq!(state(&sb)["viewerCount"], 0);
    std::thread::sleep(Duration::from_millis(2100));
    let v1 = state(&sb)["viewerCount"].as_u64().unwrap();
    assert!(v1 > 0);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(state(&sb)["viewerCount"].as_u64().unwrap() > v1);
}

#[test]
fn persistence_across_restart() {
    let dir = std::env::temp_dir().join(format!("velora-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    let cfg = Config {
        auto_approve: true,
        state_file: Some(file.clone()),
        ..Config::default()
    };

    let sb = start(cfg.clone());
    let v = login(&sb, ALL_SCOPES);
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let r = client()
        .put(format!("{}/api/integrations/oauth/stream/info", sb.base_url()))
        .bearer_auth(&access)
        .json(&json!({"title": "Persisted title", "tags": ["saved"]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let key = state(&sb)["streamKey"].as_str().unwrap().to_string();
    sb.shutdown();

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(&access) && !text.contains(&refresh),
        "tokens stored hashed only"
    );

    let sb = start(cfg);
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &access)
        .json()
        .unwrap();
    assert_eq!(info["title"], "Persisted title");
    assert_eq!(info["tags"], json!(["saved"]));
    assert_eq!(state(&sb)["streamKey"], key);
    assert_eq!(hook(&sb, "on_publish", &key), 200);
    let r = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID}),
    );
    assert_eq!(r.status(), 200);
    drop(sb);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nginx_start_failure_is_reported() {
    let err = velora_sandbox::Sandbox::start(Config {
        log_requests: false,
        nginx: Some(velora_sandbox::NginxConfig {
            nginx_bin: "/nonexistent/nginx".into(),
            ..Default::default()
        }),
        ..Config::default()
    })
    .err()
    .expect("start must fail without nginx");
    assert!(err.to_string().contains("nginx"), "{err}");
}

#[test]
fn binary_help_listening_line_and_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let exe = env!("CARGO_BIN_EXE_velora-sandbox");
    let help = Command::new(exe).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--bind",
        "--port",
        "--auto-approve",
        "--token-ttl",
        "--code-ttl",
        "--rate-limit",
        "--rtmp-url",
        "--srt-url",
        "--whip-url",
        "--nginx",
        "--rtmp-port",
        "--nginx-bin",
        "--rtmp-module",
        "--state",
        "--no-control",
        "--no-refresh-tokens",
        "--client-secret",
    ] {
        assert!(text.contains(flag), "--help lists {flag}");
    }

    let mut child = Command::new(exe)
        .args(["--port", "0", "--quiet", "--rate-limit", "production"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("velora-sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"));
    let r = client().get(format!("{base}/api/streams")).send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header_u64(&r, "x-ratelimit-limit"), 800);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "binary did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
