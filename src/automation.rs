//! The obs-websocket vendor `velora`: the whole automation contract in one
//! place — request names, how each request's data is read, every success
//! shape, every error code, `GetStatus` and the `StatusChanged` event. Every
//! response is an object with `"ok": true|false`; failures carry
//! `"error": {"code", "message"}`. The FFI layer only converts `obs_data_t`
//! to and from the JSON handled here. (README: "Automation".)

use crate::errors::{ApiClass, Failure};
use crate::host::{self, Host};
use crate::session::{self, Reply, Request};
use crate::status::{self, Phase};
use crate::stream_config::{join_tags, split_tags, Protocol};
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
    "CheckStreamKey",
];

/// The vendor event sent on every change of the status board.
pub const STATUS_CHANGED: &str = "StatusChanged";

/// Error codes (stable, documented in the README: add, never rename).
pub mod codes {
    pub const NOT_READY: &str = "NOT_READY";
    pub const NOT_LOGGED_IN: &str = "NOT_LOGGED_IN";
    pub const LOGIN_PENDING: &str = "LOGIN_PENDING";
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    pub const CONFIRMATION_REQUIRED: &str = "CONFIRMATION_REQUIRED";
    pub const UNSUPPORTED: &str = "UNSUPPORTED";
    pub const NOTHING_TO_RESTORE: &str = "NOTHING_TO_RESTORE";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const SESSION_EXPIRED: &str = "SESSION_EXPIRED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID: &str = "INVALID";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The plugin paces itself (its own request budget); nothing was sent.
    pub const PACED: &str = "PACED";
    pub const NETWORK: &str = "NETWORK";
    pub const SERVER: &str = "SERVER";
    pub const OBS: &str = "OBS";
    pub const INTERNAL: &str = "INTERNAL";
    pub const UNKNOWN_REQUEST: &str = "UNKNOWN_REQUEST";
}

pub fn error(code: &str, message: impl Into<String>) -> Value {
    json!({"ok": false, "error": {"code": code, "message": message.into()}})
}

/// The code of a failure.
pub fn code(f: &Failure) -> &'static str {
    match f {
        Failure::NotReady => codes::NOT_READY,
        Failure::NotLoggedIn => codes::NOT_LOGGED_IN,
        Failure::LoginPending => codes::LOGIN_PENDING,
        Failure::BadRequest(_) => codes::INVALID_REQUEST,
        Failure::Rejected(_) => codes::INVALID,
        Failure::UnknownCategory(_) => codes::NOT_FOUND,
        Failure::Unsupported(_) => codes::UNSUPPORTED,
        Failure::NothingToRestore => codes::NOTHING_TO_RESTORE,
        Failure::Obs(_) => codes::OBS,
        Failure::SessionEnded => codes::SESSION_EXPIRED,
        Failure::TimedOut => codes::TIMEOUT,
        Failure::Internal(_) => codes::INTERNAL,
        Failure::Api(d) => match d.class {
            ApiClass::SessionExpired => codes::SESSION_EXPIRED,
            ApiClass::Forbidden => codes::FORBIDDEN,
            ApiClass::NotFound => codes::NOT_FOUND,
            ApiClass::Invalid => codes::INVALID,
            ApiClass::RateLimited => codes::RATE_LIMITED,
            ApiClass::Paced => codes::PACED,
            ApiClass::Network => codes::NETWORK,
            ApiClass::Server => codes::SERVER,
            ApiClass::Config => codes::INVALID_REQUEST,
            ApiClass::Cancelled => codes::NOT_READY,
        },
    }
}

/// A success, as the contract shapes it.
pub fn reply_json(r: &Reply) -> Value {
    match r {
        Reply::LoginStarted | Reply::EnvironmentSet => json!({"ok": true}),
        Reply::AlreadyLoggedIn => json!({"ok": true, "alreadyLoggedIn": true}),
        Reply::LoginAlreadyPending => json!({"ok": true, "pending": true}),
        Reply::LoginCancelled { was_pending } => json!({"ok": true, "cancelled": was_pending}),
        Reply::LoggedOut { restored } => json!({"ok": true, "restored": restored}),
        Reply::Applied {
            protocol,
            server_shown,
            pending,
        } => json!({"ok": true, "protocol": protocol.as_str(), "server": server_shown, "pending": pending}),
        Reply::InfoUpdated {
            sent,
            title,
            category,
            tags,
        } => without_nulls(json!({
            "ok": true,
            "sent": sent.join(","),
            "title": title,
            "categorySlug": category,
            "tags": join_tags(tags),
        })),
        Reply::Categories(cats) => json!({
            "ok": true,
            "categories": cats
                .iter()
                .map(|c| without_nulls(json!({"slug": c.slug, "name": c.name, "imageUrl": c.image_url})))
                .collect::<Vec<_>>(),
        }),
        Reply::KeyRegenerated {
            applied,
            pending,
            key_hint,
        } => json!({"ok": true, "applied": applied, "pending": pending, "keyHint": key_hint}),
        Reply::Restored { service_type } => json!({"ok": true, "serviceType": service_type}),
        Reply::KeyChecked { changed, key_hint } => json!({"ok": true, "changed": changed, "keyHint": key_hint}),
    }
}

fn outcome_json(o: session::Outcome) -> Value {
    match o {
        Ok(r) => reply_json(&r),
        Err(f) => error(code(&f), f.message()),
    }
}

/// obs_data has no null: a `null` field is dropped rather than sent.
fn without_nulls(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| !x.is_null());
    }
    v
}

fn opt_string(data: &Value, key: &str) -> Result<Option<String>, Value> {
    match data.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(error(codes::INVALID_REQUEST, format!("'{key}' must be a string"))),
    }
}

fn opt_bool(data: &Value, key: &str) -> Result<Option<bool>, Value> {
    match data.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(error(codes::INVALID_REQUEST, format!("'{key}' must be true or false"))),
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
        Some(Value::String(s)) => Ok(Some(split_tags(s))),
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

/// Reads a request's data into a [`Request`] (or the error to answer).
pub fn parse(request: &str, data: &Value) -> Result<Request, Value> {
    if !data.is_object() && !data.is_null() {
        return Err(error(codes::INVALID_REQUEST, "the request data must be an object"));
    }
    Ok(match request {
        "Login" => Request::Login,
        "CancelLogin" => Request::CancelLogin,
        "Logout" => Request::Logout {
            restore_previous: opt_bool(data, "restorePrevious")?.unwrap_or(false),
        },
        "ApplySetup" => Request::ApplySetup {
            protocol: match opt_string(data, "protocol")? {
                None => None,
                Some(p) => Some(Protocol::parse(&p).ok_or_else(|| {
                    error(
                        codes::INVALID_REQUEST,
                        format!(
                            "unknown protocol '{}' (rtmp, srt or whip)",
                            p.chars().take(32).collect::<String>()
                        ),
                    )
                })?),
            },
        },
        "SetStreamInfo" => Request::SetStreamInfo {
            title: opt_string(data, "title")?,
            category: opt_string(data, "categorySlug")?,
            tags: opt_tags(data)?,
        },
        "GetCategories" => Request::GetCategories {
            refresh: opt_bool(data, "refresh")?.unwrap_or(false),
        },
        "RegenerateStreamKey" => {
            if opt_bool(data, "confirm")? != Some(true) {
                return Err(error(
                    codes::CONFIRMATION_REQUIRED,
                    "regenerating the stream key invalidates the current key at once: send {\"confirm\": true}",
                ));
            }
            Request::RegenerateKey
        }
        "RestorePreviousService" => Request::RestorePrevious,
        "CheckStreamKey" => Request::CheckKey,
        other => {
            return Err(error(
                codes::UNKNOWN_REQUEST,
                format!("unknown request '{}'", other.chars().take(64).collect::<String>()),
            ))
        }
    })
}

/// Handles one vendor request (on obs-websocket's thread; waits for the
/// worker, bounded, when the request needs it).
pub fn handle(request: &str, data: &Value) -> Value {
    let Some(host) = host::get() else {
        return error(codes::NOT_READY, Failure::NotReady.message());
    };
    if request == "GetStatus" {
        // OBS's service as it is now: a tool may have just replaced it
        // (obs-websocket's SetStreamServiceSettings tells no one). Bounded
        // wait for one read on OBS's UI thread, never for the network; not
        // before FINISHED_LOADING (the UI thread is still loading OBS).
        if session::is_running() {
            host.settle_service();
        } else {
            host.refresh_service();
        }
        return status_json(host.as_ref());
    }
    match parse(request, data) {
        Ok(req) => outcome_json(session::call(req)),
        Err(e) => e,
    }
}

/// `GetStatus`: the status board, OBS's service, the UI-thread metrics.
pub fn status_json(host: &dyn Host) -> Value {
    let mut v = status_fields(host);
    v["ok"] = true.into();
    v
}

/// `StatusChanged`: the same fields as `GetStatus`, without `ok`.
pub fn status_event(host: &dyn Host) -> Value {
    status_fields(host)
}

fn status_fields(host: &dyn Host) -> Value {
    let s = status::snapshot();
    let current = host.current_service();
    let velora = current.as_ref().and_then(|c| c.velora.clone());
    let (ui_max_ms, ui_calls, ui_slow) = crate::metrics::ui_stats();
    without_nulls(json!({
        "version": crate::version::PLUGIN_VERSION,
        "obsVersion": host.obs_version_string(),
        "obsApiVersion": crate::version::display(host.obs_version()),
        "apiBaseUrl": if s.api_base_url.is_empty() { crate::settings::api_base_url() } else { s.api_base_url.clone() },
        "environment": s.environment,
        "phase": s.phase.as_str(),
        // The worker runs (from FINISHED_LOADING until EXIT).
        "ready": session::is_running(),
        "loggedIn": s.phase == Phase::Ready,
        "loginPending": s.phase == Phase::LoggingIn,
        "account": s.account,
        "lastError": s.last_error.as_ref().map(|e| without_nulls(json!({"kind": e.kind.as_str(), "message": e.message, "retryInSecs": e.retry_in_secs}))),
        "serviceActive": current.as_ref().is_some_and(|c| c.is_velora()),
        "serviceType": current.as_ref().map(|c| c.type_id.clone()),
        "protocol": velora.as_ref().map(|v| v.protocol.as_str()).unwrap_or(s.protocol.as_str()),
        "pendingApply": s.pending_apply,
        "canRestore": s.can_restore,
        "isLive": s.is_live,
        "viewerCount": s.viewer_count,
        "startedAt": s.started_at,
        "title": s.title,
        "categorySlug": s.category_slug,
        // A comma-separated string: obs_data (and so obs-websocket) drops arrays of strings.
        "tags": join_tags(&s.tags),
        "keyHint": s.key_hint,
        "busy": s.busy,
        // Seconds since OBS's stream key was last compared with Velora's.
        "keyCheckedSecsAgo": s.key_checked_at.map(|t| t.elapsed().as_secs()),
        "uiThreadMaxMs": ui_max_ms,
        "uiThreadCalls": ui_calls,
        "uiThreadSlowCalls": ui_slow,
        "dockSetupMs": crate::metrics::dock_creation_ms(),
        // What OBS's service is, seen from Velora (README): velora,
        // veloraViaCustom, mangled or other.
        "serviceMode": session::service::mode(current.as_ref()).as_str(),
        // What the dock says: its notice, and about the service.
        "notice": s.notice,
        "serviceNote": s.service_note,
    }))
}

/// Emits `StatusChanged` to obs-websocket on every change of the status
/// board (from FINISHED_LOADING).
pub fn start_status_events() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        status::subscribe(|_| {
            if let Some(h) = host::get() {
                h.emit_event(STATUS_CHANGED, status_event(h.as_ref()));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CurrentService;
    use crate::stream_config::ServiceSettings;

    struct FakeHost(Option<CurrentService>);
    impl Host for FakeHost {
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
                server: "srt://h:9999".into(),
                ..Default::default()
            }),
            other: None,
        }));
        let s = status_json(&h);
        assert_eq!(s["ok"], true);
        assert_eq!(s["serviceActive"], true);
        assert_eq!(s["serviceMode"], "velora");
        assert_eq!(s["protocol"], "srt");
        assert_eq!(s["obsVersion"], "29.0.2");
        assert_eq!(s["loggedIn"], false);
        assert!(s["version"].is_string());
        assert!(s["apiBaseUrl"].as_str().unwrap().starts_with("http"));
        assert!(s.as_object().unwrap().values().all(|v| !v.is_null()), "{s}");
        assert!(status_event(&h).get("ok").is_none());

        let other = FakeHost(Some(CurrentService {
            type_id: "rtmp_custom".into(),
            velora: None,
            other: Some(crate::host::OtherService {
                name: String::new(),
                server: "rtmp://elsewhere.invalid/app".into(),
                key: crate::Secret::new("theirs"),
            }),
        }));
        let s = status_json(&other);
        assert_eq!(s["serviceActive"], false);
        // Not streaming to Velora: the protocol ApplySetup would use.
        assert_eq!(s["protocol"], "rtmp");
        assert_eq!(s["serviceType"], "rtmp_custom");
        assert_eq!(s["serviceMode"], "other");
    }

    #[test]
    fn requests_are_read_strictly() {
        assert_eq!(parse("Login", &Value::Null).unwrap(), Request::Login);
        assert_eq!(
            parse("ApplySetup", &json!({"protocol": "SRT"})).unwrap(),
            Request::ApplySetup {
                protocol: Some(Protocol::Srt)
            }
        );
        let e = parse("ApplySetup", &json!({"protocol": "ftp"})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::INVALID_REQUEST);
        let e = parse("ApplySetup", &json!({"protocol": 5})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::INVALID_REQUEST);
        let e = parse("RegenerateStreamKey", &json!({"confirm": "yes"})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::INVALID_REQUEST);
        let e = parse("RegenerateStreamKey", &json!({})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::CONFIRMATION_REQUIRED);
        assert_eq!(
            parse("RegenerateStreamKey", &json!({"confirm": true})).unwrap(),
            Request::RegenerateKey
        );
        assert_eq!(
            parse("SetStreamInfo", &json!({"tags": "a, b"})).unwrap(),
            Request::SetStreamInfo {
                title: None,
                category: None,
                tags: Some(vec!["a".into(), "b".into()])
            }
        );
        let e = parse("SetStreamInfo", &json!({"tags": []})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::INVALID_REQUEST);
        let e = parse("Nope", &json!({})).unwrap_err();
        assert_eq!(e["error"]["code"], codes::UNKNOWN_REQUEST);
        let e = parse("Login", &json!([1])).unwrap_err();
        assert_eq!(e["error"]["code"], codes::INVALID_REQUEST);
    }

    #[test]
    fn every_failure_has_a_code_and_words() {
        use crate::api::ApiError;
        use std::time::Duration;
        let f = Failure::api(&ApiError::Paced {
            retry_after: Duration::from_secs(5),
        });
        assert_eq!(code(&f), codes::PACED);
        let f = Failure::api(&ApiError::RateLimited {
            retry_after: Duration::from_secs(5),
            message: String::new(),
        });
        assert_eq!(code(&f), codes::RATE_LIMITED);
        let e = error(codes::UNKNOWN_REQUEST, "nope");
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["code"], "UNKNOWN_REQUEST");
        assert_eq!(e["error"]["message"], "nope");
    }

    #[test]
    fn replies_have_the_documented_shapes() {
        let v = reply_json(&Reply::Applied {
            protocol: Protocol::Rtmp,
            server_shown: "rtmp://x/live".into(),
            pending: false,
        });
        assert_eq!(
            v,
            json!({"ok": true, "protocol": "rtmp", "server": "rtmp://x/live", "pending": false})
        );
        let v = reply_json(&Reply::InfoUpdated {
            sent: vec!["title", "tags"],
            title: Some("T".into()),
            category: None,
            tags: vec!["a".into(), "b".into()],
        });
        assert_eq!(
            v,
            json!({"ok": true, "sent": "title,tags", "title": "T", "tags": "a, b"})
        );
    }
}
