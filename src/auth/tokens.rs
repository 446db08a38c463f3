//! Token lifecycle: [`Session`] keeps one environment's tokens in sync with
//! the store, refreshes shortly before expiry and after a 401, and turns into
//! "login required" when the server refuses the refresh token.

use super::flow::{AuthCode, LoginError};
use super::record::{StoredTokens, TokenEndpoint, TokenError};
use super::store::{StoreError, TokenStore};
use crate::Secret;
use std::fmt;
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
    /// The tokens in memory are newer than the stored ones (a save failed).
    unsaved: bool,
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
        Ok(Session {
            store,
            env,
            tokens,
            unsaved: false,
        })
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

    /// Exchanges a login's code, keeps and stores the tokens. When only the
    /// store fails ([`LoginError::Store`]), the session is logged in anyway
    /// (for as long as OBS runs) and the save is tried again later.
    pub fn complete_login<E: TokenEndpoint + ?Sized>(
        &mut self,
        endpoint: &E,
        code: &AuthCode,
        now: u64,
    ) -> Result<(), LoginError> {
        let tokens = exchange(endpoint, code, now)?;
        self.set_tokens(tokens).map_err(LoginError::Store)
    }

    /// Keeps `tokens`, then stores them. Memory first: a refresh token the
    /// server just rotated is the only one that still works, and must never
    /// be lost because the store failed (a server with reuse detection would
    /// revoke the whole family at the next refresh). A failed save is tried
    /// again at the next [`Session::access_token`].
    pub fn set_tokens(&mut self, tokens: StoredTokens) -> Result<(), StoreError> {
        self.tokens = Some(tokens);
        self.unsaved = true;
        self.save_now()
    }

    /// True while the tokens in memory could not be stored.
    pub fn has_unsaved_tokens(&self) -> bool {
        self.unsaved && self.tokens.is_some()
    }

    fn save_now(&mut self) -> Result<(), StoreError> {
        let Some(t) = &self.tokens else {
            self.unsaved = false;
            return Ok(());
        };
        self.store.save(&self.env, t)?;
        self.unsaved = false;
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
        if self.unsaved {
            if let Err(e) = self.save_now() {
                log::warn!("session {}: the tokens still cannot be saved ({e})", self.env);
            }
        }
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
                log::info!("session {}: access token refreshed", self.env);
                if let Err(e) = self.set_tokens(next) {
                    // Kept in memory (set_tokens): this run goes on with them.
                    log::warn!(
                        "session {}: the refreshed tokens could not be saved ({e}); kept in memory, saving again later",
                        self.env
                    );
                }
                Ok(access)
            }
            Err(TokenError::Rejected { error, description }) => {
                Err(self.login_required(LoginRequired::RefreshRejected { error, description }))
            }
            Err(TokenError::Unavailable(why) | TokenError::UntrustedCertificate(why)) => {
                Err(SessionError::Unavailable(why))
            }
        }
    }

    /// Logout: forgets the tokens locally (deletes them from the store).
    pub fn logout(&mut self) -> Result<(), StoreError> {
        self.tokens = None;
        self.unsaved = false;
        self.store.delete(&self.env)
    }

    fn login_required(&mut self, why: LoginRequired) -> SessionError {
        log::warn!("session {}: login required ({why:?})", self.env);
        self.tokens = None;
        self.unsaved = false;
        if let Err(e) = self.store.delete(&self.env) {
            log::warn!("session {}: could not delete stored tokens: {e}", self.env);
        }
        SessionError::LoginRequired(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::record::TokenGrant;
    use std::cell::RefCell;

    fn grant(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> TokenGrant {
        TokenGrant {
            access_token: Secret::new(access),
            refresh_token: refresh.map(Secret::new),
            expires_in,
            scope: None,
            token_type: Some("Bearer".into()),
        }
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

    /// Regression: the rotated refresh token was lost when saving failed
    /// (memory was updated only after the store write), so the next refresh
    /// used the old, already rotated token — which a server with reuse
    /// detection answers by revoking the whole family.
    #[test]
    fn a_rotated_refresh_token_survives_a_failed_save() {
        use crate::auth::store::FakeKeyring;
        use std::sync::atomic::Ordering;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let fake = Arc::new(FakeKeyring::default());
        let store = TokenStore::with_keyring(dir.path(), Box::new(fake.clone()));
        let mut s = Session::open(store, "production").unwrap();
        let ep = Fake::new(vec![
            Ok(grant("a1", Some("r1"), Some(3600))),
            Ok(grant("a2", Some("r2"), Some(3600))),
        ]);
        s.complete_login(&ep, &code("good"), 0).unwrap();
        fake.refuse_writes.store(true, Ordering::SeqCst);
        // The refresh itself succeeds although its result cannot be saved.
        assert_eq!(s.refresh(&ep, 10).unwrap().expose(), "a1");
        assert!(s.has_unsaved_tokens());
        // The next refresh uses the rotated token, not the old one.
        assert_eq!(s.refresh(&ep, 20).unwrap().expose(), "a2");
        assert_eq!(*ep.refresh_calls.borrow(), vec!["r0", "r1"]);
        // Once the store works again, the next call saves what memory has.
        fake.refuse_writes.store(false, Ordering::SeqCst);
        assert_eq!(s.access_token(&ep, 30).unwrap().expose(), "a2");
        assert!(!s.has_unsaved_tokens());
        let again = Session::open(
            TokenStore::with_keyring(dir.path(), Box::new(fake.clone())),
            "production",
        )
        .unwrap();
        assert_eq!(again.tokens().unwrap().refresh_token.as_ref().unwrap().expose(), "r2");
    }

    #[test]
    fn a_login_whose_tokens_cannot_be_saved_is_still_logged_in() {
        use crate::auth::store::FakeKeyring;
        use std::sync::atomic::Ordering;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let fake = Arc::new(FakeKeyring::default());
        fake.refuse_writes.store(true, Ordering::SeqCst);
        let mut s = Session::open(
            TokenStore::with_keyring(dir.path(), Box::new(fake.clone())),
            "production",
        )
        .unwrap();
        let ep = Fake::new(vec![]);
        assert!(matches!(
            s.complete_login(&ep, &code("good"), 0),
            Err(LoginError::Store(_))
        ));
        assert!(s.is_logged_in());
        assert!(s.has_unsaved_tokens());
    }
}
