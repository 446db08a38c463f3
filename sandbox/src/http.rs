//! Router, request logging, rate limiting + fault injection middleware,
//! error type and bearer-token authentication.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::state::AppState;
use crate::util::{self, now_ms};
use crate::{api, control, ingest, oauth};

pub type Shared = Arc<AppState>;

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

/// Bearer token from the Authorization header, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        let t = rest.trim();
        (!t.is_empty()).then_some(t)
    } else {
        None
    }
}

enum Action {
    Pass { malformed: bool },
    Limited,
    Storm(u64),
    Fail(StatusCode),
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
            Action::Storm(storm.retry_after.unwrap_or(1).max(1))
        } else if let Some(fail) = f.fail.as_mut().filter(|s| s.count > 0 && path_matches(s, &path)) {
            fail.count -= 1;
            Action::Fail(StatusCode::from_u16(fail.status.unwrap_or(500)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        } else if let Some(m) = f.malformed.as_mut().filter(|s| s.count > 0 && path_matches(s, &path)) {
            m.count -= 1;
            Action::Pass { malformed: true }
        } else {
            Action::Pass { malformed: false }
        };
        (remaining, reset, action)
    };

    let mut resp = match action {
        Action::Limited => too_many(reset.saturating_sub(now_secs).max(1)),
        Action::Storm(retry) => {
            let mut r = too_many(retry);
            set_rl_headers(r.headers_mut(), limit, 0, now_secs + retry);
            return r;
        }
        Action::Fail(status) => ApiError::new(status, "injected_fault", "Injected fault (sandbox)").into_response(),
        Action::Pass { malformed } => {
            let resp = next.run(req).await;
            if malformed {
                malform(resp).await
            } else {
                resp
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

/// Replace a response body with truncated (invalid) JSON, keeping status/headers.
async fn malform(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let cut = (bytes.len() / 2).max(1).min(bytes.len());
    let mut out = bytes[..cut].to_vec();
    if out.is_empty() || serde_json::from_slice::<serde_json::Value>(&out).is_ok() {
        out = b"{\"malformed\":".to_vec();
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(out))
}

/// JSON API error: `{"message": ..., "error": ...}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            message: message.into(),
            www_authenticate: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthorized(description: &str) -> ApiError {
        let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", description);
        e.www_authenticate = Some(format!(
            "Bearer realm=\"velora\", error=\"invalid_token\", error_description=\"{description}\""
        ));
        e
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(json!({ "message": self.message, "error": self.error })),
        )
            .into_response();
        if let Some(w) = self.www_authenticate.and_then(|w| HeaderValue::from_str(&w).ok()) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, w);
        }
        r
    }
}

/// An authenticated caller.
pub struct Caller {
    pub user_id: Option<String>,
    pub scopes: Vec<String>,
}

impl Caller {
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("Missing required scope: {scope}"),
            );
            e.www_authenticate = Some(format!(
                "Bearer realm=\"velora\", error=\"insufficient_scope\", scope=\"{scope}\""
            ));
            Err(e)
        }
    }

    pub fn require_user(&self) -> Result<&str, ApiError> {
        self.user_id
            .as_deref()
            .ok_or_else(|| ApiError::forbidden("This endpoint requires a user token"))
    }
}

/// Validate the bearer token.
pub fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::unauthorized("Missing access token"));
    };
    let g = st.lock();
    let Some(t) = g.access_tokens.get(&util::hash(token)) else {
        return Err(ApiError::unauthorized("Invalid access token"));
    };
    if now_ms() >= t.expires_ms {
        return Err(ApiError::unauthorized("The access token expired"));
    }
    Ok(Caller {
        user_id: t.user_id.clone(),
        scopes: t.scopes.clone(),
    })
}

/// Parse request parameters from a body that is either JSON (object) or
/// `application/x-www-form-urlencoded`. Non-string JSON values are kept as
/// their JSON text. Duplicate form parameters are an error (RFC 6749 §3.2).
pub fn parse_params(headers: &HeaderMap, body: &[u8]) -> Result<std::collections::HashMap<String, String>, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if ct.starts_with("application/json") || (!ct.starts_with("application/x-www-form-urlencoded") && looks_json) {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| "Request body is not valid JSON".to_string())?;
        let obj = v
            .as_object()
            .ok_or_else(|| "Request body must be a JSON object".to_string())?;
        Ok(obj
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()),
                )
            })
            .collect())
    } else {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|_| "Request body is not valid form data".to_string())?;
        let mut map = std::collections::HashMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(format!("Parameter `{k}` was given more than once"));
            }
        }
        Ok(map)
    }
}

/// Query string parameters (first value wins).
pub fn query_params(query: Option<&str>) -> std::collections::HashMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    let mut map = std::collections::HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

pub fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
