//! The [`Client`]: one connection pool, one single-threaded runtime that
//! drives it, one rate-limit state and one cancel flag, shared by its clones.
//! Its calls live beside it: the token endpoint, the integration endpoints,
//! and the way one call goes over the wire.

use super::config::{ApiConfig, RetryPolicy};
use super::error::{self, ApiError};
use super::ratelimit::{Priority, RateLimitSnapshot, RateLimiter};
use crate::cancel::Cancel;
use crate::config::{check_transport, Endpoints};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The Velora API client. Clones share the connection pool, the rate-limit
/// state and the cancel flag; [`Client::background`] gives a clone whose
/// requests count as background work.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
    pub(super) priority: Priority,
}

pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    /// Drives `http`. Current-thread: no thread of its own; whoever calls
    /// `block_on` drives it (several callers take turns).
    pub(super) rt: tokio::runtime::Runtime,
    pub(super) endpoints: Endpoints,
    pub(super) retry: RetryPolicy,
    pub(super) limiter: Mutex<RateLimiter>,
    pub(super) cancel: Cancel,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.inner.endpoints.api_base.as_str())
            .field("client_id", &self.inner.endpoints.client_id)
            .finish_non_exhaustive()
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
        let http = reqwest::Client::builder()
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| ApiError::Config {
                message: format!("cannot start the HTTP runtime ({e})"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                rt,
                endpoints: cfg.endpoints,
                retry: cfg.retry,
                limiter: Mutex::new(RateLimiter::new(cfg.budget)),
                cancel: cfg.cancel,
            }),
            priority: Priority::User,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// This client (same pool, budget and cancel flag) for background work:
    /// polling, checks, pushes the streamer did not click for.
    pub fn background(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            priority: Priority::Background,
        }
    }
    /// The last rate-limit state seen and the client's own budget.
    pub fn rate_limit(&self) -> RateLimitSnapshot {
        self.limiter().snapshot(Instant::now())
    }
    pub(super) fn limiter(&self) -> std::sync::MutexGuard<'_, RateLimiter> {
        self.inner.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::test_endpoints as endpoints;
    use super::*;
    use url::Url;

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
    fn client_debug_has_no_secret() {
        let c = Client::new(ApiConfig::new(endpoints(Some("topsecretvalue")))).unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("topsecretvalue"), "{d}");
        let cfg = ApiConfig::new(endpoints(Some("topsecretvalue")));
        assert!(!format!("{cfg:?}").contains("topsecretvalue"));
    }
}
