//! Failures of automation requests: a stable code and a message for people.

use crate::api::ApiError;

pub mod codes {
    pub const NOT_READY: &str = "NOT_READY";
    pub const NOT_LOGGED_IN: &str = "NOT_LOGGED_IN";
    pub const LOGIN_PENDING: &str = "LOGIN_PENDING";
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    pub const CONFIRMATION_REQUIRED: &str = "CONFIRMATION_REQUIRED";
    pub const UNSUPPORTED: &str = "UNSUPPORTED";
    pub const NOTHING_TO_RESTORE: &str = "NOTHING_TO_RESTORE";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const SESSION_EXPIRED: &str = "SESSION_EXPIRED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID: &str = "INVALID";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const NETWORK: &str = "NETWORK";
    pub const SERVER: &str = "SERVER";
    pub const OBS: &str = "OBS";
    pub const INTERNAL: &str = "INTERNAL";
}

#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn not_ready() -> Self {
        Failure::new(
            codes::NOT_READY,
            "the Velora plugin is not ready yet (OBS is still loading or shutting down)",
        )
    }

    pub fn not_logged_in() -> Self {
        Failure::new(codes::NOT_LOGGED_IN, crate::core::text("Velora.Error.NotLoggedIn"))
    }

    pub fn from_api(e: &ApiError) -> Self {
        let code = match e {
            ApiError::Unauthorized => codes::SESSION_EXPIRED,
            ApiError::Forbidden { .. } => codes::FORBIDDEN,
            ApiError::NotFound { .. } => codes::NOT_FOUND,
            ApiError::Invalid { .. } => codes::INVALID,
            ApiError::RateLimited { .. } => codes::RATE_LIMITED,
            ApiError::Network { .. } => codes::NETWORK,
            ApiError::Server { .. } => codes::SERVER,
            _ => codes::SERVER,
        };
        Failure::new(code, super::error_info(e).message)
    }
}
