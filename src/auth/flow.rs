//! The login flow: authorization code + PKCE S256 through the system browser
//! and a loopback redirect.
//!
//! ```no_run
//! use std::time::Duration;
//! use velora::auth::{LoginConfig, LoginFlow};
//! use velora::cancel::Cancel;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let authorize = url::Url::parse("https://api.velora.tv/api/developer/oauth/authorize")?;
//! let flow = LoginFlow::start(LoginConfig::new(authorize, "my-client-id"))?;
//! if let Err(e) = flow.open_browser() {
//!     // show flow.authorize_url() for the user to copy
//!     eprintln!("{e}; open this link: {}", flow.authorize_url());
//! }
//! let cancel = Cancel::new(); // cancel.cancel() from the UI or on shutdown
//! let code = flow.wait(&cancel)?; // then exchange code.code + code.verifier
//! # Ok(()) }
//! ```

use super::browser::{self, BrowserError, BrowserLauncher};
use super::listener::{CallbackResult, CallbackServer, Limits, Rejection, ServeStop};
use super::pkce::{build_authorize_request, AuthorizeRequest, ExpectedState};
use super::registration::{redirect_uri_for_port, DEFAULT_PORT, SCOPES};
use crate::cancel::Cancel;
use crate::Secret;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};
use url::Url;

/// How long a login waits for the browser to come back.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What a login needs from the caller.
#[derive(Clone, Debug)]
pub struct LoginConfig {
    /// The authorize endpoint, e.g.
    /// `https://api.velora.tv/api/developer/oauth/authorize`.
    pub authorize_endpoint: Url,
    pub client_id: String,
    /// Defaults to [`SCOPES`].
    pub scopes: Vec<String>,
    /// Loopback port; defaults to [`DEFAULT_PORT`]. `0` asks for an ephemeral
    /// port. A taken port falls back to an ephemeral one.
    pub port: u16,
    /// Defaults to [`DEFAULT_TIMEOUT`] (5 minutes), counted from
    /// [`LoginFlow::start`].
    pub timeout: Duration,
    /// Defaults to [`BrowserLauncher::System`].
    pub browser: BrowserLauncher,
    /// Per-connection limits of the listener.
    pub limits: Limits,
}

impl LoginConfig {
    pub fn new(authorize_endpoint: Url, client_id: impl Into<String>) -> Self {
        LoginConfig {
            authorize_endpoint,
            client_id: client_id.into(),
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            port: DEFAULT_PORT,
            timeout: DEFAULT_TIMEOUT,
            browser: BrowserLauncher::System,
            limits: Limits::default(),
        }
    }
}

/// What the callback delivered: everything the token request needs.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub code: Secret,
    pub verifier: Secret,
    pub redirect_uri: String,
}

/// Something that happened while waiting that did not end the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowEvent {
    /// A request to the listener was answered with an error and ignored.
    Rejected(Rejection),
}

impl fmt::Display for FlowEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowEvent::Rejected(r) => write!(f, "ignored a request to the login listener: {r}"),
        }
    }
}

/// Why a login did not produce a code (or tokens). Display never includes a
/// secret; server-provided text is cut to printable characters.
#[derive(Debug)]
pub enum LoginError {
    /// The user denied access (`error=access_denied` with the right state).
    Denied { description: Option<String> },
    /// The server answered with another `error=` (right state).
    Authorization { error: String, description: Option<String> },
    /// No answer within the timeout.
    TimedOut,
    /// [`Cancel::cancel`] was called.
    Cancelled,
    /// The listener could not be opened.
    Io(io::Error),
    /// Bad configuration (e.g. a client id or URL the URL builder rejects).
    Config(String),
    /// The token endpoint refused or could not be reached (see
    /// [`crate::auth::tokens::exchange`]).
    Exchange(super::record::TokenError),
    /// The tokens could not be stored.
    Store(super::store::StoreError),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Denied { description: None } => f.write_str("access was denied"),
            LoginError::Denied { description: Some(d) } => write!(f, "access was denied ({d})"),
            LoginError::Authorization {
                error,
                description: None,
            } => write!(f, "authorization failed: {error}"),
            LoginError::Authorization {
                error,
                description: Some(d),
            } => write!(f, "authorization failed: {error} ({d})"),
            LoginError::TimedOut => f.write_str("login timed out waiting for the browser"),
            LoginError::Cancelled => f.write_str("login cancelled"),
            LoginError::Io(e) => write!(f, "login listener failed: {e}"),
            LoginError::Config(e) => write!(f, "login configuration error: {e}"),
            LoginError::Exchange(e) => write!(f, "token request failed: {e}"),
            LoginError::Store(e) => write!(f, "could not store the tokens: {e}"),
        }
    }
}

impl LoginError {
    /// The locale key of the message the user sees for this failure.
    pub fn message_key(&self) -> &'static str {
        match self {
            LoginError::Denied { .. } => "Velora.Error.LoginDenied",
            LoginError::TimedOut => "Velora.Error.LoginTimedOut",
            LoginError::Exchange(super::record::TokenError::UntrustedCertificate(_)) => {
                "Velora.Error.CertificateNotTrusted"
            }
            _ => "Velora.Error.LoginFailed",
        }
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoginError::Io(e) => Some(e),
            LoginError::Exchange(e) => Some(e),
            LoginError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for LoginError {
    fn from(e: io::Error) -> Self {
        LoginError::Io(e)
    }
}

/// One login attempt. The loopback listener is open from [`LoginFlow::start`]
/// until the flow is waited on or dropped.
pub struct LoginFlow {
    server: CallbackServer,
    request: AuthorizeRequest,
    redirect_uri: String,
    port_fallback: bool,
    deadline: Instant,
    browser: BrowserLauncher,
    limits: Limits,
}

impl fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginFlow")
            .field("redirect_uri", &self.redirect_uri)
            .field("port_fallback", &self.port_fallback)
            .finish_non_exhaustive()
    }
}

impl LoginFlow {
    /// Opens the listener (on `cfg.port`, or an ephemeral port when it is
    /// taken), makes fresh PKCE and state values and the authorize URL. Does
    /// not open the browser: call [`LoginFlow::open_browser`].
    pub fn start(cfg: LoginConfig) -> Result<LoginFlow, LoginError> {
        if cfg.client_id.is_empty() {
            return Err(LoginError::Config("empty client id".into()));
        }
        let (server, port_fallback) = CallbackServer::bind(cfg.port)?;
        let redirect_uri = redirect_uri_for_port(server.port());
        let request = build_authorize_request(&cfg.authorize_endpoint, &cfg.client_id, &redirect_uri, &cfg.scopes)
            .map_err(|e| LoginError::Config(e.to_string()))?;
        log::info!(
            "login: listening for the redirect on {redirect_uri}{}",
            if port_fallback { " (fallback port)" } else { "" }
        );
        Ok(LoginFlow {
            server,
            request,
            redirect_uri,
            port_fallback,
            deadline: Instant::now() + cfg.timeout,
            browser: cfg.browser,
            limits: cfg.limits,
        })
    }

    /// The URL to open; show it for the user to copy when the browser cannot
    /// be opened. (It contains the `state` value: show it to the user, do not
    /// log it.)
    pub fn authorize_url(&self) -> &Url {
        &self.request.url
    }

    /// `http://127.0.0.1:<port>/velora/callback`
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// True when the configured port was taken and an ephemeral one is used.
    pub fn port_fallback(&self) -> bool {
        self.port_fallback
    }

    /// Opens [`LoginFlow::authorize_url`] in the system browser (or the
    /// configured launcher). May block up to [`browser::LAUNCH_GRACE`].
    pub fn open_browser(&self) -> Result<(), BrowserError> {
        browser::open(self.request.url.as_str(), &self.browser)
    }

    /// [`LoginFlow::open_browser`] that stops watching the launcher when
    /// `cancel` fires.
    pub fn open_browser_unless(&self, cancel: &Cancel) -> Result<(), BrowserError> {
        browser::open_unless(self.request.url.as_str(), &self.browser, cancel)
    }

    /// Waits for the redirect. Returns the code when a callback with the right
    /// state arrives; keeps waiting through stray requests and wrong-state
    /// callbacks; ends on a denial or error with the right state, on the
    /// timeout, or within ~25 ms of `cancel`. The listener is closed when this
    /// returns.
    pub fn wait(self, cancel: &Cancel) -> Result<AuthCode, LoginError> {
        self.wait_with_events(cancel, |ev| log::info!("login: {ev}"))
    }

    /// [`LoginFlow::wait`], reporting ignored requests to `on_event` (called on
    /// the waiting thread).
    pub fn wait_with_events(
        self,
        cancel: &Cancel,
        mut on_event: impl FnMut(FlowEvent),
    ) -> Result<AuthCode, LoginError> {
        let LoginFlow {
            server,
            request,
            redirect_uri,
            deadline,
            limits,
            ..
        } = self;
        let expected = ExpectedState::new(request.state);
        let result = server.serve(expected, cancel, deadline, &limits, &mut |r| {
            on_event(FlowEvent::Rejected(r))
        });
        drop(server);
        match result {
            Ok(CallbackResult::Code(code)) => Ok(AuthCode {
                code,
                verifier: request.pkce.verifier().clone(),
                redirect_uri,
            }),
            Ok(CallbackResult::Denied { description }) => Err(LoginError::Denied { description }),
            Ok(CallbackResult::Failed { error, description }) => Err(LoginError::Authorization { error, description }),
            Err(ServeStop::Cancelled) => Err(LoginError::Cancelled),
            Err(ServeStop::TimedOut) => Err(LoginError::TimedOut),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::thread;

    #[test]
    fn an_untrusted_certificate_gets_its_own_message() {
        use crate::auth::record::TokenError;
        let e = LoginError::Exchange(TokenError::UntrustedCertificate("x".into()));
        assert_eq!(e.message_key(), "Velora.Error.CertificateNotTrusted");
        let e = LoginError::Exchange(TokenError::Unavailable("x".into()));
        assert_eq!(e.message_key(), "Velora.Error.LoginFailed");
        assert_eq!(LoginError::TimedOut.message_key(), "Velora.Error.LoginTimedOut");
        assert_eq!(
            LoginError::Denied { description: None }.message_key(),
            "Velora.Error.LoginDenied"
        );
    }

    fn cfg() -> LoginConfig {
        let mut c = LoginConfig::new(
            Url::parse("http://127.0.0.1:1/api/developer/oauth/authorize").unwrap(),
            "client-x",
        );
        c.port = 0;
        c.browser = BrowserLauncher::Disabled;
        c
    }

    fn hit(url: &str) -> String {
        let u = Url::parse(url).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", u.port().unwrap())).unwrap();
        let target = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            u.port().unwrap()
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    fn state_of(flow: &LoginFlow) -> String {
        flow.authorize_url()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    }

    #[test]
    fn defaults() {
        let c = LoginConfig::new(Url::parse("https://x.test/a").unwrap(), "id");
        assert_eq!(c.port, 38287);
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert_eq!(c.browser, BrowserLauncher::System);
        assert_eq!(c.scopes.join(" "), "stream:key stream:read stream:write user:read");
    }

    #[test]
    fn flow_returns_code_and_verifier() {
        let flow = LoginFlow::start(cfg()).unwrap();
        assert!(flow.redirect_uri().starts_with("http://127.0.0.1:"));
        assert!(flow.redirect_uri().ends_with("/velora/callback"));
        let q: std::collections::HashMap<_, _> = flow.authorize_url().query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], flow.redirect_uri());
        let state = state_of(&flow);
        let cb = format!("{}?code=abc&state={state}", flow.redirect_uri());
        let challenge = q["code_challenge"].clone();
        let h = thread::spawn(move || flow.wait(&Cancel::new()));
        let wrong = hit(&format!("{}?code=abc&state=x{state}", cb.split('?').next().unwrap()));
        assert!(wrong.starts_with("HTTP/1.1 400"));
        let ok = hit(&cb);
        assert!(ok.starts_with("HTTP/1.1 200"));
        let code = h.join().unwrap().unwrap();
        assert_eq!(code.code.expose(), "abc");
        assert_eq!(crate::auth::pkce::s256_challenge(code.verifier.expose()), challenge);
        assert!(format!("{code:?}").contains("[redacted]"));
        assert!(!format!("{code:?}").contains("abc"));
    }

    #[test]
    fn denied_and_cancel_and_timeout() {
        let flow = LoginFlow::start(cfg()).unwrap();
        let cb = format!("{}?error=access_denied&state={}", flow.redirect_uri(), state_of(&flow));
        let h = thread::spawn(move || flow.wait(&Cancel::new()));
        hit(&cb);
        let e = h.join().unwrap().unwrap_err();
        assert!(matches!(e, LoginError::Denied { .. }), "{e}");
        assert_eq!(e.to_string(), "access was denied");

        let flow = LoginFlow::start(cfg()).unwrap();
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let h = thread::spawn(move || flow.wait(&c2));
        thread::sleep(Duration::from_millis(60));
        cancel.cancel();
        // Ended by the cancel, not by the flow's 5-minute timeout.
        assert!(matches!(h.join().unwrap(), Err(LoginError::Cancelled)));

        let mut c = cfg();
        c.timeout = Duration::from_millis(150);
        let flow = LoginFlow::start(c).unwrap();
        assert!(matches!(flow.wait(&Cancel::new()), Err(LoginError::TimedOut)));
    }

    #[test]
    fn empty_client_id_is_a_config_error() {
        let mut c = cfg();
        c.client_id.clear();
        assert!(matches!(LoginFlow::start(c), Err(LoginError::Config(_))));
    }

    #[test]
    fn error_display_has_no_secrets() {
        let e = LoginError::Authorization {
            error: "invalid_scope".into(),
            description: Some("bad scope".into()),
        };
        assert_eq!(e.to_string(), "authorization failed: invalid_scope (bad scope)");
    }
}
