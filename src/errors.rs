//! The one table from what went wrong to what the streamer reads.
//!
//! [`describe`] turns an [`ApiError`] into an [`ErrorInfo`] (the kind the
//! faces switch on and a localized sentence) plus its [`ApiClass`], which the
//! automation contract turns into a stable error code. [`Failure`] is every
//! way a request of the streamer's can fail, API errors included; its words
//! come from here too. Nothing in here ever holds a secret: API errors are
//! scrubbed where they are made (`api::error`).

use crate::api::ApiError;
use crate::status::{ErrorInfo, ErrorKind};
use crate::text::{tr, tr_args};
use std::time::Duration;

/// What an API failure means for the automation contract (one code each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiClass {
    SessionExpired,
    Forbidden,
    NotFound,
    Invalid,
    RateLimited,
    Paced,
    Network,
    Server,
    Config,
    Cancelled,
}

/// An API failure, described.
#[derive(Clone, Debug, PartialEq)]
pub struct Described {
    pub class: ApiClass,
    pub info: ErrorInfo,
}

fn secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn info(kind: ErrorKind, message: String, retry: Option<u64>) -> ErrorInfo {
    ErrorInfo {
        kind,
        message,
        retry_in_secs: retry,
    }
}

/// The server's own words when it gave some (they are meant for the user),
/// else ours.
fn server_or(message: &str, key: &str) -> String {
    if message.trim().is_empty() {
        tr(key)
    } else {
        message.trim().to_string()
    }
}

/// A 403 because streaming is off for the account, not a missing scope.
fn streaming_disabled(message: &str) -> bool {
    let lower = message.to_lowercase();
    lower.contains("not enabled") || (lower.contains("streaming") && !lower.contains("scope"))
}

/// The table.
pub fn describe(e: &ApiError) -> Described {
    use ErrorKind as K;
    let (class, info) = match e {
        ApiError::Unauthorized => (
            ApiClass::SessionExpired,
            info(K::SessionExpired, tr("Velora.Error.SessionExpired"), None),
        ),
        ApiError::Forbidden { message } if streaming_disabled(message) => (
            ApiClass::Forbidden,
            info(
                K::StreamingDisabled,
                server_or(message, "Velora.Error.StreamingDisabled"),
                None,
            ),
        ),
        ApiError::Forbidden { message } => (
            ApiClass::Forbidden,
            info(
                K::MissingPermission,
                server_or(message, "Velora.Error.MissingPermission"),
                None,
            ),
        ),
        ApiError::NotFound { message } => (
            ApiClass::NotFound,
            info(K::Invalid, server_or(message, "Velora.Error.Invalid"), None),
        ),
        ApiError::Invalid { message, .. } => (
            ApiClass::Invalid,
            info(K::Invalid, server_or(message, "Velora.Error.Invalid"), None),
        ),
        ApiError::RateLimited { retry_after, .. } => {
            let s = secs(*retry_after);
            (
                ApiClass::RateLimited,
                info(
                    K::RateLimited,
                    tr_args("Velora.Error.RateLimited", &[&s.to_string()]),
                    Some(s),
                ),
            )
        }
        ApiError::Paced { retry_after } => {
            let s = secs(*retry_after);
            (
                ApiClass::Paced,
                info(K::Paced, tr_args("Velora.Error.Paced", &[&s.to_string()]), Some(s)),
            )
        }
        ApiError::Server { status, .. } => (
            ApiClass::Server,
            info(K::Network, tr_args("Velora.Error.Server", &[&status.to_string()]), None),
        ),
        ApiError::Network {
            kind: crate::api::NetworkKind::Certificate,
            ..
        } => (
            ApiClass::Network,
            info(K::Network, tr("Velora.Error.CertificateNotTrusted"), None),
        ),
        ApiError::Network { .. } => (ApiClass::Network, info(K::Network, tr("Velora.Error.Network"), None)),
        ApiError::InvalidResponse { .. } => (ApiClass::Server, info(K::Network, tr("Velora.Error.BadResponse"), None)),
        ApiError::OAuth { .. } if e.needs_login() => (
            ApiClass::SessionExpired,
            info(K::SessionExpired, tr("Velora.Error.SessionExpired"), None),
        ),
        ApiError::OAuth { .. } => (ApiClass::Server, info(K::Login, tr("Velora.Error.LoginFailed"), None)),
        ApiError::Config { message } => (
            ApiClass::Config,
            info(
                K::Other,
                tr_args("Velora.Error.Config", &[message.trim_end_matches('.')]),
                None,
            ),
        ),
        ApiError::Cancelled => (ApiClass::Cancelled, info(K::Other, tr("Velora.Error.Stopping"), None)),
    };
    Described { class, info }
}

/// Every way a request of the streamer's (a click, an automation request)
/// can fail. The automation contract gives each a stable code; the faces
/// show [`Failure::message`].
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// OBS is still loading or already closing.
    NotReady,
    NotLoggedIn,
    LoginPending,
    /// The request itself is wrong (a bad field, nothing to do).
    BadRequest(String),
    /// The value was checked before sending and refused (title too long).
    Rejected(String),
    /// A category Velora does not have.
    UnknownCategory(String),
    /// Not possible here (WHIP on OBS 29, no ingest for a protocol).
    Unsupported(String),
    NothingToRestore,
    /// OBS refused (or is busy streaming).
    Obs(String),
    /// Velora (or the way to it) failed.
    Api(Described),
    /// The session ended: log in again.
    SessionEnded,
    /// No answer in time (the request may still complete).
    TimedOut,
    Internal(String),
}

impl Failure {
    pub fn api(e: &ApiError) -> Failure {
        Failure::Api(describe(e))
    }

    /// Plain words for the streamer (localized where the text is ours).
    pub fn message(&self) -> String {
        match self {
            Failure::NotReady => tr("Velora.Error.NotReady"),
            Failure::NotLoggedIn => tr("Velora.Error.NotLoggedIn"),
            Failure::LoginPending => tr("Velora.Error.LoginPending"),
            Failure::NothingToRestore => tr("Velora.Error.NothingToRestore"),
            Failure::SessionEnded => tr("Velora.Error.SessionExpired"),
            Failure::TimedOut => tr("Velora.Error.Timeout"),
            Failure::UnknownCategory(slug) => tr_args("Velora.Error.UnknownCategory", &[slug]),
            Failure::BadRequest(m)
            | Failure::Rejected(m)
            | Failure::Unsupported(m)
            | Failure::Obs(m)
            | Failure::Internal(m) => m.clone(),
            Failure::Api(d) => d.info.message.clone(),
        }
    }

    /// What the status board shows for it, when it shows anything.
    pub fn info(&self) -> ErrorInfo {
        match self {
            Failure::Api(d) => d.info.clone(),
            Failure::SessionEnded => info(ErrorKind::SessionExpired, self.message(), None),
            Failure::Rejected(_) | Failure::UnknownCategory(_) | Failure::BadRequest(_) => {
                info(ErrorKind::Invalid, self.message(), None)
            }
            _ => info(ErrorKind::Other, self.message(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::NetworkKind;

    #[test]
    fn every_api_error_has_a_class_a_kind_and_words() {
        let cases = [
            (
                ApiError::Unauthorized,
                ApiClass::SessionExpired,
                ErrorKind::SessionExpired,
            ),
            (
                ApiError::Forbidden {
                    message: "Streaming is not enabled for this account".into(),
                },
                ApiClass::Forbidden,
                ErrorKind::StreamingDisabled,
            ),
            (
                ApiError::Forbidden {
                    message: "Missing scope stream:key".into(),
                },
                ApiClass::Forbidden,
                ErrorKind::MissingPermission,
            ),
            (
                ApiError::NotFound { message: String::new() },
                ApiClass::NotFound,
                ErrorKind::Invalid,
            ),
            (
                ApiError::RateLimited {
                    retry_after: Duration::from_millis(1500),
                    message: String::new(),
                },
                ApiClass::RateLimited,
                ErrorKind::RateLimited,
            ),
            (
                ApiError::Paced {
                    retry_after: Duration::from_secs(30),
                },
                ApiClass::Paced,
                ErrorKind::Paced,
            ),
            (
                ApiError::Server {
                    status: 503,
                    message: "down".into(),
                },
                ApiClass::Server,
                ErrorKind::Network,
            ),
            (
                ApiError::Network {
                    kind: NetworkKind::Timeout,
                    message: "GET /x: timed out".into(),
                },
                ApiClass::Network,
                ErrorKind::Network,
            ),
            (
                ApiError::InvalidResponse {
                    description: "stream info: malformed JSON".into(),
                },
                ApiClass::Server,
                ErrorKind::Network,
            ),
            (
                ApiError::OAuth {
                    error: "invalid_grant".into(),
                    description: None,
                },
                ApiClass::SessionExpired,
                ErrorKind::SessionExpired,
            ),
            (ApiError::Cancelled, ApiClass::Cancelled, ErrorKind::Other),
        ];
        for (e, class, kind) in cases {
            let d = describe(&e);
            assert_eq!(d.class, class, "{e:?}");
            assert_eq!(d.info.kind, kind, "{e:?}");
            assert!(!d.info.message.is_empty(), "{e:?}");
        }
    }

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        let d = describe(&ApiError::RateLimited {
            retry_after: Duration::from_millis(1500),
            message: String::new(),
        });
        assert_eq!(d.info.retry_in_secs, Some(2));
        let d = describe(&ApiError::Paced {
            retry_after: Duration::from_millis(10),
        });
        assert_eq!(d.info.retry_in_secs, Some(1));
    }

    #[test]
    fn the_servers_words_are_kept_when_it_gave_some() {
        let d = describe(&ApiError::NotFound {
            message: "Category not found".into(),
        });
        assert_eq!(d.info.message, "Category not found");
    }
}
