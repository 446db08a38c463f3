//! The stored token record and its expiry math (pure functions, the clock
//! passed in as Unix seconds), the token endpoint's answer ([`TokenGrant`],
//! [`TokenError`]) and the [`TokenEndpoint`] the HTTP client implements.

use crate::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The refresh happens this long before expiry at most...
pub const MAX_REFRESH_MARGIN_SECS: u64 = 60;
// ...or 10% of the token's lifetime, whichever is smaller.

/// Seconds since the Unix epoch (0 for times before it).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `unix_seconds(SystemTime::now())`.
pub fn now_unix() -> u64 {
    unix_seconds(SystemTime::now())
}

/// How long before expiry to refresh: `min(60 s, lifetime / 10)`.
pub fn refresh_margin(lifetime_secs: u64) -> u64 {
    MAX_REFRESH_MARGIN_SECS.min(lifetime_secs / 10)
}

/// Expiry time of a token issued at `now` with `expires_in`.
pub fn expires_at(now: u64, expires_in: u64) -> u64 {
    now.saturating_add(expires_in)
}

/// When to refresh a token expiring at `expires_at`. With the issue time
/// known, the margin is `min(60, 10% of lifetime)`; without it, 60 s.
pub fn refresh_due_at(obtained_at: Option<u64>, expires_at: u64) -> u64 {
    let margin = match obtained_at {
        Some(o) if o <= expires_at => refresh_margin(expires_at - o),
        _ => MAX_REFRESH_MARGIN_SECS,
    };
    expires_at.saturating_sub(margin)
}

/// True when a token should be refreshed now. A token without an expiry never
/// needs a proactive refresh (only after a 401).
pub fn needs_refresh(now: u64, obtained_at: Option<u64>, expires_at: Option<u64>) -> bool {
    match expires_at {
        Some(e) => now >= refresh_due_at(obtained_at, e),
        None => false,
    }
}

/// Seconds from `now` until the refresh is due (0 when due already); `None`
/// without an expiry. For scheduling a timer.
pub fn secs_until_refresh(now: u64, obtained_at: Option<u64>, expires_at: Option<u64>) -> Option<u64> {
    expires_at.map(|e| refresh_due_at(obtained_at, e).saturating_sub(now))
}

/// The record kept in the token store (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Unix seconds; `None` when the server gave no `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Unix seconds when the access token was issued (for the 10% margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_at: Option<u64>,
}

impl StoredTokens {
    /// The record for a fresh grant received at `now`.
    pub fn from_grant(grant: TokenGrant, now: u64) -> Self {
        StoredTokens {
            access_token: grant.access_token,
            refresh_token: grant.refresh_token.filter(|t| !t.is_empty()),
            expires_at: grant.expires_in.map(|s| expires_at(now, s)),
            scope: grant.scope,
            account_name: None,
            obtained_at: Some(now),
        }
    }

    /// The record after a refresh: the server may omit a new refresh token or
    /// scope (RFC 6749 §6), then the old ones stay; the account name stays.
    pub fn refreshed(&self, grant: TokenGrant, now: u64) -> Self {
        let mut next = StoredTokens::from_grant(grant, now);
        if next.refresh_token.is_none() {
            next.refresh_token = self.refresh_token.clone();
        }
        if next.scope.is_none() {
            next.scope = self.scope.clone();
        }
        next.account_name = self.account_name.clone();
        next
    }

    pub fn needs_refresh(&self, now: u64) -> bool {
        needs_refresh(now, self.obtained_at, self.expires_at)
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    pub fn secs_until_refresh(&self, now: u64) -> Option<u64> {
        secs_until_refresh(now, self.obtained_at, self.expires_at)
    }
}

/// A token endpoint response (`access_token`, `refresh_token`, `expires_in`,
/// `scope`, `token_type`), deserializable from the JSON the endpoint returns.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenGrant {
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
}

/// A failed token request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The server refused the grant (`invalid_grant`, `invalid_client`, a 400
    /// or 401...). For a refresh this means the user has to log in again.
    Rejected { error: String, description: Option<String> },
    /// The server could not be reached or failed (network, 5xx, 429, a body
    /// that is not a token response). Worth retrying later; tokens are kept.
    Unavailable(String),
    /// The server's TLS certificate is not trusted by this machine (its
    /// certificate store and the compiled-in roots). Tokens are kept; the
    /// user (or their network's administrator) has to act.
    UntrustedCertificate(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Rejected {
                error,
                description: None,
            } => write!(f, "rejected: {error}"),
            TokenError::Rejected {
                error,
                description: Some(d),
            } => write!(f, "rejected: {error} ({d})"),
            TokenError::Unavailable(why) => write!(f, "token endpoint unavailable: {why}"),
            TokenError::UntrustedCertificate(why) => write!(f, "token endpoint not trusted: {why}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// The two token requests. `crate::api::Client` implements it (JSON body as
/// in the Velora docs: `grant_type`, `code`, `redirect_uri`, `client_id`,
/// `code_verifier`; no client secret, the plugin is a public client); tests
/// implement it directly.
pub trait TokenEndpoint {
    fn exchange_code(&self, code: &Secret, redirect_uri: &str, verifier: &Secret) -> Result<TokenGrant, TokenError>;

    fn refresh(&self, refresh_token: &Secret) -> Result<TokenGrant, TokenError>;
}

impl<T: TokenEndpoint + ?Sized> TokenEndpoint for &T {
    fn exchange_code(&self, code: &Secret, redirect_uri: &str, verifier: &Secret) -> Result<TokenGrant, TokenError> {
        (**self).exchange_code(code, redirect_uri, verifier)
    }

    fn refresh(&self, refresh_token: &Secret) -> Result<TokenGrant, TokenError> {
        (**self).refresh(refresh_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn margin_is_min_of_60s_and_10_percent() {
        assert_eq!(refresh_margin(3600), 60);
        assert_eq!(refresh_margin(600), 60);
        assert_eq!(refresh_margin(599), 59);
        assert_eq!(refresh_margin(300), 30);
        assert_eq!(refresh_margin(10), 1);
        assert_eq!(refresh_margin(5), 0);
        assert_eq!(refresh_margin(0), 0);
    }

    #[test]
    fn due_times() {
        let now = 1_700_000_000;
        let exp = expires_at(now, 3600);
        assert_eq!(exp, now + 3600);
        assert_eq!(refresh_due_at(Some(now), exp), exp - 60);
        assert_eq!(refresh_due_at(Some(now), now + 100), now + 90);
        assert_eq!(refresh_due_at(None, exp), exp - 60);
        // issue time after expiry (clock jumped): treat as unknown
        assert_eq!(refresh_due_at(Some(exp + 5), exp), exp - 60);
        assert!(!needs_refresh(now, Some(now), Some(exp)));
        assert!(!needs_refresh(exp - 61, Some(now), Some(exp)));
        assert!(needs_refresh(exp - 60, Some(now), Some(exp)));
        assert!(needs_refresh(exp + 1000, Some(now), Some(exp)));
        assert!(!needs_refresh(u64::MAX, Some(now), None));
        assert_eq!(secs_until_refresh(now, Some(now), Some(exp)), Some(3540));
        assert_eq!(secs_until_refresh(exp, Some(now), Some(exp)), Some(0));
        assert_eq!(secs_until_refresh(now, Some(now), None), None);
        assert_eq!(expires_at(u64::MAX - 1, 10), u64::MAX);
    }

    #[test]
    fn unix_seconds_of_system_time() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_secs(42)), 42);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert!(now_unix() > 1_600_000_000);
    }

    fn grant(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> TokenGrant {
        TokenGrant {
            access_token: Secret::new(access),
            refresh_token: refresh.map(Secret::new),
            expires_in,
            scope: None,
            token_type: Some("Bearer".into()),
        }
    }

    #[test]
    fn record_from_grant_and_refresh_keeps_old_values() {
        let g: TokenGrant = serde_json::from_str(
            r#"{"access_token":"a1","refresh_token":"r1","expires_in":3600,
                "scope":"stream:key user:read","token_type":"Bearer","extra":1}"#,
        )
        .unwrap();
        let mut t = StoredTokens::from_grant(g, 1000);
        assert_eq!(t.expires_at, Some(4600));
        assert_eq!(t.obtained_at, Some(1000));
        t.account_name = Some("alice".into());
        let t2 = t.refreshed(grant("a2", None, Some(60)), 4000);
        assert_eq!(t2.access_token.expose(), "a2");
        assert_eq!(t2.refresh_token.as_ref().unwrap().expose(), "r1");
        assert_eq!(t2.scope.as_deref(), Some("stream:key user:read"));
        assert_eq!(t2.account_name.as_deref(), Some("alice"));
        assert_eq!(t2.expires_at, Some(4060));
        // JSON round trip, and Debug redacts
        let json = serde_json::to_string(&t2).unwrap();
        let back: StoredTokens = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t2);
        let dbg = format!("{t2:?}");
        assert!(!dbg.contains("a2") && !dbg.contains("r1"), "{dbg}");
        // minimal record
        let min: StoredTokens = serde_json::from_str(r#"{"access_token":"x"}"#).unwrap();
        assert_eq!(min.refresh_token, None);
        assert!(!min.needs_refresh(u64::MAX));
    }
}
