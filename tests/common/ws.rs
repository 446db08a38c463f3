//! A minimal obs-websocket 5.x client (RPC version 1, no auth).

use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

pub struct Ws {
    sock: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events received while waiting for responses (op 5 `d` objects).
    pub events: Vec<Value>,
}

/// A request's outcome: obs-websocket's status and the response data.
#[derive(Debug, Clone)]
pub struct Reply {
    pub ok: bool,
    pub code: i64,
    pub comment: String,
    pub data: Value,
}

impl Ws {
    /// Connects and identifies; subscribes to all events incl. vendor events.
    pub fn connect(port: u16) -> std::io::Result<Ws> {
        let (sock, _) =
            tungstenite::connect(format!("ws://127.0.0.1:{port}")).map_err(|e| std::io::Error::other(e.to_string()))?;
        if let MaybeTlsStream::Plain(s) = sock.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(200)))?;
        }
        let mut ws = Ws {
            sock,
            next_id: 1,
            events: Vec::new(),
        };
        let hello = ws
            .recv_op(0, Duration::from_secs(10))
            .ok_or_else(|| std::io::Error::other("no Hello"))?;
        assert!(hello["authentication"].is_null(), "the test OBS must not require auth");
        ws.send(json!({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0x7ff | 512}}));
        ws.recv_op(2, Duration::from_secs(10))
            .ok_or_else(|| std::io::Error::other("not Identified"))?;
        Ok(ws)
    }

    fn send(&mut self, v: Value) {
        self.sock.send(Message::Text(v.to_string())).expect("ws send");
    }

    fn recv_any(&mut self) -> Option<Value> {
        match self.sock.read() {
            Ok(Message::Text(t)) => serde_json::from_str(t.as_ref()).ok(),
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                None
            }
            Err(e) => panic!("websocket closed: {e}"),
        }
    }

    fn recv_op(&mut self, op: i64, timeout: Duration) -> Option<Value> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Some(m) = self.recv_any() {
                if m["op"] == op {
                    return Some(m["d"].clone());
                }
                if m["op"] == 5 {
                    self.events.push(m["d"].clone());
                }
            }
        }
        None
    }

    /// Sends a request and waits for its response (30 s).
    pub fn request(&mut self, request_type: &str, data: Value) -> Reply {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let mut d = json!({"requestType": request_type, "requestId": id});
        if !data.is_null() {
            d["requestData"] = data;
        }
        self.send(json!({"op": 6, "d": d}));
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if let Some(m) = self.recv_any() {
                if m["op"] == 7 && m["d"]["requestId"] == id {
                    let st = &m["d"]["requestStatus"];
                    return Reply {
                        ok: st["result"].as_bool().unwrap_or(false),
                        code: st["code"].as_i64().unwrap_or(0),
                        comment: st["comment"].as_str().unwrap_or("").to_string(),
                        data: m["d"]["responseData"].clone(),
                    };
                }
                if m["op"] == 5 {
                    self.events.push(m["d"].clone());
                }
            }
        }
        panic!("no response to {request_type} within 30 s");
    }

    /// `CallVendorRequest` to vendor `velora`; returns the vendor's response object.
    pub fn velora(&mut self, request_type: &str, data: Value) -> Value {
        let data = if data.as_object().is_none_or(|o| o.is_empty()) {
            json!({"from": "tests"})
        } else {
            data
        };
        let r = self.request(
            "CallVendorRequest",
            json!({"vendorName": "velora", "requestType": request_type, "requestData": data}),
        );
        assert!(
            r.ok,
            "CallVendorRequest {request_type} failed: {} {}",
            r.code, r.comment
        );
        r.data["responseData"].clone()
    }

    /// Polls `GetStatus` until `pred` holds (panics with the last status after `secs`).
    pub fn wait_status(&mut self, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(secs) {
            last = self.velora("GetStatus", json!({}));
            if pred(&last) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("status never matched; last: {last}");
    }

    /// Drains incoming events for `dur`.
    pub fn pump(&mut self, dur: Duration) {
        let t = Instant::now();
        while t.elapsed() < dur {
            if let Some(m) = self.recv_any() {
                if m["op"] == 5 {
                    self.events.push(m["d"].clone());
                }
            }
        }
    }

    /// Vendor events of `velora` seen so far (their `eventData`).
    pub fn vendor_events(&self, event_type: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["eventType"] == "VendorEvent")
            .filter(|e| e["eventData"]["vendorName"] == "velora" && e["eventData"]["eventType"] == event_type)
            .map(|e| e["eventData"]["eventData"].clone())
            .collect()
    }
}
