//! The OAuth token endpoint: the authorization code grant (PKCE) and the
//! refresh grant as [`Client`] calls (never retried), and
//! [`crate::auth::TokenEndpoint`] for [`Client`]: the login and session code
//! talk to the token endpoint through this.

use super::call::{to_json, Call, Retry};
use super::client::Client;
use super::decode;
use super::error::{ApiError, NetworkKind, Surface};
use super::models::TokenResponse;
use crate::auth::{TokenEndpoint, TokenError, TokenGrant};
use crate::config::Endpoints;
use crate::Secret;
use reqwest::Method;
use serde::Serialize;

/// JSON body of the authorization code grant, in the documented order.
#[derive(Serialize)]
struct CodeGrantBody<'a> {
    grant_type: &'a str,
    code: &'a str,
    redirect_uri: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    code_verifier: &'a str,
}

/// JSON body of the refresh token grant.
#[derive(Serialize)]
struct RefreshGrantBody<'a> {
    grant_type: &'a str,
    refresh_token: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
}

fn code_grant_body(ep: &Endpoints, code: &Secret, redirect_uri: &str, verifier: &Secret) -> Result<Vec<u8>, ApiError> {
    to_json(&CodeGrantBody {
        grant_type: "authorization_code",
        code: code.expose(),
        redirect_uri,
        client_id: &ep.client_id,
        client_secret: ep.client_secret.as_ref().map(Secret::expose),
        code_verifier: verifier.expose(),
    })
}

fn refresh_grant_body(ep: &Endpoints, refresh_token: &Secret) -> Result<Vec<u8>, ApiError> {
    to_json(&RefreshGrantBody {
        grant_type: "refresh_token",
        refresh_token: refresh_token.expose(),
        client_id: &ep.client_id,
        client_secret: ep.client_secret.as_ref().map(Secret::expose),
    })
}

impl Client {
    /// Authorization code grant (PKCE). Never retried.
    pub fn exchange_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<TokenResponse, ApiError> {
        let ep = &self.inner.endpoints;
        let body = code_grant_body(ep, code, redirect_uri, verifier)?;
        let mut secrets = vec![code.expose(), verifier.expose()];
        if let Some(s) = &ep.client_secret {
            secrets.push(s.expose());
        }
        self.token_request(body, secrets)
    }

    /// Refresh token grant. Never retried. The response may omit a new
    /// refresh token (keep the old one then).
    pub fn refresh(&self, refresh_token: &Secret) -> Result<TokenResponse, ApiError> {
        let ep = &self.inner.endpoints;
        let body = refresh_grant_body(ep, refresh_token)?;
        let mut secrets = vec![refresh_token.expose()];
        if let Some(s) = &ep.client_secret {
            secrets.push(s.expose());
        }
        self.token_request(body, secrets)
    }

    fn token_request(&self, body: Vec<u8>, secrets: Vec<&str>) -> Result<TokenResponse, ApiError> {
        let call = Call {
            method: Method::POST,
            url: self.inner.endpoints.token_url.clone(),
            what: "token response",
            surface: Surface::Token,
            bearer: None,
            body: Some(body),
            retry: Retry::Never,
            secrets,
        };
        let bytes = self.send(&call)?;
        decode::token_response(&bytes)
    }
}

impl From<TokenResponse> for TokenGrant {
    fn from(t: TokenResponse) -> Self {
        TokenGrant {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            scope: t.scope,
            token_type: Some(t.token_type),
        }
    }
}

/// `Rejected` only when the authorization server said, in OAuth's own
/// words, that the grant or the client is no good (`invalid_grant`,
/// `invalid_client`, `unauthorized_client`): then the session ends.
/// Everything else keeps the tokens and is retried later: network, 5xx, 429,
/// and any 4xx without such an OAuth error body — a proxy's or captive
/// portal's page, a WAF's 403, a misconfigured URL's 404 — which says nothing
/// about the tokens.
pub(crate) fn token_error(e: ApiError) -> TokenError {
    match e {
        ApiError::OAuth { error, description }
            if matches!(
                error.as_str(),
                "invalid_grant" | "invalid_client" | "unauthorized_client"
            ) =>
        {
            TokenError::Rejected { error, description }
        }
        e @ ApiError::Network {
            kind: NetworkKind::Certificate,
            ..
        } => TokenError::UntrustedCertificate(e.to_string()),
        other => TokenError::Unavailable(other.to_string()),
    }
}

impl TokenEndpoint for Client {
    fn exchange_code(&self, code: &Secret, redirect_uri: &str, verifier: &Secret) -> Result<TokenGrant, TokenError> {
        Client::exchange_code(self, code, redirect_uri, verifier)
            .map(TokenGrant::from)
            .map_err(token_error)
    }

    fn refresh(&self, refresh_token: &Secret) -> Result<TokenGrant, TokenError> {
        Client::refresh(self, refresh_token)
            .map(TokenGrant::from)
            .map_err(token_error)
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::test_endpoints as endpoints;
    use super::*;
    use crate::api::NetworkKind;
    use std::time::Duration;

    #[test]
    fn code_grant_body_is_the_documented_json() {
        let body = code_grant_body(
            &endpoints(None),
            &Secret::new("AUTH_CODE"),
            "http://127.0.0.1:38287/velora/callback",
            &Secret::new("VERIFIER"),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"authorization_code","code":"AUTH_CODE","redirect_uri":"http://127.0.0.1:38287/velora/callback","client_id":"obs-velora","code_verifier":"VERIFIER"}"#
        );
        let body = code_grant_body(&endpoints(Some("SECRET")), &Secret::new("C"), "r", &Secret::new("V")).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"authorization_code","code":"C","redirect_uri":"r","client_id":"obs-velora","client_secret":"SECRET","code_verifier":"V"}"#
        );
    }

    #[test]
    fn refresh_body() {
        let body = refresh_grant_body(&endpoints(None), &Secret::new("RT")).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"refresh_token","refresh_token":"RT","client_id":"obs-velora"}"#
        );
    }

    #[test]
    fn only_oauth_refusals_of_the_grant_end_a_session() {
        for error in ["invalid_grant", "invalid_client", "unauthorized_client"] {
            assert_eq!(
                token_error(ApiError::OAuth {
                    error: error.into(),
                    description: Some("no".into())
                }),
                TokenError::Rejected {
                    error: error.into(),
                    description: Some("no".into())
                }
            );
        }
        for e in [
            // A proxy, WAF or captive portal answering for the token endpoint.
            ApiError::Unauthorized,
            ApiError::Forbidden {
                message: "Access denied by policy".into(),
            },
            ApiError::Invalid {
                status: 400,
                message: "Bad Request".into(),
            },
            // OAuth errors that are not about the grant.
            ApiError::OAuth {
                error: "invalid_request".into(),
                description: None,
            },
            ApiError::OAuth {
                error: "temporarily_unavailable".into(),
                description: None,
            },
            ApiError::Server {
                status: 503,
                message: "down".into(),
            },
            ApiError::Network {
                kind: NetworkKind::Timeout,
                message: "POST /api/developer/oauth/token: timed out".into(),
            },
            ApiError::RateLimited {
                retry_after: Duration::from_secs(3),
                message: "slow down".into(),
            },
            ApiError::NotFound {
                message: "Not found".into(),
            },
            ApiError::InvalidResponse {
                description: "token response: malformed JSON".into(),
            },
        ] {
            assert!(matches!(token_error(e.clone()), TokenError::Unavailable(_)), "{e:?}");
        }
    }

    #[test]
    fn untrusted_certificate_is_its_own_error() {
        let e = token_error(ApiError::Network {
            kind: NetworkKind::Certificate,
            message: "POST /api/developer/oauth/token: TLS certificate not trusted (UnknownIssuer)".into(),
        });
        assert!(
            matches!(&e, TokenError::UntrustedCertificate(m) if m.contains("UnknownIssuer")),
            "{e:?}"
        );
    }

    #[test]
    fn grant_from_response() {
        let t = TokenResponse {
            access_token: Secret::new("a"),
            token_type: "Bearer".into(),
            expires_in: Some(60),
            refresh_token: Some(Secret::new("r")),
            scope: Some("stream:key".into()),
        };
        let g = TokenGrant::from(t);
        assert_eq!(g.access_token.expose(), "a");
        assert_eq!(g.refresh_token.unwrap().expose(), "r");
        assert_eq!(g.expires_in, Some(60));
        assert_eq!(g.scope.as_deref(), Some("stream:key"));
    }
}
