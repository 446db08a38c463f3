//! obs-velora: one-click streaming to Velora from OBS Studio.
//!
//! Module wiring only. `ffi/` holds every `unsafe` block and every
//! `extern "C"` function; everything else is safe Rust that is unit-tested
//! without OBS.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod api;
pub mod auth;
pub mod config;
pub mod secret;

pub use secret::Secret;
pub mod automation;
pub mod core;
pub mod ffi;
pub mod session;
pub mod settings;
pub mod status;
pub mod stream_config;
pub mod timefmt;
pub mod version;
