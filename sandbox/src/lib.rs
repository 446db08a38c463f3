//! Velora sandbox library.
