//! [`crate::auth::TokenEndpoint`] for [`Client`]: the login and session code
//! talk to the token endpoint through this.

use super::{ApiError, Client, TokenResponse};
use crate::auth::{TokenEndpoint, TokenError, TokenGrant};
use crate::Secret;

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

/// `Rejected` only when the server refused the grant itself (the session then
/// drops its tokens); everything that may pass (network, 5xx, 429, a 404 from
/// a misconfigured URL, a garbled answer) is `Unavailable`.
pub(crate) fn token_error(e: ApiError) -> TokenError {
    match e {
        ApiError::OAuth { error, description } => TokenError::Rejected { error, description },
        ApiError::Unauthorized => TokenError::Rejected {
            error: "invalid_client".to_string(),
            description: Some("the token endpoint answered 401".to_string()),
        },
        ApiError::Invalid {
            status: 400 | 422,
            message,
        } => TokenError::Rejected {
            error: "invalid_request".to_string(),
            description: Some(message),
        },
        ApiError::Forbidden { message } => TokenError::Rejected {
            error: "access_denied".to_string(),
            description: Some(message),
        },
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
    use super::*;
    use crate::api::NetworkKind;
    use std::time::Duration;

    #[test]
    fn rejections_vs_unavailable() {
        assert_eq!(
            token_error(ApiError::OAuth {
                error: "invalid_grant".into(),
                description: Some("Invalid refresh token".into())
            }),
            TokenError::Rejected {
                error: "invalid_grant".into(),
                description: Some("Invalid refresh token".into())
            }
        );
        assert!(matches!(
            token_error(ApiError::Unauthorized),
            TokenError::Rejected { .. }
        ));
        assert!(matches!(
            token_error(ApiError::Invalid {
                status: 400,
                message: "x".into()
            }),
            TokenError::Rejected { .. }
        ));
        for e in [
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
