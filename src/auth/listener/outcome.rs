//! What one request to the listener came to: the authorization server's
//! answer ([`CallbackResult`], which ends the wait) or why it did not count
//! ([`Rejection`]).

use crate::Secret;
use std::fmt;

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
    /// Too many connections at once: the oldest was closed unanswered.
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
            Rejection::Busy => "too many connections: closed the oldest",
        };
        f.write_str(s)
    }
}
