//! Setup: which Velora the plugin talks to and how. The process environment
//! is read once, when the worker starts ([`Tuning`]); the endpoints, the HTTP
//! client and the token store are built once per environment ([`open`]) and
//! rebuilt only when the streamer picks another one.

use super::api::Api;
use super::prefs::Prefs;
use crate::api::{ApiConfig, Client};
use crate::auth::{LoginConfig, Session, TokenStore};
use crate::cancel::Cancel;
use crate::config::{ConfigError, Endpoints};
use crate::errors::describe;
use crate::status::{self, ErrorInfo, ErrorKind};
use std::path::Path;
use std::time::Duration;

/// Knobs from the process environment (documented in the README), read once.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Tuning {
    /// `VELORA_HTTP_TIMEOUT_MS`: the whole-request timeout.
    pub http_timeout: Option<Duration>,
    /// `VELORA_REDIRECT_PORT`: the loopback port of the login.
    pub redirect_port: Option<u16>,
    /// `VELORA_LOGIN_TIMEOUT_SECS`: how long a login waits for the browser.
    pub login_timeout: Option<Duration>,
    /// `VELORA_KEY_CHECK_SECS`: how old the last stream-key check may be
    /// before going live (default 600 s).
    pub key_check_max_age: Duration,
    /// `VELORA_RETRY_MIN_SECS`: the first wait before polling again after an
    /// error (default 15 s; it doubles up to 5 min).
    pub retry_min: Duration,
    /// `VELORA_RATE_LIMIT`: requests per minute the server allows, for a
    /// custom server whose limit is known (default: the environment's
    /// documented limit). The plugin's own budget is two thirds of it.
    pub rate_limit: Option<u32>,
    /// `VELORA_THUMB_CACHE_BYTES`: the size cap of the category pictures'
    /// disk cache (default 16 MiB).
    pub thumb_cache_bytes: u64,
}

impl Tuning {
    pub fn from_env() -> Tuning {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Tuning {
        let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
        Tuning {
            http_timeout: num("VELORA_HTTP_TIMEOUT_MS").map(|ms| Duration::from_millis(ms.max(100))),
            redirect_port: num("VELORA_REDIRECT_PORT").and_then(|p| u16::try_from(p).ok()),
            login_timeout: num("VELORA_LOGIN_TIMEOUT_SECS").map(|s| Duration::from_secs(s.max(1))),
            key_check_max_age: Duration::from_secs(num("VELORA_KEY_CHECK_SECS").unwrap_or(600)),
            retry_min: Duration::from_secs(num("VELORA_RETRY_MIN_SECS").unwrap_or(15).clamp(1, 300)),
            rate_limit: num("VELORA_RATE_LIMIT")
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0),
            thumb_cache_bytes: num("VELORA_THUMB_CACHE_BYTES").unwrap_or(super::thumbnails::CACHE_BYTES),
        }
    }
}

pub(crate) fn endpoints_for(prefs: &Prefs) -> Result<Endpoints, ConfigError> {
    crate::config::resolve_from_env(&prefs.endpoint_settings())
}

/// Endpoints, client and session for the environment the preferences name.
/// Touches the keyring: worker thread only. The status board shows the
/// environment, and the phase from the stored tokens.
pub(super) fn open(prefs: &Prefs, tuning: &Tuning, config_dir: &Path, stop: &Cancel) -> Result<Api, ErrorInfo> {
    let ep = endpoints_for(prefs).map_err(|e| {
        log::warn!("{e}");
        ErrorInfo {
            kind: ErrorKind::Other,
            message: crate::text::tr("Velora.Error.NoEndpoints"),
            retry_in_secs: None,
        }
    })?;
    status::update(|s| {
        s.environment = ep.environment.as_str().to_string();
        s.api_base_url = ep.api_base.as_str().trim_end_matches('/').to_string();
    });
    let mut cfg = ApiConfig::new(ep.clone());
    if let Some(t) = tuning.http_timeout {
        cfg.timeout = t;
    }
    if let Some(n) = tuning.rate_limit {
        cfg.budget = crate::api::BudgetConfig::for_requests_per_minute(n);
    }
    cfg.cancel = stop.clone();
    let client = Client::new(cfg).map_err(|e| {
        log::warn!("Velora API client: {e}");
        describe(&e).info
    })?;
    let store = TokenStore::open_unless(config_dir, true, stop);
    match store.fallback_reason() {
        None => log::info!("tokens are kept in the OS keyring"),
        Some(why) => log::info!("no OS keyring ({why}): tokens are kept in a file only you can read"),
    }
    let session = Session::open(store, ep.environment_key()).map_err(|e| {
        log::warn!("token store: {e}");
        ErrorInfo {
            kind: ErrorKind::Other,
            message: crate::text::tr_args("Velora.Error.TokenStore", &[&e.to_string()]),
            retry_in_secs: None,
        }
    })?;
    if session.is_logged_in() {
        log::info!("restored the Velora session ({})", ep.environment_key());
    }
    Ok(Api::new(client, session))
}

/// The login's configuration for these endpoints.
pub(super) fn login_config(ep: &Endpoints, prefs: &Prefs, tuning: &Tuning) -> LoginConfig {
    let mut cfg = LoginConfig::new(ep.authorize_url.clone(), ep.client_id.clone());
    if let Some(p) = tuning.redirect_port.or(prefs.redirect_port) {
        cfg.port = p;
    }
    if let Some(t) = tuning.login_timeout {
        cfg.timeout = t;
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_reads_the_documented_variables() {
        let t = Tuning::from_lookup(|k| match k {
            "VELORA_HTTP_TIMEOUT_MS" => Some("50".into()),
            "VELORA_REDIRECT_PORT" => Some(" 40001 ".into()),
            "VELORA_LOGIN_TIMEOUT_SECS" => Some("0".into()),
            "VELORA_KEY_CHECK_SECS" => Some("5".into()),
            _ => None,
        });
        assert_eq!(t.http_timeout, Some(Duration::from_millis(100)));
        assert_eq!(t.redirect_port, Some(40001));
        assert_eq!(t.login_timeout, Some(Duration::from_secs(1)));
        assert_eq!(t.key_check_max_age, Duration::from_secs(5));
        assert_eq!(t.retry_min, Duration::from_secs(15));
        let r = Tuning::from_lookup(|k| match k {
            "VELORA_RETRY_MIN_SECS" => Some("2".into()),
            "VELORA_RATE_LIMIT" => Some("800".into()),
            _ => None,
        });
        assert_eq!(r.retry_min, Duration::from_secs(2));
        assert_eq!(r.rate_limit, Some(800));
        let d = Tuning::from_lookup(|_| None);
        assert_eq!(d.key_check_max_age, Duration::from_secs(600));
        assert_eq!(d.redirect_port, None);
        let bad = Tuning::from_lookup(|_| Some("x".into()));
        assert_eq!(bad.http_timeout, None);
    }
}
