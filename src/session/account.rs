//! Who is logged in, for the dock's "Logged in as …".
//!
//! The profile endpoint (`/user`, scope `user:read`) gives the display name.
//! A server without it (404) or a login without the scope is not an error:
//! while live, the username of the streamer's own stream in `/api/streams`
//! is used instead (the stream whose title and start time are those
//! `/stream/info` reports; no unique match, no name). Otherwise the dock
//! says "Logged in to Velora". Never a dangling "Logged in as".

use super::api::{Api, CallError};
use crate::api::{ApiError, Priority};

/// Pages of `/api/streams` looked through (100 streams each).
const MAX_PAGES: usize = 3;
/// Searches per stream.
const MAX_SEARCHES: u8 = 3;
/// Start times within this many seconds are the same start.
const START_SLACK_SECS: i64 = 2;

#[derive(Default)]
pub(super) struct Account {
    /// Searches of the live list during this stream (the own stream may
    /// show up there a little after it started).
    searches_this_stream: u8,
}

/// A name worth showing.
fn usable(name: &str) -> Option<String> {
    let n = name.trim();
    (!n.is_empty()).then(|| n.to_string())
}

impl Account {
    /// After a login or a restored session: asks the profile endpoint.
    /// Only a failure worth telling the streamer about comes back.
    pub fn identify(&mut self, api: &mut Api) -> Result<(), CallError> {
        if !api.has_scope("user:read") {
            return Ok(());
        }
        match api.call(Priority::Background, |c, t| c.user(t)) {
            Ok(u) => {
                if let Some(name) = usable(&u.display_name).or_else(|| usable(&u.username)) {
                    api.set_account_name(&name);
                }
                Ok(())
            }
            Err(CallError::Api(ApiError::NotFound { .. })) => {
                log::info!("this Velora server has no profile endpoint: the account name comes from the live list");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The stream ended: the next one may search again.
    pub fn offline(&mut self) {
        self.searches_this_stream = 0;
    }

    /// Live without a known name: looks for the own stream in
    /// `/api/streams` (once per stream, background work).
    pub fn while_live(&mut self, api: &mut Api, title: &str, started_at: Option<&str>) {
        if self.searches_this_stream >= MAX_SEARCHES || api.account().is_some() {
            return;
        }
        let Some(started) = started_at.and_then(crate::timefmt::parse_rfc3339_unix) else {
            return;
        };
        self.searches_this_stream += 1;
        let mut cursor: Option<String> = None;
        let mut found: Vec<String> = Vec::new();
        for _ in 0..MAX_PAGES {
            let c = cursor.clone();
            let page = match api.call(Priority::Background, |cl, t| {
                cl.live_streams(t, c.as_deref(), Some(100))
            }) {
                Ok(p) => p,
                Err(e) => {
                    log::info!(
                        "the live list could not be read for the account name: {}",
                        e.failure().message()
                    );
                    return;
                }
            };
            found.extend(
                page.streams
                    .iter()
                    .filter(|s| s.title == title)
                    .filter(|s| {
                        s.started_at
                            .as_deref()
                            .and_then(crate::timefmt::parse_rfc3339_unix)
                            .is_some_and(|t| (t - started).abs() <= START_SLACK_SECS)
                    })
                    .filter_map(|s| usable(&s.username)),
            );
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
        found.sort();
        found.dedup();
        match found.as_slice() {
            [one] => {
                log::info!("account name taken from the live list");
                api.set_account_name(one);
            }
            [] => log::info!("the own stream is not in the live list (yet): no account name"),
            _ => log::info!("several live streams match the own one: no account name"),
        }
    }
}
