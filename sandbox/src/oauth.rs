//! OAuth 2.0: authorization endpoint with consent page (PKCE S256 required),
//! token endpoint (authorization_code, refresh_token, client_credentials).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use crate::state::{AccessToken, AuthCode, Pending, RefreshToken, DEFAULT_SCOPE, DEMO_USER, NOSTREAM_USER, SCOPES};
use crate::util::{self, html_escape, now_ms};
use crate::web::{no_store, parse_params, query_params, Shared};

// ---------------------------------------------------------------------------
// Authorization endpoint

fn html_page(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Velora Sandbox</title><style>\
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#12101a;color:#eee;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}\
main{{background:#1e1a2b;border-radius:12px;padding:28px 32px;max-width:480px;width:100%;box-shadow:0 8px 30px #0008}}\
h1{{font-size:1.3rem;margin:0 0 4px}}.sub{{color:#aaa;font-size:.85rem;margin:0 0 18px}}\
ul{{padding-left:18px}}li{{margin:6px 0}}code{{background:#2c2640;padding:1px 5px;border-radius:4px}}\
.desc{{color:#bbb;font-size:.9rem}}select{{width:100%;padding:8px;margin:6px 0 18px;background:#2c2640;color:#eee;border:1px solid #444;border-radius:6px}}\
.btns{{display:flex;gap:12px}}button{{flex:1;padding:10px;border:0;border-radius:6px;font-size:1rem;cursor:pointer}}\
.approve{{background:#7c5cff;color:#fff}}.deny{{background:#3a3450;color:#eee}}.err{{color:#ff8a8a}}\
.badge{{display:inline-block;background:#ffb02e;color:#222;font-size:.7rem;border-radius:4px;padding:1px 6px;margin-left:6px}}\
</style></head><body><main>{body}</main></body></html>",
        title = html_escape(title),
    );
    let mut r = (status, Html(page)).into_response();
    let h = r.headers_mut();
    no_store(h);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}

fn error_page(message: &str) -> Response {
    html_page(
        StatusCode::BAD_REQUEST,
        "Authorization error",
        &format!(
            "<h1>Authorization error<span class=\"badge\">sandbox</span></h1>\
<p class=\"err\">{}</p><p class=\"desc\">The application sent an invalid authorization request. \
You can close this window.</p>",
            html_escape(message)
        ),
    )
}

fn redirect(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(r.headers_mut());
    r
}

fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect(&util::append_query(redirect_uri, &params))
}

/// Parse and validate a space-separated scope string.
fn parse_scopes(scope: Option<&str>) -> Result<Vec<String>, String> {
    let s = scope.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(DEFAULT_SCOPE);
    let mut out: Vec<String> = Vec::new();
    for part in s.split_whitespace() {
        if !SCOPES.iter().any(|(n, _)| *n == part) {
            return Err(format!("Unknown scope: {part}"));
        }
        if !out.iter().any(|x| x == part) {
            out.push(part.to_string());
        }
    }
    Ok(out)
}

fn issue_code(st: &Shared, p: &Pending, user_id: &str) -> String {
    let code = util::random_alnum(40);
    let mut g = st.lock();
    g.codes.insert(
        util::hash(&code),
        AuthCode {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            scopes: p.scopes.clone(),
            user_id: user_id.to_string(),
            challenge: p.challenge.clone(),
            expires_ms: now_ms() + st.config.code_ttl_secs * 1000,
            used: false,
            grant_id: util::random_alnum(16),
        },
    );
    code
}

fn code_redirect(st: &Shared, p: &Pending, user_id: &str) -> Response {
    let code = issue_code(st, p, user_id);
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = p.state.as_deref() {
        params.push(("state", s));
    }
    redirect(&util::append_query(&p.redirect_uri, &params))
}

/// `GET /api/developer/oauth/authorize`
pub async fn authorize(State(st): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let q = query_params(q.as_deref());
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());

    // Errors that must not redirect (RFC 6749 §4.1.2.1).
    let Some(client_id) = get("client_id") else {
        return error_page("Missing client_id.");
    };
    if !util::is_valid_client_id(client_id) {
        return error_page("Invalid client_id.");
    }
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page("Missing redirect_uri.");
    };
    if !util::is_loopback_redirect(redirect_uri) {
        return error_page(
            "redirect_uri is not allowed: desktop apps must use a loopback redirect \
             (http://127.0.0.1:<port>/…, http://[::1]:<port>/… or http://localhost:<port>/…).",
        );
    }
    let state = get("state");

    // Errors reported to the client by redirect.
    match get("response_type") {
        None => return error_redirect(redirect_uri, "invalid_request", "Missing response_type", state),
        Some("code") => {}
        Some(_) => {
            return error_redirect(
                redirect_uri,
                "unsupported_response_type",
                "Only response_type=code is supported",
                state,
            )
        }
    }
    let Some(challenge) = get("code_challenge") else {
        return error_redirect(
            redirect_uri,
            "invalid_request",
            "PKCE code_challenge is required",
            state,
        );
    };
    match get("code_challenge_method") {
        Some("S256") => {}
        None => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "code_challenge_method=S256 is required",
                state,
            )
        }
        Some(_) => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "Only code_challenge_method=S256 is supported",
                state,
            )
        }
    }
    if !util::is_valid_challenge(challenge) {
        return error_redirect(redirect_uri, "invalid_request", "Malformed code_challenge", state);
    }
    let scopes = match parse_scopes(q.get("scope").map(String::as_str)) {
        Ok(s) => s,
        Err(e) => return error_redirect(redirect_uri, "invalid_scope", &e, state),
    };

    let pending = Pending {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state: state.map(str::to_owned),
        challenge: challenge.to_string(),
        created_ms: now_ms(),
    };

    if st.config.auto_approve {
        let user = match get("login_hint") {
            Some("no_stream_user") | Some(NOSTREAM_USER) => NOSTREAM_USER,
            _ => DEMO_USER,
        };
        return code_redirect(&st, &pending, user);
    }

    let request_id = util::random_alnum(32);
    let scope_items: String = pending
        .scopes
        .iter()
        .map(|s| {
            let desc = SCOPES.iter().find(|(n, _)| n == s).map(|(_, d)| *d).unwrap_or("");
            format!(
                "<li><code>{}</code> <span class=\"desc\">{}</span></li>",
                html_escape(s),
                html_escape(desc)
            )
        })
        .collect();
    let hint = get("login_hint");
    let users: String = {
        let g = st.lock();
        g.users
            .iter()
            .map(|u| {
                let selected = if hint == Some(u.username.as_str()) || hint == Some(u.id.as_str()) {
                    " selected"
                } else {
                    ""
                };
                format!(
                    "<option value=\"{}\"{selected}>{} (@{}){}</option>",
                    html_escape(&u.id),
                    html_escape(&u.display_name),
                    html_escape(&u.username),
                    if u.streaming_enabled {
                        ""
                    } else {
                        " - streaming not enabled"
                    }
                )
            })
            .collect()
    };
    let body = format!(
        "<h1>Authorize <em>{client}</em><span class=\"badge\">sandbox</span></h1>\
<p class=\"sub\">Velora Sandbox (local test server). The application will be able to:</p>\
<ul>{scope_items}</ul>\
<form method=\"post\" action=\"/api/developer/oauth/authorize/decision\">\
<input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
<label for=\"user\">Sign in as</label><select id=\"user\" name=\"user\">{users}</select>\
<p class=\"desc\">You will be sent back to <code>{redir}</code></p>\
<div class=\"btns\"><button class=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
<button class=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Approve</button></div>\
</form>",
        client = html_escape(client_id),
        redir = html_escape(redirect_uri),
    );
    st.lock().pending.insert(request_id, pending);
    html_page(StatusCode::OK, "Authorize application", &body)
}

/// `POST /api/developer/oauth/authorize/decision` (form: request_id, user, decision)
pub async fn decision(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match parse_params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let Some(id) = params.get("request_id") else {
        return error_page("Missing request_id.");
    };
    let pending = {
        let mut g = st.lock();
        g.purge(now_ms());
        g.pending.remove(id)
    };
    let Some(pending) = pending else {
        return error_page("This authorization request has expired or was already answered.");
    };
    match params.get("decision").map(String::as_str) {
        Some("approve") => {
            let user = params.get("user").map(String::as_str).unwrap_or(DEMO_USER);
            if st.lock().user(user).is_none() {
                return error_page("Unknown user.");
            }
            code_redirect(&st, &pending, user)
        }
        Some("deny") => error_redirect(
            &pending.redirect_uri,
            "access_denied",
            "The user denied the authorization request",
            pending.state.as_deref(),
        ),
        _ => error_page("Missing or invalid decision."),
    }
}

// ---------------------------------------------------------------------------
// Token endpoint

pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn oerr(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        },
        error,
        description: description.into(),
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(json!({
                "error": self.error,
                "error_description": self.description,
                "message": self.description,
            })),
        )
            .into_response();
        no_store(r.headers_mut());
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"velora\""),
            );
        }
        r
    }
}

/// Client id/secret from HTTP Basic (RFC 6749 §2.3.1) or the body.
fn client_auth(headers: &HeaderMap, params: &HashMap<String, String>) -> Result<(String, Option<String>), OAuthError> {
    let mut id = params.get("client_id").cloned();
    let mut secret = params.get("client_secret").cloned();
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some((scheme, rest)) = v.split_once(' ') {
            if scheme.eq_ignore_ascii_case("basic") {
                let decoded = STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| oerr("invalid_client", "Malformed Basic credentials"))?;
                let (u, p) = decoded
                    .split_once(':')
                    .ok_or_else(|| oerr("invalid_client", "Malformed Basic credentials"))?;
                let dec = |s: &str| {
                    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
                        .ok()
                        .and_then(|v| v.into_iter().next().map(|(_, v)| v))
                        .unwrap_or_else(|| s.to_string())
                };
                let (u, p) = (dec(u), dec(p));
                if id.as_ref().is_some_and(|i| *i != u) {
                    return Err(oerr(
                        "invalid_request",
                        "client_id does not match the Basic credentials",
                    ));
                }
                if secret.is_some() {
                    return Err(oerr("invalid_request", "Use only one client authentication method"));
                }
                id = Some(u);
                secret = Some(p);
            }
        }
    }
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Err(oerr("invalid_request", "Missing client_id"));
    };
    if !util::is_valid_client_id(&id) {
        return Err(oerr("invalid_client", "Unknown client"));
    }
    Ok((id, secret))
}

fn scope_string(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// `POST /api/developer/oauth/token` (JSON or form body)
pub async fn token(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    match token_inner(&st, &headers, &body) {
        Ok(v) => {
            let mut r = (StatusCode::OK, axum::Json(v)).into_response();
            no_store(r.headers_mut());
            r
        }
        Err(e) => e.into_response(),
    }
}

fn token_inner(st: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, OAuthError> {
    let params = parse_params(headers, body).map_err(|e| oerr("invalid_request", e))?;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let grant_type = get("grant_type").ok_or_else(|| oerr("invalid_request", "Missing grant_type"))?;
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(oerr(
            "unsupported_grant_type",
            format!("Unsupported grant_type: {grant_type}"),
        ));
    }
    let (client_id, secret) = client_auth(headers, &params)?;
    if let Some(registered) = st.config.client_secrets.get(&client_id) {
        match secret.as_deref() {
            Some(s) if util::ct_eq(s, registered) => {}
            _ => return Err(oerr("invalid_client", "Client authentication failed")),
        }
    }
    let now = now_ms();
    let ttl = st.config.token_ttl_secs;

    let (user_id, scopes, grant_id, with_refresh) = match grant_type {
        "authorization_code" => {
            let code = get("code").ok_or_else(|| oerr("invalid_request", "Missing code"))?;
            let redirect_uri = get("redirect_uri").ok_or_else(|| oerr("invalid_request", "Missing redirect_uri"))?;
            let verifier = get("code_verifier")
                .ok_or_else(|| oerr("invalid_request", "Missing code_verifier (PKCE is required)"))?;
            if !util::is_valid_verifier(verifier) {
                return Err(oerr(
                    "invalid_request",
                    "Malformed code_verifier (43-128 characters of [A-Za-z0-9-._~])",
                ));
            }
            let mut g = st.lock();
            let Some(c) = g.codes.get_mut(&util::hash(code)) else {
                return Err(oerr("invalid_grant", "Invalid authorization code"));
            };
            if c.used {
                // RFC 6749 §4.1.2: revoke tokens issued from this code.
                let grant = c.grant_id.clone();
                g.revoke_where(|_, gid| gid == grant);
                st.save(&g);
                return Err(oerr("invalid_grant", "Authorization code was already used"));
            }
            c.used = true;
            if now >= c.expires_ms {
                return Err(oerr("invalid_grant", "Authorization code expired"));
            }
            if c.client_id != client_id {
                return Err(oerr("invalid_grant", "Authorization code was issued to another client"));
            }
            if c.redirect_uri != redirect_uri {
                return Err(oerr(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                ));
            }
            if !util::ct_eq(&util::pkce_s256(verifier), &c.challenge) {
                return Err(oerr("invalid_grant", "PKCE verification failed"));
            }
            (
                Some(c.user_id.clone()),
                c.scopes.clone(),
                c.grant_id.clone(),
                st.config.issue_refresh_tokens,
            )
        }
        "refresh_token" => {
            let rt = get("refresh_token").ok_or_else(|| oerr("invalid_request", "Missing refresh_token"))?;
            let mut g = st.lock();
            let h = util::hash(rt);
            let Some(old) = g.refresh_tokens.get(&h).cloned() else {
                return Err(oerr("invalid_grant", "Invalid refresh token"));
            };
            if old.client_id != client_id {
                return Err(oerr("invalid_grant", "Refresh token was issued to another client"));
            }
            let scopes = match get("scope") {
                None => old.scopes.clone(),
                Some(s) => {
                    let req = parse_scopes(Some(s)).map_err(|e| oerr("invalid_scope", e))?;
                    if req.iter().any(|s| !old.scopes.contains(s)) {
                        return Err(oerr("invalid_scope", "Requested scope exceeds the original grant"));
                    }
                    req
                }
            };
            if g.user(&old.user_id).is_none() {
                return Err(oerr("invalid_grant", "User no longer exists"));
            }
            // Rotation: the presented refresh token is spent.
            g.refresh_tokens.remove(&h);
            (Some(old.user_id), scopes, old.grant_id, true)
        }
        _ => {
            let scopes = parse_scopes(get("scope")).map_err(|e| oerr("invalid_scope", e))?;
            (None, scopes, util::random_alnum(16), false)
        }
    };

    let access = format!("vat_{}", util::random_alnum(40));
    let mut g = st.lock();
    g.access_tokens.insert(
        util::hash(&access),
        AccessToken {
            user_id: user_id.clone(),
            client_id: client_id.clone(),
            scopes: scopes.clone(),
            expires_ms: now + ttl * 1000,
            grant_id: grant_id.clone(),
        },
    );
    let mut out = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope_string(&scopes),
    });
    if let (true, Some(uid)) = (with_refresh, user_id) {
        let refresh = format!("vrt_{}", util::random_alnum(40));
        g.refresh_tokens.insert(
            util::hash(&refresh),
            RefreshToken {
                user_id: uid,
                client_id,
                scopes,
                grant_id,
            },
        );
        out["refresh_token"] = json!(refresh);
    }
    st.save(&g);
    Ok(out)
}
