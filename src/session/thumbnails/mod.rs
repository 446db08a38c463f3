//! Category pictures for the dock's picker: fetched by the worker (the one
//! thread that owns HTTP), checked, cached on disk, handed to the dock as
//! file paths it may decode.
//!
//! * Not API calls: no token is sent, and they do not touch the API request
//!   budget. Their own HTTP client: HTTPS only (plain HTTP only on loopback
//!   while the API itself is on loopback: the sandbox), at most 3 redirects
//!   under the same rule, no cookies, no referrer.
//! * Checked before anything decodes them: at most [`MAX_IMAGE_BYTES`] read,
//!   PNG, JPEG, GIF or WebP by their first bytes (never what the server
//!   calls them), at most [`MAX_SIDE`] pixels a side and [`MAX_PIXELS`] in
//!   all, from the header ([`crate::imagehead`]). Anything else stays a
//!   placeholder.
//! * Cached on disk (`<config>/cache/categories/<sha256 of the URL>.<ext>`)
//!   for [`CACHE_TTL`]; fetched once per cache lifetime. The directory is
//!   kept under a byte cap: the oldest pictures go first. A picture that is
//!   not usable (not an image, too big, a 4xx) leaves an empty `.bad`
//!   marker and is not asked for again for a day, unless the streamer
//!   refreshes the categories; a network failure is simply tried again in
//!   the next session.
//! * Never in the way of a click: at most [`PARALLEL`] downloads run at a
//!   time, and the worker drives them in slices of [`SLICE`] between its
//!   messages, so a click waits for at most one slice, whatever the image
//!   host does.

mod fetch;

use super::info::StreamInfo;
use crate::api::Category;
use crate::cancel::Cancel;
use crate::imagehead;
use crate::status::{self, Thumb};
use fetch::{allowed, check, host_of, Fail, Fetched, Net};
pub use fetch::{MAX_IMAGE_BYTES, MAX_PIXELS, MAX_SIDE};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// The disk cache's size cap, unless tuned (`VELORA_THUMB_CACHE_BYTES`).
pub(crate) const CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a cached picture is used before it is fetched again.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a picture that is not usable (not an image, too big, 404) is
/// not asked for again, unless the streamer refreshes the categories.
const BAD_TTL: Duration = Duration::from_secs(24 * 3600);
/// The marker file of such a picture: `<sha256 of the URL>.bad`.
const BAD_EXTENSION: &str = "bad";
/// Downloads at a time.
const PARALLEL: usize = 4;
/// How long one turn of the worker drives the downloads.
const SLICE: Duration = Duration::from_millis(20);

/// Counters for the log line after a batch (and the tests).
#[derive(Default, Debug, Clone, Copy)]
struct Batch {
    fetched: usize,
    failed: usize,
}

pub(super) struct Thumbnails {
    dir: PathBuf,
    cache_bytes: u64,
    api_loopback: bool,
    /// What is known per picture address.
    states: HashMap<String, Thumb>,
    queue: VecDeque<String>,
    /// Addresses being downloaded.
    running: HashSet<String>,
    /// The categories generation last looked at.
    seen: Option<u64>,
    /// The streamer refreshed: pictures marked unusable are tried again.
    retry_bad: bool,
    net: Option<Net>,
    batch: Batch,
}

impl Thumbnails {
    pub fn new(config_dir: &Path, cache_bytes: u64) -> Thumbnails {
        Thumbnails {
            dir: config_dir.join("cache").join("categories"),
            cache_bytes,
            api_loopback: false,
            states: HashMap::new(),
            queue: VecDeque::new(),
            running: HashSet::new(),
            seen: None,
            retry_bad: false,
            net: None,
            batch: Batch::default(),
        }
    }

    /// Another environment: whether its API is on loopback (the sandbox)
    /// decides which picture addresses are allowed. Downloads of the old
    /// one are dropped; the disk cache stays (it is keyed by address).
    pub fn configure(&mut self, api_loopback: bool) {
        if api_loopback != self.api_loopback {
            self.net = None;
        }
        if let Some(n) = self.net.as_mut() {
            n.tasks.abort_all();
        }
        self.api_loopback = api_loopback;
        self.states.clear();
        self.queue.clear();
        self.running.clear();
        self.seen = None;
    }

    /// The streamer asked for the categories again: pictures that failed
    /// are tried once more (cached ones are not fetched again).
    pub fn retry_failed(&mut self) {
        self.states.retain(|_, t| *t != Thumb::Failed);
        self.seen = None;
        self.retry_bad = true;
    }

    /// Downloads waiting or running.
    pub fn busy(&self) -> bool {
        !self.queue.is_empty() || !self.running.is_empty()
    }

    /// Follows the category list: pictures already cached are shown at once,
    /// the others are queued. Cheap when the list did not change.
    pub fn sync(&mut self, info: &StreamInfo) {
        let generation = info.categories_generation();
        if self.seen == Some(generation) {
            return;
        }
        self.seen = Some(generation);
        for c in info.category_list() {
            self.want(c);
        }
        self.retry_bad = false;
        self.publish();
    }

    fn want(&mut self, c: &Category) {
        let Some(url) = c.image_url.clone() else { return };
        if self.states.contains_key(&url) {
            return;
        }
        let allowed = Url::parse(&url).is_ok_and(|u| allowed(&u, self.api_loopback));
        if !allowed {
            log::info!(
                "the picture of category '{}' is not on HTTPS ({}): not fetched",
                c.slug,
                host_of(&url)
            );
            self.states.insert(url, Thumb::Failed);
            return;
        }
        if !self.retry_bad && self.marked_bad(&url) {
            self.states.insert(url, Thumb::Failed);
            return;
        }
        match self.cached(&url) {
            Some((path, fresh)) => {
                self.states
                    .insert(url.clone(), Thumb::Ready(path.display().to_string()));
                if !fresh {
                    self.queue.push_back(url);
                }
            }
            None => {
                self.states.insert(url.clone(), Thumb::Loading);
                self.queue.push_back(url);
            }
        }
    }

    fn file_stem(url: &str) -> String {
        Sha256::digest(url.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The cached file of `url` and whether it is younger than [`CACHE_TTL`].
    fn cached(&self, url: &str) -> Option<(PathBuf, bool)> {
        let stem = Self::file_stem(url);
        imagehead::Format::ALL.iter().find_map(|f| {
            let p = self.dir.join(format!("{stem}.{}", f.extension()));
            let m = std::fs::metadata(&p).ok().filter(|m| m.is_file())?;
            let age = m
                .modified()
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .unwrap_or(Duration::ZERO);
            Some((p, age < CACHE_TTL))
        })
    }

    fn bad_marker(&self, url: &str) -> PathBuf {
        self.dir.join(format!("{}.{BAD_EXTENSION}", Self::file_stem(url)))
    }

    /// `url` gave something unusable less than [`BAD_TTL`] ago.
    fn marked_bad(&self, url: &str) -> bool {
        std::fs::metadata(self.bad_marker(url))
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < BAD_TTL)
    }

    /// Puts the pictures' states on the board.
    fn publish(&self) {
        status::update(|s| {
            for item in &mut s.categories {
                item.thumb = match &item.image_url {
                    None => Thumb::None,
                    Some(u) => self.states.get(u).cloned().unwrap_or(Thumb::Loading),
                };
            }
        });
    }

    /// One turn of the downloads: starts what may start, drives them for at
    /// most [`SLICE`] (less when `stop` fires), files what finished.
    pub fn pump(&mut self, stop: &Cancel) {
        if self.net.is_none() {
            match Net::new(self.api_loopback) {
                Ok(n) => self.net = Some(n),
                Err(e) => {
                    log::warn!("category pictures: {e}");
                    for url in self.queue.drain(..) {
                        self.states.entry(url).or_insert(Thumb::Failed);
                    }
                    self.publish();
                    return;
                }
            }
        }
        let Some(net) = self.net.as_mut() else { return };
        while self.running.len() < PARALLEL {
            let Some(url) = self.queue.pop_front() else { break };
            if self.running.insert(url.clone()) {
                net.start(url);
            }
        }
        let mut done: Vec<Fetched> = Vec::new();
        let until = Instant::now() + SLICE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || net.tasks.is_empty() || stop.is_cancelled() {
                break;
            }
            let tasks = &mut net.tasks;
            let next = net.rt.block_on(async {
                tokio::select! {
                    biased;
                    _ = stop.cancelled() => None,
                    r = tokio::time::timeout(left, tasks.join_next()) => r.ok().flatten(),
                }
            });
            match next {
                Some(Ok(f)) => done.push(f),
                // A task panicked or was aborted: its address is dropped below.
                Some(Err(e)) => log::info!("a category picture download ended abnormally: {e}"),
                None => break,
            }
        }
        if done.is_empty() && net.tasks.is_empty() && !self.running.is_empty() {
            // Aborted or panicked downloads: nothing will come for them.
            for url in self.running.drain() {
                self.states.entry(url).or_insert(Thumb::Failed);
            }
        }
        if done.is_empty() {
            return;
        }
        for (url, r) in done {
            self.running.remove(&url);
            self.file(url, r);
        }
        self.enforce_cap();
        self.publish();
        if !self.busy() {
            log::info!(
                "category pictures: {} fetched and cached, {} unusable (placeholders)",
                self.batch.fetched,
                self.batch.failed
            );
            self.batch = Batch::default();
        }
    }

    /// Checks a finished download and caches it.
    fn file(&mut self, url: String, r: Result<Vec<u8>, Fail>) {
        let result = r.and_then(|bytes| {
            let format = check(&bytes).map_err(Fail::Content)?;
            let path = self
                .dir
                .join(format!("{}.{}", Self::file_stem(&url), format.extension()));
            crate::fsutil::ensure_private_dir(&self.dir)
                .and_then(|()| {
                    // Another format cached for the same address goes.
                    for f in imagehead::Format::ALL {
                        let other = path.with_extension(f.extension());
                        if other != path {
                            crate::fsutil::remove_if_exists(&other)?;
                        }
                    }
                    crate::fsutil::remove_if_exists(&self.bad_marker(&url))?;
                    crate::fsutil::write_private(&path, &bytes)
                })
                .map_err(|e| Fail::Network(format!("cannot write the cache ({e})")))?;
            Ok(path)
        });
        match result {
            Ok(path) => {
                self.batch.fetched += 1;
                self.states.insert(url, Thumb::Ready(path.display().to_string()));
            }
            Err(why) => {
                self.batch.failed += 1;
                log::info!("a category picture from {} is not used: {why}", host_of(&url));
                if matches!(why, Fail::Content(_)) {
                    // Not asked for again for a day (unless refreshed).
                    let marked = crate::fsutil::ensure_private_dir(&self.dir)
                        .and_then(|()| crate::fsutil::write_private(&self.bad_marker(&url), b""));
                    if let Err(e) = marked {
                        log::info!("could not note the unusable picture in the cache: {e}");
                    }
                }
                // A stale cached copy is still better than a placeholder.
                let keep = matches!(self.states.get(&url), Some(Thumb::Ready(p)) if Path::new(p).exists());
                if !keep {
                    self.states.insert(url, Thumb::Failed);
                }
            }
        }
    }

    /// Keeps the cache directory under its byte cap: the oldest files go
    /// first; a category whose picture went shows the placeholder.
    fn enforce_cap(&mut self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let m = e.metadata().ok().filter(|m| m.is_file())?;
                Some((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.cache_bytes {
            return;
        }
        files.sort();
        for (_, len, path) in files {
            if total <= self.cache_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
                let gone = path.display().to_string();
                for t in self.states.values_mut() {
                    if *t == Thumb::Ready(gone.clone()) {
                        *t = Thumb::Failed;
                    }
                }
            }
        }
    }

    /// The worker ends: downloads are dropped.
    pub fn shutdown(&mut self) {
        if let Some(mut n) = self.net.take() {
            n.tasks.abort_all();
        }
        self.queue.clear();
        self.running.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 2, 0, 0, 0]);
        v
    }

    /// The sandbox's categories: six pictures it serves, two nulls, one broken.
    fn sandbox_categories(sb: &velora_sandbox::Sandbox) -> Vec<Category> {
        let base = sb.base_url();
        [
            "just-chatting",
            "software-and-game-development",
            "music",
            "gaming",
            "art",
            "science-and-technology",
            "talk-shows",
            "irl",
        ]
        .iter()
        .map(|slug| Category {
            slug: slug.to_string(),
            name: slug.to_string(),
            image_url: (!["music", "talk-shows"].contains(slug)).then(|| format!("{base}/category-images/{slug}.png")),
        })
        .collect()
    }

    fn image_requests(sb: &velora_sandbox::Sandbox) -> usize {
        let v: serde_json::Value = reqwest::blocking::get(format!("{}/_sandbox/images", sb.base_url()))
            .unwrap()
            .json()
            .unwrap();
        v["requests"].as_array().unwrap().len()
    }

    /// Drives the downloads as the worker does, until none is left.
    fn run(t: &mut Thumbnails, info: &StreamInfo) {
        let stop = Cancel::new();
        t.sync(info);
        let start = Instant::now();
        while t.busy() {
            t.pump(&stop);
            // Not a speed check: only turns a hang into a failure.
            assert!(start.elapsed() < Duration::from_secs(60), "downloads never ended");
        }
    }

    fn states(t: &Thumbnails) -> Vec<(String, Thumb)> {
        let mut v: Vec<(String, Thumb)> = t
            .states
            .iter()
            .map(|(u, s)| (u.rsplit('/').next().unwrap().to_string(), s.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn sandbox_pictures_are_fetched_once_checked_and_cached() {
        let sb = velora_sandbox::Sandbox::start(velora_sandbox::Config {
            log_requests: false,
            ..Default::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let info = StreamInfo::with_categories(sandbox_categories(&sb));

        let mut t = Thumbnails::new(dir.path(), CACHE_BYTES);
        t.configure(true);
        run(&mut t, &info);
        let st = states(&t);
        assert_eq!(st.len(), 6, "{st:?}");
        for (file, state) in &st {
            match (file.as_str(), state) {
                ("irl.png", Thumb::Failed) => {}
                (_, Thumb::Ready(p)) => {
                    let bytes = std::fs::read(p).unwrap();
                    assert_eq!(check(&bytes), Ok(imagehead::Format::Png), "{file}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(image_requests(&sb), 6);

        // The next session (OBS restarted): everything from the cache, the
        // broken one is not asked for again either.
        let mut t2 = Thumbnails::new(dir.path(), CACHE_BYTES);
        t2.configure(true);
        run(&mut t2, &info);
        assert_eq!(states(&t2), st);
        assert_eq!(image_requests(&sb), 6, "fetched again although cached");

        // Refresh: only the unusable one is tried again.
        t2.retry_failed();
        run(&mut t2, &info);
        assert_eq!(image_requests(&sb), 7);

        // A remote API never gets plain-HTTP pictures.
        let mut remote = Thumbnails::new(tempfile::tempdir().unwrap().path(), CACHE_BYTES);
        remote.configure(false);
        run(&mut remote, &info);
        assert!(remote.states.values().all(|s| *s == Thumb::Failed));
        assert_eq!(image_requests(&sb), 7);
    }

    #[test]
    fn the_disk_cache_is_capped_and_a_stalled_host_holds_no_turn() {
        let sb = velora_sandbox::Sandbox::start(velora_sandbox::Config {
            log_requests: false,
            ..Default::default()
        })
        .unwrap();
        let info = StreamInfo::with_categories(sandbox_categories(&sb));
        let one = velora_sandbox_png_len(&sb);
        // Room for two pictures.
        let cap = 2 * one + one / 2;
        let dir = tempfile::tempdir().unwrap();
        let mut t = Thumbnails::new(dir.path(), cap);
        t.configure(true);
        run(&mut t, &info);
        let size: u64 = std::fs::read_dir(&t.dir)
            .unwrap()
            .flatten()
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(size <= cap, "{size} > {cap}");
        let ready = t.states.values().filter(|s| matches!(s, Thumb::Ready(_))).count();
        assert_eq!(ready, 2, "{:?}", states(&t));
        for s in t.states.values() {
            if let Thumb::Ready(p) = s {
                assert!(Path::new(p).exists(), "a Ready picture was evicted: {p}");
            }
        }

        // A stalled image host (it answers after two minutes, far beyond
        // FETCH_TIMEOUT): turns keep coming back while every download is
        // still pending. A turn that waited for a download would come back
        // with an outcome (a timeout at the latest), so "many turns, no
        // outcome" shows that no turn waits for the host, without timing
        // anything (the slice's length is a budget, not a test).
        let http = reqwest::blocking::Client::new();
        http.post(format!("{}/_sandbox/images", sb.base_url()))
            .json(&serde_json::json!({"latencyMs": 120_000}))
            .send()
            .unwrap();
        let mut slow = Thumbnails::new(tempfile::tempdir().unwrap().path(), CACHE_BYTES);
        slow.configure(true);
        slow.sync(&info);
        let stop = Cancel::new();
        for turn in 0..25 {
            slow.pump(&stop);
            assert!(slow.busy(), "turn {turn}: the downloads ended: {:?}", states(&slow));
            assert_eq!(slow.running.len(), PARALLEL, "turn {turn}");
            assert!(
                slow.states.values().all(|s| *s == Thumb::Loading),
                "turn {turn}: {:?}",
                states(&slow)
            );
        }
        // OBS quitting: the downloads are dropped, nothing is left running.
        slow.shutdown();
        assert!(!slow.busy());

        // A turn with the stop flag set does not drive the downloads at all
        // (the runtime runs tasks only inside a turn): with an instant host,
        // a turn that ignored the flag would have finished some of them.
        http.post(format!("{}/_sandbox/images", sb.base_url()))
            .json(&serde_json::json!({"latencyMs": 0}))
            .send()
            .unwrap();
        stop.cancel();
        let mut fresh = Thumbnails::new(tempfile::tempdir().unwrap().path(), CACHE_BYTES);
        fresh.configure(true);
        fresh.sync(&info);
        for _ in 0..5 {
            fresh.pump(&stop);
        }
        assert!(
            fresh.states.values().all(|s| *s == Thumb::Loading),
            "{:?}",
            states(&fresh)
        );
        fresh.shutdown();
        assert!(!fresh.busy());
    }

    fn velora_sandbox_png_len(sb: &velora_sandbox::Sandbox) -> u64 {
        reqwest::blocking::get(format!("{}/category-images/art.png", sb.base_url()))
            .unwrap()
            .bytes()
            .unwrap()
            .len() as u64
    }

    #[test]
    fn the_cache_stays_under_its_cap_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Thumbnails::new(dir.path(), 3000);
        std::fs::create_dir_all(&t.dir).unwrap();
        let now = SystemTime::now();
        for i in 0..5u64 {
            let p = t.dir.join(format!("{i:064x}.png"));
            std::fs::write(&p, vec![0u8; 1000]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(now - Duration::from_secs(100 - i)).unwrap();
            t.states
                .insert(format!("https://x/{i}"), Thumb::Ready(p.display().to_string()));
        }
        t.enforce_cap();
        let left: Vec<String> = std::fs::read_dir(&t.dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(!t.dir.join(format!("{:064x}.png", 0)).exists());
        assert!(!t.dir.join(format!("{:064x}.png", 1)).exists());
        assert_eq!(t.states["https://x/0"], Thumb::Failed);
        assert!(matches!(t.states["https://x/4"], Thumb::Ready(_)));
    }
}
