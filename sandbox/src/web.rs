//! What every route of the sandbox shares: the state handle, the JSON error
//! answer, the caller behind a bearer token, and request parameter parsing.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;
use crate::util::{self, now_ms};

pub type Shared = Arc<AppState>;

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
