//! How a [`super::Client`] is set up: [`ApiConfig`] (endpoints, timeouts,
//! user agent, budget, retries, cancel flag) and the [`RetryPolicy`].

use super::ratelimit::BudgetConfig;
use crate::cancel::Cancel;
use crate::config::Endpoints;
use std::time::Duration;

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
    /// Client-side request budget; default: from the environment's
    /// documented limit ([`BudgetConfig::for_requests_per_minute`]).
    pub budget: BudgetConfig,
    /// Default [`RetryPolicy::DEFAULT`].
    pub retry: RetryPolicy,
    /// Fires to abandon every request in flight and refuse new ones.
    pub cancel: Cancel,
}

impl ApiConfig {
    pub fn new(endpoints: Endpoints) -> Self {
        let budget = BudgetConfig::for_requests_per_minute(endpoints.environment.documented_requests_per_minute());
        ApiConfig {
            endpoints,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            user_agent: default_user_agent(),
            budget,
            retry: RetryPolicy::DEFAULT,
            cancel: Cancel::new(),
        }
    }
}

/// Loopback endpoints on a port where nothing listens, for unit tests.
#[cfg(test)]
pub(super) fn test_endpoints(secret: Option<&str>) -> Endpoints {
    Endpoints::for_api_base("http://127.0.0.1:1", "obs-velora", secret.map(crate::Secret::new)).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
