//! One call on the wire: the client's budget first, then the request on
//! the client's runtime (dropped the moment the cancel flag fires), the
//! answer read within a size cap and mapped to [`ApiError`], and the
//! retries of idempotent requests per the [`super::RetryPolicy`].

use super::client::Client;
use super::decode;
use super::error::{self, ApiError, NetworkKind, Surface};
use super::ratelimit::{Priority, RateLimitHeaders, Refusal};
use crate::Secret;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::Serialize;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// Largest response body read.
const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Does the request change anything if repeated? Decides retries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    Yes,
    Never,
}

/// One logical call.
pub(super) struct Call<'a> {
    pub(super) method: Method,
    pub(super) url: Url,
    /// For error messages: what was asked ("stream setup").
    pub(super) what: &'static str,
    pub(super) surface: Surface,
    pub(super) bearer: Option<&'a Secret>,
    pub(super) body: Option<Vec<u8>>,
    pub(super) retry: Retry,
    /// Raw secret values the request carries, scrubbed from error texts.
    pub(super) secrets: Vec<&'a str>,
}

pub(super) fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ApiError> {
    // Serializing these plain structs cannot fail; never echo the value.
    serde_json::to_vec(v).map_err(|_| ApiError::Config {
        message: "cannot encode the request body".to_string(),
    })
}

impl Client {
    /// Runs one call to completion on the client's runtime, unless the
    /// cancel flag fires first (then the request is dropped at once).
    fn run<T>(&self, fut: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
        let cancel = &self.inner.cancel;
        if cancel.is_cancelled() {
            return Err(ApiError::Cancelled);
        }
        self.inner.rt.block_on(async {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(ApiError::Cancelled),
                r = fut => r,
            }
        })
    }
    /// [`Client::execute`] on the runtime, cancellable.
    pub(super) fn send(&self, call: &Call<'_>) -> Result<Vec<u8>, ApiError> {
        self.run(self.execute(call))
    }

    /// Budget check, send, map; retries per the policy. Returns the body of
    /// a 2xx answer.
    async fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>, ApiError> {
        let policy = self.inner.retry;
        let mut slept = Duration::ZERO;
        let mut retries = 0u32;
        let mut last_error: Option<ApiError> = None;
        loop {
            // A retry is background work: it never takes a click's share.
            let priority = if retries > 0 {
                Priority::Background
            } else {
                self.priority
            };
            let acquired = self.limiter().acquire(Instant::now(), priority);
            if let Err(refusal) = acquired {
                // On a retry, the original failure says more than our budget.
                return Err(last_error.unwrap_or_else(|| refused(refusal)));
            }
            let (err, server_wait) = match self.attempt(call).await {
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
            tokio::time::sleep(delay).await;
            slept += delay;
            retries += 1;
            last_error = Some(err);
        }
    }

    /// One HTTP exchange. On failure also returns a `Retry-After` the server
    /// sent with a 5xx.
    async fn attempt(&self, call: &Call<'_>) -> Result<Vec<u8>, (ApiError, Option<Duration>)> {
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
        let mut resp = req
            .send()
            .await
            .map_err(|e| (error::from_transport(e, method, &path), None))?;
        let status = resp.status().as_u16();
        let headers = RateLimitHeaders::parse(resp.headers(), SystemTime::now());
        self.limiter().observe(status, &headers, Instant::now());

        let declared = resp.content_length();
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err((decode::invalid(call.what, "response body too large".to_string()), None));
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > MAX_BODY_BYTES {
                        // Stop reading: a huge (or endless) body is not an answer.
                        return Err((decode::invalid(call.what, "response body too large".to_string()), None));
                    }
                }
                Ok(None) => break,
                Err(e) => return Err((read_error(e, method, &path), None)),
            }
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
    match r {
        Refusal::Budget(_) => ApiError::Paced { retry_after },
        Refusal::Server(_) => ApiError::RateLimited {
            retry_after,
            message: "the server asked to wait before the next request; request not sent".to_string(),
        },
    }
}

/// A failure while reading the body: no URL, no header, only the kind.
fn read_error(e: reqwest::Error, method: &str, path: &str) -> ApiError {
    if e.is_timeout() {
        ApiError::Network {
            kind: NetworkKind::Timeout,
            message: format!("{method} {path}: timed out while reading the response"),
        }
    } else {
        ApiError::Network {
            kind: NetworkKind::Other,
            message: format!("{method} {path}: connection failed while reading the response"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::test_endpoints as endpoints;
    use super::super::config::ApiConfig;
    use super::super::ratelimit::BudgetConfig;
    use super::*;

    #[test]
    fn refusal_is_rate_limited_without_sending() {
        let mut cfg = ApiConfig::new(endpoints(None));
        cfg.budget = BudgetConfig {
            max_requests: 0,
            window: Duration::from_secs(60),
            background_max: 0,
        };
        // Port 1 on loopback: nothing listens; a send would be a Network error.
        let c = Client::new(cfg).unwrap();
        let err = c.stream_info(&Secret::new("tok")).unwrap_err();
        match err {
            ApiError::Paced { retry_after } => {
                assert_eq!(retry_after, Duration::from_secs(60))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.rate_limit().budget_remaining, 0);
    }
}
