//! Velora REST client (no OBS types): the OAuth token endpoint, the streaming
//! integration endpoints under `/api/integrations/oauth`, and `/api/streams`.
//!
//! * [`models`] holds the request/response types,
//! * [`decode`] reads every answer,
//! * [`error`] holds [`ApiError`],
//! * [`ratelimit`] parses rate-limit headers and keeps the client-side budget,
//! * `config`: [`ApiConfig`], [`RetryPolicy`] and the user agent,
//! * `client`: the [`Client`] itself (pool, runtime, budget, cancel flag),
//! * `call`: one call on the wire (budget, send, read, map, retry),
//! * `token_endpoint`: the OAuth grants and the `auth` token endpoint,
//! * `integration`: the streaming integration endpoints and `/api/streams`.
//!
//! One [`Client`] (cheap to clone, shareable across threads) holds one
//! connection pool (keep-alive), follows no redirects and, unless the API is
//! on a loopback address, speaks HTTPS only. Calls block the calling thread:
//! run them on a worker thread, never on the OBS UI or video threads.
//!
//! Cancellation: the client drives reqwest's async client on its own
//! single-threaded tokio runtime, so a request in flight (and a retry's
//! sleep) ends the moment the [`Cancel`](crate::cancel::Cancel) in [`ApiConfig::cancel`] fires —
//! when OBS quits, no network wait outlives it. (reqwest's blocking client
//! cannot be interrupted: a stalled server would hold the caller until the
//! timeout.)
//!
//! Rate limits: before sending, the client checks its own budget (two thirds
//! of the environment's documented limit per rolling minute, half of that for
//! background work, see [`Priority`]) and any pause the server imposed (a
//! 429's `Retry-After`, or `X-RateLimit-Remaining: 0` until
//! `X-RateLimit-Reset`). When it may not send, it returns at once without
//! sleeping: [`ApiError::Paced`] for its own budget, [`ApiError::RateLimited`]
//! when the server asked for the pause.
//!
//! Retries: only idempotent requests (the GETs except key regeneration, and
//! the `PUT /stream/info`), only on 5xx and network errors, at most twice,
//! with exponential backoff and jitter (about 250 ms then 1 s; at most 3 s of
//! sleep in all), as background work. Token requests and key regeneration
//! are never retried.

mod call;
mod client;
mod config;
pub mod decode;
pub mod error;
mod integration;
pub mod models;
pub mod ratelimit;
mod token_endpoint;

pub use client::Client;
pub use config::{default_user_agent, ApiConfig, RetryPolicy};
pub use error::{ApiError, NetworkKind};
pub use integration::{INTEGRATION_PATH, STREAMS_PATH};
pub use models::{
    Category, LiveStream, StreamInfo, StreamInfoUpdate, StreamSetup, StreamsPage, TokenResponse, UpdateResult, User,
    MAX_TITLE_CHARS,
};
pub use ratelimit::{BudgetConfig, Priority, RateLimitSnapshot};
