//! obs-velora: one-click streaming to Velora from OBS Studio.
//!
//! Module wiring only. `ffi/` holds every `unsafe` block and every
//! `extern "C"` function; everything else is safe Rust that is unit-tested
//! without OBS.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod api;
pub mod auth;
pub mod secret;

pub use secret::Secret;
pub mod automation;
pub mod core;
pub mod ffi;
pub mod settings;
pub mod stream_config;
pub mod version;
