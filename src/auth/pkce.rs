//! PKCE (RFC 7636, S256 only), the `state` value and the authorize URL.
//!
//! The random values and the URL come from the `oauth2` crate; this module
//! wraps them in [`Secret`] so they never reach a log.

use crate::Secret;
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope};
use subtle::ConstantTimeEq;
use url::Url;

/// A PKCE verifier and its S256 challenge.
#[derive(Clone, Debug)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh random verifier (32 random bytes, 43 characters base64url).
    pub fn new() -> Self {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        Pkce {
            verifier: Secret::new(verifier.secret().as_str()),
            challenge: challenge.as_str().to_string(),
        }
    }

    /// Rebuilds the pair from a known verifier. Returns `None` unless the
    /// verifier is 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
    pub fn from_verifier(verifier: Secret) -> Option<Self> {
        if !is_valid_verifier(verifier.expose()) {
            return None;
        }
        let challenge = s256_challenge(verifier.expose());
        Some(Pkce { verifier, challenge })
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// The `code_challenge` value (public: it goes into the authorize URL).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Always `S256`.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`, no padding.
///
/// # Panics
/// If the verifier is not 43–128 characters long (check with
/// [`is_valid_verifier`] first).
pub fn s256_challenge(verifier: &str) -> String {
    let v = PkceCodeVerifier::new(verifier.to_string());
    PkceCodeChallenge::from_code_verifier_sha256(&v).as_str().to_string()
}

/// RFC 7636 §4.1: 43–128 characters from the unreserved set.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Constant-time equality of two strings (the length is not secret).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Result of checking a callback's `state` against the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateCheck {
    /// Matches, and this was its first (and only) use.
    Accepted,
    /// Does not match.
    Mismatch,
    /// Matches, but a callback already used it.
    AlreadyUsed,
}

/// The `state` value of one login attempt: compared in constant time and
/// accepted only once.
#[derive(Debug)]
pub struct ExpectedState {
    value: Secret,
    used: bool,
}

impl ExpectedState {
    pub fn new(value: Secret) -> Self {
        ExpectedState { value, used: false }
    }

    /// Compares without consuming.
    pub fn matches(&self, candidate: &str) -> bool {
        !self.value.is_empty() && constant_time_eq(self.value.expose(), candidate)
    }

    /// Compares and, on a match, marks the value used: a second callback with
    /// the same `state` gets [`StateCheck::AlreadyUsed`].
    pub fn consume(&mut self, candidate: &str) -> StateCheck {
        if !self.matches(candidate) {
            StateCheck::Mismatch
        } else if self.used {
            StateCheck::AlreadyUsed
        } else {
            self.used = true;
            StateCheck::Accepted
        }
    }

    pub fn is_used(&self) -> bool {
        self.used
    }
}

/// Everything the authorize step produces: the URL to open and the values the
/// callback and the token request need.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    /// The full authorize URL (contains `state` and the public challenge; it is
    /// meant to be shown to the user when the browser cannot be opened).
    pub url: Url,
    pub state: Secret,
    pub pkce: Pkce,
}

/// Builds the authorize URL: `response_type=code`, `client_id`, `state`,
/// `code_challenge`, `code_challenge_method=S256`, `redirect_uri` and `scope`
/// (space-separated), appended to any query the endpoint URL already has.
pub fn build_authorize_request(
    authorize_endpoint: &Url,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
) -> Result<AuthorizeRequest, url::ParseError> {
    let pkce = Pkce::new();
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(pkce.verifier().expose().to_string()));
    let client = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_uri(AuthUrl::from_url(authorize_endpoint.clone()))
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string())?);
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(AuthorizeRequest {
        url,
        state: Secret::new(csrf.secret().as_str()),
        pkce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256_challenge(v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let p = Pkce::from_verifier(Secret::new(v)).unwrap();
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(p.method(), "S256");
    }

    #[test]
    fn random_verifier_is_valid_and_matches_challenge() {
        let a = Pkce::new();
        let b = Pkce::new();
        for p in [&a, &b] {
            let v = p.verifier().expose();
            assert!((43..=128).contains(&v.len()), "len {}", v.len());
            assert!(is_valid_verifier(v));
            assert_eq!(s256_challenge(v), p.challenge());
            assert_ne!(v, p.challenge());
        }
        assert_ne!(a.verifier(), b.verifier());
        assert_eq!(format!("{:?}", a.verifier()), "[redacted]");
    }

    #[test]
    fn verifier_validation() {
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"a".repeat(128)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(Pkce::from_verifier(Secret::new("short")).is_none());
    }

    #[test]
    fn authorize_url_has_all_parameters() {
        let endpoint = Url::parse("https://api.velora.tv/api/developer/oauth/authorize?tenant=x").unwrap();
        let scopes: Vec<String> = crate::auth::registration::SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let redirect = "http://127.0.0.1:38287/velora/callback";
        let req = build_authorize_request(&endpoint, "client-123", redirect, &scopes).unwrap();
        assert_eq!(req.url.scheme(), "https");
        assert_eq!(req.url.host_str(), Some("api.velora.tv"));
        assert_eq!(req.url.path(), "/api/developer/oauth/authorize");
        let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "x");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "client-123");
        assert_eq!(q["redirect_uri"], redirect);
        assert_eq!(q["scope"], "stream:key stream:read stream:write user:read");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], req.pkce.challenge());
        assert_eq!(q["code_challenge"], s256_challenge(req.pkce.verifier().expose()));
        assert_eq!(q["state"], req.state.expose());
        assert!(req.state.expose().len() >= 22, "128-bit state");
        assert!(!req.url.as_str().contains(req.pkce.verifier().expose()));
        // a second request gets fresh values
        let req2 = build_authorize_request(&endpoint, "client-123", redirect, &scopes).unwrap();
        assert_ne!(req.state, req2.state);
        assert_ne!(req.pkce.challenge(), req2.pkce.challenge());
    }

    #[test]
    fn state_compare_is_exact_and_single_use() {
        let mut s = ExpectedState::new(Secret::new("abcDEF123_-"));
        assert!(!s.matches("abcDEF123_"));
        assert!(!s.matches("abcDEF123_-x"));
        assert!(!s.matches("ABCDEF123_-"));
        assert!(!s.matches(""));
        assert!(s.matches("abcDEF123_-"));
        assert_eq!(s.consume("nope"), StateCheck::Mismatch);
        assert!(!s.is_used());
        assert_eq!(s.consume("abcDEF123_-"), StateCheck::Accepted);
        assert!(s.is_used());
        assert_eq!(s.consume("abcDEF123_-"), StateCheck::AlreadyUsed);
        assert_eq!(s.consume("nope"), StateCheck::Mismatch);
    }

    #[test]
    fn empty_expected_state_never_matches() {
        let mut s = ExpectedState::new(Secret::new(""));
        assert_eq!(s.consume(""), StateCheck::Mismatch);
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq("x", "x"));
        assert!(!constant_time_eq("x", "y"));
        assert!(!constant_time_eq("x", "xx"));
    }
}
