//! What the plugin's Velora application is registered with: the scopes it
//! asks for and its loopback redirect URI.

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
