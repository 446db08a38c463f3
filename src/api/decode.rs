//! Reading Velora's answers: one function per endpoint, exactly what the
//! [`super::Client`] does with a 2xx body (and [`error`] with any other), so
//! the fuzz targets (fuzz/) exercise the very code the plugin runs.

use super::error::{self, ApiError, Surface};
use super::models::{self, Category, StreamInfo, StreamSetup, StreamsPage, TokenResponse, UpdateResult, User};
use crate::Secret;
use serde::de::DeserializeOwned;
use std::time::Duration;

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidResponse {
        description: error::describe_json_error(what, &e),
    })
}

pub(crate) fn invalid(what: &str, why: String) -> ApiError {
    ApiError::InvalidResponse {
        description: format!("{what}: {why}"),
    }
}

pub fn token_response(body: &[u8]) -> Result<TokenResponse, ApiError> {
    let t: TokenResponse = decode("token response", body)?;
    t.validate().map_err(|why| invalid("token response", why))
}

pub fn stream_setup(body: &[u8]) -> Result<StreamSetup, ApiError> {
    let s: StreamSetup = decode("stream setup", body)?;
    s.validate().map_err(|why| invalid("stream setup", why))
}

pub fn stream_info(body: &[u8]) -> Result<StreamInfo, ApiError> {
    decode("stream info", body)
}

/// `PUT /stream/info` may answer with an empty body.
pub fn update_result(body: &[u8]) -> Result<UpdateResult, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(UpdateResult::default());
    }
    decode("stream info update", body)
}

pub fn categories(body: &[u8]) -> Result<Vec<Category>, ApiError> {
    let b: models::CategoriesBody = decode("categories", body)?;
    b.into_categories().map_err(|why| invalid("categories", why))
}

pub fn regenerated_key(body: &[u8]) -> Result<Secret, ApiError> {
    let k: models::RegeneratedKey = decode("regenerated key", body)?;
    if k.stream_key.expose().trim().is_empty() {
        return Err(invalid("regenerated key", "empty streamKey".to_string()));
    }
    Ok(k.stream_key)
}

pub fn user(body: &[u8]) -> Result<User, ApiError> {
    let u: User = decode("user", body)?;
    u.validate().map_err(|why| invalid("user", why))
}

pub fn live_streams(body: &[u8]) -> Result<StreamsPage, ApiError> {
    let b: models::StreamsBody = decode("live streams", body)?;
    Ok(b.into())
}

/// A non-2xx answer, from the token endpoint or the API. `secrets` are the
/// values the request carried (scrubbed from any text kept).
pub fn error(
    status: u16,
    body: &[u8],
    token_endpoint: bool,
    retry_after: Option<Duration>,
    secrets: &[&str],
) -> ApiError {
    let surface = if token_endpoint { Surface::Token } else { Surface::Api };
    error::from_status(status, body, surface, retry_after, secrets)
}
