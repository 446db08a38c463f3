//! The login's loopback listener: any bytes a local process sends are parsed
//! as an HTTP request head and routed against the expected `state`. Nothing
//! may panic; only the right `state` ends the flow, and only once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velora::auth::listener::{parse_head, route};
use velora::auth::ExpectedState;
use velora::Secret;

const STATE: &str = "fuzz-state_0123456789";

fuzz_target!(|data: &[u8]| {
    let Some(head) = parse_head(data) else { return };
    let mut state = ExpectedState::new(Secret::new(STATE));
    let first = route(&head, 38287, &mut state);
    let second = route(&head, 38287, &mut state);
    if first.result.is_some() {
        assert!(head.target.contains(STATE), "a callback without the state was accepted");
        assert!(second.result.is_none(), "the same state was accepted twice");
    }
    assert!(first.response.status >= 200 && first.response.status < 600);
});
