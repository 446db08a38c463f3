//! Routing one request: the exact callback path, a GET, the right host,
//! and the expected `state` (consumed when the callback is accepted).

use super::http::{RequestHead, Response};
use super::outcome::{CallbackResult, Rejection};
use super::page::{page_for_rejection, page_for_result};
use crate::auth::pkce::{ExpectedState, StateCheck};
use crate::auth::registration::CALLBACK_PATH;
use crate::Secret;

/// What routing decided for one request.
#[derive(Debug)]
pub struct Routed {
    pub response: Response,
    pub result: Option<CallbackResult>,
    pub rejection: Option<Rejection>,
}

fn host_allowed(host: &str, port: u16) -> bool {
    let h = host.to_ascii_lowercase();
    let p = format!(":{port}");
    ["127.0.0.1", "localhost"]
        .iter()
        .any(|name| h == *name || h.strip_prefix(name) == Some(p.as_str()))
}

pub(super) fn reject(status: u16, why: Rejection) -> Routed {
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

#[cfg(test)]
mod tests {
    use super::super::http::parse_head;
    use super::*;

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
    fn host_header_forms() {
        assert!(host_allowed("127.0.0.1:5000", 5000));
        assert!(host_allowed("127.0.0.1", 5000));
        assert!(host_allowed("LOCALHOST:5000", 5000));
        assert!(!host_allowed("127.0.0.1:50000", 5000));
        assert!(!host_allowed("127.0.0.1.evil:5000", 5000));
        assert!(!host_allowed("", 5000));
    }
}
