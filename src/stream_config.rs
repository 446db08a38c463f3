//! Pure mapping between Velora's ingest data, the chosen protocol, the OBS
//! version and the `velora` service's settings. No OBS types: the FFI layer
//! turns these values into `obs_data_t` and C strings.

use crate::Secret;

/// Settings keys of the `velora` service: a public contract (README).
pub mod keys {
    pub const SERVER: &str = "server";
    pub const KEY: &str = "key";
    pub const PROTOCOL: &str = "protocol";
    pub const TITLE: &str = "title";
    pub const CATEGORY_SLUG: &str = "categorySlug";
    pub const TAGS: &str = "tags";
    /// Shown by Settings › Stream, which lists third-party services by this name.
    pub const SERVICE: &str = "service";
}

/// The service type id registered with OBS.
pub const SERVICE_ID: &str = "velora";

/// OBS 29.1: `obs_service_info` grew `get_protocol` & co.
pub const OBS_29_1: u32 = crate::version::semantic(29, 1, 0);
/// OBS 30.0: WHIP output exists.
pub const OBS_30_0: u32 = crate::version::semantic(30, 0, 0);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Rtmp,
    Srt,
    Whip,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Rtmp, Protocol::Srt, Protocol::Whip];

    /// The settings / automation value: `rtmp`, `srt`, `whip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Rtmp => "rtmp",
            Protocol::Srt => "srt",
            Protocol::Whip => "whip",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rtmp" | "rtmps" => Some(Protocol::Rtmp),
            "srt" => Some(Protocol::Srt),
            "whip" => Some(Protocol::Whip),
            _ => None,
        }
    }

    /// Whether the running OBS can stream with this protocol.
    pub fn supported_on(self, obs_version: u32) -> bool {
        match self {
            Protocol::Whip => obs_version >= OBS_30_0,
            _ => true,
        }
    }

    /// Output type OBS should create (`get_output_type`).
    pub fn output_type(self) -> &'static str {
        match self {
            Protocol::Rtmp => "rtmp_output",
            Protocol::Srt => "ffmpeg_mpegts_muxer",
            Protocol::Whip => "whip_output",
        }
    }

    pub fn audio_codecs(self) -> &'static [&'static str] {
        match self {
            Protocol::Whip => &["opus"],
            _ => &["aac"],
        }
    }

    pub fn video_codecs(self) -> &'static [&'static str] {
        &["h264"]
    }
}

/// What the `velora` service streams with, read from its settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceSettings {
    pub server: String,
    pub key: Secret,
    pub protocol: Protocol,
    pub title: Option<String>,
    pub category_slug: Option<String>,
    pub tags: Option<Vec<String>>,
}

impl ServiceSettings {
    /// `get_protocol` value: what OBS's own outputs expect (`RTMP`, `RTMPS`, `SRT`, `WHIP`).
    pub fn obs_protocol(&self) -> &'static str {
        match self.protocol {
            Protocol::Rtmp if self.server.starts_with("rtmps://") => "RTMPS",
            Protocol::Rtmp => "RTMP",
            Protocol::Srt => "SRT",
            Protocol::Whip => "WHIP",
        }
    }

    /// A service with an empty server, or an empty key where the protocol
    /// needs one, must not start (WHIP carries the key in its URL).
    pub fn can_connect(&self) -> bool {
        if self.server.trim().is_empty() {
            return false;
        }
        match self.protocol {
            Protocol::Whip => true,
            _ => !self.key.expose().trim().is_empty(),
        }
    }

    /// The non-RTMP outputs need SPS/PPS on every keyframe, exactly like OBS's
    /// own custom service does for any server that is not `rtmp…`.
    pub fn repeat_headers(&self) -> bool {
        !self.server.starts_with("rtmp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(server: &str, key: &str, protocol: Protocol) -> ServiceSettings {
        ServiceSettings {
            server: server.into(),
            key: Secret::new(key),
            protocol,
            ..Default::default()
        }
    }

    #[test]
    fn tags_split_on_the_commas_input_methods_type() {
        assert_eq!(
            split_tags("雑談、日本語，rust, obs"),
            vec!["雑談", "日本語", "rust", "obs"]
        );
    }

    #[test]
    fn protocol_names_roundtrip() {
        for p in Protocol::ALL {
            assert_eq!(Protocol::parse(p.as_str()), Some(p));
        }
        assert_eq!(Protocol::parse(" RTMP "), Some(Protocol::Rtmp));
        assert_eq!(Protocol::parse("ftl"), None);
    }

    #[test]
    fn whip_only_from_obs_30() {
        assert!(!Protocol::Whip.supported_on(crate::version::semantic(29, 0, 2)));
        assert!(!Protocol::Whip.supported_on(crate::version::semantic(29, 1, 3)));
        assert!(Protocol::Whip.supported_on(crate::version::semantic(30, 2, 3)));
        assert!(Protocol::Srt.supported_on(crate::version::semantic(29, 0, 2)));
    }

    #[test]
    fn empty_server_or_key_cannot_connect() {
        assert!(settings("rtmp://h/live", "k", Protocol::Rtmp).can_connect());
        assert!(!settings("", "k", Protocol::Rtmp).can_connect());
        assert!(!settings("rtmp://h/live", "", Protocol::Rtmp).can_connect());
        assert!(!settings("srt://h:9999", " ", Protocol::Srt).can_connect());
        assert!(settings("https://h/whip", "", Protocol::Whip).can_connect());
    }

    #[test]
    fn obs_protocol_and_outputs() {
        assert_eq!(settings("rtmps://h", "k", Protocol::Rtmp).obs_protocol(), "RTMPS");
        assert_eq!(settings("rtmp://h", "k", Protocol::Rtmp).obs_protocol(), "RTMP");
        assert_eq!(settings("srt://h", "k", Protocol::Srt).obs_protocol(), "SRT");
        assert_eq!(Protocol::Srt.output_type(), "ffmpeg_mpegts_muxer");
        assert!(settings("srt://h", "k", Protocol::Srt).repeat_headers());
        assert!(!settings("rtmp://h", "k", Protocol::Rtmp).repeat_headers());
    }
}

/// Tags in the service settings are one comma-separated string (`obs_data`
/// drops JSON arrays of strings): trim each, drop empties and duplicates
/// (case-insensitive, first spelling wins).
/// Commas as people type them: ASCII, full-width (Chinese, Japanese,
/// Korean input methods) and the ideographic enumeration comma.
const TAG_SEPARATORS: [char; 3] = [',', '，', '、'];

pub fn split_tags(s: &str) -> Vec<String> {
    normalize_tags(s.split(TAG_SEPARATORS))
}

/// Trimmed, non-empty, without case-insensitive duplicates, order kept.
pub fn normalize_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if t.is_empty() || out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            continue;
        }
        out.push(t.to_string());
    }
    out
}

/// The settings form of a tag list.
pub fn join_tags(tags: &[String]) -> String {
    tags.join(", ")
}

#[cfg(test)]
mod tag_tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(split_tags(" rust, obs ,,Rust, music "), vec!["rust", "obs", "music"]);
        assert!(split_tags("").is_empty());
        assert_eq!(join_tags(&split_tags("a,b")), "a, b");
    }
}

/// Velora's title limit, in Unicode characters (not bytes).
pub const TITLE_MAX_CHARS: usize = 140;
