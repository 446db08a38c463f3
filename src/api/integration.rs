//! The streaming integration endpoints under [`INTEGRATION_PATH`] and the
//! public streams list at [`STREAMS_PATH`], as [`Client`] calls.

use super::call::{to_json, Call, Retry};
use super::client::Client;
use super::decode;
use super::error::{ApiError, Surface};
use super::models::{Category, StreamInfo, StreamInfoUpdate, StreamSetup, StreamsPage, UpdateResult, User};
use crate::Secret;
use reqwest::Method;
use url::Url;

/// Path of the streaming integration API under the API base.
pub const INTEGRATION_PATH: &str = "/api/integrations/oauth";
/// Path of the public streams list.
pub const STREAMS_PATH: &str = "/api/streams";

impl Client {
    /// `GET /stream/setup` (scope `stream:key`): stream key and ingest URLs.
    pub fn stream_setup(&self, token: &Secret) -> Result<StreamSetup, ApiError> {
        let bytes = self.get(token, "/stream/setup", "stream setup", Retry::Yes)?;
        decode::stream_setup(&bytes)
    }

    /// `GET /stream/info` (scope `stream:read`).
    pub fn stream_info(&self, token: &Secret) -> Result<StreamInfo, ApiError> {
        let bytes = self.get(token, "/stream/info", "stream info", Retry::Yes)?;
        decode::stream_info(&bytes)
    }

    /// `PUT /stream/info` (scope `stream:write`): only the `Some` fields are
    /// sent. Idempotent, so retried like a GET. The server validates (title
    /// at most 140 characters, known category); see
    /// [`StreamInfoUpdate::validate`] for a client-side check.
    pub fn update_stream_info(&self, token: &Secret, update: &StreamInfoUpdate) -> Result<UpdateResult, ApiError> {
        let url = self.integration_url("/stream/info")?;
        let body = to_json(update)?;
        let bytes = self.send_with_token(Method::PUT, url, "stream info update", token, Some(body), Retry::Yes)?;
        decode::update_result(&bytes)
    }

    /// `GET /stream/categories` (scope `stream:read`).
    pub fn categories(&self, token: &Secret) -> Result<Vec<Category>, ApiError> {
        let bytes = self.get(token, "/stream/categories", "categories", Retry::Yes)?;
        decode::categories(&bytes)
    }

    /// `GET /stream/key/regenerate` (scope `stream:key`), as documented. The
    /// old key stops working at once. Never retried: a lost answer must not
    /// turn into two regenerations.
    pub fn regenerate_key(&self, token: &Secret) -> Result<Secret, ApiError> {
        let bytes = self.get(token, "/stream/key/regenerate", "regenerated key", Retry::Never)?;
        decode::regenerated_key(&bytes)
    }

    /// `GET /api/integrations/oauth/user` (scope `user:read`; our documented
    /// extension).
    pub fn user(&self, token: &Secret) -> Result<User, ApiError> {
        let bytes = self.get(token, "/user", "user", Retry::Yes)?;
        decode::user(&bytes)
    }

    /// `GET /api/streams?cursor=&limit=`: one page of live streams. Pass the
    /// returned `cursor` to get the next page; `None` means the last page.
    pub fn live_streams(
        &self,
        token: &Secret,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<StreamsPage, ApiError> {
        let mut url = self.inner.endpoints.api_url(STREAMS_PATH)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(c) = cursor.filter(|c| !c.is_empty()) {
                q.append_pair("cursor", c);
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.to_string());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let bytes = self.send_with_token(Method::GET, url, "live streams", token, None, Retry::Yes)?;
        decode::live_streams(&bytes)
    }

    fn integration_url(&self, path: &str) -> Result<Url, ApiError> {
        Ok(self.inner.endpoints.api_url(&format!("{INTEGRATION_PATH}{path}"))?)
    }

    fn get(&self, token: &Secret, path: &str, what: &'static str, retry: Retry) -> Result<Vec<u8>, ApiError> {
        let url = self.integration_url(path)?;
        self.send_with_token(Method::GET, url, what, token, None, retry)
    }

    /// One call with the access token as `Authorization: Bearer`, which is
    /// scrubbed from error texts.
    fn send_with_token(
        &self,
        method: Method,
        url: Url,
        what: &'static str,
        token: &Secret,
        body: Option<Vec<u8>>,
        retry: Retry,
    ) -> Result<Vec<u8>, ApiError> {
        let call = Call {
            method,
            url,
            what,
            surface: Surface::Api,
            bearer: Some(token),
            body,
            retry,
            secrets: vec![token.expose()],
        };
        self.send(&call)
    }
}
