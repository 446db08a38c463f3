//! [`ApiError`]: every way a Velora request can fail, mapped from the HTTP
//! status, the JSON error body and the transport error.
//!
//! Nothing here ever holds a token, key, code or verifier: server messages are
//! kept (they are meant for the user) but shortened, stripped of control
//! characters and scrubbed of any secret the request carried; transport
//! errors carry the method and path only (never the query or a header).

use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Longest server message kept.
const MAX_MESSAGE_CHARS: usize = 300;

/// The kind of transport failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkKind {
    /// Connect or overall request timeout.
    Timeout,
    /// Nothing listens there (`ECONNREFUSED`).
    ConnectionRefused,
    /// Other failures to connect: DNS, unreachable network, TLS handshake.
    Connect,
    /// The server's TLS certificate is not trusted (unknown issuer, expired,
    /// wrong name): neither the system's certificate store nor the compiled-in
    /// roots vouch for it. Retrying does not help.
    Certificate,
    /// The connection broke while sending the request or reading the answer.
    Other,
}

impl NetworkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkKind::Timeout => "timeout",
            NetworkKind::ConnectionRefused => "connection refused",
            NetworkKind::Connect => "connect",
            NetworkKind::Certificate => "certificate",
            NetworkKind::Other => "network",
        }
    }
}

/// A failed Velora API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 401: the access token is invalid, expired or revoked; refresh or log in again.
    Unauthorized,
    /// 403: a scope is missing or streaming is not enabled for the account.
    Forbidden { message: String },
    /// 404: e.g. an unknown category.
    NotFound { message: String },
    /// 400, 422 (and other 4xx): the request was rejected as invalid.
    Invalid { status: u16, message: String },
    /// 429 from the server, or the client refused to send (its own budget, or
    /// an earlier 429 / `X-RateLimit-Remaining: 0` still in force).
    RateLimited { retry_after: Duration, message: String },
    /// The client's own request budget is used up: the plugin paces itself
    /// and sends nothing until `retry_after` (no request was made; this is
    /// not Velora limiting anything).
    Paced { retry_after: Duration },
    /// The request was abandoned (OBS is quitting, or the user cancelled).
    Cancelled,
    /// 5xx: the server failed; worth retrying later.
    Server { status: u16, message: String },
    /// No HTTP answer: timeout, refused, DNS, TLS, broken connection.
    Network { kind: NetworkKind, message: String },
    /// The answer was not what the API documents (malformed JSON, a missing
    /// required field, a wrong type, an unexpected redirect).
    InvalidResponse { description: String },
    /// The token endpoint refused the grant (`{"error", "error_description"}`);
    /// `invalid_grant` means the session must log in again.
    OAuth { error: String, description: Option<String> },
    /// The client cannot be used as configured (e.g. plain HTTP to a
    /// non-loopback host).
    Config { message: String },
}

impl ApiError {
    /// Trying the same request again later may succeed: 5xx, network errors
    /// and rate limiting (after [`ApiError::retry_after`]). The client itself
    /// retries only 5xx and network errors, and only idempotent requests.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Server { .. } | ApiError::Network { .. } | ApiError::RateLimited { .. } | ApiError::Paced { .. }
        )
    }

    /// 5xx or network: what the client's own retry loop retries.
    /// A certificate the system does not trust stays untrusted: not retried.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            ApiError::Server { .. } => true,
            ApiError::Network { kind, .. } => *kind != NetworkKind::Certificate,
            _ => false,
        }
    }

    /// The user has to log in again (for a resource request: after a refresh
    /// attempt; for a refresh: at once).
    pub fn needs_login(&self) -> bool {
        match self {
            ApiError::Unauthorized => true,
            ApiError::OAuth { error, .. } => matches!(
                error.as_str(),
                "invalid_grant" | "invalid_token" | "unauthorized_client" | "invalid_client"
            ),
            _ => false,
        }
    }

    /// How long to wait before trying again, when the server (or the client's
    /// budget) said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } | ApiError::Paced { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// HTTP status, when there was an HTTP answer with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Invalid { status, .. } | ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `45 seconds`, `1 minute`, `3 minutes` (rounded up to whole seconds).
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    let secs = secs.max(1);
    if secs < 90 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        let mins = secs.div_ceil(60);
        format!("{mins} minutes")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("unauthorized (401): log in again"),
            ApiError::Forbidden { message } => write!(f, "forbidden (403): {message}"),
            ApiError::NotFound { message } => write!(f, "not found (404): {message}"),
            ApiError::Invalid { status, message } => {
                write!(f, "invalid request ({status}): {message}")
            }
            ApiError::RateLimited { retry_after, message } => write!(
                f,
                "rate limited: {message} (retry after {:.1} s)",
                retry_after.as_secs_f64()
            ),
            ApiError::Paced { retry_after } => write!(
                f,
                "paced: the plugin's own request budget is used up (next request in {:.1} s)",
                retry_after.as_secs_f64()
            ),
            ApiError::Cancelled => f.write_str("cancelled: the plugin is stopping"),
            ApiError::Server { status, message } => write!(f, "server error ({status}): {message}"),
            ApiError::Network { kind, message } => {
                write!(f, "network error ({}): {message}", kind.as_str())
            }
            ApiError::InvalidResponse { description } => {
                write!(f, "invalid response: {description}")
            }
            ApiError::OAuth { error, description } => match description {
                Some(d) => write!(f, "OAuth error {error}: {d}"),
                None => write!(f, "OAuth error {error}"),
            },
            ApiError::Config { message } => write!(f, "configuration error: {message}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<crate::config::ConfigError> for ApiError {
    fn from(e: crate::config::ConfigError) -> Self {
        ApiError::Config { message: e.to_string() }
    }
}

/// The JSON error bodies Velora sends: `{"message"}` on the API,
/// `{"error", "error_description"}` on the token endpoint.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    error_description: Option<serde_json::Value>,
}

fn as_text(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        // `{"error": {"message": "..."}}` shapes.
        Some(serde_json::Value::Object(o)) => o.get("message").and_then(|m| m.as_str()).map(str::to_string),
        _ => None,
    }
}

/// Which endpoint answered: the token endpoint speaks OAuth errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Surface {
    Token,
    Api,
}

/// Removes every occurrence of each secret (at least 4 characters long) from
/// `text`, then control characters, and shortens it.
pub(crate) fn sanitize(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.chars().count() >= 4 && out.contains(s) {
            out = out.replace(s, "[redacted]");
        }
    }
    let cleaned: String = out.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() > MAX_MESSAGE_CHARS {
        let mut s: String = cleaned.chars().take(MAX_MESSAGE_CHARS).collect();
        s.push('…');
        s
    } else {
        cleaned.to_string()
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
}

/// Maps an error status and its body. `retry_after` is the wait the
/// rate-limit headers asked for (used for 429). `secrets` are scrubbed from
/// every kept text.
pub(crate) fn from_status(
    status: u16,
    body: &[u8],
    surface: Surface,
    retry_after: Option<Duration>,
    secrets: &[&str],
) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let clean = |s: Option<String>| s.map(|s| sanitize(&s, secrets)).filter(|s| !s.is_empty());
    let message_field = clean(as_text(&parsed.message));
    let error_field = clean(as_text(&parsed.error));
    let description_field = clean(as_text(&parsed.error_description));
    let message = message_field
        .clone()
        .or_else(|| description_field.clone())
        .or_else(|| error_field.clone())
        .unwrap_or_else(|| reason(status).to_string());

    if surface == Surface::Token && (400..500).contains(&status) && status != 429 {
        if let Some(error) = error_field {
            // An OAuth error code is a short token; anything else is not one.
            if error.len() <= 64
                && error
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
            {
                return ApiError::OAuth {
                    error,
                    description: description_field.or(message_field),
                };
            }
        }
    }

    match status {
        401 => ApiError::Unauthorized,
        403 => ApiError::Forbidden { message },
        404 => ApiError::NotFound { message },
        429 => ApiError::RateLimited {
            retry_after: retry_after
                .unwrap_or(super::ratelimit::DEFAULT_429_PAUSE)
                .max(Duration::from_secs(1)),
            message,
        },
        400..=499 => ApiError::Invalid { status, message },
        500..=599 => ApiError::Server { status, message },
        300..=399 => ApiError::InvalidResponse {
            description: format!("unexpected redirect (HTTP {status}); redirects are not followed"),
        },
        _ => ApiError::InvalidResponse {
            description: format!("unexpected HTTP status {status}"),
        },
    }
}

/// A description of a JSON decoding failure that never quotes the body: the
/// missing field's name, or the kind of problem and its position.
pub(crate) fn describe_json_error(what: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let pos = format!("line {}, column {}", e.line(), e.column());
    let detail = match e.classify() {
        Category::Syntax => "malformed JSON".to_string(),
        Category::Eof => "truncated JSON".to_string(),
        Category::Io => "unreadable body".to_string(),
        Category::Data => {
            let msg = e.to_string();
            if let Some(rest) = msg.strip_prefix("missing field `") {
                match rest.split_once('`') {
                    Some((field, _)) if field.len() <= 64 => format!("missing field `{field}`"),
                    _ => "a required field is missing".to_string(),
                }
            } else {
                "a field has the wrong type or value".to_string()
            }
        }
    };
    format!("{what}: {detail} ({pos})")
}

/// Classifies a reqwest transport error. The message holds `method path`
/// (no query, no host credentials, no headers) and the root cause.
pub(crate) fn from_transport(e: reqwest::Error, method: &str, path: &str) -> ApiError {
    let e = e.without_url();
    if let Some(cert) = certificate_error(&e) {
        return ApiError::Network {
            kind: NetworkKind::Certificate,
            message: format!("{method} {path}: TLS certificate not trusted ({cert})"),
        };
    }
    let io_kind = root_io_kind(&e);
    let kind = if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        NetworkKind::Timeout
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        NetworkKind::ConnectionRefused
    } else if e.is_connect() {
        NetworkKind::Connect
    } else {
        NetworkKind::Other
    };
    let cause = match kind {
        NetworkKind::Timeout => "timed out".to_string(),
        NetworkKind::ConnectionRefused => "connection refused".to_string(),
        NetworkKind::Connect | NetworkKind::Certificate => match root_cause_text(&e) {
            Some(c) => format!("could not connect ({c})"),
            None => "could not connect".to_string(),
        },
        NetworkKind::Other => match root_cause_text(&e) {
            Some(c) => format!("connection failed ({c})"),
            None => "connection failed".to_string(),
        },
    };
    ApiError::Network {
        kind,
        message: format!("{method} {path}: {cause}"),
    }
}

/// The rustls certificate error in an error chain, if any (e.g.
/// "invalid peer certificate: UnknownIssuer"). `io::Error::source()` skips
/// the error it wraps, so wrapped errors are looked at explicitly.
fn certificate_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    fn as_cert(err: &(dyn std::error::Error + 'static)) -> Option<String> {
        match err.downcast_ref::<rustls::Error>() {
            Some(r @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)) => {
                Some(r.to_string())
            }
            _ => None,
        }
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = as_cert(err) {
            return Some(found);
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(found) = certificate_error(inner) {
                return Some(found);
            }
        }
        cur = err.source();
    }
    None
}

fn root_io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut found = None;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            found = Some(io.kind());
        }
        cur = err.source();
    }
    found
}

/// The innermost cause's text, shortened; causes below reqwest (hyper, io,
/// rustls) never contain the URL or headers.
fn root_cause_text(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = e.source();
    let mut last = None;
    while let Some(err) = cur {
        last = Some(err.to_string());
        cur = err.source();
    }
    last.map(|t| sanitize(&t, &[])).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "live_abc123xyz789";

    #[test]
    fn status_mapping() {
        let body = br#"{"message":"Missing required scope: stream:write","error":"insufficient_scope"}"#;
        assert_eq!(from_status(401, b"{}", Surface::Api, None, &[]), ApiError::Unauthorized);
        assert_eq!(
            from_status(403, body, Surface::Api, None, &[]),
            ApiError::Forbidden {
                message: "Missing required scope: stream:write".into()
            }
        );
        assert_eq!(
            from_status(404, br#"{"message":"Category not found"}"#, Surface::Api, None, &[]),
            ApiError::NotFound {
                message: "Category not found".into()
            }
        );
        for s in [400, 422, 405, 409] {
            assert_eq!(
                from_status(s, br#"{"message":"bad"}"#, Surface::Api, None, &[]),
                ApiError::Invalid {
                    status: s,
                    message: "bad".into()
                }
            );
        }
        assert_eq!(
            from_status(
                429,
                br#"{"message":"Rate limit exceeded"}"#,
                Surface::Api,
                Some(Duration::from_secs(7)),
                &[]
            ),
            ApiError::RateLimited {
                retry_after: Duration::from_secs(7),
                message: "Rate limit exceeded".into()
            }
        );
        // 429 without any hint: a default pause, never zero.
        let e = from_status(429, b"", Surface::Api, None, &[]);
        assert!(e.retry_after().unwrap() >= Duration::from_secs(1));
        for s in [500, 502, 503, 504] {
            let e = from_status(s, b"<html>oops</html>", Surface::Api, None, &[]);
            assert!(matches!(e, ApiError::Server { status, .. } if status == s));
            assert!(e.is_retryable());
        }
        // Non-JSON body: the canonical reason, never the body.
        assert_eq!(
            from_status(502, b"<html>secret page</html>", Surface::Api, None, &[]),
            ApiError::Server {
                status: 502,
                message: "Bad Gateway".into()
            }
        );
        assert!(matches!(
            from_status(302, b"", Surface::Api, None, &[]),
            ApiError::InvalidResponse { .. }
        ));
    }

    #[test]
    fn oauth_errors_on_the_token_endpoint() {
        let body = br#"{"error":"invalid_grant","error_description":"Invalid refresh token","message":"Invalid refresh token"}"#;
        let e = from_status(400, body, Surface::Token, None, &[]);
        assert_eq!(
            e,
            ApiError::OAuth {
                error: "invalid_grant".into(),
                description: Some("Invalid refresh token".into())
            }
        );
        assert!(e.needs_login());
        assert!(!e.is_retryable());
        let e = from_status(401, br#"{"error":"invalid_client"}"#, Surface::Token, None, &[]);
        assert_eq!(
            e,
            ApiError::OAuth {
                error: "invalid_client".into(),
                description: None
            }
        );
        // Without an OAuth body the status decides.
        assert_eq!(from_status(401, b"", Surface::Token, None, &[]), ApiError::Unauthorized);
        // 5xx and 429 on the token endpoint are not OAuth errors.
        assert!(matches!(
            from_status(
                503,
                br#"{"error":"temporarily_unavailable"}"#,
                Surface::Token,
                None,
                &[]
            ),
            ApiError::Server { status: 503, .. }
        ));
        assert!(matches!(
            from_status(429, br#"{"error":"rate_limited"}"#, Surface::Token, None, &[]),
            ApiError::RateLimited { .. }
        ));
        // The API surface never produces OAuth errors.
        assert_eq!(
            from_status(401, br#"{"error":"invalid_token"}"#, Surface::Api, None, &[]),
            ApiError::Unauthorized
        );
    }

    #[test]
    fn server_messages_are_scrubbed_and_shortened() {
        let body = format!(r#"{{"message":"key {SECRET} is\nbad"}}"#);
        let e = from_status(400, body.as_bytes(), Surface::Api, None, &[SECRET]);
        assert_eq!(
            e,
            ApiError::Invalid {
                status: 400,
                message: "key [redacted] is bad".into()
            }
        );
        let body = format!(r#"{{"error":"invalid_grant","error_description":"code {SECRET} used"}}"#);
        let e = from_status(400, body.as_bytes(), Surface::Token, None, &[SECRET]);
        assert!(!e.to_string().contains(SECRET));
        assert!(!format!("{e:?}").contains(SECRET));
        let long = "x".repeat(1000);
        let body = format!(r#"{{"message":"{long}"}}"#);
        match from_status(400, body.as_bytes(), Surface::Api, None, &[]) {
            ApiError::Invalid { message, .. } => assert!(message.chars().count() <= 301),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn display_never_contains_a_secret() {
        // Every variant built from inputs that were scrubbed, plus the ones
        // that cannot carry text at all.
        let errors = vec![
            ApiError::Unauthorized,
            from_status(
                403,
                format!(r#"{{"message":"{SECRET}"}}"#).as_bytes(),
                Surface::Api,
                None,
                &[SECRET],
            ),
            from_status(
                404,
                format!(r#"{{"message":"{SECRET}"}}"#).as_bytes(),
                Surface::Api,
                None,
                &[SECRET],
            ),
            from_status(
                422,
                format!(r#"{{"message":"{SECRET}"}}"#).as_bytes(),
                Surface::Api,
                None,
                &[SECRET],
            ),
            from_status(
                429,
                format!(r#"{{"message":"{SECRET}"}}"#).as_bytes(),
                Surface::Api,
                None,
                &[SECRET],
            ),
            from_status(
                500,
                format!(r#"{{"message":"{SECRET}"}}"#).as_bytes(),
                Surface::Api,
                None,
                &[SECRET],
            ),
            from_status(
                400,
                format!(r#"{{"error":"invalid_grant","error_description":"{SECRET}"}}"#).as_bytes(),
                Surface::Token,
                None,
                &[SECRET],
            ),
            ApiError::InvalidResponse {
                description: describe_json_error(
                    "stream setup",
                    &serde_json::from_str::<u64>(&format!("\"{SECRET}\"")).unwrap_err(),
                ),
            },
        ];
        for e in errors {
            for text in [
                e.to_string(),
                format!("{e:?}"),
                crate::errors::describe(&e).info.message,
            ] {
                assert!(!text.contains(SECRET), "{text}");
                assert!(!text.contains("abc123"), "{text}");
            }
        }
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Setup {
            stream_key: String,
            n: u64,
        }
        let e = serde_json::from_str::<Setup>(r#"{"n": 1}"#).unwrap_err();
        assert_eq!(
            describe_json_error("stream setup", &e),
            "stream setup: missing field `streamKey` (line 1, column 8)"
        );
        let e = serde_json::from_str::<Setup>(&format!(r#"{{"streamKey":"k","n":"{SECRET}"}}"#)).unwrap_err();
        let d = describe_json_error("stream setup", &e);
        assert!(d.starts_with("stream setup: a field has the wrong type"), "{d}");
        assert!(!d.contains(SECRET));
        let e = serde_json::from_str::<Setup>(r#"{"streamKey": "#).unwrap_err();
        assert!(describe_json_error("x", &e).contains("truncated JSON"));
        let e = serde_json::from_str::<Setup>("<html>").unwrap_err();
        assert!(describe_json_error("x", &e).contains("malformed JSON"));
    }

    #[test]
    fn retryability_and_login() {
        assert!(ApiError::Network {
            kind: NetworkKind::Timeout,
            message: String::new()
        }
        .is_retryable());
        assert!(ApiError::RateLimited {
            retry_after: Duration::from_secs(1),
            message: String::new()
        }
        .is_retryable());
        for e in [
            ApiError::Unauthorized,
            ApiError::Forbidden { message: String::new() },
            ApiError::NotFound { message: String::new() },
            ApiError::Invalid {
                status: 400,
                message: String::new(),
            },
            ApiError::InvalidResponse {
                description: String::new(),
            },
        ] {
            assert!(!e.is_retryable(), "{e:?}");
            assert!(!e.is_transient(), "{e:?}");
        }
        assert!(ApiError::Unauthorized.needs_login());
        assert!(!ApiError::OAuth {
            error: "invalid_request".into(),
            description: None
        }
        .needs_login());
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_millis(1500)), "2 seconds");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 minutes");
    }
}
