//! Plugin-wide settings that are not secrets: which Velora environment to use.
//! Replaced by `config::Endpoints` resolution once the session exists.

/// The API base URL in effect (`VELORA_API_URL`, default production).
pub fn api_base_url() -> String {
    std::env::var("VELORA_API_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "https://api.velora.tv".to_string())
        .trim_end_matches('/')
        .to_string()
}
