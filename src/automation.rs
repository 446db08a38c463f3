//! The obs-websocket vendor `velora`: request names, dispatch and the JSON
//! contract. Every response is an object with `"ok": true|false`; failures
//! carry `"error": {"code", "message"}`. The FFI layer only converts
//! `obs_data_t` to and from the JSON handled here.

use crate::core::{self, Host};
use crate::session::{self, Cmd, Failure};
use crate::stream_config::Protocol;
use serde_json::{json, Value};

pub const VENDOR: &str = "velora";

/// Every request the vendor registers (public contract, README).
pub const REQUESTS: &[&str] = &[
    "GetStatus",
    "Login",
    "CancelLogin",
    "Logout",
    "ApplySetup",
    "SetStreamInfo",
    "GetCategories",
    "RegenerateStreamKey",
    "RestorePreviousService",
];

/// Error codes (stable, documented in the README).
pub mod codes {
    pub use crate::session::requests_codes::*;
    pub const UNKNOWN_REQUEST: &str = "UNKNOWN_REQUEST";
}

pub fn error(code: &str, message: impl Into<String>) -> Value {
    json!({"ok": false, "error": {"code": code, "message": message.into()}})
}

fn result(r: Result<Value, Failure>) -> Value {
    match r {
        Ok(v) => v,
        Err(f) => error(f.code, f.message),
    }
}

fn opt_string(data: &Value, key: &str) -> Result<Option<String>, Value> {
    match data.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(error(codes::INVALID_REQUEST, format!("'{key}' must be a string"))),
    }
}

/// `tags`: one comma-separated string ("rust, obs"; "" clears them).
/// obs-websocket passes request data through `obs_data`, which drops arrays
/// of strings: a `["a","b"]` arrives here as an empty array, which is refused
/// rather than taken as "clear all tags". Arrays that do arrive intact (from
/// other callers) are accepted.
fn opt_tags(data: &Value) -> Result<Option<Vec<String>>, Value> {
    match data.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(crate::stream_config::split_tags(s))),
        Some(Value::Array(a)) if a.is_empty() => Err(error(
            codes::INVALID_REQUEST,
            "send 'tags' as one comma-separated string (obs-websocket drops arrays of strings); \"\" clears them",
        )),
        Some(Value::Array(a)) => a
            .iter()
            .map(|t| t.as_str().map(str::to_string).ok_or(()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(|_| error(codes::INVALID_REQUEST, "'tags' must be a comma-separated string")),
        Some(_) => Err(error(codes::INVALID_REQUEST, "'tags' must be a comma-separated string")),
    }
}

/// Handles one vendor request (on obs-websocket's thread; waits for the
/// worker with a bounded timeout when the request needs the network).
pub fn handle(request: &str, data: &Value) -> Value {
    let Some(host) = core::host() else {
        return error(codes::NOT_READY, "the Velora plugin is not loaded");
    };
    match request {
        "GetStatus" => session::status_json(host.as_ref()),
        "Login" => result(session::call(|r| Cmd::Login(Some(r)))),
        "CancelLogin" => result(session::call(|r| Cmd::CancelLogin(Some(r)))),
        "Logout" => {
            let restore = data.get("restorePrevious").and_then(Value::as_bool).unwrap_or(false);
            result(session::call(|r| Cmd::Logout {
                restore,
                reply: Some(r),
            }))
        }
        "ApplySetup" => {
            let protocol = match opt_string(data, "protocol") {
                Ok(None) => None,
                Ok(Some(p)) => match Protocol::parse(&p) {
                    Some(p) => Some(p),
                    None => {
                        return error(
                            codes::INVALID_REQUEST,
                            format!("unknown protocol '{p}' (rtmp, srt or whip)"),
                        )
                    }
                },
                Err(e) => return e,
            };
            result(session::call(|r| Cmd::ApplySetup {
                protocol,
                reply: Some(r),
            }))
        }
        "SetStreamInfo" => {
            let title = match opt_string(data, "title") {
                Ok(v) => v,
                Err(e) => return e,
            };
            let category = match opt_string(data, "categorySlug") {
                Ok(v) => v,
                Err(e) => return e,
            };
            let tags = match opt_tags(data) {
                Ok(v) => v,
                Err(e) => return e,
            };
            result(session::call(|r| Cmd::SetStreamInfo {
                title,
                category,
                tags,
                reply: Some(r),
            }))
        }
        "GetCategories" => {
            let refresh = data.get("refresh").and_then(Value::as_bool).unwrap_or(false);
            result(session::call(|r| Cmd::GetCategories {
                refresh,
                reply: Some(r),
            }))
        }
        "RegenerateStreamKey" => {
            if data.get("confirm").and_then(Value::as_bool) != Some(true) {
                return error(
                    codes::CONFIRMATION_REQUIRED,
                    "regenerating the stream key invalidates the current key at once: send {\"confirm\": true}",
                );
            }
            result(session::call(|r| Cmd::RegenerateKey { reply: Some(r) }))
        }
        "RestorePreviousService" => result(session::call(|r| Cmd::RestorePrevious { reply: Some(r) })),
        other => error(codes::UNKNOWN_REQUEST, format!("unknown request '{other}'")),
    }
}

/// `GetStatus` (kept for the unit tests below).
pub fn status(host: &dyn Host) -> Value {
    session::status_json(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::CurrentService;
    use crate::stream_config::{Protocol, ServiceSettings};

    struct FakeHost(Option<CurrentService>);
    impl Host for FakeHost {
        fn text(&self, key: &str) -> String {
            key.into()
        }
        fn obs_version(&self) -> u32 {
            crate::version::semantic(29, 0, 2)
        }
        fn obs_version_string(&self) -> String {
            "29.0.2".into()
        }
        fn current_service(&self) -> Option<CurrentService> {
            self.0.clone()
        }
        fn emit_event(&self, _: &str, _: Value) {}
    }

    #[test]
    fn status_reports_the_active_service() {
        let h = FakeHost(Some(CurrentService {
            type_id: "velora".into(),
            velora: Some(ServiceSettings {
                protocol: Protocol::Srt,
                ..Default::default()
            }),
        }));
        let s = status(&h);
        assert_eq!(s["ok"], true);
        assert_eq!(s["serviceActive"], true);
        assert_eq!(s["protocol"], "srt");
        assert_eq!(s["obsVersion"], "29.0.2");
        assert_eq!(s["loggedIn"], false);
        assert!(s["version"].is_string());
        assert!(s["apiBaseUrl"].as_str().unwrap().starts_with("http"));

        let other = FakeHost(Some(CurrentService {
            type_id: "rtmp_custom".into(),
            velora: None,
        }));
        let s = status(&other);
        assert_eq!(s["serviceActive"], false);
        // Not streaming to Velora: the protocol ApplySetup would use.
        assert_eq!(s["protocol"], "rtmp");
        assert_eq!(s["serviceType"], "rtmp_custom");
    }

    #[test]
    fn errors_have_code_and_message() {
        let e = error(codes::UNKNOWN_REQUEST, "nope");
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["code"], "UNKNOWN_REQUEST");
        assert_eq!(e["error"]["message"], "nope");
    }
}
