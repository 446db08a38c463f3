//! The obs-websocket vendor `velora`: request names, dispatch and the JSON
//! contract. Every response is an object with `"ok": true|false`; failures
//! carry `"error": {"code", "message"}`. The FFI layer only converts
//! `obs_data_t` to and from the JSON handled here.

use crate::core::{self, Host};
use serde_json::{json, Value};

pub const VENDOR: &str = "velora";

/// Every request the vendor registers.
pub const REQUESTS: &[&str] = &["GetStatus"];

/// Error codes (stable, documented in the README).
pub mod codes {
    pub const UNKNOWN_REQUEST: &str = "UNKNOWN_REQUEST";
    pub const NOT_READY: &str = "NOT_READY";
    pub const INTERNAL: &str = "INTERNAL";
}

pub fn error(code: &str, message: impl Into<String>) -> Value {
    json!({"ok": false, "error": {"code": code, "message": message.into()}})
}

/// Handles one vendor request.
pub fn handle(request: &str, _data: &Value) -> Value {
    let Some(host) = core::host() else {
        return error(codes::NOT_READY, "the Velora plugin is not loaded");
    };
    match request {
        "GetStatus" => status(host.as_ref()),
        other => error(codes::UNKNOWN_REQUEST, format!("unknown request '{other}'")),
    }
}

/// `GetStatus`.
pub fn status(host: &dyn Host) -> Value {
    let current = host.current_service();
    let active = current.as_ref().is_some_and(|c| c.is_velora());
    let protocol = current
        .as_ref()
        .and_then(|c| c.velora.as_ref())
        .map(|s| s.protocol.as_str());
    json!({
        "ok": true,
        "version": crate::version::PLUGIN_VERSION,
        "obsVersion": host.obs_version_string(),
        "obsApiVersion": crate::version::display(host.obs_version()),
        "apiBaseUrl": crate::settings::api_base_url(),
        "loggedIn": false,
        "serviceActive": active,
        "serviceType": current.as_ref().map(|c| c.type_id.clone()),
        "protocol": protocol,
    })
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
            velora: Some(ServiceSettings { protocol: Protocol::Srt, ..Default::default() }),
        }));
        let s = status(&h);
        assert_eq!(s["ok"], true);
        assert_eq!(s["serviceActive"], true);
        assert_eq!(s["protocol"], "srt");
        assert_eq!(s["obsVersion"], "29.0.2");
        assert_eq!(s["loggedIn"], false);
        assert!(s["version"].is_string());
        assert!(s["apiBaseUrl"].as_str().unwrap().starts_with("http"));

        let other = FakeHost(Some(CurrentService { type_id: "rtmp_custom".into(), velora: None }));
        let s = status(&other);
        assert_eq!(s["serviceActive"], false);
        assert_eq!(s["protocol"], Value::Null);
    }

    #[test]
    fn errors_have_code_and_message() {
        let e = error(codes::UNKNOWN_REQUEST, "nope");
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["code"], "UNKNOWN_REQUEST");
        assert_eq!(e["error"]["message"], "nope");
    }
}
