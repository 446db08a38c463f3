//! OAuth 2.0 + PKCE login pieces and the token store (no OBS types).
//!
//! * [`pkce`]: PKCE S256 verifier/challenge, the `state` value (compared in
//!   constant time, single use) and the authorize URL.
//! * [`browser`]: opens the system browser (never an embedded web view).
//! * [`listener`]: the loopback redirect listener on `127.0.0.1`.
//! * [`flow`]: [`LoginFlow`], which ties the three together and waits for the
//!   callback (timeout, cancel).
//! * [`tokens`]: the stored record, the expiry math (pure, clock passed in), the
//!   [`TokenEndpoint`] trait the HTTP client implements, and [`Session`], which
//!   refreshes before expiry and after a 401.
//! * [`store`]: [`TokenStore`], the OS keyring with a 0600 JSON file fallback.
//!
//! Nothing in here logs a token, a code, a verifier or a `state` value: they
//! are all [`crate::Secret`].

pub mod browser;
pub mod flow;
pub mod listener;
pub mod pkce;
pub mod store;
pub mod tokens;

pub use browser::{BrowserError, BrowserLauncher};
pub use flow::{AuthCode, CancelToken, FlowEvent, LoginConfig, LoginError, LoginFlow};
pub use pkce::{AuthorizeRequest, ExpectedState, Pkce, StateCheck};
pub use store::{Backend, StoreError, TokenStore};
pub use tokens::{Session, SessionError, StoredTokens, TokenEndpoint, TokenError, TokenGrant};

/// The scopes the plugin asks for (see the Velora streaming integration docs).
pub const SCOPES: &[&str] = &["stream:key", "stream:read", "stream:write", "user:read"];

/// Default loopback port for the redirect listener. Register
/// `http://127.0.0.1:38287/velora/callback` as the redirect URI of the Velora
/// application. When the port is taken, the listener falls back to an
/// ephemeral port (which works only with servers that accept any loopback port,
/// as RFC 8252 §7.3 asks of them).
pub const DEFAULT_PORT: u16 = 38287;

/// The exact path of the redirect URI; any other path gets a 404.
pub const CALLBACK_PATH: &str = "/velora/callback";

/// `http://127.0.0.1:<port>/velora/callback`
pub fn redirect_uri_for_port(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}
