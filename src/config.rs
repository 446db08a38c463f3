//! Which Velora server to talk to: the environment, its endpoints and the
//! OAuth client credentials.
//!
//! Resolution order, per value: explicit settings ([`EndpointSettings`]),
//! then environment variables, then build-time values (`option_env!`, client
//! id and secret only), then defaults.
//!
//! | value          | settings field  | env var                | default                                      |
//! |----------------|-----------------|------------------------|----------------------------------------------|
//! | API base URL   | `api_url`       | `VELORA_API_URL`       | `https://api.velora.tv` (sandbox: `http://127.0.0.1:8787`) |
//! | authorize URL  | `authorize_url` | `VELORA_AUTH_URL`      | `{api}/api/developer/oauth/authorize` (assumed: the docs do not name it) |
//! | client id      | `client_id`     | `VELORA_CLIENT_ID`     | build-time `VELORA_CLIENT_ID`, else `obs-velora` |
//! | client secret  | `client_secret` | `VELORA_CLIENT_SECRET` | build-time `VELORA_CLIENT_SECRET`, else none (public client) |
//!
//! The token URL is always `{api}/api/developer/oauth/token` (documented).
//!
//! An explicit `environment` in the settings picks that environment's default
//! URL and wins over `VELORA_API_URL`; an explicit `api_url` wins over both.
//!
//! Plain `http://` is accepted only for loopback hosts (`127.0.0.0/8`, `::1`,
//! `localhost`): tokens and stream keys never travel in clear text over a
//! network.
//!
//! [`resolve`] is pure: the environment lookup is a closure, so tests never
//! touch the process environment. [`resolve_from_env`] is the one that reads
//! the real environment.

use crate::Secret;
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// Production API base URL (documented).
pub const PRODUCTION_API_URL: &str = "https://api.velora.tv";
/// Default URL of the local sandbox (`velora-sandbox` binary default port).
pub const SANDBOX_API_URL: &str = "http://127.0.0.1:8787";
/// Client id used when none is configured.
pub const DEFAULT_CLIENT_ID: &str = "obs-velora";
/// Token endpoint path (documented).
pub const TOKEN_PATH: &str = "/api/developer/oauth/token";
/// Authorization endpoint path. Assumption: the docs name only the token
/// endpoint; this is its sibling (and what the sandbox serves).
pub const AUTHORIZE_PATH: &str = "/api/developer/oauth/authorize";

pub const ENV_API_URL: &str = "VELORA_API_URL";
pub const ENV_AUTH_URL: &str = "VELORA_AUTH_URL";
pub const ENV_CLIENT_ID: &str = "VELORA_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "VELORA_CLIENT_SECRET";

/// Which Velora server family the plugin talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `https://api.velora.tv`
    Production,
    /// The local sandbox at its default address, `http://127.0.0.1:8787`.
    Sandbox,
    /// Any other server (a sandbox on another port, a staging server...).
    Custom,
}

impl Environment {
    /// `production`, `sandbox` or `custom` (settings value).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Custom => "custom",
        }
    }

    /// Parses a settings value (case-insensitive); `None` for anything else.
    pub fn parse(s: &str) -> Option<Environment> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Some(Environment::Production),
            "sandbox" => Some(Environment::Sandbox),
            "custom" => Some(Environment::Custom),
            _ => None,
        }
    }

    /// Requests per minute the Velora docs allow ("Rate Limits": sandbox
    /// 30/min, production 800/min). A custom server is treated like the
    /// sandbox until it says otherwise (`X-RateLimit-Limit`).
    pub fn documented_requests_per_minute(self) -> u32 {
        match self {
            Environment::Production => 800,
            Environment::Sandbox | Environment::Custom => 30,
        }
    }

    /// The default API base URL; `None` for [`Environment::Custom`].
    pub fn default_api_url(self) -> Option<&'static str> {
        match self {
            Environment::Production => Some(PRODUCTION_API_URL),
            Environment::Sandbox => Some(SANDBOX_API_URL),
            Environment::Custom => None,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Explicit values from the plugin's settings. Empty / whitespace-only strings
/// count as "not set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    pub environment: Option<Environment>,
    pub api_url: Option<String>,
    pub authorize_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// Client id / secret baked in at build time (`option_env!`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildDefaults {
    pub client_id: Option<&'static str>,
    pub client_secret: Option<&'static str>,
}

impl BuildDefaults {
    /// The values of `VELORA_CLIENT_ID` / `VELORA_CLIENT_SECRET` at compile time.
    pub fn from_build_env() -> Self {
        BuildDefaults {
            client_id: option_env!("VELORA_CLIENT_ID"),
            client_secret: option_env!("VELORA_CLIENT_SECRET"),
        }
    }
}

/// The resolved, validated endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The environment these endpoints belong to (see [`Endpoints::environment_key`]).
    pub environment: Environment,
    /// API base, e.g. `https://api.velora.tv/` (no query, no fragment).
    pub api_base: Url,
    /// `{api}/api/developer/oauth/token`
    pub token_url: Url,
    /// `{api}/api/developer/oauth/authorize` unless configured.
    pub authorize_url: Url,
    pub client_id: String,
    /// Only for confidential clients; the plugin is normally a public client.
    pub client_secret: Option<Secret>,
}

impl Endpoints {
    /// Endpoints for an explicit API base URL (tests, tools). The environment
    /// is inferred from the URL.
    pub fn for_api_base(
        api_base: &str,
        client_id: impl Into<String>,
        client_secret: Option<Secret>,
    ) -> Result<Endpoints, ConfigError> {
        let settings = EndpointSettings {
            api_url: Some(api_base.to_string()),
            client_id: Some(client_id.into()),
            client_secret,
            ..Default::default()
        };
        resolve_with(&settings, |_| None, BuildDefaults::default())
    }

    /// A key identifying the server whose tokens these are, for the token
    /// store: `production`, `sandbox` or `custom:<origin>` (e.g.
    /// `custom:http://127.0.0.1:9000`). Tokens of one server are never
    /// offered to another.
    pub fn environment_key(&self) -> String {
        match self.environment {
            Environment::Production => "production".to_string(),
            Environment::Sandbox => "sandbox".to_string(),
            Environment::Custom => {
                let mut key = format!("custom:{}", self.api_base.origin().ascii_serialization());
                let path = self.api_base.path().trim_end_matches('/');
                if !path.is_empty() {
                    key.push_str(path);
                }
                key
            }
        }
    }

    /// True when the API host is a loopback address (plain HTTP allowed).
    pub fn is_loopback(&self) -> bool {
        is_loopback_url(&self.api_base)
    }

    /// `{api}{path}` (path starts with `/`).
    pub fn api_url(&self, path: &str) -> Result<Url, ConfigError> {
        join(&self.api_base, path, "api_url")
    }
}

/// A configuration value that cannot be used. The message names the setting
/// and the problem; it never contains a secret or a URL's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Which value: `api_url`, `authorize_url`, `client_id`...
    pub field: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Velora setting `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Resolves the endpoints from `settings`, the process environment and the
/// build-time values.
pub fn resolve_from_env(settings: &EndpointSettings) -> Result<Endpoints, ConfigError> {
    resolve_with(
        settings,
        |name| std::env::var(name).ok(),
        BuildDefaults::from_build_env(),
    )
}

/// Like [`resolve_from_env`] with the environment lookup passed in, and the
/// build-time values of this build.
pub fn resolve(settings: &EndpointSettings, env: impl Fn(&str) -> Option<String>) -> Result<Endpoints, ConfigError> {
    resolve_with(settings, env, BuildDefaults::from_build_env())
}

/// The pure resolution: settings, then `env`, then `build`, then defaults.
pub fn resolve_with(
    settings: &EndpointSettings,
    env: impl Fn(&str) -> Option<String>,
    build: BuildDefaults,
) -> Result<Endpoints, ConfigError> {
    let env_value = |name: &str| non_empty(env(name).as_deref());

    // API base.
    let api_raw: String = if let Some(u) = non_empty(settings.api_url.as_deref()) {
        u
    } else {
        match settings.environment {
            Some(Environment::Production) => PRODUCTION_API_URL.to_string(),
            Some(Environment::Sandbox) => SANDBOX_API_URL.to_string(),
            Some(Environment::Custom) => env_value(ENV_API_URL).ok_or_else(|| {
                ConfigError::new(
                    "api_url",
                    "the custom environment needs an API URL (setting or VELORA_API_URL)",
                )
            })?,
            None => env_value(ENV_API_URL).unwrap_or_else(|| PRODUCTION_API_URL.to_string()),
        }
    };
    let api_base = parse_base_url(&api_raw, "api_url")?;

    let environment = if same_base(&api_base, PRODUCTION_API_URL) {
        Environment::Production
    } else if same_base(&api_base, SANDBOX_API_URL) {
        Environment::Sandbox
    } else {
        Environment::Custom
    };

    let token_url = join(&api_base, TOKEN_PATH, "api_url")?;

    let authorize_url = match non_empty(settings.authorize_url.as_deref()).or_else(|| env_value(ENV_AUTH_URL)) {
        Some(raw) => parse_endpoint_url(&raw, "authorize_url")?,
        None => join(&api_base, AUTHORIZE_PATH, "api_url")?,
    };

    let client_id = non_empty(settings.client_id.as_deref())
        .or_else(|| env_value(ENV_CLIENT_ID))
        .or_else(|| non_empty(build.client_id))
        .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_string());
    validate_client_id(&client_id)?;

    let client_secret = settings
        .client_secret
        .as_ref()
        .filter(|s| !s.expose().trim().is_empty())
        .map(|s| Secret::new(s.expose().trim()))
        .or_else(|| env_value(ENV_CLIENT_SECRET).map(Secret::new))
        .or_else(|| non_empty(build.client_secret).map(Secret::new));
    if let Some(s) = &client_secret {
        if s.expose().chars().any(char::is_control) {
            return Err(ConfigError::new(
                "client_secret",
                "the client secret contains control characters",
            ));
        }
    }

    Ok(Endpoints {
        environment,
        api_base,
        token_url,
        authorize_url,
        client_id,
        client_secret,
    })
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn validate_client_id(id: &str) -> Result<(), ConfigError> {
    if id.len() > 256 {
        return Err(ConfigError::new("client_id", "the client id is too long"));
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ConfigError::new(
            "client_id",
            "the client id contains spaces or control characters",
        ));
    }
    Ok(())
}

/// True for `127.0.0.0/8`, `::1` (and `::ffff:127.x.x.x`) and `localhost`.
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d.eq_ignore_ascii_case("localhost") || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// The HTTPS rule: `https` anywhere, `http` only on loopback. The message names
/// the host, never the whole URL.
pub fn check_transport(url: &Url, field: &'static str) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(url) => Ok(()),
        "http" => Err(ConfigError::new(
            field,
            format!(
                "HTTPS is required for {} (plain http:// is allowed only for 127.0.0.1, ::1 and localhost)",
                url.host_str().unwrap_or("this host")
            ),
        )),
        other => Err(ConfigError::new(
            field,
            format!("unsupported URL scheme `{other}` (use https://)"),
        )),
    }
}

fn parse_url(raw: &str, field: &'static str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|e| ConfigError::new(field, format!("not a valid URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::new(field, "the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            field,
            "the URL must not contain a user name or password",
        ));
    }
    if url.fragment().is_some() {
        return Err(ConfigError::new(field, "the URL must not contain a #fragment"));
    }
    check_transport(&url, field)?;
    Ok(url)
}

/// A base URL: no query; the path (if any) is kept with a trailing slash.
fn parse_base_url(raw: &str, field: &'static str) -> Result<Url, ConfigError> {
    let mut url = parse_url(raw, field)?;
    if url.query().is_some() {
        return Err(ConfigError::new(field, "the base URL must not contain a ?query"));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// A full endpoint URL (a query is allowed).
fn parse_endpoint_url(raw: &str, field: &'static str) -> Result<Url, ConfigError> {
    parse_url(raw, field)
}

fn join(base: &Url, path: &str, field: &'static str) -> Result<Url, ConfigError> {
    let s = format!("{}{}", base.as_str().trim_end_matches('/'), path);
    Url::parse(&s).map_err(|e| ConfigError::new(field, format!("cannot build an endpoint URL ({e})")))
}

fn same_base(url: &Url, known: &str) -> bool {
    Url::parse(known).is_ok_and(|k| k.origin() == url.origin() && url.path() == "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const NO_BUILD: BuildDefaults = BuildDefaults {
        client_id: None,
        client_secret: None,
    };

    fn res(s: &EndpointSettings, e: &[(&str, &str)]) -> Result<Endpoints, ConfigError> {
        resolve_with(s, env(e), NO_BUILD)
    }

    #[test]
    fn defaults_are_production() {
        let ep = res(&EndpointSettings::default(), &[]).unwrap();
        assert_eq!(ep.environment, Environment::Production);
        assert_eq!(ep.api_base.as_str(), "https://api.velora.tv/");
        assert_eq!(ep.token_url.as_str(), "https://api.velora.tv/api/developer/oauth/token");
        assert_eq!(
            ep.authorize_url.as_str(),
            "https://api.velora.tv/api/developer/oauth/authorize"
        );
        assert_eq!(ep.client_id, "obs-velora");
        assert!(ep.client_secret.is_none());
        assert_eq!(ep.environment_key(), "production");
        assert!(!ep.is_loopback());
        assert_eq!(
            ep.api_url("/api/streams").unwrap().as_str(),
            "https://api.velora.tv/api/streams"
        );
    }

    #[test]
    fn env_vars_apply() {
        let ep = res(
            &EndpointSettings::default(),
            &[
                ("VELORA_API_URL", "http://127.0.0.1:9000/"),
                ("VELORA_CLIENT_ID", "my-app"),
                ("VELORA_CLIENT_SECRET", "s3cr3t"),
            ],
        )
        .unwrap();
        assert_eq!(ep.environment, Environment::Custom);
        assert_eq!(ep.token_url.as_str(), "http://127.0.0.1:9000/api/developer/oauth/token");
        assert_eq!(
            ep.authorize_url.as_str(),
            "http://127.0.0.1:9000/api/developer/oauth/authorize"
        );
        assert_eq!(ep.client_id, "my-app");
        assert_eq!(ep.client_secret.as_ref().unwrap().expose(), "s3cr3t");
        assert_eq!(ep.environment_key(), "custom:http://127.0.0.1:9000");
        assert!(ep.is_loopback());
        // The secret never shows in Debug.
        assert!(!format!("{ep:?}").contains("s3cr3t"));
    }

    #[test]
    fn explicit_settings_win_over_env() {
        let e = [
            ("VELORA_API_URL", "http://127.0.0.1:9000"),
            ("VELORA_AUTH_URL", "http://127.0.0.1:9000/login"),
            ("VELORA_CLIENT_ID", "env-id"),
            ("VELORA_CLIENT_SECRET", "env-secret"),
        ];
        let s = EndpointSettings {
            api_url: Some("https://staging.velora.example/velora".into()),
            authorize_url: Some("https://login.velora.example/authorize?prompt=login".into()),
            client_id: Some("settings-id".into()),
            client_secret: Some(Secret::new("settings-secret")),
            ..Default::default()
        };
        let ep = res(&s, &e).unwrap();
        assert_eq!(
            ep.token_url.as_str(),
            "https://staging.velora.example/velora/api/developer/oauth/token"
        );
        assert_eq!(
            ep.authorize_url.as_str(),
            "https://login.velora.example/authorize?prompt=login"
        );
        assert_eq!(ep.client_id, "settings-id");
        assert_eq!(ep.client_secret.unwrap().expose(), "settings-secret");

        // An explicit environment picks its default URL over VELORA_API_URL.
        let s = EndpointSettings {
            environment: Some(Environment::Production),
            ..Default::default()
        };
        let ep = res(&s, &e).unwrap();
        assert_eq!(ep.environment, Environment::Production);
        assert_eq!(ep.api_base.as_str(), "https://api.velora.tv/");
        // ...but VELORA_AUTH_URL still applies per value.
        assert_eq!(ep.authorize_url.as_str(), "http://127.0.0.1:9000/login");
    }

    #[test]
    fn sandbox_environment() {
        let s = EndpointSettings {
            environment: Some(Environment::Sandbox),
            ..Default::default()
        };
        let ep = res(&s, &[]).unwrap();
        assert_eq!(ep.environment, Environment::Sandbox);
        assert_eq!(ep.api_base.as_str(), "http://127.0.0.1:8787/");
        assert_eq!(ep.environment_key(), "sandbox");
        assert!(ep.is_loopback());
        // Sandbox on another port: its own key.
        let ep = res(
            &EndpointSettings::default(),
            &[("VELORA_API_URL", "http://localhost:8788")],
        )
        .unwrap();
        assert_eq!(ep.environment, Environment::Custom);
        assert_eq!(ep.environment_key(), "custom:http://localhost:8788");
        let ep = res(
            &EndpointSettings::default(),
            &[("VELORA_API_URL", "https://staging.example/v/")],
        )
        .unwrap();
        assert_eq!(ep.environment_key(), "custom:https://staging.example/v");
    }

    #[test]
    fn custom_environment_needs_url() {
        let s = EndpointSettings {
            environment: Some(Environment::Custom),
            ..Default::default()
        };
        let err = res(&s, &[]).unwrap_err();
        assert_eq!(err.field, "api_url");
        let ep = res(&s, &[("VELORA_API_URL", "https://x.example")]).unwrap();
        assert_eq!(ep.api_base.as_str(), "https://x.example/");
    }

    #[test]
    fn build_time_values_come_after_env() {
        let build = BuildDefaults {
            client_id: Some("built-id"),
            client_secret: Some("built-secret"),
        };
        let ep = resolve_with(&EndpointSettings::default(), env(&[]), build).unwrap();
        assert_eq!(ep.client_id, "built-id");
        assert_eq!(ep.client_secret.unwrap().expose(), "built-secret");
        let ep = resolve_with(
            &EndpointSettings::default(),
            env(&[("VELORA_CLIENT_ID", "env-id")]),
            build,
        )
        .unwrap();
        assert_eq!(ep.client_id, "env-id");
    }

    #[test]
    fn empty_values_are_unset() {
        let s = EndpointSettings {
            api_url: Some("  ".into()),
            client_id: Some(String::new()),
            client_secret: Some(Secret::new(" ")),
            ..Default::default()
        };
        let ep = res(&s, &[("VELORA_API_URL", ""), ("VELORA_CLIENT_SECRET", "")]).unwrap();
        assert_eq!(ep.environment, Environment::Production);
        assert_eq!(ep.client_id, "obs-velora");
        assert!(ep.client_secret.is_none());
    }

    #[test]
    fn https_required_off_loopback() {
        for bad in [
            "http://api.velora.tv",
            "http://192.168.1.10:8787",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "http://[::2]:80",
        ] {
            let err = res(&EndpointSettings::default(), &[("VELORA_API_URL", bad)]).unwrap_err();
            assert_eq!(err.field, "api_url", "{bad}");
            assert!(err.to_string().contains("HTTPS is required"), "{bad}: {err}");
        }
        for ok in [
            "http://127.0.0.1:8787",
            "http://127.1.2.3",
            "http://[::1]:8787",
            "http://LOCALHOST:1",
            "https://api.velora.tv",
        ] {
            assert!(
                res(&EndpointSettings::default(), &[("VELORA_API_URL", ok)]).is_ok(),
                "{ok}"
            );
        }
        let err = res(
            &EndpointSettings::default(),
            &[("VELORA_AUTH_URL", "http://login.example/authorize")],
        )
        .unwrap_err();
        assert_eq!(err.field, "authorize_url");
    }

    #[test]
    fn rejects_broken_urls_without_echoing_credentials() {
        for bad in [
            "ftp://api.velora.tv",
            "not a url",
            "https://user:hunter2@api.velora.tv",
            "https://api.velora.tv/#frag",
            "https://api.velora.tv/?x=1",
        ] {
            let err = res(&EndpointSettings::default(), &[("VELORA_API_URL", bad)]).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let s = EndpointSettings {
            client_id: Some("has space".into()),
            ..Default::default()
        };
        assert_eq!(res(&s, &[]).unwrap_err().field, "client_id");
    }

    #[test]
    fn environment_names() {
        for e in [Environment::Production, Environment::Sandbox, Environment::Custom] {
            assert_eq!(Environment::parse(e.as_str()), Some(e));
        }
        assert_eq!(Environment::parse(" Sandbox "), Some(Environment::Sandbox));
        assert_eq!(Environment::parse("staging"), None);
    }

    #[test]
    fn for_api_base_helper() {
        let ep = Endpoints::for_api_base("http://127.0.0.1:4000", "cid", None).unwrap();
        assert_eq!(ep.client_id, "cid");
        assert_eq!(ep.token_url.as_str(), "http://127.0.0.1:4000/api/developer/oauth/token");
        assert!(Endpoints::for_api_base("http://example.com", "cid", None).is_err());
    }
}
