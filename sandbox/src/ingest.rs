//! nginx-rtmp `on_publish` / `on_publish_done` hooks: the ingest source of truth.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};

use crate::state::Live;
use crate::util::{self, now_ms};
use crate::web::{parse_params, query_params, Shared};

/// Stream key from form body or query string (`name`).
fn stream_name(q: Option<String>, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let mut params = query_params(q.as_deref());
    if let Ok(form) = parse_params(headers, body) {
        params.extend(form);
    }
    params.remove("name").filter(|n| !n.is_empty())
}

/// `POST /ingest/on_publish`: 200 if `name` is a streaming user's current key.
pub async fn on_publish(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(key) = stream_name(q, &headers, &body) else {
        return (StatusCode::FORBIDDEN, "missing stream key\n");
    };
    let mut g = st.lock();
    let Some(u) = g.users.iter_mut().find(|u| util::ct_eq(&u.stream_key, &key)) else {
        return (StatusCode::FORBIDDEN, "invalid stream key\n");
    };
    if !u.streaming_enabled {
        return (StatusCode::FORBIDDEN, "streaming is not enabled for this account\n");
    }
    match u.live.as_mut() {
        // Reconnect with the same key keeps the session.
        Some(l) if l.key.as_deref() == Some(key.as_str()) => {}
        _ => {
            u.live = Some(Live {
                started_ms: now_ms(),
                key: Some(key),
                viewers_override: None,
            })
        }
    }
    (StatusCode::OK, "ok\n")
}

/// `POST /ingest/on_publish_done`: marks the publishing user offline.
pub async fn on_publish_done(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(key) = stream_name(q, &headers, &body) else {
        return (StatusCode::OK, "ok\n");
    };
    let mut g = st.lock();
    for u in g.users.iter_mut() {
        let published_with = u.live.as_ref().and_then(|l| l.key.as_deref());
        if published_with == Some(key.as_str()) {
            u.live = None;
        }
    }
    (StatusCode::OK, "ok\n")
}
