//! In-memory state (users, tokens, codes, rate windows, faults, request log)
//! and its optional persistence.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::util::{self, now_ms};
use crate::Config;

pub const DEMO_USER: &str = "user_demo";
pub const NOSTREAM_USER: &str = "user_nostream";
pub const DEFAULT_SCOPE: &str = "stream:read user:read";

/// Scopes from the docs' scope table, with descriptions.
pub const SCOPES: &[(&str, &str)] = &[
    ("stream:key", "Access stream key and ingest URLs"),
    ("stream:read", "Read stream info, status, categories"),
    ("stream:write", "Update title, category, tags"),
    ("user:read", "Get user profile information"),
];

pub struct Category {
    pub slug: &'static str,
    pub name: &'static str,
    /// Served by the sandbox at `/category-images/<slug>.png` (see
    /// `images.rs`); `false` is `imageUrl: null`.
    pub has_image: bool,
}

pub const CATEGORIES: &[Category] = &[
    Category {
        slug: "just-chatting",
        name: "Just Chatting",
        has_image: true,
    },
    Category {
        slug: "software-and-game-development",
        name: "Software & Game Development",
        has_image: true,
    },
    Category {
        slug: "music",
        name: "Music",
        has_image: false,
    },
    Category {
        slug: "gaming",
        name: "Gaming",
        has_image: true,
    },
    Category {
        slug: "art",
        name: "Art",
        has_image: true,
    },
    Category {
        slug: "science-and-technology",
        name: "Science & Technology",
        has_image: true,
    },
    Category {
        slug: "talk-shows",
        name: "Talk Shows & Podcasts",
        has_image: false,
    },
    Category {
        // Its picture is broken on purpose (images.rs).
        slug: "irl",
        name: "IRL",
        has_image: true,
    },
];

pub fn category(slug: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.slug == slug)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub streaming_enabled: bool,
    pub title: String,
    pub category_slug: String,
    pub tags: Vec<String>,
    pub stream_key: String,
    #[serde(skip)]
    pub live: Option<Live>,
}

#[derive(Clone, Debug)]
pub struct Live {
    pub started_ms: u64,
    /// Key used to publish (may differ from the current key after regenerate).
    pub key: Option<String>,
    /// Fixed viewer count set through the control API.
    pub viewers_override: Option<u64>,
}

impl User {
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Simulated viewers: 0 for the first 2 s live, then grows by 3 per second
    /// (capped), deterministic in elapsed time. 0 when offline.
    pub fn viewer_count(&self, now: u64) -> u64 {
        match &self.live {
            None => 0,
            Some(l) => l.viewers_override.unwrap_or_else(|| {
                let secs = now.saturating_sub(l.started_ms) / 1000;
                if secs < 2 {
                    0
                } else {
                    (1 + (secs - 2) * 3).min(50_000)
                }
            }),
        }
    }

    pub fn started_at(&self) -> Option<String> {
        self.live.as_ref().map(|l| util::iso8601(l.started_ms, true))
    }

    pub fn stream_id(&self) -> String {
        format!("stream_{}", self.id)
    }
}

/// Other (fake) live streams so `/api/streams` has something to page through.
pub struct FakeStream {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub title: String,
    pub viewer_count: u64,
    pub started_ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub user_id: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires_ms: u64,
    pub grant_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshToken {
    pub user_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub grant_id: String,
}

pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub user_id: String,
    pub challenge: String,
    pub expires_ms: u64,
    pub used: bool,
    pub grant_id: String,
}

pub struct Pending {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub challenge: String,
    pub created_ms: u64,
}

pub struct Window {
    pub start_secs: u64,
    pub count: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountFault {
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How the fault looks: `malformed`: `truncated` (default), `garbage`,
    /// `wrongTypes`, `huge` (a 3 MiB body); `fail`: `json` (default) or
    /// `html` (a proxy's or captive portal's page); `rateLimitStorm`:
    /// `headers` (default) or `bare` (a 429 that says nothing of when to retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    pub latency_ms: u64,
    pub fail: Option<CountFault>,
    pub malformed: Option<CountFault>,
    pub rate_limit_storm: Option<CountFault>,
}

/// One request for a category picture (`/_sandbox/images`).
#[derive(Clone, Debug, Serialize)]
pub struct ImageRecord {
    pub path: String,
    pub status: u16,
    pub at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub at: String,
}

pub struct Inner {
    pub users: Vec<User>,
    pub fake_streams: Vec<FakeStream>,
    /// Keyed by token hash.
    pub access_tokens: HashMap<String, AccessToken>,
    /// Keyed by token hash.
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// Keyed by code hash.
    pub codes: HashMap<String, AuthCode>,
    /// Keyed by the (random) pending request id.
    pub pending: HashMap<String, Pending>,
    pub windows: HashMap<String, Window>,
    pub faults: Faults,
    pub requests: Vec<RequestRecord>,
    /// Requests for category pictures (not API requests).
    pub images: Vec<ImageRecord>,
    /// Delay before a category picture is answered.
    pub image_latency_ms: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Persisted {
    version: u32,
    users: Vec<User>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
}

pub struct AppState {
    pub config: Config,
    pub base_url: String,
    inner: Mutex<Inner>,
}

impl AppState {
    pub fn new(config: Config, base_url: String) -> io::Result<AppState> {
        let now = now_ms();
        let mut inner = Inner {
            users: seed_users(),
            fake_streams: seed_fake_streams(now),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            codes: HashMap::new(),
            pending: HashMap::new(),
            windows: HashMap::new(),
            faults: Faults::default(),
            requests: Vec::new(),
            images: Vec::new(),
            image_latency_ms: 0,
        };
        if let Some(path) = &config.state_file {
            if path.exists() {
                let data = std::fs::read(path)?;
                let p: Persisted = serde_json::from_slice(&data).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("cannot parse state file {}: {e}", path.display()),
                    )
                })?;
                for u in p.users {
                    match inner.users.iter_mut().find(|x| x.id == u.id) {
                        Some(slot) => *slot = u,
                        None => inner.users.push(u),
                    }
                }
                inner.access_tokens = p.access_tokens;
                inner.refresh_tokens = p.refresh_tokens;
            }
        }
        let state = AppState {
            config,
            base_url,
            inner: Mutex::new(inner),
        };
        state.persist(&state.lock())?;
        Ok(state)
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write the persistent part of the state atomically (temp file + rename).
    pub fn persist(&self, inner: &Inner) -> io::Result<()> {
        let Some(path) = &self.config.state_file else {
            return Ok(());
        };
        let p = Persisted {
            version: 1,
            users: inner.users.clone(),
            access_tokens: inner.access_tokens.clone(),
            refresh_tokens: inner.refresh_tokens.clone(),
        };
        let data = serde_json::to_vec_pretty(&p).map_err(io::Error::other)?;
        write_atomic(path, &data)
    }

    /// Persist, logging (not propagating) errors: used after each change.
    pub fn save(&self, inner: &Inner) {
        if let Err(e) = self.persist(inner) {
            eprintln!("velora-sandbox: cannot write state file: {e}");
        }
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

impl Inner {
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }

    /// Remove access and refresh tokens matching `pred(user_id, grant_id)`.
    /// Returns (access, refresh) counts removed.
    pub fn revoke_where(&mut self, pred: impl Fn(Option<&str>, &str) -> bool) -> (usize, usize) {
        let a = self.access_tokens.len();
        self.access_tokens
            .retain(|_, t| !pred(t.user_id.as_deref(), &t.grant_id));
        let r = self.refresh_tokens.len();
        self.refresh_tokens.retain(|_, t| !pred(Some(&t.user_id), &t.grant_id));
        (a - self.access_tokens.len(), r - self.refresh_tokens.len())
    }

    /// Drop expired codes/pending requests and stale rate windows.
    pub fn purge(&mut self, now: u64) {
        // Keep used/expired codes 10 minutes so reuse can still be detected.
        self.codes.retain(|_, c| c.expires_ms + 600_000 > now);
        self.pending.retain(|_, p| p.created_ms + 600_000 > now);
        if self.windows.len() > 10_000 {
            let secs = now / 1000;
            self.windows.retain(|_, w| w.start_secs + 60 > secs);
        }
    }
}

fn seed_users() -> Vec<User> {
    vec![
        User {
            id: DEMO_USER.into(),
            username: "demo_streamer".into(),
            display_name: "Demo Streamer".into(),
            streaming_enabled: true,
            title: "Building an awesome project!".into(),
            category_slug: "software-and-game-development".into(),
            tags: vec!["rust".into(), "obs".into()],
            stream_key: util::new_stream_key(),
            live: None,
        },
        User {
            id: NOSTREAM_USER.into(),
            username: "no_stream_user".into(),
            display_name: "No Stream User".into(),
            streaming_enabled: false,
            title: String::new(),
            category_slug: "just-chatting".into(),
            tags: Vec::new(),
            stream_key: util::new_stream_key(),
            live: None,
        },
    ]
}

fn seed_fake_streams(now: u64) -> Vec<FakeStream> {
    let seeds: [(&str, &str, &str, u64, u64); 7] = [
        ("pixelpanda", "Speedrunning retro platformers", "gaming", 1234, 95),
        ("synthwave_sam", "Late night synth jam", "music", 312, 48),
        ("brushstrokes", "Painting a mountain lake", "art", 87, 130),
        ("orbital_olga", "Rocket telemetry deep dive", "science", 542, 22),
        ("couch_talk", "Weekly community podcast", "talk", 205, 61),
        ("citywalker", "Walking through Lisbon", "irl", 1930, 180),
        ("rustacean_rita", "Writing a ray tracer in Rust", "dev", 76, 15),
    ];
    seeds
        .iter()
        .enumerate()
        .map(|(i, (name, title, _, viewers, minutes))| FakeStream {
            id: format!("stream_fake_{:02}", i + 1),
            user_id: format!("user_{name}"),
            username: (*name).into(),
            title: (*title).into(),
            viewer_count: *viewers,
            started_ms: now - minutes * 60_000,
        })
        .collect()
}
