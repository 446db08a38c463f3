//! OAuth: authorize endpoint, PKCE, codes, refresh rotation, client credentials.

mod common;

use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use velora_sandbox::Config;

#[test]
fn documented_token_exchange_round_trip() {
    let sb = start_auto();
    let (verifier, challenge) = pkce();
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    // Exactly the documented JSON body, including a client_secret.
    let resp = token_request(
        &sb,
        json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "client_secret": "anything-for-unregistered-clients",
            "code_verifier": verifier,
        }),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let v: Value = resp.json().unwrap();
    let access = v["access_token"].as_str().unwrap();
    assert!(access.starts_with("vat_") && access.len() == 44, "{access}");
    assert!(v["refresh_token"].as_str().unwrap().starts_with("vrt_"));
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], ALL_SCOPES);

    // /user (sandbox extension)
    let u: Value = api_get(&sb, "/api/integrations/oauth/user", access).json().unwrap();
    assert_eq!(
        u,
        json!({"id": "user_demo", "username": "demo_streamer", "displayName": "Demo Streamer"})
    );
}

#[test]
fn form_encoded_token_request_works() {
    let sb = start_auto();
    let (verifier, challenge) = pkce();
    let code = get_code(&sb, "stream:read", &challenge);
    let resp = client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["scope"], "stream:read");
    let t = v["access_token"].as_str().unwrap();
    assert_eq!(api_get(&sb, "/api/integrations/oauth/stream/info", t).status(), 200);
}

#[test]
fn pkce_wrong_verifier_and_plain_method_rejected() {
    let sb = start_auto();
    let (_verifier, challenge) = pkce();
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    let (other_verifier, _) = pkce();
    let resp = exchange(&sb, &code, &other_verifier);
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert!(v["error_description"].is_string() && v["message"].is_string());

    // Too-short verifier is malformed.
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    let v: Value = exchange(&sb, &code, "short").json().unwrap();
    assert_eq!(v["error"], "invalid_request");

    // plain method is refused at the authorize endpoint (redirect with error).
    let url = authorize_url(&sb, CLIENT_ID, REDIRECT, ALL_SCOPES, &challenge, "s")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let p = location_params(&client().get(url).send().unwrap());
    assert_eq!(p["error"], "invalid_request");
    assert_eq!(p["state"], "s");
    assert!(!p.contains_key("code"));

    // Missing challenge also refused: PKCE is mandatory.
    let url = format!(
        "{}/api/developer/oauth/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&state=s",
        sb.base_url(),
        REDIRECT
    );
    let p = location_params(&client().get(url).send().unwrap());
    assert_eq!(p["error"], "invalid_request");
}

#[test]
fn code_is_single_use_and_reuse_revokes_tokens() {
    let sb = start_auto();
    let (verifier, challenge) = pkce();
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    let first: Value = exchange(&sb, &code, &verifier).json().unwrap();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        api_get(&sb, "/api/integrations/oauth/stream/info", access).status(),
        200
    );

    let second = exchange(&sb, &code, &verifier);
    assert_eq!(second.status(), 400);
    assert_eq!(second.json::<Value>().unwrap()["error"], "invalid_grant");

    // Tokens from the first exchange are revoked (RFC 6749 §4.1.2).
    let r = api_get(&sb, "/api/integrations/oauth/stream/info", access);
    assert_eq!(r.status(), 401);
    let resp = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID}),
    );
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().unwrap()["error"], "invalid_grant");
}

#[test]
fn expired_code_rejected() {
    let sb = start(Config {
        auto_approve: true,
        code_ttl_secs: 1,
        ..Config::default()
    });
    let (verifier, challenge) = pkce();
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    std::thread::sleep(Duration::from_millis(1100));
    let resp = exchange(&sb, &code, &verifier);
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert!(v["message"].as_str().unwrap().contains("expired"));
}

#[test]
fn redirect_uri_and_client_id_must_match() {
    let sb = start_auto();
    let (verifier, challenge) = pkce();
    let code = get_code(&sb, ALL_SCOPES, &challenge);
    let resp = token_request(
        &sb,
        json!({"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:43210/other",
               "client_id": CLIENT_ID, "code_verifier": verifier}),
    );
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().unwrap()["error"], "invalid_grant");

    let code = get_code(&sb, ALL_SCOPES, &challenge);
    let resp = token_request(
        &sb,
        json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
               "client_id": "someone-else", "code_verifier": verifier}),
    );
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().unwrap()["error"], "invalid_grant");
}

#[test]
fn authorize_rejects_bad_client_and_redirect_without_redirecting() {
    let sb = start_auto();
    let (_, challenge) = pkce();
    for (client_id, redirect) in [
        ("bad client id!", REDIRECT),
        (CLIENT_ID, "https://evil.example.com/cb"),
        (CLIENT_ID, "http://127.0.0.1.evil.com/cb"),
    ] {
        let resp = client()
            .get(authorize_url(&sb, client_id, redirect, ALL_SCOPES, &challenge, "s"))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 400, "{client_id} {redirect}");
        assert!(resp.headers().get("location").is_none());
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // [::1] and localhost loopback forms are fine.
    for redirect in ["http://[::1]:9999/cb", "http://localhost:1/cb"] {
        let resp = client()
            .get(authorize_url(&sb, CLIENT_ID, redirect, ALL_SCOPES, &challenge, "s"))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 302);
        assert!(resp.headers()["location"].to_str().unwrap().starts_with(redirect));
    }
    // Unknown scope -> invalid_scope redirect.
    let p = location_params(
        &client()
            .get(authorize_url(
                &sb,
                CLIENT_ID,
                REDIRECT,
                "stream:read admin",
                &challenge,
                "s",
            ))
            .send()
            .unwrap(),
    );
    assert_eq!(p["error"], "invalid_scope");
}

#[test]
fn empty_scope_defaults_to_read_scopes() {
    let sb = start_auto();
    let v = login(&sb, "");
    assert_eq!(v["scope"], "stream:read user:read");
}

#[test]
fn consent_page_approve_and_deny() {
    let sb = start(Config::default());
    let (verifier, challenge) = pkce();

    // The page shows the client and scope descriptions, no remote assets.
    let html = client()
        .get(authorize_url(
            &sb,
            CLIENT_ID,
            REDIRECT,
            "stream:key stream:write",
            &challenge,
            "s",
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains(CLIENT_ID));
    assert!(html.contains("Access stream key and ingest URLs"));
    assert!(html.contains("Update title, category, tags"));
    assert!(html.contains("no_stream_user"));
    assert!(!html.contains("https://") && !html.contains("client_id="));

    let denied = consent(&sb, ALL_SCOPES, &challenge, "deny", "user_demo");
    let p = location_params(&denied);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st4te");
    assert!(p.contains_key("error_description"));

    let approved = consent(&sb, ALL_SCOPES, &challenge, "approve", "user_nostream");
    let p = location_params(&approved);
    let v: Value = exchange(&sb, &p["code"], &verifier).json().unwrap();
    let t = v["access_token"].as_str().unwrap();
    let u: Value = api_get(&sb, "/api/integrations/oauth/user", t).json().unwrap();
    assert_eq!(u["username"], "no_stream_user");
    let r = api_get(&sb, "/api/integrations/oauth/stream/setup", t);
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().unwrap()["message"],
        "Streaming is not enabled for this account"
    );
}

#[test]
fn login_hint_selects_user_with_auto_approve() {
    let sb = start_auto();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&sb, CLIENT_ID, REDIRECT, ALL_SCOPES, &challenge, "s") + "&login_hint=no_stream_user";
    let p = location_params(&client().get(url).send().unwrap());
    let v: Value = exchange(&sb, &p["code"], &verifier).json().unwrap();
    let u: Value = api_get(&sb, "/api/integrations/oauth/user", v["access_token"].as_str().unwrap())
        .json()
        .unwrap();
    assert_eq!(u["id"], "user_nostream");
}

#[test]
fn refresh_rotates_and_old_token_is_rejected() {
    let sb = start_auto();
    let v = login(&sb, ALL_SCOPES);
    let r1 = v["refresh_token"].as_str().unwrap().to_string();
    let resp = client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", r1.as_str()),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v2: Value = resp.json().unwrap();
    let r2 = v2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert_eq!(v2["scope"], ALL_SCOPES);
    let a2 = v2["access_token"].as_str().unwrap();
    assert_eq!(api_get(&sb, "/api/integrations/oauth/stream/setup", a2).status(), 200);

    // Reusing the old refresh token fails.
    let reuse = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": r1, "client_id": CLIENT_ID}),
    );
    assert_eq!(reuse.status(), 400);
    assert_eq!(reuse.json::<Value>().unwrap()["error"], "invalid_grant");

    // Narrowing scope is allowed, widening is not.
    let narrow: Value = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": r2, "client_id": CLIENT_ID, "scope": "stream:read"}),
    )
    .json()
    .unwrap();
    assert_eq!(narrow["scope"], "stream:read");
    let r3 = narrow["refresh_token"].as_str().unwrap();
    let v = login(&sb, "stream:read");
    let wide = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": v["refresh_token"], "client_id": CLIENT_ID, "scope": "stream:key"}),
    );
    assert_eq!(wide.status(), 400);
    assert_eq!(wide.json::<Value>().unwrap()["error"], "invalid_scope");
    assert!(r3.starts_with("vrt_"));
}

#[test]
fn no_refresh_tokens_option() {
    let sb = start(Config {
        auto_approve: true,
        issue_refresh_tokens: false,
        ..Config::default()
    });
    let v = login(&sb, ALL_SCOPES);
    assert!(v.get("refresh_token").is_none());
    assert!(v["access_token"].is_string());
}

#[test]
fn client_credentials_token_has_no_user() {
    let sb = start_auto();
    let resp = token_request(
        &sb,
        json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "x", "scope": "stream:read stream:key"}),
    );
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().unwrap();
    assert!(v.get("refresh_token").is_none());
    let t = v["access_token"].as_str().unwrap();
    for path in ["/stream/setup", "/stream/info", "/stream/categories"] {
        let r = api_get(&sb, &format!("/api/integrations/oauth{path}"), t);
        assert_eq!(r.status(), 403, "{path}");
        assert_eq!(
            r.json::<Value>().unwrap()["message"],
            "This endpoint requires a user token"
        );
    }
    let r = api_get(&sb, "/api/streams", t);
    assert_eq!(r.status(), 200);
    assert!(!r.json::<Value>().unwrap()["streams"].as_array().unwrap().is_empty());
}

#[test]
fn registered_client_secret_must_match() {
    let mut cfg = Config {
        auto_approve: true,
        ..Config::default()
    };
    cfg.client_secrets.insert("confidential-app".into(), "s3cret".into());
    let sb = start(cfg);
    let cc = |id: &str, secret: Option<&str>| {
        let mut body = json!({"grant_type": "client_credentials", "client_id": id});
        if let Some(s) = secret {
            body["client_secret"] = json!(s);
        }
        token_request(&sb, body)
    };
    let r = cc("confidential-app", Some("wrong"));
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_client");
    assert_eq!(cc("confidential-app", None).status(), 401);
    assert_eq!(cc("confidential-app", Some("s3cret")).status(), 200);
    // HTTP Basic client authentication also works.
    let r = client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .basic_auth("confidential-app", Some("s3cret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Unregistered client ids are public clients.
    assert_eq!(cc("public-app", Some("whatever")).status(), 200);
    assert_eq!(cc("public-app", None).status(), 200);
}

#[test]
fn token_endpoint_errors() {
    let sb = start_auto();
    let r = token_request(&sb, json!({"grant_type": "password", "client_id": CLIENT_ID}));
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "unsupported_grant_type");
    let r = token_request(&sb, json!({"client_id": CLIENT_ID}));
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_request");
    let r = token_request(
        &sb,
        json!({"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": "nope",
        "redirect_uri": REDIRECT, "code_verifier": "a".repeat(43)}),
    );
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_grant");
    let r = token_request(
        &sb,
        json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": "admin"}),
    );
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_scope");
    let r = client()
        .post(format!("{}/api/developer/oauth/token", sb.base_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_request");
}

#[test]
fn token_expiry_and_control_expire_and_revoke() {
    let sb = start(Config {
        auto_approve: true,
        token_ttl_secs: 1,
        ..Config::default()
    });
    let v = login(&sb, ALL_SCOPES);
    assert_eq!(v["expires_in"], 1);
    let t = v["access_token"].as_str().unwrap();
    assert_eq!(api_get(&sb, "/api/integrations/oauth/stream/info", t).status(), 200);
    std::thread::sleep(Duration::from_millis(1100));
    let r = api_get(&sb, "/api/integrations/oauth/stream/info", t);
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));

    // Refresh still works after expiry.
    let v2: Value = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": v["refresh_token"], "client_id": CLIENT_ID}),
    )
    .json()
    .unwrap();
    assert!(v2["access_token"].is_string());

    // Revoke all for the user: access and refresh die.
    let out = control(&sb, Method::POST, "revoke", Some(json!({"user": "user_demo"})));
    assert!(out["revokedAccessTokens"].as_u64().unwrap() >= 1);
    assert_eq!(out["revokedRefreshTokens"], 1);
    assert_eq!(
        api_get(&sb, "/api/streams", v2["access_token"].as_str().unwrap()).status(),
        401
    );
    let r = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": v2["refresh_token"], "client_id": CLIENT_ID}),
    );
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_grant");
}

#[test]
fn control_expire_tokens_keeps_refresh_working() {
    let sb = start_auto();
    let v = login(&sb, ALL_SCOPES);
    let t = v["access_token"].as_str().unwrap();
    assert_eq!(state(&sb)["activeAccessTokens"], 1);
    control(&sb, Method::POST, "expire-tokens", None);
    assert_eq!(state(&sb)["activeAccessTokens"], 0);
    assert_eq!(api_get(&sb, "/api/streams", t).status(), 401);
    let r = token_request(
        &sb,
        json!({"grant_type": "refresh_token", "refresh_token": v["refresh_token"], "client_id": CLIENT_ID}),
    );
    assert_eq!(r.status(), 200);
    control(&sb, Method::POST, "revoke", Some(json!({"all": true})));
    assert_eq!(state(&sb)["activeRefreshTokens"], 0);
}

#[test]
fn missing_and_bogus_tokens_are_401() {
    let sb = start_auto();
    let r = client()
        .get(format!("{}/api/integrations/oauth/stream/info", sb.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert!(r.json::<Value>().unwrap()["message"].is_string());
    let r = api_get(&sb, "/api/streams", "vat_bogus");
    assert_eq!(r.status(), 401);
}
