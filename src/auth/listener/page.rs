//! The pages the browser shows after the redirect: self-contained (inline
//! CSS, no scripts, no remote assets), every text escaped.

use super::outcome::{CallbackResult, Rejection};

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const RETURN_TO_OBS: &str = "You can close this tab and return to OBS.";

pub(super) fn page_for_result(result: &CallbackResult) -> String {
    match result {
        CallbackResult::Code(_) => page(
            true,
            "Signed in to Velora",
            "OBS received the sign-in. It finishes connecting your account now.",
        ),
        CallbackResult::Denied { description } => {
            let mut msg = "Access was denied, so OBS is not connected to your Velora account.".to_string();
            if let Some(d) = description {
                msg.push_str(&format!(" ({d})"));
            }
            msg.push_str(" To try again, start the sign-in again in OBS.");
            page(false, "Sign-in cancelled", &msg)
        }
        CallbackResult::Failed { error, description } => {
            let mut msg = format!("Velora reported an error: {error}");
            if let Some(d) = description {
                msg.push_str(&format!(" ({d})"));
            }
            msg.push_str(". To try again, start the sign-in again in OBS.");
            page(false, "Sign-in failed", &msg)
        }
    }
}

pub(super) fn page_for_rejection(why: Rejection) -> String {
    let (title, msg) = match why {
        Rejection::StateMismatch => (
            "Sign-in response not recognized",
            "This response does not belong to the sign-in OBS is waiting for (its state \
             value does not match), so it was ignored. If OBS is still waiting, finish \
             signing in from the link OBS opened, or cancel and start again.",
        ),
        Rejection::MissingState => (
            "Sign-in response incomplete",
            "This response has no state value, so it was ignored. If OBS is still \
             waiting, finish signing in from the link OBS opened, or cancel and start again.",
        ),
        Rejection::StateAlreadyUsed => (
            "Sign-in response already used",
            "This sign-in response was already received by OBS and cannot be used twice.",
        ),
        Rejection::MissingCode => (
            "Sign-in response incomplete",
            "The response has neither an authorization code nor an error, so it was \
             ignored. If OBS is still waiting, cancel and start the sign-in again.",
        ),
        Rejection::DuplicateParameter => (
            "Sign-in response not valid",
            "The response repeats a parameter, so it was ignored.",
        ),
        Rejection::NotFound => ("Not found", "Nothing here."),
        Rejection::MethodNotAllowed => ("Method not allowed", "Only GET is answered here."),
        Rejection::TooLarge => ("Request too large", "The request was too large."),
        Rejection::Timeout => ("Request timeout", "The request took too long."),
        Rejection::WrongHost => ("Bad request", "The request names another host."),
        Rejection::Malformed | Rejection::Truncated | Rejection::Busy => {
            ("Bad request", "The request could not be read.")
        }
    };
    page(false, title, msg)
}

/// A self-contained page: inline CSS, no scripts, no remote assets, an empty
/// inline icon (so the browser does not ask for /favicon.ico).
pub fn page(ok: bool, title: &str, message: &str) -> String {
    let (accent, mark) = if ok { ("#1f9d55", "&#10003;") } else { ("#c0392b", "!") };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{title} – Velora for OBS</title>
<style>
  html,body{{margin:0;height:100%;}}
  body{{display:flex;align-items:center;justify-content:center;
       font-family:system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;
       background:#15151c;color:#e8e8ef;}}
  main{{max-width:32rem;margin:1.5rem;padding:2rem 2.25rem;border-radius:14px;
       background:#20202b;box-shadow:0 8px 30px rgba(0,0,0,.35);text-align:center;}}
  .mark{{width:3.25rem;height:3.25rem;line-height:3.25rem;margin:0 auto 1rem;
        border-radius:50%;background:{accent};color:#fff;font-size:1.75rem;font-weight:700;}}
  h1{{font-size:1.35rem;margin:0 0 .75rem;}}
  p{{margin:.5rem 0;line-height:1.5;color:#c9c9d6;}}
  .back{{margin-top:1.25rem;font-weight:600;color:#e8e8ef;}}
</style>
</head>
<body>
<main>
  <div class="mark" aria-hidden="true">{mark}</div>
  <h1>{title}</h1>
  <p>{message}</p>
  <p class="back">{back}</p>
</main>
</body>
</html>
"#,
        title = html_escape(title),
        message = html_escape(message),
        back = html_escape(RETURN_TO_OBS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_self_contained() {
        for body in [
            page(true, "t", "m"),
            page_for_rejection(Rejection::StateMismatch),
            page_for_result(&CallbackResult::Denied { description: None }),
        ] {
            assert!(body.contains("<style>"));
            assert!(!body.contains("http://") && !body.contains("https://"));
            assert!(!body.contains("<script"));
            assert!(!body.contains("src="));
            assert!(body.contains("return to OBS"));
        }
    }
}
