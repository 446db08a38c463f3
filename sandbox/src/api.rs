//! Streaming integration endpoints, `/user`, `/api/streams`, thumbnails.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::state::{category, User, CATEGORIES};
use crate::util::{self, now_ms};
use crate::web::{authenticate, query_params, ApiError, Shared};

const MAX_TITLE_CHARS: usize = 140;
const MAX_TAGS: usize = 10;
const MAX_TAG_CHARS: usize = 25;

/// Authenticate, require a user token with `scope`, optionally require
/// streaming to be enabled; returns the user id.
fn stream_user(st: &Shared, headers: &HeaderMap, scope: &str, need_streaming: bool) -> Result<String, ApiError> {
    let caller = authenticate(st, headers)?;
    let uid = caller.require_user()?.to_string();
    caller.require_scope(scope)?;
    let g = st.lock();
    let user = g
        .user(&uid)
        .ok_or_else(|| ApiError::unauthorized("Invalid access token"))?;
    if need_streaming && !user.streaming_enabled {
        return Err(ApiError::forbidden("Streaming is not enabled for this account"));
    }
    Ok(uid)
}

fn with_user<T>(st: &Shared, uid: &str, f: impl FnOnce(&User) -> T) -> Result<T, ApiError> {
    let g = st.lock();
    g.user(uid)
        .map(f)
        .ok_or_else(|| ApiError::unauthorized("Invalid access token"))
}

/// `GET /api/integrations/oauth/stream/setup` (stream:key)
pub async fn stream_setup(State(st): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let uid = stream_user(&st, &headers, "stream:key", true)?;
    let key = with_user(&st, &uid, |u| u.stream_key.clone())?;
    let c = &st.config;
    Ok(Json(json!({
        "streamKey": key,
        "rtmpUrl": c.rtmp_url,
        "srtUrl": c.srt_url,
        "whipUrl": c.whip_url_template.replace("{key}", &key),
        "ingestServer": c.ingest_server,
    })))
}

pub fn stream_info_json(u: &User, now: u64) -> Value {
    json!({
        "title": u.title,
        "categoryName": category(&u.category_slug).map(|c| c.name).unwrap_or(""),
        "categorySlug": u.category_slug,
        "tags": u.tags,
        "isLive": u.is_live(),
        "viewerCount": u.viewer_count(now),
        "startedAt": u.started_at(),
    })
}

/// `GET /api/integrations/oauth/stream/info` (stream:read)
pub async fn get_stream_info(State(st): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let uid = stream_user(&st, &headers, "stream:read", true)?;
    let now = now_ms();
    Ok(Json(with_user(&st, &uid, |u| stream_info_json(u, now))?))
}

/// `PUT /api/integrations/oauth/stream/info` (stream:write)
pub async fn put_stream_info(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let uid = stream_user(&st, &headers, "stream:write", true)?;
    let v: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("Request body must be valid JSON"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Request body must be a JSON object"))?;

    // 400: types.
    let title = match obj.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("title must be a string")),
    };
    let slug = match obj.get("categorySlug") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("categorySlug must be a string")),
    };
    let tags = match obj.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| ApiError::bad_request("tags must be an array of strings"))?,
        ),
        Some(_) => return Err(ApiError::bad_request("tags must be an array of strings")),
    };
    if title.is_none() && slug.is_none() && tags.is_none() {
        return Err(ApiError::bad_request("Nothing to update"));
    }
    if let Some(t) = &title {
        if t.chars().count() > MAX_TITLE_CHARS {
            return Err(ApiError::bad_request(format!(
                "title must be at most {MAX_TITLE_CHARS} characters"
            )));
        }
    }
    // 422: tag semantics.
    if let Some(tags) = &tags {
        if tags.len() > MAX_TAGS {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_tags",
                format!("At most {MAX_TAGS} tags are allowed"),
            ));
        }
        if let Some(bad) = tags
            .iter()
            .find(|t| t.trim().is_empty() || t.chars().count() > MAX_TAG_CHARS)
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_tags",
                if bad.trim().is_empty() {
                    "Tags must not be empty".to_string()
                } else {
                    format!("Tags must be at most {MAX_TAG_CHARS} characters")
                },
            ));
        }
    }
    // 404: category.
    if let Some(s) = &slug {
        if category(s).is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "category_not_found",
                "Category not found",
            ));
        }
    }
    let mut g = st.lock();
    let u = g
        .user_mut(&uid)
        .ok_or_else(|| ApiError::unauthorized("Invalid access token"))?;
    if let Some(t) = title {
        u.title = t;
    }
    if let Some(s) = slug {
        u.category_slug = s;
    }
    if let Some(t) = tags {
        u.tags = t;
    }
    st.save(&g);
    Ok(Json(json!({"success": true, "message": "Stream info updated"})))
}

/// `GET /api/integrations/oauth/stream/categories` (stream:read)
pub async fn categories(State(st): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    stream_user(&st, &headers, "stream:read", false)?;
    let base = &st.base_url;
    let cats: Vec<Value> = CATEGORIES
        .iter()
        .map(|c| {
            let url = c.has_image.then(|| format!("{base}/category-images/{}.png", c.slug));
            json!({"slug": c.slug, "name": c.name, "imageUrl": url})
        })
        .collect();
    Ok(Json(json!({ "categories": cats })))
}

/// `GET|POST /api/integrations/oauth/stream/key/regenerate` (stream:key)
pub async fn regenerate_key(State(st): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let uid = stream_user(&st, &headers, "stream:key", true)?;
    let key = util::new_stream_key();
    let mut g = st.lock();
    let u = g
        .user_mut(&uid)
        .ok_or_else(|| ApiError::unauthorized("Invalid access token"))?;
    u.stream_key = key.clone();
    st.save(&g);
    Ok(Json(json!({ "streamKey": key })))
}

/// `GET /api/integrations/oauth/user` (user:read) — sandbox extension.
pub async fn user(State(st): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let uid = stream_user(&st, &headers, "user:read", false)?;
    Ok(Json(with_user(
        &st,
        &uid,
        |u| json!({"id": u.id, "username": u.username, "displayName": u.display_name}),
    )?))
}

/// `GET /api/streams?cursor=&limit=` (any valid token)
pub async fn streams(
    State(st): State<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    authenticate(&st, &headers)?;
    let q = query_params(q.as_deref());
    let limit = match q.get("limit").map(String::as_str).filter(|s| !s.is_empty()) {
        None => 20,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(100),
            _ => return Err(ApiError::bad_request("limit must be an integer between 1 and 100")),
        },
    };
    let after = match q.get("cursor").map(String::as_str).filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| ApiError::bad_request("Invalid cursor"))?),
    };
    let now = now_ms();
    let base = &st.base_url;
    let mut all: Vec<(String, Value)> = {
        let g = st.lock();
        let live_users = g.users.iter().filter(|u| u.is_live()).map(|u| {
            let id = u.stream_id();
            (
                id.clone(),
                json!({
                    "id": id,
                    "userId": u.id,
                    "username": u.username,
                    "title": u.title,
                    "viewerCount": u.viewer_count(now),
                    "startedAt": u.live.as_ref().map(|l| util::iso8601(l.started_ms, false)),
                    "thumbnailUrl": format!("{base}/thumbnails/{id}.svg"),
                }),
            )
        });
        let fakes = g.fake_streams.iter().map(|s| {
            (
                s.id.clone(),
                json!({
                    "id": s.id,
                    "userId": s.user_id,
                    "username": s.username,
                    "title": s.title,
                    "viewerCount": s.viewer_count,
                    "startedAt": util::iso8601(s.started_ms, false),
                    "thumbnailUrl": format!("{base}/thumbnails/{}.svg", s.id),
                }),
            )
        });
        live_users.chain(fakes).collect()
    };
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let rest: Vec<(String, Value)> = all
        .into_iter()
        .filter(|(id, _)| after.as_ref().is_none_or(|a| id > a))
        .collect();
    let has_more = rest.len() > limit;
    let page: Vec<(String, Value)> = rest.into_iter().take(limit).collect();
    let cursor = if has_more {
        page.last().map(|(id, _)| encode_cursor(id))
    } else {
        None
    };
    let streams: Vec<Value> = page.into_iter().map(|(_, v)| v).collect();
    Ok(Json(json!({"streams": streams, "pagination": {"cursor": cursor}})))
}

fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "last_id": last_id }).to_string())
}

fn decode_cursor(c: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("last_id")?.as_str().map(str::to_owned)
}

/// `GET /thumbnails/{id}.svg` — a tiny generated placeholder.
pub async fn thumbnail(Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".svg") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let hue = id.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" height=\"180\">\
<rect width=\"320\" height=\"180\" fill=\"hsl({hue},55%,35%)\"/>\
<text x=\"160\" y=\"98\" font-family=\"sans-serif\" font-size=\"18\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        util::html_escape(id)
    );
    let mut r = svg.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    r
}
