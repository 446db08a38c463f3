//! Velora REST client (no OBS types): the OAuth token endpoint, the streaming
//! integration endpoints under `/api/integrations/oauth`, and `/api/streams`.
//!
//! * [`models`] holds the request/response types,
//! * [`error`] holds [`ApiError`],
//! * [`ratelimit`] parses rate-limit headers and keeps the client-side budget.
//!
//! One blocking [`Client`] (cheap to clone, shareable across threads) holds
//! one connection pool (keep-alive), follows no redirects and, unless the API
//! is on a loopback address, speaks HTTPS only. Calls block: run them on a
//! worker thread, never on the OBS UI or video threads.
//!
//! Rate limits: before sending, the client checks its own budget (default 20
//! requests per rolling 60 s) and any pause the server imposed (a 429's
//! `Retry-After`, or `X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`).
//! When it may not send, it returns [`ApiError::RateLimited`] at once, without
//! sleeping.
//!
//! Retries: only idempotent requests (the GETs except key regeneration, and
//! the `PUT /stream/info`), only on 5xx and network errors, at most twice,
//! with exponential backoff and jitter (about 250 ms then 1 s; at most 3 s of
//! sleep in all). Token requests and key regeneration are never retried.

pub mod error;
pub mod models;
pub mod ratelimit;
mod token_endpoint;

pub use error::{ApiError, NetworkKind};
pub use models::{
    Category, LiveStream, StreamInfo, StreamInfoUpdate, StreamSetup, StreamsPage, TokenResponse, UpdateResult, User,
    MAX_TITLE_CHARS,
};
pub use ratelimit::{BudgetConfig, RateLimitSnapshot};

use crate::config::{check_transport, Endpoints};
use crate::Secret;
use error::Surface;
use ratelimit::{RateLimitHeaders, RateLimiter, Refusal};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// Path of the streaming integration API under the API base.
pub const INTEGRATION_PATH: &str = "/api/integrations/oauth";
/// Path of the public streams list.
pub const STREAMS_PATH: &str = "/api/streams";
/// Largest response body read.
const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// `obs-velora/<version>`
pub fn default_user_agent() -> String {
    format!("obs-velora/{}", crate::version::PLUGIN_VERSION)
}

/// Retries of idempotent requests after a 5xx or a network error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Nominal delay before the first retry; each next one is 4 times longer.
    pub base_delay: Duration,
    /// Total sleep budget of one call; a retry that would exceed it is not made.
    pub max_total_sleep: Duration,
}

impl RetryPolicy {
    /// 2 retries, ~250 ms then ~1 s, at most 3 s of sleep.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(250),
        max_total_sleep: Duration::from_secs(3),
    };

    pub const NONE: RetryPolicy = RetryPolicy {
        max_retries: 0,
        base_delay: Duration::ZERO,
        max_total_sleep: Duration::ZERO,
    };

    /// Delay before retry number `retry` (0-based): nominal
    /// `base * 4^retry`, jittered into `[nominal/2, nominal]` by `jitter`
    /// in `[0, 1]`.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let nominal = self.base_delay.saturating_mul(4u32.saturating_pow(retry.min(8)));
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            1.0
        };
        nominal.mul_f64(0.5 + 0.5 * jitter)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::DEFAULT
    }
}

/// Client configuration. Build it with [`ApiConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub endpoints: Endpoints,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// Whole request, default 15 s.
    pub timeout: Duration,
    /// Default [`default_user_agent`].
    pub user_agent: String,
    /// Client-side request budget, default [`BudgetConfig::DEFAULT`] (20 / 60 s).
    pub budget: BudgetConfig,
    /// Default [`RetryPolicy::DEFAULT`].
    pub retry: RetryPolicy,
}

impl ApiConfig {
    pub fn new(endpoints: Endpoints) -> Self {
        ApiConfig {
            endpoints,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            user_agent: default_user_agent(),
            budget: BudgetConfig::DEFAULT,
            retry: RetryPolicy::DEFAULT,
        }
    }
}

/// The Velora API client. Clones share the connection pool and the rate-limit
/// state.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::blocking::Client,
    endpoints: Endpoints,
    retry: RetryPolicy,
    limiter: Mutex<RateLimiter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.inner.endpoints.api_base.as_str())
            .field("client_id", &self.inner.endpoints.client_id)
            .finish_non_exhaustive()
    }
}

/// Does the request change anything if repeated? Decides retries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    Yes,
    Never,
}

/// One logical call.
struct Call<'a> {
    method: Method,
    url: Url,
    /// For error messages: what was asked ("stream setup").
    what: &'static str,
    surface: Surface,
    bearer: Option<&'a Secret>,
    body: Option<Vec<u8>>,
    retry: Retry,
    /// Raw secret values the request carries, scrubbed from error texts.
    secrets: Vec<&'a str>,
}

/// JSON body of the authorization code grant, in the documented order.
#[derive(Serialize)]
struct CodeGrantBody<'a> {
    grant_type: &'a str,
    code: &'a str,
    redirect_uri: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    code_verifier: &'a str,
}

/// JSON body of the refresh token grant.
#[derive(Serialize)]
struct RefreshGrantBody<'a> {
    grant_type: &'a str,
    refresh_token: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
}

fn code_grant_body(ep: &Endpoints, code: &Secret, redirect_uri: &str, verifier: &Secret) -> Result<Vec<u8>, ApiError> {
    to_json(&CodeGrantBody {
        grant_type: "authorization_code",
        code: code.expose(),
        redirect_uri,
        client_id: &ep.client_id,
        client_secret: ep.client_secret.as_ref().map(Secret::expose),
        code_verifier: verifier.expose(),
    })
}

fn refresh_grant_body(ep: &Endpoints, refresh_token: &Secret) -> Result<Vec<u8>, ApiError> {
    to_json(&RefreshGrantBody {
        grant_type: "refresh_token",
        refresh_token: refresh_token.expose(),
        client_id: &ep.client_id,
        client_secret: ep.client_secret.as_ref().map(Secret::expose),
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ApiError> {
    // Serializing these plain structs cannot fail; never echo the value.
    serde_json::to_vec(v).map_err(|_| ApiError::Config {
        message: "cannot encode the request body".to_string(),
    })
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidResponse {
        description: error::describe_json_error(what, &e),
    })
}

fn invalid(what: &str, why: String) -> ApiError {
    ApiError::InvalidResponse {
        description: format!("{what}: {why}"),
    }
}

impl Client {
    /// Builds the client. Fails when an endpoint uses plain HTTP off loopback.
    pub fn new(cfg: ApiConfig) -> Result<Client, ApiError> {
        let ep = &cfg.endpoints;
        check_transport(&ep.api_base, "api_url")?;
        check_transport(&ep.token_url, "token_url")?;
        let loopback = crate::config::is_loopback_url(&ep.api_base) && crate::config::is_loopback_url(&ep.token_url);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!loopback)
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(cfg.user_agent.clone())
            .default_headers(headers)
            .referer(false)
            .build()
            .map_err(|e| ApiError::Config {
                message: format!(
                    "cannot create the HTTP client ({})",
                    error::sanitize(&e.without_url().to_string(), &[])
                ),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoints: cfg.endpoints,
                retry: cfg.retry,
                limiter: Mutex::new(RateLimiter::new(cfg.budget)),
            }),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// Authorization code grant (PKCE). Never retried.
    pub fn exchange_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<TokenResponse, ApiError> {
        let ep = &self.inner.endpoints;
        let body = code_grant_body(ep, code, redirect_uri, verifier)?;
        let mut secrets = vec![code.expose(), verifier.expose()];
        if let Some(s) = &ep.client_secret {
            secrets.push(s.expose());
        }
        self.token_request(body, secrets)
    }

    /// Refresh token grant. Never retried. The response may omit a new
    /// refresh token (keep the old one then).
    pub fn refresh(&self, refresh_token: &Secret) -> Result<TokenResponse, ApiError> {
        let ep = &self.inner.endpoints;
        let body = refresh_grant_body(ep, refresh_token)?;
        let mut secrets = vec![refresh_token.expose()];
        if let Some(s) = &ep.client_secret {
            secrets.push(s.expose());
        }
        self.token_request(body, secrets)
    }

    fn token_request(&self, body: Vec<u8>, secrets: Vec<&str>) -> Result<TokenResponse, ApiError> {
        let call = Call {
            method: Method::POST,
            url: self.inner.endpoints.token_url.clone(),
            what: "token response",
            surface: Surface::Token,
            bearer: None,
            body: Some(body),
            retry: Retry::Never,
            secrets,
        };
        let bytes = self.execute(&call)?;
        let t: TokenResponse = decode("token response", &bytes)?;
        t.validate().map_err(|why| invalid("token response", why))
    }

    /// `GET /stream/setup` (scope `stream:key`): stream key and ingest URLs.
    pub fn stream_setup(&self, token: &Secret) -> Result<StreamSetup, ApiError> {
        let bytes = self.get(token, "/stream/setup", "stream setup", Retry::Yes)?;
        let s: StreamSetup = decode("stream setup", &bytes)?;
        s.validate().map_err(|why| invalid("stream setup", why))
    }

    /// `GET /stream/info` (scope `stream:read`).
    pub fn stream_info(&self, token: &Secret) -> Result<StreamInfo, ApiError> {
        let bytes = self.get(token, "/stream/info", "stream info", Retry::Yes)?;
        decode("stream info", &bytes)
    }

    /// `PUT /stream/info` (scope `stream:write`): only the `Some` fields are
    /// sent. Idempotent, so retried like a GET. The server validates (title
    /// at most 140 characters, known category); see
    /// [`StreamInfoUpdate::validate`] for a client-side check.
    pub fn update_stream_info(&self, token: &Secret, update: &StreamInfoUpdate) -> Result<UpdateResult, ApiError> {
        let call = Call {
            method: Method::PUT,
            url: self.integration_url("/stream/info")?,
            what: "stream info update",
            surface: Surface::Api,
            bearer: Some(token),
            body: Some(to_json(update)?),
            retry: Retry::Yes,
            secrets: vec![token.expose()],
        };
        let bytes = self.execute(&call)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(UpdateResult::default());
        }
        decode("stream info update", &bytes)
    }

    /// `GET /stream/categories` (scope `stream:read`).
    pub fn categories(&self, token: &Secret) -> Result<Vec<Category>, ApiError> {
        let bytes = self.get(token, "/stream/categories", "categories", Retry::Yes)?;
        let b: models::CategoriesBody = decode("categories", &bytes)?;
        b.into_categories().map_err(|why| invalid("categories", why))
    }

    /// `GET /stream/key/regenerate` (scope `stream:key`), as documented. The
    /// old key stops working at once. Never retried: a lost answer must not
    /// turn into two regenerations.
    pub fn regenerate_key(&self, token: &Secret) -> Result<Secret, ApiError> {
        let bytes = self.get(token, "/stream/key/regenerate", "regenerated key", Retry::Never)?;
        let k: models::RegeneratedKey = decode("regenerated key", &bytes)?;
        if k.stream_key.expose().trim().is_empty() {
            return Err(invalid("regenerated key", "empty streamKey".to_string()));
        }
        Ok(k.stream_key)
    }

    /// `GET /api/integrations/oauth/user` (scope `user:read`; our documented
    /// extension).
    pub fn user(&self, token: &Secret) -> Result<User, ApiError> {
        let bytes = self.get(token, "/user", "user", Retry::Yes)?;
        let u: User = decode("user", &bytes)?;
        u.validate().map_err(|why| invalid("user", why))
    }

    /// `GET /api/streams?cursor=&limit=`: one page of live streams. Pass the
    /// returned `cursor` to get the next page; `None` means the last page.
    pub fn live_streams(
        &self,
        token: &Secret,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<StreamsPage, ApiError> {
        let mut url = self.inner.endpoints.api_url(STREAMS_PATH)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(c) = cursor.filter(|c| !c.is_empty()) {
                q.append_pair("cursor", c);
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let call = Call {
            method: Method::GET,
            url,
            what: "live streams",
            surface: Surface::Api,
            bearer: Some(token),
            body: None,
            retry: Retry::Yes,
            secrets: vec![token.expose()],
        };
        let bytes = self.execute(&call)?;
        let b: models::StreamsBody = decode("live streams", &bytes)?;
        Ok(b.into())
    }

    /// The last rate-limit state seen and the client's own budget.
    pub fn rate_limit(&self) -> RateLimitSnapshot {
        self.limiter().snapshot(Instant::now())
    }

    // ------------------------------------------------------------------

    fn limiter(&self) -> std::sync::MutexGuard<'_, RateLimiter> {
        self.inner.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn integration_url(&self, path: &str) -> Result<Url, ApiError> {
        Ok(self.inner.endpoints.api_url(&format!("{INTEGRATION_PATH}{path}"))?)
    }

    fn get(&self, token: &Secret, path: &str, what: &'static str, retry: Retry) -> Result<Vec<u8>, ApiError> {
        let call = Call {
            method: Method::GET,
            url: self.integration_url(path)?,
            what,
            surface: Surface::Api,
            bearer: Some(token),
            body: None,
            retry,
            secrets: vec![token.expose()],
        };
        self.execute(&call)
    }

    /// Budget check, send, map; retries per the policy. Returns the body of
    /// a 2xx answer.
    fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>, ApiError> {
        let policy = self.inner.retry;
        let mut slept = Duration::ZERO;
        let mut retries = 0u32;
        let mut last_error: Option<ApiError> = None;
        loop {
            let acquired = self.limiter().acquire(Instant::now());
            if let Err(refusal) = acquired {
                // On a retry, the original failure says more than our budget.
                return Err(last_error.unwrap_or_else(|| refused(refusal)));
            }
            let (err, server_wait) = match self.attempt(call) {
                Ok(body) => return Ok(body),
                Err(x) => x,
            };
            let retryable = call.retry == Retry::Yes && err.is_transient() && retries < policy.max_retries;
            if !retryable {
                return Err(err);
            }
            let jitter: f64 = rand::random();
            let mut delay = policy.delay(retries, jitter);
            if let Some(w) = server_wait {
                delay = delay.max(w);
            }
            if slept + delay > policy.max_total_sleep {
                return Err(err);
            }
            std::thread::sleep(delay);
            slept += delay;
            retries += 1;
            last_error = Some(err);
        }
    }

    /// One HTTP exchange. On failure also returns a `Retry-After` the server
    /// sent with a 5xx.
    fn attempt(&self, call: &Call<'_>) -> Result<Vec<u8>, (ApiError, Option<Duration>)> {
        let path = call.url.path().to_string();
        let method = call.method.as_str();
        let mut req = self.inner.http.request(call.method.clone(), call.url.clone());
        if let Some(token) = call.bearer {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| (ApiError::Unauthorized, None))?;
            v.set_sensitive(true);
            req = req.header(AUTHORIZATION, v);
        }
        if let Some(body) = &call.body {
            req = req
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let resp = req
            .send()
            .map_err(|e| (error::from_transport(e, method, &path), None))?;
        let status = resp.status().as_u16();
        let headers = RateLimitHeaders::parse(resp.headers(), SystemTime::now());
        self.limiter().observe(status, &headers, Instant::now());

        let declared = resp.content_length();
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err((invalid(call.what, "response body too large".to_string()), None));
        }
        let mut body = Vec::new();
        resp.take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| (read_error(&e, method, &path), None))?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err((invalid(call.what, "response body too large".to_string()), None));
        }
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let wait = headers
            .retry_after
            .or(if status == 429 { headers.reset_in } else { None });
        let err = error::from_status(status, &body, call.surface, wait, &call.secrets);
        let server_wait = if status >= 500 { headers.retry_after } else { None };
        Err((err, server_wait))
    }
}

fn refused(r: Refusal) -> ApiError {
    let retry_after = r.wait().max(Duration::from_millis(1));
    let message = match r {
        Refusal::Budget(_) => "client-side request budget used up; request not sent".to_string(),
        Refusal::Server(_) => "the server asked to wait before the next request; request not sent".to_string(),
    };
    ApiError::RateLimited { retry_after, message }
}

/// A failure while reading the body: no URL, no header, only the kind.
fn read_error(e: &std::io::Error, method: &str, path: &str) -> ApiError {
    let is_timeout = e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if is_timeout {
        ApiError::Network {
            kind: NetworkKind::Timeout,
            message: format!("{method} {path}: timed out while reading the response"),
        }
    } else {
        ApiError::Network {
            kind: NetworkKind::Other,
            message: format!(
                "{method} {path}: connection failed while reading the response ({:?})",
                e.kind()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(secret: Option<&str>) -> Endpoints {
        Endpoints::for_api_base("http://127.0.0.1:1", "obs-velora", secret.map(Secret::new)).unwrap()
    }

    #[test]
    fn code_grant_body_is_the_documented_json() {
        let body = code_grant_body(
            &endpoints(None),
            &Secret::new("AUTH_CODE"),
            "http://127.0.0.1:38287/velora/callback",
            &Secret::new("VERIFIER"),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"authorization_code","code":"AUTH_CODE","redirect_uri":"http://127.0.0.1:38287/velora/callback","client_id":"obs-velora","code_verifier":"VERIFIER"}"#
        );
        let body = code_grant_body(&endpoints(Some("SECRET")), &Secret::new("C"), "r", &Secret::new("V")).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"authorization_code","code":"C","redirect_uri":"r","client_id":"obs-velora","client_secret":"SECRET","code_verifier":"V"}"#
        );
    }

    #[test]
    fn refresh_body() {
        let body = refresh_grant_body(&endpoints(None), &Secret::new("RT")).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"refresh_token","refresh_token":"RT","client_id":"obs-velora"}"#
        );
    }

    #[test]
    fn backoff_delays() {
        let p = RetryPolicy::DEFAULT;
        assert_eq!(p.delay(0, 1.0), Duration::from_millis(250));
        assert_eq!(p.delay(0, 0.0), Duration::from_millis(125));
        assert_eq!(p.delay(1, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(2, 1.0), Duration::from_secs(4));
        // Worst case of the default policy stays under its sleep cap.
        assert!(p.delay(0, 1.0) + p.delay(1, 1.0) <= p.max_total_sleep);
        assert_eq!(p.delay(1, f64::NAN), Duration::from_secs(1));
        assert_eq!(p.delay(100, 1.0), p.delay(8, 1.0));
    }

    #[test]
    fn https_required_off_loopback() {
        let mut ep = endpoints(None);
        ep.api_base = Url::parse("http://api.velora.tv/").unwrap();
        ep.token_url = Url::parse("http://api.velora.tv/api/developer/oauth/token").unwrap();
        let err = Client::new(ApiConfig::new(ep)).unwrap_err();
        assert!(matches!(err, ApiError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("HTTPS is required"), "{err}");
        // HTTPS is fine (nothing is sent by new()).
        let ep = Endpoints::for_api_base("https://api.velora.tv", "obs-velora", None).unwrap();
        assert!(Client::new(ApiConfig::new(ep)).is_ok());
    }

    #[test]
    fn refusal_is_rate_limited_without_sending() {
        let mut cfg = ApiConfig::new(endpoints(None));
        cfg.budget = BudgetConfig {
            max_requests: 0,
            window: Duration::from_secs(60),
        };
        // Port 1 on loopback: nothing listens; a send would be a Network error.
        let c = Client::new(cfg).unwrap();
        let err = c.stream_info(&Secret::new("tok")).unwrap_err();
        match err {
            ApiError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Duration::from_secs(60))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.rate_limit().budget_remaining, 0);
    }

    #[test]
    fn client_debug_has_no_secret() {
        let c = Client::new(ApiConfig::new(endpoints(Some("topsecretvalue")))).unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("topsecretvalue"), "{d}");
        let cfg = ApiConfig::new(endpoints(Some("topsecretvalue")));
        assert!(!format!("{cfg:?}").contains("topsecretvalue"));
    }
}
