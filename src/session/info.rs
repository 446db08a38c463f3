//! Stream info: title, category and tags, both ways.
//!
//! * The streamer's edits (dock, `SetStreamInfo`) are checked, sent (only
//!   what differs from what Velora has) and copied into the profile's
//!   `velora` service settings.
//! * Edits another tool writes into those settings are checked and sent
//!   after a short debounce ([`PUSH_DEBOUNCE`]), never written back.
//! * Going live sends the profile's values when they differ from Velora's.
//! * Polling reads Velora's values and the live status (viewers).

use super::api::{Api, CallError};
use super::{Reply, CATEGORIES_TTL};
use crate::api::{Category, Priority, StreamInfoUpdate};
use crate::cancel::Cancel;
use crate::errors::Failure;
use crate::host::Host;
use crate::status::{self, CategoryItem, Status};
use crate::stream_config::{self, ServiceSettings};
use crate::text::{tr, tr_args};
use std::time::{Duration, Instant};

/// Several quick edits of the service settings become one request.
pub(crate) const PUSH_DEBOUNCE: Duration = Duration::from_millis(1500);

/// Title, category and tags; `None` = unknown / not given.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Info {
    pub title: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
}

impl Info {
    fn is_empty(&self) -> bool {
        self.title.is_none() && self.category.is_none() && self.tags.is_none()
    }

    fn of_settings(v: &ServiceSettings) -> Info {
        Info {
            title: v.title.clone(),
            category: v.category_slug.clone(),
            tags: v.tags.clone(),
        }
    }
}

/// The one title rule: trimmed, at most [`stream_config::TITLE_MAX_CHARS`]
/// Unicode characters (not bytes).
pub(super) fn checked_title(title: &str) -> Result<String, Failure> {
    let t = title.trim();
    let n = t.chars().count();
    if n > stream_config::TITLE_MAX_CHARS {
        return Err(Failure::Rejected(tr_args(
            "Velora.Error.TitleTooLong",
            &[&n.to_string()],
        )));
    }
    Ok(t.to_string())
}

/// Who asked, which decides the request budget and whether the values are
/// copied into OBS's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// The dock or an automation request: copied into the profile.
    Streamer,
    /// Values that came from the profile's settings: never written back.
    Settings,
}

#[derive(Default)]
pub(super) struct StreamInfo {
    /// As Velora last reported or accepted them.
    remote: Info,
    /// Fields edited in OBS's service settings, waiting for the debounce.
    push: Info,
    push_due: Option<Instant>,
    categories: Vec<Category>,
    categories_at: Option<Instant>,
    /// Bumped on every fetch of the categories (the thumbnails follow it).
    categories_generation: u64,
}

impl StreamInfo {
    /// Another environment or account: nothing known any more.
    pub fn reset(&mut self) {
        let generation = self.categories_generation + 1;
        *self = StreamInfo::default();
        self.categories_generation = generation;
        status::update(|s| s.categories.clear());
    }

    /// How many times the categories were fetched (see [`super::thumbnails`]).
    pub fn categories_generation(&self) -> u64 {
        self.categories_generation
    }

    /// A list as if fetched (the thumbnails' tests).
    #[cfg(test)]
    pub fn with_categories(categories: Vec<Category>) -> StreamInfo {
        StreamInfo {
            categories,
            categories_generation: 1,
            ..StreamInfo::default()
        }
    }

    /// The categories as last fetched.
    pub fn category_list(&self) -> &[Category] {
        &self.categories
    }

    /// The remote values (title, live start) the account lookup matches on.
    pub fn remote_title(&self) -> Option<&str> {
        self.remote.title.as_deref()
    }

    pub fn push_due(&self) -> Option<Instant> {
        self.push_due
    }

    /// A profile change drops edits of the old profile not yet sent.
    pub fn profile_changed(&mut self) {
        self.push = Info::default();
        self.push_due = None;
    }

    /// What the faces show: the profile's own values where its Velora
    /// service carries them, else Velora's.
    fn shown(&self, host: &dyn Host) -> Info {
        let profile = host
            .current_service()
            .and_then(|c| c.velora)
            .map(|v| Info::of_settings(&v))
            .unwrap_or_default();
        Info {
            title: profile.title.or(self.remote.title.clone()),
            category: profile.category.or(self.remote.category.clone()),
            tags: profile.tags.or(self.remote.tags.clone()),
        }
    }

    fn put(s: &mut Status, i: &Info) {
        let tags = i.tags.clone().unwrap_or_default();
        if s.title != i.title || s.category_slug != i.category || s.tags != tags {
            s.title = i.title.clone();
            s.category_slug = i.category.clone();
            s.tags = tags;
            s.info_generation += 1;
        }
    }

    /// Puts what the faces should show on the board.
    pub fn show(&self, host: &dyn Host) {
        let shown = self.shown(host);
        status::update(|s| Self::put(s, &shown));
    }

    /// Reads Velora's stream info and live status.
    pub fn fetch(&mut self, api: &mut Api, host: &dyn Host, priority: Priority) -> Result<(), CallError> {
        let info = api.call(priority, |c, t| c.stream_info(t))?;
        self.remote = Info {
            title: Some(info.title.clone()),
            category: Some(info.category_slug.clone()),
            tags: Some(info.tags.clone()),
        };
        let shown = self.shown(host);
        status::update(|s| {
            Self::put(s, &shown);
            s.is_live = info.is_live;
            s.viewer_count = info.viewer_count;
            s.started_at = info.started_at.clone();
        });
        Ok(())
    }

    /// The categories (cached for [`CATEGORIES_TTL`] unless `refresh`).
    pub fn categories(&mut self, api: &mut Api, refresh: bool, priority: Priority) -> Result<Vec<Category>, CallError> {
        let fresh = self.categories_at.is_some_and(|t| t.elapsed() < CATEGORIES_TTL);
        if !refresh && fresh && !self.categories.is_empty() {
            return Ok(self.categories.clone());
        }
        let cats = api.call(priority, |c, t| c.categories(t))?;
        self.categories = cats.clone();
        self.categories_at = Some(Instant::now());
        self.categories_generation += 1;
        status::update(|s| {
            // A picture already known for the same address stays (no flicker).
            let old = std::mem::take(&mut s.categories);
            s.categories = cats
                .iter()
                .map(|c| CategoryItem {
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    image_url: c.image_url.clone(),
                    thumb: old
                        .iter()
                        .find(|o| o.image_url.is_some() && o.image_url == c.image_url)
                        .map(|o| o.thumb.clone())
                        .unwrap_or_default(),
                })
                .collect();
        });
        Ok(cats)
    }

    /// Checks, sends what differs from Velora's values and, for the
    /// streamer's edits, copies them into the profile's service settings.
    #[allow(clippy::too_many_arguments)]
    pub fn set(
        &mut self,
        api: &mut Api,
        host: &dyn Host,
        cancel: &Cancel,
        title: Option<String>,
        category: Option<String>,
        tags: Option<Vec<String>>,
        source: Source,
    ) -> Result<Reply, Failure> {
        let title = title.map(|t| checked_title(&t)).transpose()?;
        let category = category.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        let priority = match source {
            Source::Streamer => Priority::User,
            Source::Settings => Priority::Background,
        };
        if let Some(slug) = &category {
            let cats = self.categories(api, false, priority).map_err(|e| e.failure())?;
            if !cats.iter().any(|c| &c.slug == slug) {
                return Err(Failure::UnknownCategory(slug.clone()));
            }
        }
        let tags = tags.map(|t| stream_config::normalize_tags(t.iter().map(String::as_str)));
        if title.is_none() && category.is_none() && tags.is_none() {
            return Err(Failure::BadRequest(tr("Velora.Error.NothingToUpdate")));
        }
        let cur = &self.remote;
        let update = StreamInfoUpdate {
            title: title.clone().filter(|t| cur.title.as_ref() != Some(t)),
            category_slug: category.clone().filter(|c| cur.category.as_ref() != Some(c)),
            tags: tags.clone().filter(|t| cur.tags.as_ref() != Some(t)),
        };
        let mut sent = Vec::new();
        if update.title.is_some() {
            sent.push("title");
        }
        if update.category_slug.is_some() {
            sent.push("categorySlug");
        }
        if update.tags.is_some() {
            sent.push("tags");
        }
        if !sent.is_empty() {
            status::update(|s| s.busy = true);
            let res = api.call(priority, |c, t| c.update_stream_info(t, &update));
            status::update(|s| s.busy = false);
            res.map_err(|e| e.failure())?;
        }
        if title.is_some() {
            self.remote.title = title.clone();
        }
        if category.is_some() {
            self.remote.category = category.clone();
        }
        if tags.is_some() {
            self.remote.tags = tags.clone();
        }
        if source == Source::Streamer {
            copy_into_profile(host, cancel, &title, &category, &tags);
        }
        let shown = self.shown(host);
        status::update(|s| {
            Self::put(s, &shown);
            s.last_error = None;
            s.plain_notice(tr("Velora.Notice.InfoUpdated"));
        });
        Ok(Reply::InfoUpdated {
            sent,
            title: shown.title,
            category: shown.category,
            tags: shown.tags.unwrap_or_default(),
        })
    }

    /// The `velora` service's settings were changed by another tool: check
    /// the changed title/category/tags now, send them after the debounce.
    /// An invalid value is reported and not sent; the settings keep it.
    pub fn edited(&mut self, logged_in: bool, host: &dyn Host, old: &ServiceSettings, new: &ServiceSettings) {
        self.show(host);
        if !logged_in {
            return;
        }
        let mut changed = false;
        if new.title != old.title && new.title != self.remote.title {
            if let Some(t) = &new.title {
                match checked_title(t) {
                    Ok(t) => {
                        self.push.title = Some(t);
                        changed = true;
                    }
                    Err(f) => {
                        log::warn!("title from OBS's stream settings not sent: {}", f.message());
                        status::update(|s| s.last_error = Some(f.info()));
                    }
                }
            }
        }
        if new.category_slug != old.category_slug && new.category_slug != self.remote.category {
            if let Some(c) = new.category_slug.clone().filter(|c| !c.trim().is_empty()) {
                self.push.category = Some(c);
                changed = true;
            }
        }
        if new.tags != old.tags && new.tags != self.remote.tags {
            if let Some(t) = &new.tags {
                self.push.tags = Some(t.clone());
                changed = true;
            }
        }
        if changed && self.push_due.is_none() {
            self.push_due = Some(Instant::now() + PUSH_DEBOUNCE);
        }
    }

    /// The debounce ended: sends the edits (never written back).
    pub fn push(&mut self, api: &mut Api, host: &dyn Host, cancel: &Cancel) -> Result<(), Failure> {
        self.push_due = None;
        let p = std::mem::take(&mut self.push);
        if p.is_empty() || !api.logged_in() {
            return Ok(());
        }
        log::info!("pushing stream info changed in OBS's stream settings to Velora");
        self.set(api, host, cancel, p.title, p.category, p.tags, Source::Settings)
            .map(|_| ())
    }

    /// Going live: the profile's values go to Velora when they differ from
    /// what it last reported. The stream start never waits for this.
    pub fn before_live(&mut self, api: &mut Api, host: &dyn Host, cancel: &Cancel) -> Result<(), Failure> {
        if !api.logged_in() {
            return Ok(());
        }
        let Some(v) = host.current_service().and_then(|c| c.velora) else {
            return Ok(());
        };
        let mine = Info::of_settings(&v);
        let differs = |a: &Option<String>, b: &Option<String>| a.is_some() && a != b;
        let title = mine.title.clone().filter(|_| differs(&mine.title, &self.remote.title));
        let category = mine
            .category
            .clone()
            .filter(|_| differs(&mine.category, &self.remote.category));
        let tags = mine.tags.clone().filter(|t| self.remote.tags.as_ref() != Some(t));
        if title.is_none() && category.is_none() && tags.is_none() {
            return Ok(());
        }
        log::info!("going live: sending this profile's stream info to Velora");
        self.set(api, host, cancel, title, category, tags, Source::Settings)
            .map(|_| ())
    }
}

/// The profile's Velora service carries what was sent (saved with the profile).
fn copy_into_profile(
    host: &dyn Host,
    cancel: &Cancel,
    title: &Option<String>,
    category: &Option<String>,
    tags: &Option<Vec<String>>,
) {
    let Some(mut v) = host.current_service().and_then(|c| c.velora) else {
        return;
    };
    let before = v.clone();
    if title.is_some() {
        v.title = title.clone();
    }
    if category.is_some() {
        v.category_slug = category.clone();
    }
    if tags.is_some() {
        v.tags = tags.clone();
    }
    if v != before {
        if let Err(e) = host.apply_velora_service(&v, cancel) {
            log::warn!("could not save the stream info in OBS's stream settings: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_title_rule_counts_characters_not_bytes() {
        let ok = "é".repeat(140);
        assert_eq!(checked_title(&format!("  {ok} ")).unwrap(), ok);
        let long = "é".repeat(141);
        match checked_title(&long) {
            Err(Failure::Rejected(m)) => assert!(m.contains("141") || m.contains("TitleTooLong"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
