//! obs-websocket vendor requests: any request name with any JSON data is
//! read into a request or an error answer in the documented shape.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (name, rest) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let name = String::from_utf8_lossy(name);
    let value: serde_json::Value = serde_json::from_slice(rest).unwrap_or(serde_json::Value::Null);
    if let Err(answer) = velora::automation::parse(&name, &value) {
        assert_eq!(answer["ok"], false);
        assert!(answer["error"]["code"].is_string());
        assert!(answer["error"]["message"].is_string());
    }
});
