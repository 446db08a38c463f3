//! OAuth 2.0 + PKCE login pieces and the token store (no OBS types).
