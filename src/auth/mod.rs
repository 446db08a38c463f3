//! OAuth 2.0 + PKCE login pieces and the token store (no OBS types).
//!
//! * [`pkce`]: PKCE S256 verifier/challenge, the `state` value (compared in
//!   constant time, single use) and the authorize URL.
//! * [`browser`]: opens the system browser (never an embedded web view).
//! * [`listener`]: the loopback redirect listener on `127.0.0.1`.
//! * [`flow`]: [`LoginFlow`], which ties the three together and waits for the
//!   callback (timeout, cancel).
//! * [`record`]: the stored record, the expiry math (pure, clock passed in) and
//!   the [`TokenEndpoint`] trait the HTTP client implements.
//! * [`tokens`]: [`Session`], which refreshes before expiry and after a 401.
//! * [`store`]: [`TokenStore`], the OS keyring with a 0600 JSON file fallback.
//! * [`registration`]: what the Velora application registers: the scopes
//!   and the loopback redirect URI.
//!
//! Nothing in here logs a token, a code, a verifier or a `state` value: they
//! are all [`crate::Secret`].

pub mod browser;
pub mod flow;
pub mod listener;
pub mod pkce;
pub mod record;
pub mod registration;
pub mod store;
pub mod tokens;

pub use browser::{BrowserError, BrowserLauncher};
pub use flow::{AuthCode, FlowEvent, LoginConfig, LoginError, LoginFlow};
pub use pkce::{AuthorizeRequest, ExpectedState, Pkce, StateCheck};
pub use record::{StoredTokens, TokenEndpoint, TokenError, TokenGrant};
pub use registration::{redirect_uri_for_port, CALLBACK_PATH, DEFAULT_PORT, SCOPES};
pub use store::{Backend, StoreError, TokenStore};
pub use tokens::{Session, SessionError};
