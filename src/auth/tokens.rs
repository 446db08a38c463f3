//! Token lifecycle: the stored record, the expiry math (pure functions with the
//! clock passed in as Unix seconds), the [`TokenEndpoint`] the HTTP client
//! implements, and [`Session`], which refreshes shortly before expiry and after
//! a 401 and turns into "login required" when it cannot.

use super::flow::{AuthCode, LoginError};
use super::store::{StoreError, TokenStore};
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

/// Exchanges the code from [`crate::auth::LoginFlow::wait`] for tokens.
pub fn exchange<E: TokenEndpoint + ?Sized>(
    endpoint: &E,
    code: &AuthCode,
    now: u64,
) -> Result<StoredTokens, LoginError> {
    endpoint
        .exchange_code(&code.code, &code.redirect_uri, &code.verifier)
        .map(|g| StoredTokens::from_grant(g, now))
        .map_err(LoginError::Exchange)
}

/// Why a session cannot give an access token.
#[derive(Debug)]
pub enum SessionError {
    /// The user has to log in (again).
    LoginRequired(LoginRequired),
    /// The refresh could not reach the server; the tokens are kept and the
    /// call can be retried.
    Unavailable(String),
    /// The token store failed.
    Store(StoreError),
}

/// Why a login is required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginRequired {
    /// No tokens for this environment.
    NotLoggedIn,
    /// The access token expired or was refused and no refresh token was issued.
    NoRefreshToken,
    /// The server refused the refresh token.
    RefreshRejected { error: String, description: Option<String> },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::LoginRequired(LoginRequired::NotLoggedIn) => f.write_str("login required: not logged in"),
            SessionError::LoginRequired(LoginRequired::NoRefreshToken) => {
                f.write_str("login required: the session expired and cannot be refreshed")
            }
            SessionError::LoginRequired(LoginRequired::RefreshRejected { error, description }) => {
                write!(f, "login required: refresh rejected ({error}")?;
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                f.write_str(")")
            }
            SessionError::Unavailable(why) => write!(f, "could not refresh the session: {why}"),
            SessionError::Store(e) => write!(f, "token store: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl SessionError {
    pub fn is_login_required(&self) -> bool {
        matches!(self, SessionError::LoginRequired(_))
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Store(e)
    }
}

/// The tokens of one environment, kept in sync with the store.
///
/// Not thread-safe by itself: share it behind a `Mutex`, so concurrent 401s
/// lead to one refresh (see [`Session::refresh_after_unauthorized`]).
pub struct Session {
    store: TokenStore,
    env: String,
    tokens: Option<StoredTokens>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("env", &self.env)
            .field("logged_in", &self.tokens.is_some())
            .finish()
    }
}

impl Session {
    /// Loads the stored tokens of `env` (if any). An unreadable record counts
    /// as logged out (a warning is logged; the next login overwrites it).
    pub fn open(store: TokenStore, env: impl Into<String>) -> Result<Session, StoreError> {
        let env = env.into();
        let tokens = match store.load(&env) {
            Ok(t) => t,
            Err(StoreError::Corrupt(why)) => {
                log::warn!("session {env}: stored tokens unreadable ({why}); logged out");
                None
            }
            Err(e) => return Err(e),
        };
        Ok(Session { store, env, tokens })
    }

    pub fn env(&self) -> &str {
        &self.env
    }

    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    pub fn tokens(&self) -> Option<&StoredTokens> {
        self.tokens.as_ref()
    }

    pub fn is_logged_in(&self) -> bool {
        self.tokens.is_some()
    }

    /// Exchanges a login's code, stores and keeps the tokens.
    pub fn complete_login<E: TokenEndpoint + ?Sized>(
        &mut self,
        endpoint: &E,
        code: &AuthCode,
        now: u64,
    ) -> Result<(), LoginError> {
        let tokens = exchange(endpoint, code, now)?;
        self.set_tokens(tokens).map_err(LoginError::Store)
    }

    /// Stores and keeps `tokens` (after a login done elsewhere).
    pub fn set_tokens(&mut self, tokens: StoredTokens) -> Result<(), StoreError> {
        self.store.save(&self.env, &tokens)?;
        self.tokens = Some(tokens);
        Ok(())
    }

    /// Records the account name (e.g. from the user profile) in the store.
    pub fn set_account_name(&mut self, name: Option<String>) -> Result<(), StoreError> {
        if let Some(mut t) = self.tokens.clone() {
            t.account_name = name;
            self.set_tokens(t)?;
        }
        Ok(())
    }

    /// The access token, refreshed first when it is due (or expired).
    pub fn access_token<E: TokenEndpoint + ?Sized>(&mut self, endpoint: &E, now: u64) -> Result<Secret, SessionError> {
        let tokens = self
            .tokens
            .as_ref()
            .ok_or(SessionError::LoginRequired(LoginRequired::NotLoggedIn))?;
        if !tokens.needs_refresh(now) {
            return Ok(tokens.access_token.clone());
        }
        if tokens.refresh_token.is_none() {
            if tokens.is_expired(now) {
                return Err(self.login_required(LoginRequired::NoRefreshToken));
            }
            // Due but not expired, and no way to refresh: use it while it lasts.
            return Ok(tokens.access_token.clone());
        }
        self.refresh(endpoint, now)
    }

    /// After a 401 for `rejected`: refreshes, unless another caller already
    /// did (then the current, different, token is returned).
    pub fn refresh_after_unauthorized<E: TokenEndpoint + ?Sized>(
        &mut self,
        rejected: &Secret,
        endpoint: &E,
        now: u64,
    ) -> Result<Secret, SessionError> {
        let tokens = self
            .tokens
            .as_ref()
            .ok_or(SessionError::LoginRequired(LoginRequired::NotLoggedIn))?;
        if tokens.access_token != *rejected {
            return Ok(tokens.access_token.clone());
        }
        self.refresh(endpoint, now)
    }

    /// Refreshes now. A refused refresh (or no refresh token) deletes the
    /// stored tokens and returns [`SessionError::LoginRequired`]; an
    /// unreachable server keeps them and returns [`SessionError::Unavailable`].
    pub fn refresh<E: TokenEndpoint + ?Sized>(&mut self, endpoint: &E, now: u64) -> Result<Secret, SessionError> {
        let tokens = self
            .tokens
            .clone()
            .ok_or(SessionError::LoginRequired(LoginRequired::NotLoggedIn))?;
        let Some(refresh_token) = tokens.refresh_token.as_ref() else {
            return Err(self.login_required(LoginRequired::NoRefreshToken));
        };
        match endpoint.refresh(refresh_token) {
            Ok(grant) => {
                let next = tokens.refreshed(grant, now);
                let access = next.access_token.clone();
                self.set_tokens(next)?;
                log::info!("session {}: access token refreshed", self.env);
                Ok(access)
            }
            Err(TokenError::Rejected { error, description }) => {
                Err(self.login_required(LoginRequired::RefreshRejected { error, description }))
            }
            Err(TokenError::Unavailable(why)) => Err(SessionError::Unavailable(why)),
        }
    }

    /// Logout: forgets the tokens locally (deletes them from the store).
    pub fn logout(&mut self) -> Result<(), StoreError> {
        self.tokens = None;
        self.store.delete(&self.env)
    }

    fn login_required(&mut self, why: LoginRequired) -> SessionError {
        log::warn!("session {}: login required ({why:?})", self.env);
        self.tokens = None;
        if let Err(e) = self.store.delete(&self.env) {
            log::warn!("session {}: could not delete stored tokens: {e}", self.env);
        }
        SessionError::LoginRequired(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
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

    /// A scripted endpoint.
    struct Fake {
        refresh_results: RefCell<Vec<Result<TokenGrant, TokenError>>>,
        refresh_calls: RefCell<Vec<String>>,
    }

    impl Fake {
        fn new(results: Vec<Result<TokenGrant, TokenError>>) -> Self {
            Fake {
                refresh_results: RefCell::new(results),
                refresh_calls: RefCell::new(Vec::new()),
            }
        }
    }

    impl TokenEndpoint for Fake {
        fn exchange_code(
            &self,
            code: &Secret,
            _redirect_uri: &str,
            _verifier: &Secret,
        ) -> Result<TokenGrant, TokenError> {
            if code.expose() == "good" {
                Ok(grant("a0", Some("r0"), Some(3600)))
            } else {
                Err(TokenError::Rejected {
                    error: "invalid_grant".into(),
                    description: None,
                })
            }
        }

        fn refresh(&self, refresh_token: &Secret) -> Result<TokenGrant, TokenError> {
            self.refresh_calls.borrow_mut().push(refresh_token.expose().to_string());
            self.refresh_results.borrow_mut().remove(0)
        }
    }

    fn session(dir: &std::path::Path) -> Session {
        Session::open(TokenStore::file_only(dir), "production").unwrap()
    }

    fn code(c: &str) -> AuthCode {
        AuthCode {
            code: Secret::new(c),
            verifier: Secret::new("v"),
            redirect_uri: "http://127.0.0.1:1/velora/callback".into(),
        }
    }

    #[test]
    fn session_refreshes_when_due_and_after_401() {
        let dir = tempfile::tempdir().unwrap();
        let ep = Fake::new(vec![
            Ok(grant("a1", Some("r1"), Some(3600))),
            Ok(grant("a2", None, Some(3600))),
        ]);
        let mut s = session(dir.path());
        assert!(matches!(
            s.access_token(&ep, 0),
            Err(SessionError::LoginRequired(LoginRequired::NotLoggedIn))
        ));
        assert!(matches!(
            s.complete_login(&ep, &code("bad"), 0),
            Err(LoginError::Exchange(TokenError::Rejected { .. }))
        ));
        s.complete_login(&ep, &code("good"), 1000).unwrap();
        // persisted
        assert_eq!(session(dir.path()).tokens().unwrap().access_token.expose(), "a0");
        // not due yet
        assert_eq!(s.access_token(&ep, 1000 + 3539).unwrap().expose(), "a0");
        assert!(ep.refresh_calls.borrow().is_empty());
        // due 60 s before expiry
        assert_eq!(s.access_token(&ep, 1000 + 3540).unwrap().expose(), "a1");
        assert_eq!(*ep.refresh_calls.borrow(), vec!["r0"]);
        // a stale 401 for the old token does not refresh again
        assert_eq!(
            s.refresh_after_unauthorized(&Secret::new("a0"), &ep, 5000)
                .unwrap()
                .expose(),
            "a1"
        );
        assert_eq!(ep.refresh_calls.borrow().len(), 1);
        // a 401 for the current token refreshes (rotated refresh token used)
        assert_eq!(
            s.refresh_after_unauthorized(&Secret::new("a1"), &ep, 5000)
                .unwrap()
                .expose(),
            "a2"
        );
        assert_eq!(*ep.refresh_calls.borrow(), vec!["r0", "r1"]);
        // no new refresh token issued: the old one is kept
        let stored = session(dir.path());
        assert_eq!(stored.tokens().unwrap().access_token.expose(), "a2");
        assert_eq!(stored.tokens().unwrap().refresh_token.as_ref().unwrap().expose(), "r1");
    }

    #[test]
    fn refused_refresh_requires_login_and_forgets_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let ep = Fake::new(vec![
            Err(TokenError::Unavailable("connection refused".into())),
            Err(TokenError::Rejected {
                error: "invalid_grant".into(),
                description: Some("revoked".into()),
            }),
        ]);
        let mut s = session(dir.path());
        s.complete_login(&ep, &code("good"), 0).unwrap();
        // network trouble: kept, retryable
        let e = s.refresh(&ep, 10).unwrap_err();
        assert!(matches!(e, SessionError::Unavailable(_)), "{e}");
        assert!(s.is_logged_in());
        // refused: login required, store emptied
        let e = s.refresh(&ep, 20).unwrap_err();
        assert!(e.is_login_required());
        assert_eq!(
            e.to_string(),
            "login required: refresh rejected (invalid_grant: revoked)"
        );
        assert!(!s.is_logged_in());
        assert!(!session(dir.path()).is_logged_in());
    }

    #[test]
    fn no_refresh_token_means_login_required_once_expired() {
        let dir = tempfile::tempdir().unwrap();
        let ep = Fake::new(vec![]);
        let mut s = session(dir.path());
        s.set_tokens(StoredTokens::from_grant(grant("only", None, Some(100)), 0))
            .unwrap();
        // due (margin 10 s) but not expired: still used
        assert_eq!(s.access_token(&ep, 95).unwrap().expose(), "only");
        let e = s.access_token(&ep, 100).unwrap_err();
        assert!(matches!(e, SessionError::LoginRequired(LoginRequired::NoRefreshToken)));
        assert!(!session(dir.path()).is_logged_in());
        // and after a 401 without refresh token
        s.set_tokens(StoredTokens::from_grant(grant("only", None, None), 0))
            .unwrap();
        let e = s.refresh_after_unauthorized(&Secret::new("only"), &ep, 1).unwrap_err();
        assert!(e.is_login_required());
        assert!(ep.refresh_calls.borrow().is_empty());
    }

    #[test]
    fn unreadable_record_means_logged_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path());
        store
            .save("production", &StoredTokens::from_grant(grant("a", None, None), 0))
            .unwrap();
        std::fs::write(store.file_path("production").unwrap(), "garbage").unwrap();
        let s = Session::open(store, "production").unwrap();
        assert!(!s.is_logged_in());
    }

    #[test]
    fn logout_deletes_locally() {
        let dir = tempfile::tempdir().unwrap();
        let ep = Fake::new(vec![]);
        let mut s = session(dir.path());
        s.complete_login(&ep, &code("good"), 0).unwrap();
        s.set_account_name(Some("alice".into())).unwrap();
        assert_eq!(
            session(dir.path()).tokens().unwrap().account_name.as_deref(),
            Some("alice")
        );
        s.logout().unwrap();
        assert!(!s.is_logged_in());
        assert!(!session(dir.path()).is_logged_in());
        s.logout().unwrap(); // idempotent
    }
}
