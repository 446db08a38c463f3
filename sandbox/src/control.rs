//! `/_sandbox/` control API: fault injection, token expiry/revocation, state,
//! request log, simulated live status. Not rate limited.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::{CountFault, Faults, Live, DEMO_USER};
use crate::util::now_ms;
use crate::web::{ApiError, Shared};

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/_sandbox/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_sandbox/expire-tokens", post(expire_tokens))
        .route("/_sandbox/revoke", post(revoke))
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/live", post(live))
        .route("/_sandbox/images", get(images).post(set_images).delete(clear_images))
}

async fn images(State(st): State<Shared>) -> Json<Value> {
    let g = st.lock();
    Json(json!({ "requests": g.images, "latencyMs": g.image_latency_ms }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImagesIn {
    latency_ms: Option<u64>,
}

async fn set_images(State(st): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let i: ImagesIn = parse(&body)?;
    let mut g = st.lock();
    if let Some(l) = i.latency_ms {
        g.image_latency_ms = l.min(120_000);
    }
    Ok(Json(json!({ "latencyMs": g.image_latency_ms })))
}

async fn clear_images(State(st): State<Shared>) -> StatusCode {
    let mut g = st.lock();
    g.images.clear();
    g.image_latency_ms = 0;
    StatusCode::NO_CONTENT
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultsIn {
    latency_ms: Option<u64>,
    fail: Option<CountFault>,
    malformed: Option<CountFault>,
    rate_limit_storm: Option<CountFault>,
}

fn faults_json(f: &Faults) -> Value {
    serde_json::to_value(f).unwrap_or(Value::Null)
}

async fn get_faults(State(st): State<Shared>) -> Json<Value> {
    Json(faults_json(&st.lock().faults))
}

async fn set_faults(State(st): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let f: FaultsIn = parse(&body)?;
    if let Some(s) = f.fail.as_ref().and_then(|f| f.status) {
        if !(400..=599).contains(&s) {
            return Err(ApiError::bad_request("fail.status must be 400-599"));
        }
    }
    let mut g = st.lock();
    if let Some(l) = f.latency_ms {
        g.faults.latency_ms = l.min(120_000);
    }
    if let Some(x) = f.fail {
        g.faults.fail = Some(x);
    }
    if let Some(x) = f.malformed {
        g.faults.malformed = Some(x);
    }
    if let Some(x) = f.rate_limit_storm {
        g.faults.rate_limit_storm = Some(x);
    }
    Ok(Json(faults_json(&g.faults)))
}

async fn clear_faults(State(st): State<Shared>) -> Json<Value> {
    let mut g = st.lock();
    g.faults = Faults::default();
    Json(faults_json(&g.faults))
}

async fn expire_tokens(State(st): State<Shared>) -> Json<Value> {
    let now = now_ms();
    let mut g = st.lock();
    let mut n = 0;
    for t in g.access_tokens.values_mut() {
        if t.expires_ms > now {
            t.expires_ms = now;
            n += 1;
        }
    }
    st.save(&g);
    Json(json!({"expiredAccessTokens": n}))
}

#[derive(Deserialize)]
struct RevokeIn {
    #[serde(default)]
    all: bool,
    user: Option<String>,
}

async fn revoke(State(st): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: RevokeIn = parse(&body)?;
    let mut g = st.lock();
    let (a, rf) = if r.all {
        g.revoke_where(|_, _| true)
    } else if let Some(user) = r.user {
        g.revoke_where(|u, _| u == Some(user.as_str()))
    } else {
        return Err(ApiError::bad_request(
            "Give {\"all\": true} or {\"user\": \"user_demo\"}",
        ));
    };
    st.save(&g);
    Ok(Json(json!({"revokedAccessTokens": a, "revokedRefreshTokens": rf})))
}

async fn state(State(st): State<Shared>) -> Json<Value> {
    let now = now_ms();
    let g = st.lock();
    let active_access = g.access_tokens.values().filter(|t| t.expires_ms > now).count();
    let users: Vec<Value> = g
        .users
        .iter()
        .map(|u| {
            let mut v = crate::api::stream_info_json(u, now);
            v["id"] = json!(u.id);
            v["username"] = json!(u.username);
            v["streamingEnabled"] = json!(u.streaming_enabled);
            v["streamKey"] = json!(u.stream_key);
            v
        })
        .collect();
    let mut demo = users
        .iter()
        .find(|u| u["id"] == DEMO_USER)
        .cloned()
        .unwrap_or_else(|| json!({}));
    demo["activeAccessTokens"] = json!(active_access);
    demo["activeRefreshTokens"] = json!(g.refresh_tokens.len());
    demo["rtmpUrl"] = json!(st.config.rtmp_url);
    demo["users"] = json!(users);
    Json(demo)
}

async fn requests(State(st): State<Shared>) -> Json<Value> {
    Json(json!({ "requests": st.lock().requests }))
}

async fn clear_requests(State(st): State<Shared>) -> StatusCode {
    st.lock().requests.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveIn {
    live: bool,
    viewer_count: Option<u64>,
    user: Option<String>,
}

async fn live(State(st): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let l: LiveIn = parse(&body)?;
    let now = now_ms();
    let mut g = st.lock();
    let uid = l.user.unwrap_or_else(|| DEMO_USER.to_string());
    let u = g
        .user_mut(&uid)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "Unknown user"))?;
    if l.live {
        match u.live.as_mut() {
            Some(existing) => existing.viewers_override = l.viewer_count,
            None => {
                u.live = Some(Live {
                    started_ms: now,
                    key: None,
                    viewers_override: l.viewer_count,
                })
            }
        }
    } else {
        u.live = None;
    }
    Ok(Json(crate::api::stream_info_json(u, now)))
}
