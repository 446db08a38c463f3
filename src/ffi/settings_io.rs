//! The `velora` service's settings in OBS's terms: read from an `obs_data`
//! (the service's own callbacks, the frontend's current service) and written
//! as the JSON a new or updated service gets.

use super::data::DataRef;
use crate::stream_config::{keys, Protocol, ServiceSettings};
use crate::Secret;

/// Reads the service settings from OBS's settings object.
pub fn read_settings(data: DataRef<'_>) -> ServiceSettings {
    let tags = data.get_string(keys::TAGS);
    let opt = |k: &str| Some(data.get_string(k)).filter(|s| data.has_user_value(k) || !s.is_empty());
    ServiceSettings {
        server: data.get_string(keys::SERVER).trim().to_string(),
        key: Secret::new(data.get_string(keys::KEY).trim()),
        protocol: Protocol::parse(&data.get_string(keys::PROTOCOL)).unwrap_or_default(),
        title: opt(keys::TITLE),
        category_slug: opt(keys::CATEGORY_SLUG),
        tags: if data.has_user_value(keys::TAGS) {
            Some(crate::stream_config::split_tags(&tags))
        } else {
            None
        },
    }
}

/// Settings JSON for a `velora` service.
pub fn velora_settings_json(s: &ServiceSettings) -> serde_json::Value {
    let mut v = serde_json::json!({
        keys::SERVER: s.server,
        keys::KEY: s.key.expose(),
        keys::PROTOCOL: s.protocol.as_str(),
        keys::SERVICE: "Velora",
    });
    if let Some(t) = &s.title {
        v[keys::TITLE] = t.clone().into();
    }
    if let Some(c) = &s.category_slug {
        v[keys::CATEGORY_SLUG] = c.clone().into();
    }
    if let Some(t) = &s.tags {
        v[keys::TAGS] = crate::stream_config::join_tags(t).into();
    }
    v
}
