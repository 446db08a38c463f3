//! Streaming API: documented examples, validation, scopes, pagination.

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::blocking::Response;
use reqwest::Method;
use serde_json::{json, Value};
use velora_sandbox::Config;

fn put_info(sb: &velora_sandbox::Sandbox, token: &str, body: &str) -> Response {
    client()
        .put(format!("{}/api/integrations/oauth/stream/info", sb.base_url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
}

#[test]
fn documented_examples_round_trip() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);

    let setup: Value = api_get(&sb, "/api/integrations/oauth/stream/setup", &t).json().unwrap();
    let key = setup["streamKey"].as_str().unwrap();
    assert!(key.starts_with("live_") && key.len() == 29, "{key}");
    assert!(key[5..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(setup["rtmpUrl"], "rtmp://127.0.0.1:1935/live");
    assert_eq!(setup["srtUrl"], "srt://127.0.0.1:9999");
    assert_eq!(setup["whipUrl"], format!("http://127.0.0.1:8889/live/{key}/whip"));
    assert_eq!(setup["ingestServer"], "127.0.0.1");

    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(
        info,
        json!({
            "title": "Building an awesome project!",
            "categoryName": "Software & Game Development",
            "categorySlug": "software-and-game-development",
            "tags": ["rust", "obs"],
            "isLive": false,
            "viewerCount": 0,
            "startedAt": null,
        })
    );

    // The documented PUT example.
    let r = put_info(
        &sb,
        &t,
        r#"{"title": "Building a chat bot with Node.js", "categorySlug": "software-and-game-development"}"#,
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"success": true, "message": "Stream info updated"})
    );
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["title"], "Building a chat bot with Node.js");
    assert_eq!(info["tags"], json!(["rust", "obs"]), "tags untouched when absent");

    let cats: Value = api_get(&sb, "/api/integrations/oauth/stream/categories", &t)
        .json()
        .unwrap();
    let cats = cats["categories"].as_array().unwrap();
    assert!(cats.len() >= 8);
    assert!(cats.contains(&json!({"slug": "music", "name": "Music", "imageUrl": null})));
    assert!(cats.contains(&json!({"slug": "just-chatting", "name": "Just Chatting",
        "imageUrl": format!("{}/category-images/just-chatting.png", sb.base_url())})));

    let regen: Value = api_get(&sb, "/api/integrations/oauth/stream/key/regenerate", &t)
        .json()
        .unwrap();
    let new_key = regen["streamKey"].as_str().unwrap();
    assert!(new_key.starts_with("live_") && new_key != key);
    let setup: Value = api_get(&sb, "/api/integrations/oauth/stream/setup", &t).json().unwrap();
    assert_eq!(setup["streamKey"], new_key);
    // POST also accepted.
    let r = client()
        .post(format!(
            "{}/api/integrations/oauth/stream/key/regenerate",
            sb.base_url()
        ))
        .bearer_auth(&t)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // Live status with a simulated session; startedAt is ISO-8601 UTC with millis.
    control(
        &sb,
        Method::POST,
        "live",
        Some(json!({"live": true, "viewerCount": 142})),
    );
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["isLive"], true);
    assert_eq!(info["viewerCount"], 142);
    let started = info["startedAt"].as_str().unwrap();
    assert_eq!(started.len(), 24, "{started}");
    assert!(started.ends_with('Z') && started.as_bytes()[19] == b'.', "{started}");
    control(&sb, Method::POST, "live", Some(json!({"live": false})));
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["isLive"], false);
    assert_eq!(info["viewerCount"], 0);
    assert!(info["startedAt"].is_null());
}

#[test]
fn title_length_counts_characters_not_bytes() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    let ok = "é".repeat(140); // 280 bytes, 140 chars
    let r = put_info(&sb, &t, &json!({"title": ok}).to_string());
    assert_eq!(r.status(), 200);
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["title"], ok);
    let r = put_info(&sb, &t, &json!({"title": "é".repeat(141)}).to_string());
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().unwrap()["message"].is_string());
}

#[test]
fn put_validation() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    let r = put_info(&sb, &t, r#"{"categorySlug": "underwater-basket-weaving"}"#);
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().unwrap()["message"], "Category not found");

    for bad in [
        r#"not json"#,
        r#"[1,2]"#,
        r#"{"title": 5}"#,
        r#"{"tags": "rust"}"#,
        r#"{"tags": [1]}"#,
        r#"{"categorySlug": true}"#,
    ] {
        assert_eq!(put_info(&sb, &t, bad).status(), 400, "{bad}");
    }
    let r = put_info(&sb, &t, "{}");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["message"], "Nothing to update");

    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    for bad in [
        json!({"tags": eleven}),
        json!({"tags": ["x".repeat(26)]}),
        json!({"tags": [""]}),
    ] {
        assert_eq!(put_info(&sb, &t, &bad.to_string()).status(), 422, "{bad}");
    }
    let ten: Vec<String> = (0..10).map(|i| format!("{i}{}", "y".repeat(24))).collect();
    let r = put_info(&sb, &t, &json!({"tags": ten, "unknownField": 1}).to_string());
    assert_eq!(r.status(), 200);
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["tags"], json!(ten));
    // Nothing changed by the failed requests.
    assert_eq!(info["categorySlug"], "software-and-game-development");

    let r = put_info(&sb, &t, r#"{"categorySlug": "music"}"#);
    assert_eq!(r.status(), 200);
    let info: Value = api_get(&sb, "/api/integrations/oauth/stream/info", &t).json().unwrap();
    assert_eq!(info["categoryName"], "Music");
}

#[test]
fn scopes_are_enforced() {
    let sb = start(Config {
        auto_approve: true,
        rate_limit: velora_sandbox::RateProfile::Production,
        ..Config::default()
    });
    let read_only = token(&sb, "stream:read");
    let r = put_info(&sb, &read_only, r#"{"title": "x"}"#);
    assert_eq!(r.status(), 403);
    assert!(r.json::<Value>().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("stream:write"));
    let r = api_get(&sb, "/api/integrations/oauth/stream/setup", &read_only);
    assert_eq!(r.status(), 403);
    assert!(r.json::<Value>().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("stream:key"));
    assert_eq!(
        api_get(&sb, "/api/integrations/oauth/stream/key/regenerate", &read_only).status(),
        403
    );
    assert_eq!(api_get(&sb, "/api/integrations/oauth/user", &read_only).status(), 403);
    assert_eq!(
        api_get(&sb, "/api/integrations/oauth/stream/info", &read_only).status(),
        200
    );

    let write_only = token(&sb, "stream:write");
    assert_eq!(
        api_get(&sb, "/api/integrations/oauth/stream/info", &write_only).status(),
        403
    );
    assert_eq!(put_info(&sb, &write_only, r#"{"title": "ok"}"#).status(), 200);
}

#[test]
fn pagination_walks_all_pages_without_duplicates() {
    let sb = start_auto();
    let t = token(&sb, "stream:read");
    control(&sb, Method::POST, "live", Some(json!({"live": true})));
    let full: Value = api_get(&sb, "/api/streams", &t).json().unwrap();
    let total = full["streams"].as_array().unwrap().len();
    assert!(total >= 8, "{total}");
    assert!(full["pagination"]["cursor"].is_null());
    assert!(full["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["username"] == "demo_streamer"));

    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/streams?limit=3&cursor={c}"),
            None => "/api/streams?limit=3".to_string(),
        };
        let v: Value = api_get(&sb, &path, &t).json().unwrap();
        pages += 1;
        let streams = v["streams"].as_array().unwrap();
        assert!(streams.len() <= 3);
        for s in streams {
            for k in [
                "id",
                "userId",
                "username",
                "title",
                "viewerCount",
                "startedAt",
                "thumbnailUrl",
            ] {
                assert!(!s[k].is_null(), "{k} in {s}");
            }
            assert!(seen.insert(s["id"].as_str().unwrap().to_string()), "duplicate {s}");
        }
        match v["pagination"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(3));

    assert_eq!(api_get(&sb, "/api/streams?cursor=%%%garbage", &t).status(), 400);
    assert_eq!(api_get(&sb, "/api/streams?cursor=bm90LWpzb24", &t).status(), 400);
    assert_eq!(api_get(&sb, "/api/streams?limit=0", &t).status(), 400);
    let v: Value = api_get(&sb, "/api/streams?limit=500", &t).json().unwrap();
    assert_eq!(v["streams"].as_array().unwrap().len(), total);

    // Offline demo user disappears from the list.
    control(&sb, Method::POST, "live", Some(json!({"live": false})));
    let v: Value = api_get(&sb, "/api/streams?limit=100", &t).json().unwrap();
    assert!(!v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["username"] == "demo_streamer"));
}

#[test]
fn errors_are_json_with_message() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    let r = api_get(&sb, "/api/integrations/oauth/nope", &t);
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().unwrap()["message"].is_string());
    let r = client()
        .delete(format!("{}/api/integrations/oauth/stream/info", sb.base_url()))
        .bearer_auth(&t)
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[test]
fn request_log_has_no_secrets() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    api_get(&sb, "/api/streams?limit=2", &t);
    let log = control(&sb, Method::GET, "requests", None);
    let entries = log["requests"].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|e| e["path"] == "/api/streams" && e["status"] == 200 && e["method"] == "GET"));
    assert!(entries.iter().any(|e| e["path"] == "/api/developer/oauth/token"));
    let text = log.to_string();
    assert!(!text.contains(&t) && !text.contains("code=") && !text.contains("limit="));
    control(&sb, Method::DELETE, "requests", None);
    assert_eq!(control(&sb, Method::GET, "requests", None)["requests"], json!([]));
}

#[test]
fn control_api_can_be_disabled() {
    let sb = start(Config {
        control_api: false,
        ..Config::default()
    });
    let r = client()
        .get(format!("{}/_sandbox/state", sb.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn category_pictures_are_served_by_the_sandbox_itself_some_null_one_broken() {
    let sb = start_auto();
    let t = token(&sb, ALL_SCOPES);
    let cats: Value = api_get(&sb, "/api/integrations/oauth/stream/categories", &t)
        .json()
        .unwrap();
    let cats = cats["categories"].as_array().unwrap().clone();
    let nulls: Vec<&str> = cats
        .iter()
        .filter(|c| c["imageUrl"].is_null())
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(nulls, ["music", "talk-shows"]);
    let before = state(&sb)["activeAccessTokens"].clone();
    control(&sb, Method::DELETE, "requests", None);
    for c in cats.iter().filter(|c| c["imageUrl"].is_string()) {
        let url = c["imageUrl"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/category-images/", sb.base_url())), "{url}");
        // No token needed: a picture is not an API call.
        let r = client().get(url).send().unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()["content-type"], "image/png");
        let body = r.bytes().unwrap();
        if c["slug"] == "irl" {
            assert!(body.starts_with(b"<html>"), "the broken one is an HTML page");
        } else {
            assert_eq!(&body[..8], &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
            assert_eq!(&body[16..24], &[0, 0, 0, 144, 0, 0, 0, 192]);
        }
    }
    assert_eq!(
        client()
            .get(format!("{}/category-images/music.png", sb.base_url()))
            .send()
            .unwrap()
            .status(),
        404
    );
    // Pictures are logged on their own, never as API requests.
    let log = control(&sb, Method::GET, "images", None);
    assert_eq!(log["requests"].as_array().unwrap().len(), 7, "{log}");
    assert_eq!(control(&sb, Method::GET, "requests", None)["requests"], json!([]));
    assert_eq!(state(&sb)["activeAccessTokens"], before);
    // A slow image host.
    control(&sb, Method::POST, "images", Some(json!({"latencyMs": 400})));
    let t0 = std::time::Instant::now();
    let r = client()
        .get(format!("{}/category-images/art.png", sb.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(400));
    control(&sb, Method::DELETE, "images", None);
    let log = control(&sb, Method::GET, "images", None);
    assert_eq!(log, json!({"requests": [], "latencyMs": 0}));
}
