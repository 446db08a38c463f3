//! Velora REST client (no OBS types).
