//! Velora API request/response types (camelCase on the wire, except the OAuth
//! token response which is snake_case as in RFC 6749).
//!
//! Tolerant where it costs nothing: unknown fields are ignored, `null` strings
//! and lists become empty, empty optional strings become `None`. Strict where
//! the plugin would misbehave: a missing or empty `streamKey`, a missing
//! `access_token`, a field of the wrong type.
//!
//! Types holding a secret (`TokenResponse`, `StreamSetup`) implement
//! `Deserialize` only, never `Serialize`, so they cannot be dumped as JSON by
//! accident; their `Debug` prints `[redacted]` for the secret fields.

use crate::Secret;
use serde::{Deserialize, Deserializer, Serialize};

/// Stream title limit (documented: "max 140 characters").
pub const MAX_TITLE_CHARS: usize = 140;

/// `null` → `T::default()`.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `null` or `""` → `None`.
fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.trim().is_empty()))
}

/// An id that may be sent as a string or a number.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        U(u64),
        I(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::U(n) => n.to_string(),
        Id::I(n) => n.to_string(),
    })
}

/// `expires_in`: a number, a numeric string (some servers), or `null`.
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Secs {
        U(u64),
        F(f64),
        S(String),
    }
    match Option::<Secs>::deserialize(d)? {
        None => Ok(None),
        Some(Secs::U(n)) => Ok(Some(n)),
        Some(Secs::F(f)) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
        Some(Secs::S(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expires_in is not a number of seconds")),
        Some(Secs::F(_)) => Err(serde::de::Error::custom("expires_in is not a number of seconds")),
    }
}

fn default_token_type() -> String {
    "Bearer".to_string()
}

/// `POST /api/developer/oauth/token` response.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    /// `Bearer` (the only type accepted; assumed when missing).
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub expires_in: Option<u64>,
    /// Absent after a refresh that does not rotate it: keep the old one.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Granted scopes, space separated.
    #[serde(default, deserialize_with = "opt_string")]
    pub scope: Option<String>,
}

impl TokenResponse {
    /// Checks what serde cannot; `Err` holds a safe description.
    pub(crate) fn validate(mut self) -> Result<Self, String> {
        if self.access_token.expose().trim().is_empty() {
            return Err("empty access_token".to_string());
        }
        if !self.token_type.eq_ignore_ascii_case("bearer") {
            return Err("token_type is not Bearer".to_string());
        }
        self.refresh_token = self.refresh_token.filter(|t| !t.expose().trim().is_empty());
        Ok(self)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .as_deref()
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default()
    }
}

/// `GET /stream/setup`: the stream key and ingest URLs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSetup {
    pub stream_key: Secret,
    pub rtmp_url: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub srt_url: Option<String>,
    /// Contains the stream key, hence a [`Secret`].
    #[serde(default)]
    pub whip_url: Option<Secret>,
    #[serde(default, deserialize_with = "opt_string")]
    pub ingest_server: Option<String>,
}

impl StreamSetup {
    pub(crate) fn validate(mut self) -> Result<Self, String> {
        if self.stream_key.expose().trim().is_empty() {
            return Err("empty streamKey".to_string());
        }
        if self.rtmp_url.trim().is_empty() {
            return Err("empty rtmpUrl".to_string());
        }
        self.whip_url = self.whip_url.filter(|u| !u.expose().trim().is_empty());
        Ok(self)
    }
}

/// `{"streamKey": ...}` from `/stream/key/regenerate`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegeneratedKey {
    pub stream_key: Secret,
}

/// `GET /stream/info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, deserialize_with = "nullable")]
    pub category_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub category_slug: String,
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub is_live: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub viewer_count: u64,
    /// ISO-8601, when live.
    #[serde(default, deserialize_with = "opt_string")]
    pub started_at: Option<String>,
}

/// `PUT /stream/info` body. Only the `Some` fields are sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInfoUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl StreamInfoUpdate {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.category_slug.is_none() && self.tags.is_none()
    }

    /// The documented limits, for the UI to check before sending.
    /// [`crate::api::Client::update_stream_info`] does not call it: the server
    /// is the authority.
    pub fn validate(&self) -> Result<(), String> {
        if self.is_empty() {
            return Err("nothing to update".to_string());
        }
        if let Some(t) = &self.title {
            let n = t.chars().count();
            if n > MAX_TITLE_CHARS {
                return Err(format!(
                    "the title is {n} characters long; at most {MAX_TITLE_CHARS} are allowed"
                ));
            }
        }
        if let Some(s) = &self.category_slug {
            if s.trim().is_empty() {
                return Err("the category is empty".to_string());
            }
        }
        Ok(())
    }
}

/// `PUT /stream/info` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResult {
    /// Assumed `true` when absent (a 2xx answer).
    #[serde(default = "yes", deserialize_with = "nullable_true")]
    pub success: bool,
    #[serde(default, deserialize_with = "opt_string")]
    pub message: Option<String>,
}

fn yes() -> bool {
    true
}

fn nullable_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

impl Default for UpdateResult {
    fn default() -> Self {
        UpdateResult {
            success: true,
            message: None,
        }
    }
}

/// One entry of `GET /stream/categories`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub slug: String,
    /// The slug when the server sends none.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub image_url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct CategoriesBody {
    #[serde(deserialize_with = "nullable")]
    pub categories: Vec<Category>,
}

impl CategoriesBody {
    pub(crate) fn into_categories(self) -> Result<Vec<Category>, String> {
        self.categories
            .into_iter()
            .map(|mut c| {
                if c.slug.trim().is_empty() {
                    return Err("a category has an empty slug".to_string());
                }
                if c.name.trim().is_empty() {
                    c.name = c.slug.clone();
                }
                Ok(c)
            })
            .collect()
    }
}

/// `GET /api/integrations/oauth/user` (our documented extension).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub username: String,
    /// The username when the server sends none.
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
}

impl User {
    pub(crate) fn validate(mut self) -> Result<Self, String> {
        if self.id.trim().is_empty() {
            return Err("empty user id".to_string());
        }
        if self.display_name.trim().is_empty() {
            self.display_name = self.username.clone();
        }
        Ok(self)
    }
}

/// One entry of `GET /api/streams`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStream {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub username: String,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, deserialize_with = "nullable")]
    pub viewer_count: u64,
    #[serde(default, deserialize_with = "opt_string")]
    pub started_at: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub thumbnail_url: Option<String>,
}

/// A page of `GET /api/streams`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamsPage {
    pub streams: Vec<LiveStream>,
    /// Pass to the next call; `None` on the last page.
    pub cursor: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct StreamsBody {
    #[serde(deserialize_with = "nullable")]
    streams: Vec<LiveStream>,
    #[serde(default, deserialize_with = "nullable")]
    pagination: Pagination,
}

#[derive(Default, Deserialize)]
struct Pagination {
    #[serde(default, deserialize_with = "opt_string")]
    cursor: Option<String>,
}

impl From<StreamsBody> for StreamsPage {
    fn from(b: StreamsBody) -> Self {
        StreamsPage {
            streams: b.streams,
            cursor: b.pagination.cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_documented_example() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI...", "token_type": "Bearer", "expires_in": 3600}"#,
        )
        .unwrap();
        let t = t.validate().unwrap();
        assert_eq!(t.access_token.expose(), "eyJhbGciOiJSUzI1NiIsInR5cCI...");
        assert_eq!(t.expires_in, Some(3600));
        assert!(t.refresh_token.is_none());
        assert!(t.scope.is_none());
        assert!(!format!("{t:?}").contains("eyJ"));
    }

    #[test]
    fn token_response_tolerance() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","refresh_token":"","expires_in":"60","scope":"stream:key user:read","id_token":null,"extra":{"x":1}}"#,
        )
        .unwrap();
        let t = t.validate().unwrap();
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, Some(60));
        assert!(t.refresh_token.is_none());
        assert_eq!(t.scopes(), vec!["stream:key", "user:read"]);
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","token_type":"bearer","expires_in":null,"scope":null}"#)
                .unwrap();
        assert!(t.validate().is_ok());
        // Broken ones.
        assert!(serde_json::from_str::<TokenResponse>(r#"{"token_type":"Bearer"}"#).is_err());
        assert!(serde_json::from_str::<TokenResponse>(r#"{"access_token":null}"#).is_err());
        assert!(serde_json::from_str::<TokenResponse>(r#"{"access_token":5}"#).is_err());
        assert!(serde_json::from_str::<TokenResponse>(r#"{"access_token":"a","expires_in":"soon"}"#).is_err());
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":" "}"#).unwrap();
        assert!(t.validate().is_err());
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"a","token_type":"mac"}"#).unwrap();
        assert!(t.validate().is_err());
    }

    #[test]
    fn stream_setup_documented_example() {
        let s: StreamSetup = serde_json::from_str(
            r#"{
                "streamKey": "live_abc123xyz789",
                "rtmpUrl": "rtmp://ingest.velora.tv:1935/live",
                "srtUrl": "srt://ingest.velora.tv:9999",
                "whipUrl": "https://ingest.velora.tv:3334/live/live_abc123xyz789/whip",
                "ingestServer": "ingest.velora.tv"
            }"#,
        )
        .unwrap();
        let s = s.validate().unwrap();
        assert_eq!(s.stream_key.expose(), "live_abc123xyz789");
        assert_eq!(s.rtmp_url, "rtmp://ingest.velora.tv:1935/live");
        assert_eq!(s.srt_url.as_deref(), Some("srt://ingest.velora.tv:9999"));
        assert_eq!(
            s.whip_url.as_ref().unwrap().expose(),
            "https://ingest.velora.tv:3334/live/live_abc123xyz789/whip"
        );
        assert_eq!(s.ingest_server.as_deref(), Some("ingest.velora.tv"));
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("abc123"), "{dbg}");
    }

    #[test]
    fn stream_setup_tolerance_and_rejection() {
        let s: StreamSetup = serde_json::from_str(
            r#"{"streamKey":"k","rtmpUrl":"rtmp://x/live","srtUrl":null,"whipUrl":"","ingestServer":"","new":true}"#,
        )
        .unwrap();
        let s = s.validate().unwrap();
        assert_eq!(s.srt_url, None);
        assert_eq!(s.whip_url, None);
        assert_eq!(s.ingest_server, None);
        let s: StreamSetup = serde_json::from_str(r#"{"streamKey":"k","rtmpUrl":"rtmp://x/live"}"#).unwrap();
        assert!(s.validate().is_ok());
        for bad in [
            r#"{"rtmpUrl":"rtmp://x/live"}"#,
            r#"{"streamKey":null,"rtmpUrl":"rtmp://x/live"}"#,
            r#"{"streamKey":123,"rtmpUrl":"rtmp://x/live"}"#,
            r#"{"streamKey":"k"}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<StreamSetup>(bad).is_err(), "{bad}");
        }
        let s: StreamSetup = serde_json::from_str(r#"{"streamKey":"","rtmpUrl":"rtmp://x/live"}"#).unwrap();
        assert!(s.validate().is_err());
    }

    #[test]
    fn stream_info_documented_example_and_nulls() {
        let i: StreamInfo = serde_json::from_str(
            r#"{
                "title": "Building an awesome project!",
                "categoryName": "Software & Game Development",
                "categorySlug": "software-and-game-development",
                "isLive": true,
                "viewerCount": 142,
                "startedAt": "2026-01-19T02:30:00.000Z"
            }"#,
        )
        .unwrap();
        assert_eq!(
            i,
            StreamInfo {
                title: "Building an awesome project!".into(),
                category_name: "Software & Game Development".into(),
                category_slug: "software-and-game-development".into(),
                tags: vec![],
                is_live: true,
                viewer_count: 142,
                started_at: Some("2026-01-19T02:30:00.000Z".into()),
            }
        );
        let i: StreamInfo = serde_json::from_str(
            r#"{"title":null,"categoryName":null,"categorySlug":null,"tags":null,"isLive":null,"viewerCount":null,"startedAt":null,"x":[1]}"#,
        )
        .unwrap();
        assert_eq!(i, StreamInfo::default());
        for bad in [
            r#"{"isLive":"yes"}"#,
            r#"{"viewerCount":-1}"#,
            r#"{"tags":"a,b"}"#,
            r#"{"title":5}"#,
            r#""text""#,
        ] {
            assert!(serde_json::from_str::<StreamInfo>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn update_serializes_only_some_fields() {
        let u = StreamInfoUpdate {
            title: Some("Building a chat bot with Node.js".into()),
            category_slug: Some("software-and-game-development".into()),
            tags: None,
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"title":"Building a chat bot with Node.js","categorySlug":"software-and-game-development"}"#
        );
        let u = StreamInfoUpdate {
            tags: Some(vec!["rust".into()]),
            ..Default::default()
        };
        assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"tags":["rust"]}"#);
        assert_eq!(serde_json::to_string(&StreamInfoUpdate::default()).unwrap(), "{}");
    }

    #[test]
    fn update_validate() {
        assert!(StreamInfoUpdate::default().validate().is_err());
        let ok = StreamInfoUpdate {
            title: Some("é".repeat(140)),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let long = StreamInfoUpdate {
            title: Some("a".repeat(141)),
            ..Default::default()
        };
        assert!(long.validate().unwrap_err().contains("141"));
    }

    #[test]
    fn update_result() {
        let r: UpdateResult = serde_json::from_str(r#"{"success": true, "message": "Stream info updated"}"#).unwrap();
        assert!(r.success);
        assert_eq!(r.message.as_deref(), Some("Stream info updated"));
        let r: UpdateResult = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(r, UpdateResult::default());
        let r: UpdateResult = serde_json::from_str(r#"{"success":null,"message":null}"#).unwrap();
        assert!(r.success);
    }

    #[test]
    fn categories_documented_example() {
        let b: CategoriesBody = serde_json::from_str(
            r#"{"categories": [
                {"slug": "just-chatting", "name": "Just Chatting", "imageUrl": "https://assets.velora.tv/categories/just-chatting.jpg"},
                {"slug": "software-and-game-development", "name": "Software & Game Development", "imageUrl": "https://assets.velora.tv/categories/dev.jpg"},
                {"slug": "music", "name": "Music", "imageUrl": null}
            ]}"#,
        )
        .unwrap();
        let c = b.into_categories().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[2].slug, "music");
        assert_eq!(c[2].image_url, None);
        assert_eq!(
            c[0].image_url.as_deref(),
            Some("https://assets.velora.tv/categories/just-chatting.jpg")
        );
        let b: CategoriesBody = serde_json::from_str(r#"{"categories":[{"slug":"x","name":null}]}"#).unwrap();
        assert_eq!(b.into_categories().unwrap()[0].name, "x");
        let b: CategoriesBody = serde_json::from_str(r#"{"categories":null}"#).unwrap();
        assert!(b.into_categories().unwrap().is_empty());
        assert!(serde_json::from_str::<CategoriesBody>(r#"{}"#).is_err());
        assert!(serde_json::from_str::<CategoriesBody>(r#"{"categories":[{"name":"x"}]}"#).is_err());
        let b: CategoriesBody = serde_json::from_str(r#"{"categories":[{"slug":""}]}"#).unwrap();
        assert!(b.into_categories().is_err());
    }

    #[test]
    fn user_model() {
        let u: User =
            serde_json::from_str(r#"{"id":"user_demo","username":"demo_streamer","displayName":"Demo Streamer"}"#)
                .unwrap();
        assert_eq!(u.validate().unwrap().display_name, "Demo Streamer");
        let u: User = serde_json::from_str(r#"{"id":42,"username":"n","displayName":null}"#).unwrap();
        let u = u.validate().unwrap();
        assert_eq!((u.id.as_str(), u.display_name.as_str()), ("42", "n"));
        assert!(serde_json::from_str::<User>(r#"{"username":"n"}"#).is_err());
        assert!(serde_json::from_str::<User>(r#"{"id":"a"}"#).is_err());
    }

    #[test]
    fn streams_documented_example() {
        let b: StreamsBody = serde_json::from_str(
            r#"{
                "streams": [{
                    "id": "abc123", "userId": "user_123", "username": "coolstreamer",
                    "title": "Playing Velora Games!", "viewerCount": 1234,
                    "startedAt": "2026-01-18T10:30:00Z", "thumbnailUrl": "https://cdn.velora.tv/..."
                }],
                "pagination": {"cursor": "eyJsYXN0X2lkIjoi..."}
            }"#,
        )
        .unwrap();
        let p = StreamsPage::from(b);
        assert_eq!(p.streams.len(), 1);
        assert_eq!(p.streams[0].username, "coolstreamer");
        assert_eq!(p.streams[0].viewer_count, 1234);
        assert_eq!(p.cursor.as_deref(), Some("eyJsYXN0X2lkIjoi..."));
        // Last page shapes.
        for last in [
            r#"{"streams":[],"pagination":{"cursor":null}}"#,
            r#"{"streams":[],"pagination":{"cursor":""}}"#,
            r#"{"streams":null,"pagination":null}"#,
            r#"{"streams":[]}"#,
        ] {
            let p = StreamsPage::from(serde_json::from_str::<StreamsBody>(last).unwrap());
            assert_eq!(p, StreamsPage::default(), "{last}");
        }
        assert!(serde_json::from_str::<StreamsBody>(r#"{"pagination":{}}"#).is_err());
        assert!(serde_json::from_str::<StreamsBody>(r#"{"streams":[{"title":"no id"}]}"#).is_err());
    }
}
