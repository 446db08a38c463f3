//! Every way the API client reads an answer from Velora: the 2xx body of
//! each endpoint, and the error body of any other status (token endpoint
//! and API). Nothing may panic, and no error text may carry the secrets the
//! request held.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velora::api::decode;

const SECRET: &str = "vat_fuzz_secret_token";

fuzz_target!(|data: &[u8]| {
    let _ = decode::token_response(data);
    let _ = decode::stream_setup(data);
    let _ = decode::stream_info(data);
    let _ = decode::update_result(data);
    let _ = decode::categories(data);
    let _ = decode::regenerated_key(data);
    let _ = decode::user(data);
    let _ = decode::live_streams(data);
    for status in [400u16, 401, 403, 404, 409, 422, 429, 500, 502, 503] {
        for token_endpoint in [false, true] {
            let e = decode::error(status, data, token_endpoint, None, &[SECRET]);
            let text = format!("{e} {e:?}");
            assert!(!text.contains(SECRET), "a secret reached an error: {text}");
            let _ = velora::errors::describe(&e);
        }
    }
});
