//! Authenticated calls: the HTTP client and the tokens of one environment.
//! Every call gets a fresh access token (refreshed shortly before expiry);
//! after a 401 the token is refreshed once and the call repeated. The
//! session ends — tokens deleted, "log in again" — only when the server
//! refuses the refresh token, or refuses even a token it has just issued;
//! never because the network or a proxy failed.

use crate::api::{ApiError, Client, NetworkKind, Priority};
use crate::auth::{self, AuthCode, LoginError, Session, SessionError};
use crate::errors::Failure;
use crate::status::{self, ErrorKind};
use crate::Secret;

/// Why an authenticated call failed.
#[derive(Debug)]
pub(super) enum CallError {
    /// The session is over: the user has to log in again.
    LoginRequired,
    Api(ApiError),
}

impl CallError {
    pub fn failure(&self) -> Failure {
        match self {
            CallError::LoginRequired => Failure::SessionEnded,
            CallError::Api(e) => Failure::api(e),
        }
    }

    pub fn api(&self) -> Option<&ApiError> {
        match self {
            CallError::Api(e) => Some(e),
            CallError::LoginRequired => None,
        }
    }
}

pub(super) struct Api {
    client: Client,
    session: Session,
}

impl Api {
    pub fn new(client: Client, session: Session) -> Api {
        Api { client, session }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn logged_in(&self) -> bool {
        self.session.is_logged_in()
    }

    pub fn account(&self) -> Option<String> {
        self.session.tokens().and_then(|t| t.account_name.clone())
    }

    /// The granted scopes include `scope` (a token without a scope list
    /// counts as having asked for everything).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.session
            .tokens()
            .and_then(|t| t.scope.clone())
            .is_none_or(|s| s.split_whitespace().any(|x| x == scope))
    }

    /// Exchanges a login's code for tokens and keeps them. A store that fails
    /// leaves the session logged in for this run ([`LoginError::Store`]).
    pub fn complete_login(&mut self, code: &AuthCode) -> Result<(), LoginError> {
        self.session
            .complete_login(&self.client, code, auth::record::now_unix())
    }

    pub fn tokens_unsaved(&self) -> bool {
        self.session.has_unsaved_tokens()
    }

    pub fn set_account_name(&mut self, name: &str) {
        if let Err(e) = self.session.set_account_name(Some(name.to_string())) {
            log::warn!("could not save the account name with the tokens: {e}");
        }
    }

    /// Forgets the tokens (logout, or the server ended the session).
    pub fn forget(&mut self) {
        if let Err(e) = self.session.logout() {
            log::warn!("could not delete the stored tokens: {e}");
        }
    }

    /// Runs `f` with a fresh access token, as `priority` work.
    pub fn call<T>(
        &mut self,
        priority: Priority,
        f: impl Fn(&Client, &Secret) -> Result<T, ApiError>,
    ) -> Result<T, CallError> {
        let client = match priority {
            Priority::User => self.client.clone(),
            Priority::Background => self.client.background(),
        };
        let r = self.call_once(&client, f);
        if r.is_ok() {
            velora_answered();
        }
        r
    }

    fn call_once<T>(
        &mut self,
        client: &Client,
        f: impl Fn(&Client, &Secret) -> Result<T, ApiError>,
    ) -> Result<T, CallError> {
        let client = client.clone();
        let token = self
            .session
            .access_token(&client, auth::record::now_unix())
            .map_err(session_error)?;
        match f(&client, &token) {
            Err(ApiError::Unauthorized) => {
                let fresh = self
                    .session
                    .refresh_after_unauthorized(&token, &client, auth::record::now_unix())
                    .map_err(session_error)?;
                match f(&client, &fresh) {
                    Err(ApiError::Unauthorized) => {
                        // A token the server has just issued is refused too:
                        // only a new login can help. Say so, and never keep a
                        // session that looks logged in but cannot do anything.
                        log::warn!("Velora refused a freshly refreshed token: the session ends");
                        self.forget();
                        Err(CallError::LoginRequired)
                    }
                    other => other.map_err(CallError::Api),
                }
            }
            other => other.map_err(CallError::Api),
        }
    }
}

/// Velora answered: a complaint about reaching it (network, rate limits,
/// our own pacing) is over. The one place that clears them.
fn velora_answered() {
    status::update(|s| {
        if s.last_error
            .as_ref()
            .is_some_and(|e| matches!(e.kind, ErrorKind::Network | ErrorKind::RateLimited | ErrorKind::Paced))
        {
            s.last_error = None;
        }
    });
}

fn session_error(e: SessionError) -> CallError {
    match e {
        SessionError::LoginRequired(_) => CallError::LoginRequired,
        SessionError::Unavailable(why) => CallError::Api(ApiError::Network {
            kind: NetworkKind::Other,
            message: format!("token refresh: {why}"),
        }),
        SessionError::Store(e) => CallError::Api(ApiError::Network {
            kind: NetworkKind::Other,
            message: format!("token store: {e}"),
        }),
    }
}
