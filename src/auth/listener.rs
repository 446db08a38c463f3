//! The loopback redirect listener (RFC 8252 §7.3).
//!
//! Binds `127.0.0.1` only. Each connection is handled on its own short-lived
//! thread with a per-read timeout, an overall deadline and a size cap, so a
//! port scan, a slowloris or garbage bytes never block the real callback and
//! never end the flow. Only `GET /velora/callback?...` with the right `state`
//! ends the wait; everything else gets an error page (or a bare 4xx) and the
//! flow keeps waiting.

use super::flow::CancelToken;
use super::pkce::{ExpectedState, StateCheck};
use super::CALLBACK_PATH;
use crate::Secret;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How often the accept loop looks at the cancel token and the deadline.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Cap on the request line plus headers; larger requests get a 431.
    pub max_request_bytes: usize,
    /// Timeout of each read.
    pub read_timeout: Duration,
    /// Total time a client has to send its request head.
    pub request_deadline: Duration,
    /// Connections handled at once; more are closed without an answer.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 8 * 1024,
            read_timeout: Duration::from_secs(2),
            request_deadline: Duration::from_secs(5),
            max_connections: 32,
        }
    }
}

/// How the authorization server answered, with the right `state`.
#[derive(Debug)]
pub enum CallbackResult {
    /// `?code=...&state=...`
    Code(Secret),
    /// `?error=access_denied&state=...`
    Denied { description: Option<String> },
    /// Any other `error=` (e.g. `invalid_scope`, `server_error`).
    Failed { error: String, description: Option<String> },
}

/// A request that did not end the flow (reported to the caller for logging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Another path (e.g. `/favicon.ico`): 404.
    NotFound,
    /// Not a GET (HEAD, POST, ...): 405 or 404.
    MethodNotAllowed,
    /// Not parseable as HTTP/1.x: 400.
    Malformed,
    /// Request head over the size cap: 431.
    TooLarge,
    /// The client sent nothing (or too little) in time: 408.
    Timeout,
    /// The client closed the connection before finishing the request.
    Truncated,
    /// A `Host` header naming something other than this listener: 400.
    WrongHost,
    /// A parameter given twice: 400.
    DuplicateParameter,
    /// No `state`: error page.
    MissingState,
    /// Wrong `state`: error page.
    StateMismatch,
    /// Right `state` a second time: error page.
    StateAlreadyUsed,
    /// Right `state` but neither `code` nor `error`: error page.
    MissingCode,
    /// Too many connections at once: closed unanswered.
    Busy,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Rejection::NotFound => "request for another path",
            Rejection::MethodNotAllowed => "method not allowed",
            Rejection::Malformed => "malformed request",
            Rejection::TooLarge => "request too large",
            Rejection::Timeout => "client sent no request in time",
            Rejection::Truncated => "client closed the connection early",
            Rejection::WrongHost => "request for another host",
            Rejection::DuplicateParameter => "duplicate query parameter",
            Rejection::MissingState => "callback without state",
            Rejection::StateMismatch => "callback with a wrong state",
            Rejection::StateAlreadyUsed => "callback with an already used state",
            Rejection::MissingCode => "callback without code or error",
            Rejection::Busy => "too many connections",
        };
        f.write_str(s)
    }
}

/// Why [`CallbackServer::serve`] stopped without a result.
#[derive(Debug, PartialEq, Eq)]
pub enum ServeStop {
    Cancelled,
    TimedOut,
}

/// Parsed request head (only what routing needs).
#[derive(Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
}

/// An HTTP response to write.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub allow_get: bool,
}

/// What routing decided for one request.
#[derive(Debug)]
pub struct Routed {
    pub response: Response,
    pub result: Option<CallbackResult>,
    pub rejection: Option<Rejection>,
}

/// The listener. Closed when dropped.
pub struct CallbackServer {
    listener: TcpListener,
    port: u16,
}

impl CallbackServer {
    /// Binds `127.0.0.1:preferred`; when that fails (port taken, forbidden),
    /// binds an ephemeral port. `preferred == 0` asks for an ephemeral port.
    /// Returns the server and whether it fell back.
    pub fn bind(preferred: u16) -> io::Result<(CallbackServer, bool)> {
        let (listener, fell_back) = match TcpListener::bind((Ipv4Addr::LOCALHOST, preferred)) {
            Ok(l) => (l, false),
            Err(e) if preferred != 0 => {
                log::warn!(
                    "login: port {preferred} unavailable ({e}); using an ephemeral port (the \
                     server must accept any loopback port in the redirect URI)"
                );
                (TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?, true)
            }
            Err(e) => return Err(e),
        };
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        Ok((CallbackServer { listener, port }, fell_back))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Accepts connections until a callback with the right `state` arrives,
    /// `cancel` is set (checked every [`POLL_INTERVAL`]) or `deadline` passes.
    /// `on_rejection` is called on this thread for every request that did not
    /// end the flow.
    pub fn serve(
        &self,
        state: ExpectedState,
        cancel: &CancelToken,
        deadline: Instant,
        limits: &Limits,
        on_rejection: &mut dyn FnMut(Rejection),
    ) -> Result<CallbackResult, ServeStop> {
        let state = Arc::new(Mutex::new(state));
        let active = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel::<Event>();
        loop {
            if cancel.is_cancelled() {
                return Err(ServeStop::Cancelled);
            }
            if Instant::now() >= deadline {
                return Err(ServeStop::TimedOut);
            }
            self.accept_pending(&state, &active, &tx, limits, on_rejection);
            match rx.recv_timeout(POLL_INTERVAL) {
                Ok(Event::Done(result)) => return Ok(result),
                Ok(Event::Rejected(r)) => on_rejection(r),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    fn accept_pending(
        &self,
        state: &Arc<Mutex<ExpectedState>>,
        active: &Arc<AtomicUsize>,
        tx: &Sender<Event>,
        limits: &Limits,
        on_rejection: &mut dyn FnMut(Rejection),
    ) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if !peer.ip().is_loopback() {
                        continue; // cannot happen on 127.0.0.1; drop it anyway
                    }
                    if active.load(Ordering::SeqCst) >= limits.max_connections {
                        drop(stream);
                        on_rejection(Rejection::Busy);
                        continue;
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let guard = ActiveGuard(active.clone());
                    let ctx = ConnCtx {
                        port: self.port,
                        state: state.clone(),
                        tx: tx.clone(),
                        limits: limits.clone(),
                    };
                    let spawned = thread::Builder::new().name("velora-login-conn".into()).spawn(move || {
                        let _guard = guard;
                        handle_connection(stream, peer, ctx);
                    });
                    if spawned.is_err() {
                        on_rejection(Rejection::Busy);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE, ECONNABORTED...: keep the flow alive, retry next poll
                    log::debug!("login: accept failed: {e}");
                    return;
                }
            }
        }
    }
}

enum Event {
    Done(CallbackResult),
    Rejected(Rejection),
}

struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct ConnCtx {
    port: u16,
    state: Arc<Mutex<ExpectedState>>,
    tx: Sender<Event>,
    limits: Limits,
}

fn handle_connection(mut stream: TcpStream, _peer: SocketAddr, ctx: ConnCtx) {
    // Accepted sockets may inherit non-blocking mode on some platforms.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(ctx.limits.read_timeout));
    let routed = match read_head(&mut stream, &ctx.limits) {
        Ok(head) => match parse_head(&head) {
            Some(req) => {
                let mut guard = match ctx.state.lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                route(&req, ctx.port, &mut guard)
            }
            None => reject(400, Rejection::Malformed),
        },
        Err(ReadError::TooLarge) => reject(431, Rejection::TooLarge),
        Err(ReadError::Timeout) => reject(408, Rejection::Timeout),
        Err(ReadError::Truncated) => {
            let _ = ctx.tx.send(Event::Rejected(Rejection::Truncated));
            return;
        }
        Err(ReadError::Closed) => return, // connect-and-close (port scan): nothing to say
    };
    let wants_drain = routed.rejection.is_some();
    let _ = write_response(&mut stream, &routed.response);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let event = match (routed.result, routed.rejection) {
        (Some(result), _) => Some(Event::Done(result)),
        (None, Some(r)) => Some(Event::Rejected(r)),
        (None, None) => None,
    };
    if let Some(event) = event {
        let _ = ctx.tx.send(event);
    }
    if wants_drain {
        // Read what is left (a POST body...) so closing does not reset the
        // connection before the client has read the error page.
        drain(&mut stream);
    }
}

fn drain(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    while total < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ReadError {
    TooLarge,
    Timeout,
    /// Closed after sending part of a request.
    Truncated,
    /// Closed without sending anything.
    Closed,
}

/// Reads up to the end of the headers (`\r\n\r\n`, or `\n\n` from sloppy
/// clients) within the size cap and the deadline.
fn read_head(stream: &mut TcpStream, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let deadline = Instant::now() + limits.request_deadline;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(ReadError::Timeout);
        }
        let wait = limits.read_timeout.min(deadline - now).max(Duration::from_millis(1));
        let _ = stream.set_read_timeout(Some(wait));
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(if buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Truncated
                })
            }
            Ok(n) => {
                let scan_from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = find_head_end(&buf[scan_from..]) {
                    let end = scan_from + end;
                    if end > limits.max_request_bytes {
                        return Err(ReadError::TooLarge);
                    }
                    buf.truncate(end);
                    return Ok(buf);
                }
                if buf.len() > limits.max_request_bytes {
                    return Err(ReadError::TooLarge);
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(ReadError::Timeout)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                return Err(if buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Truncated
                })
            }
        }
    }
}

/// Index just past the blank line ending the head, if present.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    for i in 0..buf.len() {
        if buf[i..].starts_with(b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf[i..].starts_with(b"\n\n") {
            return Some(i + 2);
        }
    }
    None
}

/// Parses an HTTP/1.x request head (request line + headers, blank line
/// included or not). Strict: one request line of three parts, a token method,
/// `HTTP/1.0` or `HTTP/1.1`, well-formed header lines, at most one `Host`.
pub fn parse_head(head: &[u8]) -> Option<RequestHead> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next()?;
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return None,
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return None;
    }
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return None;
    }
    let mut host = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return None; // obsolete line folding
        }
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return None;
        }
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return None;
            }
            host = Some(value.trim().to_string());
        }
    }
    Some(RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        host,
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn host_allowed(host: &str, port: u16) -> bool {
    let h = host.to_ascii_lowercase();
    let p = format!(":{port}");
    ["127.0.0.1", "localhost"]
        .iter()
        .any(|name| h == *name || h.strip_prefix(name) == Some(p.as_str()))
}

fn reject(status: u16, why: Rejection) -> Routed {
    Routed {
        response: Response {
            status,
            body: page_for_rejection(why),
            allow_get: false,
        },
        result: None,
        rejection: Some(why),
    }
}

/// Decides the answer to one request; consumes `state` when the callback is
/// accepted.
pub fn route(req: &RequestHead, port: u16, state: &mut ExpectedState) -> Routed {
    let (path, query) = match req.target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (req.target.as_str(), ""),
    };
    let query = query.split('#').next().unwrap_or("");
    if !req.target.starts_with('/') {
        return reject(400, Rejection::Malformed);
    }
    if let Some(host) = &req.host {
        if !host_allowed(host, port) {
            return reject(400, Rejection::WrongHost);
        }
    }
    if path != CALLBACK_PATH {
        return reject(404, Rejection::NotFound);
    }
    if req.method != "GET" {
        let mut r = reject(405, Rejection::MethodNotAllowed);
        r.response.allow_get = true;
        return r;
    }

    let mut code: Option<String> = None;
    let mut got_state: Option<String> = None;
    let mut error: Option<String> = None;
    let mut description: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "code" => &mut code,
            "state" => &mut got_state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.is_some() {
            return reject(400, Rejection::DuplicateParameter);
        }
        *slot = Some(v.into_owned());
    }

    let Some(got_state) = got_state else {
        return reject(400, Rejection::MissingState);
    };
    if !state.matches(&got_state) {
        return reject(400, Rejection::StateMismatch);
    }
    let code = code.filter(|c| !c.is_empty());
    if error.is_none() && code.is_none() {
        return reject(400, Rejection::MissingCode);
    }
    match state.consume(&got_state) {
        StateCheck::Accepted => {}
        StateCheck::AlreadyUsed => return reject(400, Rejection::StateAlreadyUsed),
        StateCheck::Mismatch => return reject(400, Rejection::StateMismatch),
    }
    let description = description.map(|d| sanitize(&d, 300)).filter(|d| !d.is_empty());
    let result = match (error, code) {
        (Some(e), _) if e == "access_denied" => CallbackResult::Denied { description },
        (Some(e), _) => CallbackResult::Failed {
            error: sanitize(&e, 64),
            description,
        },
        (None, Some(c)) => CallbackResult::Code(Secret::new(c)),
        (None, None) => unreachable!("checked above"),
    };
    let body = page_for_result(&result);
    Routed {
        response: Response {
            status: 200,
            body,
            allow_get: false,
        },
        result: Some(result),
        rejection: None,
    }
}

/// Keeps printable characters only, at most `max` of them.
pub fn sanitize(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

fn write_response(stream: &mut TcpStream, r: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Pragma: no-cache\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         X-Frame-Options: DENY\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; \
         img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n\
         Connection: close\r\n",
        r.status,
        status_text(r.status),
        r.body.len()
    );
    if r.allow_get {
        head.push_str("Allow: GET\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(r.body.as_bytes())
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const RETURN_TO_OBS: &str = "You can close this tab and return to OBS.";

fn page_for_result(result: &CallbackResult) -> String {
    match result {
        CallbackResult::Code(_) => page(
            true,
            "Signed in to Velora",
            "OBS received the sign-in. It finishes connecting your account now.",
        ),
        CallbackResult::Denied { description } => {
            let mut msg = "Access was denied, so OBS is not connected to your Velora account.".to_string();
            if let Some(d) = description {
                msg.push_str(&format!(" ({d})"));
            }
            msg.push_str(" To try again, start the sign-in again in OBS.");
            page(false, "Sign-in cancelled", &msg)
        }
        CallbackResult::Failed { error, description } => {
            let mut msg = format!("Velora reported an error: {error}");
            if let Some(d) = description {
                msg.push_str(&format!(" ({d})"));
            }
            msg.push_str(". To try again, start the sign-in again in OBS.");
            page(false, "Sign-in failed", &msg)
        }
    }
}

fn page_for_rejection(why: Rejection) -> String {
    let (title, msg) = match why {
        Rejection::StateMismatch => (
            "Sign-in response not recognized",
            "This response does not belong to the sign-in OBS is waiting for (its state \
             value does not match), so it was ignored. If OBS is still waiting, finish \
             signing in from the link OBS opened, or cancel and start again.",
        ),
        Rejection::MissingState => (
            "Sign-in response incomplete",
            "This response has no state value, so it was ignored. If OBS is still \
             waiting, finish signing in from the link OBS opened, or cancel and start again.",
        ),
        Rejection::StateAlreadyUsed => (
            "Sign-in response already used",
            "This sign-in response was already received by OBS and cannot be used twice.",
        ),
        Rejection::MissingCode => (
            "Sign-in response incomplete",
            "The response has neither an authorization code nor an error, so it was \
             ignored. If OBS is still waiting, cancel and start the sign-in again.",
        ),
        Rejection::DuplicateParameter => (
            "Sign-in response not valid",
            "The response repeats a parameter, so it was ignored.",
        ),
        Rejection::NotFound => ("Not found", "Nothing here."),
        Rejection::MethodNotAllowed => ("Method not allowed", "Only GET is answered here."),
        Rejection::TooLarge => ("Request too large", "The request was too large."),
        Rejection::Timeout => ("Request timeout", "The request took too long."),
        Rejection::WrongHost => ("Bad request", "The request names another host."),
        Rejection::Malformed | Rejection::Truncated | Rejection::Busy => {
            ("Bad request", "The request could not be read.")
        }
    };
    page(false, title, msg)
}

/// A self-contained page: inline CSS, no scripts, no remote assets, an empty
/// inline icon (so the browser does not ask for /favicon.ico).
pub fn page(ok: bool, title: &str, message: &str) -> String {
    let (accent, mark) = if ok { ("#1f9d55", "&#10003;") } else { ("#c0392b", "!") };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{title} – Velora for OBS</title>
<style>
  html,body{{margin:0;height:100%;}}
  body{{display:flex;align-items:center;justify-content:center;
       font-family:system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;
       background:#15151c;color:#e8e8ef;}}
  main{{max-width:32rem;margin:1.5rem;padding:2rem 2.25rem;border-radius:14px;
       background:#20202b;box-shadow:0 8px 30px rgba(0,0,0,.35);text-align:center;}}
  .mark{{width:3.25rem;height:3.25rem;line-height:3.25rem;margin:0 auto 1rem;
        border-radius:50%;background:{accent};color:#fff;font-size:1.75rem;font-weight:700;}}
  h1{{font-size:1.35rem;margin:0 0 .75rem;}}
  p{{margin:.5rem 0;line-height:1.5;color:#c9c9d6;}}
  .back{{margin-top:1.25rem;font-weight:600;color:#e8e8ef;}}
</style>
</head>
<body>
<main>
  <div class="mark" aria-hidden="true">{mark}</div>
  <h1>{title}</h1>
  <p>{message}</p>
  <p class="back">{back}</p>
</main>
</body>
</html>
"#,
        title = html_escape(title),
        message = html_escape(message),
        back = html_escape(RETURN_TO_OBS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    const STATE: &str = "good-state_123";

    fn head(req: &str) -> RequestHead {
        parse_head(req.as_bytes()).expect("parse")
    }

    fn get(target: &str) -> RequestHead {
        head(&format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\r\n"))
    }

    fn route_fresh(req: &RequestHead) -> (Routed, ExpectedState) {
        let mut st = ExpectedState::new(Secret::new(STATE));
        let r = route(req, 5000, &mut st);
        (r, st)
    }

    #[test]
    fn parses_a_browser_request() {
        let h = head(
            "GET /velora/callback?code=a&state=b HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\
             User-Agent: x\r\nAccept: */*\r\n\r\n",
        );
        assert_eq!(h.method, "GET");
        assert_eq!(h.target, "/velora/callback?code=a&state=b");
        assert_eq!(h.host.as_deref(), Some("127.0.0.1:5000"));
        // bare LF and HTTP/1.0 without Host
        let h = head("GET / HTTP/1.0\n\n");
        assert_eq!(h.host, None);
    }

    #[test]
    fn rejects_garbage_heads() {
        for bad in [
            "",
            "\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET /\r\n\r\n",
            "GET / HTTP/2\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET /a\x01b HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",
        ] {
            assert!(parse_head(bad.as_bytes()).is_none(), "{bad:?}");
        }
        assert!(parse_head(b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n").is_none());
    }

    #[test]
    fn good_callback_completes_once() {
        let mut st = ExpectedState::new(Secret::new(STATE));
        let req = get(&format!("/velora/callback?code=the-code&state={STATE}"));
        let r = route(&req, 5000, &mut st);
        assert_eq!(r.response.status, 200);
        assert!(r.response.body.contains("Signed in"));
        assert!(r.response.body.contains("return to OBS"));
        assert!(!r.response.body.contains("the-code"));
        match r.result {
            Some(CallbackResult::Code(c)) => assert_eq!(c.expose(), "the-code"),
            other => panic!("{other:?}"),
        }
        // replay: rejected, single use
        let r = route(&req, 5000, &mut st);
        assert_eq!(r.response.status, 400);
        assert!(r.result.is_none());
        assert_eq!(r.rejection, Some(Rejection::StateAlreadyUsed));
    }

    #[test]
    fn stray_requests_are_rejected_without_result() {
        let cases: Vec<(RequestHead, u16, Rejection)> = vec![
            (get("/favicon.ico"), 404, Rejection::NotFound),
            (get("/"), 404, Rejection::NotFound),
            (get("/velora/callback/"), 404, Rejection::NotFound),
            (
                get("/velora/CALLBACK?code=a&state=good-state_123"),
                404,
                Rejection::NotFound,
            ),
            (
                get("/velora%2Fcallback?code=a&state=good-state_123"),
                404,
                Rejection::NotFound,
            ),
            (
                get("/velora/callback/../callback?code=a&state=good-state_123"),
                404,
                Rejection::NotFound,
            ),
            (
                head("HEAD /velora/callback?code=a&state=good-state_123 HTTP/1.1\r\n\r\n"),
                405,
                Rejection::MethodNotAllowed,
            ),
            (
                head("POST /velora/callback?code=a&state=good-state_123 HTTP/1.1\r\nContent-Length: 3\r\n\r\n"),
                405,
                Rejection::MethodNotAllowed,
            ),
            (head("POST /other HTTP/1.1\r\n\r\n"), 404, Rejection::NotFound),
            (
                head("GET http://127.0.0.1:5000/velora/callback?code=a&state=good-state_123 HTTP/1.1\r\n\r\n"),
                400,
                Rejection::Malformed,
            ),
            (
                head("GET /velora/callback?code=a&state=good-state_123 HTTP/1.1\r\nHost: evil.example:5000\r\n\r\n"),
                400,
                Rejection::WrongHost,
            ),
            (
                head("GET /velora/callback?code=a&state=good-state_123 HTTP/1.1\r\nHost: 127.0.0.1:5001\r\n\r\n"),
                400,
                Rejection::WrongHost,
            ),
            (get("/velora/callback"), 400, Rejection::MissingState),
            (get("/velora/callback?code=abc"), 400, Rejection::MissingState),
            (
                get("/velora/callback?code=abc&state=wrong"),
                400,
                Rejection::StateMismatch,
            ),
            (get("/velora/callback?code=abc&state="), 400, Rejection::StateMismatch),
            (
                get("/velora/callback?code=abc&state=good-state_12"),
                400,
                Rejection::StateMismatch,
            ),
            (
                get("/velora/callback?state=good-state_123"),
                400,
                Rejection::MissingCode,
            ),
            (
                get("/velora/callback?code=&state=good-state_123"),
                400,
                Rejection::MissingCode,
            ),
            (
                get("/velora/callback?code=a&state=good-state_123&state=good-state_123"),
                400,
                Rejection::DuplicateParameter,
            ),
            (
                get("/velora/callback?code=a&code=b&state=good-state_123"),
                400,
                Rejection::DuplicateParameter,
            ),
            (
                get("/velora/callback?error=access_denied&state=wrong"),
                400,
                Rejection::StateMismatch,
            ),
            (
                get("/velora/callback?error=access_denied"),
                400,
                Rejection::MissingState,
            ),
        ];
        for (req, status, why) in cases {
            let (r, st) = route_fresh(&req);
            assert_eq!(r.response.status, status, "{req:?}");
            assert_eq!(r.rejection, Some(why), "{req:?}");
            assert!(r.result.is_none(), "{req:?}");
            assert!(!st.is_used(), "state must stay unused after {req:?}");
        }
    }

    #[test]
    fn wrong_state_gets_an_error_page_that_says_so() {
        let (r, _) = route_fresh(&get("/velora/callback?code=abc&state=wrong"));
        assert!(r.response.body.contains("does not match"));
        assert!(r.response.body.contains("return to OBS"));
        assert!(!r.response.body.contains("wrong"), "no echo of input");
    }

    #[test]
    fn denied_with_right_state_ends_the_flow() {
        let (r, st) = route_fresh(&get(
            "/velora/callback?error=access_denied&error_description=User+said+%3Cno%3E&state=good-state_123",
        ));
        assert_eq!(r.response.status, 200);
        assert!(st.is_used());
        match &r.result {
            Some(CallbackResult::Denied { description }) => {
                assert_eq!(description.as_deref(), Some("User said <no>"))
            }
            other => panic!("{other:?}"),
        }
        assert!(r.response.body.contains("denied"));
        assert!(r.response.body.contains("User said &lt;no&gt;"), "escaped");
        assert!(!r.response.body.contains("<no>"));
    }

    #[test]
    fn other_error_with_right_state_reports_it() {
        let (r, _) = route_fresh(&get("/velora/callback?error=invalid_scope&state=good-state_123"));
        match r.result {
            Some(CallbackResult::Failed { error, description }) => {
                assert_eq!(error, "invalid_scope");
                assert_eq!(description, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(r.response.body.contains("invalid_scope"));
    }

    #[test]
    fn pages_are_self_contained() {
        for body in [
            page(true, "t", "m"),
            page_for_rejection(Rejection::StateMismatch),
            page_for_result(&CallbackResult::Denied { description: None }),
        ] {
            assert!(body.contains("<style>"));
            assert!(!body.contains("http://") && !body.contains("https://"));
            assert!(!body.contains("<script"));
            assert!(!body.contains("src="));
            assert!(body.contains("return to OBS"));
        }
    }

    #[test]
    fn host_header_forms() {
        assert!(host_allowed("127.0.0.1:5000", 5000));
        assert!(host_allowed("127.0.0.1", 5000));
        assert!(host_allowed("LOCALHOST:5000", 5000));
        assert!(!host_allowed("127.0.0.1:50000", 5000));
        assert!(!host_allowed("127.0.0.1.evil:5000", 5000));
        assert!(!host_allowed("", 5000));
    }

    // ---- socket-level tests ----------------------------------------------

    fn short_limits() -> Limits {
        Limits {
            max_request_bytes: 2048,
            read_timeout: Duration::from_millis(300),
            request_deadline: Duration::from_millis(800),
            max_connections: 8,
        }
    }

    /// Runs `serve` on a thread; returns the port, the cancel token and a
    /// handle yielding (result, rejections).
    #[allow(clippy::type_complexity)]
    fn serve_in_background(
        limits: Limits,
        timeout: Duration,
    ) -> (
        u16,
        CancelToken,
        thread::JoinHandle<(Result<CallbackResult, ServeStop>, Vec<Rejection>)>,
        Arc<Mutex<Vec<Rejection>>>,
    ) {
        let (server, fell_back) = CallbackServer::bind(0).unwrap();
        assert!(!fell_back);
        let port = server.port();
        let cancel = CancelToken::new();
        let c2 = cancel.clone();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let h = thread::spawn(move || {
            let st = ExpectedState::new(Secret::new(STATE));
            let r = server.serve(st, &c2, Instant::now() + timeout, &limits, &mut |why| {
                seen2.lock().unwrap().push(why)
            });
            let seen = seen2.lock().unwrap().clone();
            (r, seen)
        });
        (port, cancel, h, seen)
    }

    fn wait_until_seen(seen: &Mutex<Vec<Rejection>>, why: Rejection) {
        let t = Instant::now();
        while !seen.lock().unwrap().contains(&why) {
            assert!(t.elapsed() < Duration::from_secs(10), "{why:?} never reported");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn exchange(port: u16, raw: &[u8]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(raw).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn status_of(resp: &str) -> u16 {
        resp.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    #[test]
    fn hostile_clients_do_not_end_or_block_the_flow() {
        let limits = Limits {
            read_timeout: Duration::from_millis(1000),
            request_deadline: Duration::from_millis(2000),
            ..short_limits()
        };
        let (port, cancel, h, seen) = serve_in_background(limits, Duration::from_secs(30));

        // a slow client that connects and sends nothing, opened first
        let idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // a slowloris that sends one byte and then stalls
        let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
        slow.write_all(b"G").unwrap();
        // a port scan: connect and close
        drop(TcpStream::connect(("127.0.0.1", port)).unwrap());

        let t = Instant::now();
        let r = exchange(port, b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assert_eq!(status_of(&r), 404, "{r}");
        assert!(
            t.elapsed() < Duration::from_millis(1000),
            "not blocked by the idle clients"
        );
        assert!(r.contains("Content-Security-Policy"));

        let r = exchange(port, b"HEAD /velora/callback HTTP/1.1\r\n\r\n");
        assert_eq!(status_of(&r), 405, "{r}");
        let r = exchange(
            port,
            b"POST /velora/callback HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(status_of(&r), 405, "{r}");
        let r = exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
        assert_eq!(status_of(&r), 400, "{r}");
        let mut huge = b"GET /velora/callback HTTP/1.1\r\nX-Pad: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 5000));
        huge.extend_from_slice(b"\r\n\r\n");
        let r = exchange(port, &huge);
        assert_eq!(status_of(&r), 431, "{r}");
        // truncated: half a request, then close
        {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /velora/callback?code=x").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            assert!(out.is_empty());
        }
        let r = exchange(port, b"GET /velora/callback?code=x&state=nope HTTP/1.1\r\n\r\n");
        assert_eq!(status_of(&r), 400);
        assert!(r.contains("does not match"));
        let r = exchange(
            port,
            b"GET /velora/callback?error=access_denied&state=nope HTTP/1.1\r\n\r\n",
        );
        assert_eq!(status_of(&r), 400);

        // the idle client gets a 408 after the request deadline
        let mut idle = idle;
        idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        let _ = idle.read_to_end(&mut out);
        assert_eq!(status_of(&String::from_utf8_lossy(&out)), 408);
        drop(slow);
        wait_until_seen(&seen, Rejection::Timeout);
        wait_until_seen(&seen, Rejection::Truncated);

        assert!(!h.is_finished(), "nothing so far may end the flow");

        // and the real callback still works
        let r = exchange(
            port,
            format!("GET /velora/callback?code=real&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status_of(&r), 200, "{r}");
        let (res, seen) = h.join().unwrap();
        match res {
            Ok(CallbackResult::Code(c)) => assert_eq!(c.expose(), "real"),
            other => panic!("{other:?}"),
        }
        for why in [
            Rejection::NotFound,
            Rejection::MethodNotAllowed,
            Rejection::Malformed,
            Rejection::TooLarge,
            Rejection::Truncated,
            Rejection::StateMismatch,
            Rejection::Timeout,
        ] {
            assert!(seen.contains(&why), "{why:?} not reported: {seen:?}");
        }
        drop(cancel);
    }

    #[test]
    fn denied_ends_serve() {
        let (port, _cancel, h, _) = serve_in_background(short_limits(), Duration::from_secs(20));
        let r = exchange(
            port,
            format!("GET /velora/callback?error=access_denied&state={STATE} HTTP/1.1\r\n\r\n").as_bytes(),
        );
        assert_eq!(status_of(&r), 200);
        let (res, _) = h.join().unwrap();
        assert!(matches!(res, Ok(CallbackResult::Denied { description: None })));
    }

    #[test]
    fn cancel_is_prompt_and_closes_the_port() {
        let (port, cancel, h, _) = serve_in_background(short_limits(), Duration::from_secs(60));
        // a stalled client must not delay cancellation
        let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        cancel.cancel();
        let (res, _) = h.join().unwrap();
        assert_eq!(res.unwrap_err(), ServeStop::Cancelled);
        assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
        // the server was dropped with the thread: the port is closed
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn cancel_is_checked_at_least_every_100ms() {
        assert!(POLL_INTERVAL <= Duration::from_millis(100));
    }

    #[test]
    fn deadline_ends_serve() {
        let (_port, _cancel, h, _) = serve_in_background(short_limits(), Duration::from_millis(200));
        let t = Instant::now();
        let (res, _) = h.join().unwrap();
        assert_eq!(res.unwrap_err(), ServeStop::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn connection_cap_closes_extra_clients() {
        let mut limits = short_limits();
        limits.max_connections = 2;
        limits.request_deadline = Duration::from_secs(3);
        limits.read_timeout = Duration::from_secs(3);
        let (port, cancel, h, _) = serve_in_background(limits, Duration::from_secs(20));
        let _a = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = TcpStream::connect(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_millis(150));
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n");
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        assert!(out.is_empty(), "closed unanswered");
        cancel.cancel();
        let (res, seen) = h.join().unwrap();
        assert_eq!(res.unwrap_err(), ServeStop::Cancelled);
        assert!(seen.contains(&Rejection::Busy));
    }

    #[test]
    fn taken_port_falls_back_to_ephemeral() {
        let blocker = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken = blocker.local_addr().unwrap().port();
        let (server, fell_back) = CallbackServer::bind(taken).unwrap();
        assert!(fell_back);
        assert_ne!(server.port(), taken);
        assert_ne!(server.port(), 0);
        // a free port is used as asked
        let free = server.port();
        drop(server);
        let (server, fell_back) = CallbackServer::bind(free).unwrap();
        assert!(!fell_back);
        assert_eq!(server.port(), free);
    }
}
