//! Router, request logging, rate limiting + fault injection middleware,
//! error type and bearer-token authentication.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::util::{self, now_ms};
use crate::web::{bearer, ApiError, Shared};
use crate::{api, control, images, ingest, oauth};

pub fn router(state: Shared) -> Router {
    // Rate-limited, fault-injectable API.
    let api = Router::new()
        .route("/api/developer/oauth/token", post(oauth::token))
        .route("/api/integrations/oauth/stream/setup", get(api::stream_setup))
        .route(
            "/api/integrations/oauth/stream/info",
            get(api::get_stream_info).put(api::put_stream_info),
        )
        .route("/api/integrations/oauth/stream/categories", get(api::categories))
        .route(
            "/api/integrations/oauth/stream/key/regenerate",
            get(api::regenerate_key).post(api::regenerate_key),
        )
        .route("/api/integrations/oauth/user", get(api::user))
        .route("/api/streams", get(api::streams))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), api_layer))
        .with_state(state.clone());

    // Browser-facing consent pages: not rate limited.
    let pages = Router::new()
        .route("/api/developer/oauth/authorize", get(oauth::authorize))
        .route("/api/developer/oauth/authorize/decision", post(oauth::decision));

    let mut app = Router::new()
        .merge(pages)
        .route("/ingest/on_publish", post(ingest::on_publish))
        .route("/ingest/on_publish_done", post(ingest::on_publish_done))
        .route("/thumbnails/{file}", get(api::thumbnail))
        .route("/category-images/{file}", get(images::serve))
        .route("/", get(index));
    if state.config.control_api {
        app = app.merge(control::router());
    }
    app.fallback_service(api)
        .layer(middleware::from_fn_with_state(state.clone(), log_layer))
        .with_state(state)
}

async fn index(State(st): State<Shared>) -> impl IntoResponse {
    axum::Json(json!({
        "name": "velora-sandbox",
        "version": env!("CARGO_PKG_VERSION"),
        "baseUrl": st.base_url,
        "authorizeUrl": format!("{}/api/developer/oauth/authorize", st.base_url),
        "tokenUrl": format!("{}/api/developer/oauth/token", st.base_url),
        "apiBase": format!("{}/api/integrations/oauth", st.base_url),
        "rtmpUrl": st.config.rtmp_url,
        "controlApi": st.config.control_api,
    }))
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
}

/// One stderr line per request (path only, never query strings or bodies),
/// and the `/_sandbox/requests` record for API requests.
async fn log_layer(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    if st.config.log_requests {
        eprintln!("{} {} {} {}ms", method, path, status, start.elapsed().as_millis());
    }
    if path.starts_with("/api/") {
        let mut g = st.lock();
        if g.requests.len() >= 1000 {
            g.requests.remove(0);
        }
        g.requests.push(crate::state::RequestRecord {
            method: method.to_string(),
            path,
            status,
            at: util::iso8601(now_ms(), true),
        });
    }
    resp
}

enum Action {
    Pass { malformed: Option<String> },
    Limited,
    Storm { retry_after: u64, bare: bool },
    Fail { status: StatusCode, html: bool },
}

fn path_matches(fault: &crate::state::CountFault, path: &str) -> bool {
    fault.path.as_deref().is_none_or(|p| path.starts_with(p))
}

/// Rate limiting (fixed 60 s window per token, per IP when unauthenticated)
/// and fault injection for API requests.
async fn api_layer(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let key = match bearer(req.headers()) {
        Some(t) => format!("t:{}", util::hash(t)),
        None => format!("ip:{}", peer.ip()),
    };
    let path = req.uri().path().to_string();
    let latency = st.lock().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let limit = st.config.rate_limit.per_minute();
    let now = now_ms();
    let now_secs = now / 1000;
    let (remaining, reset, action) = {
        let mut g = st.lock();
        g.purge(now);
        let w = g.windows.entry(key).or_insert(crate::state::Window {
            start_secs: now_secs,
            count: 0,
        });
        if now_secs >= w.start_secs + 60 {
            w.start_secs = now_secs;
            w.count = 0;
        }
        w.count = w.count.saturating_add(1);
        let exceeded = w.count > limit;
        let remaining = limit.saturating_sub(w.count);
        let reset = w.start_secs + 60;
        let f = &mut g.faults;
        let action = if exceeded {
            Action::Limited
        } else if let Some(storm) = f
            .rate_limit_storm
            .as_mut()
            .filter(|s| s.count > 0 && path_matches(s, &path))
        {
            storm.count -= 1;
            Action::Storm {
                retry_after: storm.retry_after.unwrap_or(1).max(1),
                bare: storm.kind.as_deref() == Some("bare"),
            }
        } else if let Some(fail) = f.fail.as_mut().filter(|s| s.count > 0 && path_matches(s, &path)) {
            fail.count -= 1;
            Action::Fail {
                status: StatusCode::from_u16(fail.status.unwrap_or(500)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                html: fail.kind.as_deref() == Some("html"),
            }
        } else if let Some(m) = f.malformed.as_mut().filter(|s| s.count > 0 && path_matches(s, &path)) {
            m.count -= 1;
            Action::Pass {
                malformed: Some(m.kind.clone().unwrap_or_else(|| "truncated".into())),
            }
        } else {
            Action::Pass { malformed: None }
        };
        (remaining, reset, action)
    };

    let mut resp = match action {
        Action::Limited => too_many(reset.saturating_sub(now_secs).max(1)),
        Action::Storm { bare: true, .. } => {
            // A 429 and nothing else: no Retry-After, no X-RateLimit-*.
            return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Rate limit exceeded").into_response();
        }
        Action::Storm { retry_after, .. } => {
            let mut r = too_many(retry_after);
            set_rl_headers(r.headers_mut(), limit, 0, now_secs + retry_after);
            return r;
        }
        Action::Fail { status, html: true } => {
            // What a proxy, a WAF or a captive portal answers: its own page.
            return (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><html><head><title>Access denied</title></head>\
                 <body><h1>Access denied</h1><p>Your network's proxy blocked this site.</p></body></html>",
            )
                .into_response();
        }
        Action::Fail { status, .. } => {
            ApiError::new(status, "injected_fault", "Injected fault (sandbox)").into_response()
        }
        Action::Pass { malformed } => {
            let resp = next.run(req).await;
            match malformed {
                Some(kind) => malform(resp, &kind).await,
                None => resp,
            }
        }
    };
    set_rl_headers(resp.headers_mut(), limit, remaining, reset);
    resp
}

fn too_many(retry_after: u64) -> Response {
    let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Rate limit exceeded").into_response();
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    h.insert("x-ratelimit-retry-after", HeaderValue::from(retry_after));
    r
}

fn set_rl_headers(h: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// Replaces a response body, keeping the status: `truncated` cuts the JSON
/// in half, `garbage` sends bytes that are not JSON, `wrongTypes` turns every
/// string into a number and every number into a string, `huge` sends a
/// valid 3 MiB JSON document (without a Content-Length).
async fn malform(resp: Response, kind: &str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let out = match kind {
        "garbage" => b"\x00\xff<<not json>>\x1b[2J".to_vec(),
        "wrongTypes" => {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            serde_json::to_vec(&wrong_types(v)).unwrap_or_default()
        }
        "huge" => {
            let mut v = b"{\"padding\":\"".to_vec();
            v.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
            v.extend_from_slice(b"\"}");
            v
        }
        _ => {
            let cut = (bytes.len() / 2).max(1).min(bytes.len());
            let mut out = bytes[..cut].to_vec();
            if out.is_empty() || serde_json::from_slice::<serde_json::Value>(&out).is_ok() {
                out = b"{\"malformed\":".to_vec();
            }
            out
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(out))
}

fn wrong_types(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as V;
    match v {
        V::String(_) => V::from(12345),
        V::Number(_) => V::from("many"),
        V::Bool(_) => V::from("yes"),
        V::Array(a) => V::Array(a.into_iter().map(wrong_types).collect()),
        V::Object(o) => V::Object(o.into_iter().map(|(k, v)| (k, wrong_types(v))).collect()),
        V::Null => V::from(0),
    }
}
