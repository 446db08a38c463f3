//! obs-velora: one-click streaming to Velora from OBS Studio.
//!
//! Module wiring only. `ffi/` holds every `unsafe` block and every
//! `extern "C"` function; everything else is safe Rust that is unit-tested
//! without OBS.
#![deny(unsafe_op_in_unsafe_fn)]
// Only `ffi` may use `unsafe` (and `#[no_mangle]`); the compiler checks it.
#![deny(unsafe_code)]

pub mod api;
pub mod auth;
pub mod automation;
pub mod cancel;
pub mod config;
pub mod errors;
#[allow(unsafe_code)]
pub mod ffi;
pub mod fsutil;
pub mod guard;
pub mod host;
pub mod imagehead;
pub mod logline;
pub mod metrics;
pub mod reads;
pub mod secret;
pub mod session;
pub mod settings;
pub mod status;
pub mod stream_config;
pub mod text;
pub mod threads;
pub mod timefmt;
pub mod version;

pub use secret::Secret;
