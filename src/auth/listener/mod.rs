//! The loopback redirect listener (RFC 8252 §7.3).
//!
//! Binds `127.0.0.1` only. Each connection is handled on its own short-lived
//! thread with a per-read timeout, a deadline for the whole connection
//! (request, answer and the drain after an error page) and a size cap, so a
//! port scan, a slowloris or garbage bytes never block the real callback and
//! never end the flow. When every slot is taken, the oldest connection is
//! closed to make room: a crowd of trickling connections can delay the
//! browser's callback by one round trip, never drop it. Only
//! `GET /velora/callback?...` with the right `state` ends the wait;
//! everything else gets an error page (or a bare 4xx) and the flow keeps
//! waiting. When the wait ends, every open connection is closed.
//!
//! * `server`: [`CallbackServer`], the accept loop and one thread per
//!   connection, the slots and the deadlines.
//! * `http`: HTTP/1.x on one socket: reading a request head within the
//!   [`Limits`], parsing it, writing the answer, draining what is left.
//! * `route`: one request decided against the expected `state`.
//! * `page`: the self-contained pages the browser shows.
//! * `outcome`: what a request came to, a [`CallbackResult`] or a
//!   [`Rejection`].

mod http;
mod outcome;
mod page;
mod route;
mod server;

pub use http::{parse_head, Limits, RequestHead, Response};
pub use outcome::{CallbackResult, Rejection};
pub use page::{html_escape, page};
pub use route::{route, sanitize, Routed};
pub use server::{CallbackServer, ServeStop, POLL_INTERVAL};
