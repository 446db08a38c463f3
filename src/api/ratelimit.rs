//! Rate limiting: parsing the server's rate-limit headers and the client-side
//! budget that keeps one plugin well under the server's limit.
//!
//! Everything here is pure: the clock (`Instant` for the budget, `SystemTime`
//! for epoch / HTTP-date headers) is passed in, so the math is tested
//! deterministically.
//!
//! Headers understood:
//! * `Retry-After`: delay seconds or an HTTP-date (RFC 9110 §10.2.3);
//! * `X-RateLimit-Retry-After`: seconds;
//! * `X-RateLimit-Reset`: Unix epoch seconds (the sandbox's convention) or
//!   seconds from now; values above 1 000 000 000 are epochs;
//! * `X-RateLimit-Remaining`, `X-RateLimit-Limit`.

use reqwest::header::HeaderMap;
use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Values of `X-RateLimit-Reset` above this are Unix epoch seconds.
pub const EPOCH_THRESHOLD: u64 = 1_000_000_000;
/// The longest the client honours a server-imposed pause (a broken header must
/// not block the plugin for days).
pub const MAX_SERVER_BLOCK: Duration = Duration::from_secs(15 * 60);
/// Pause after a 429 that said nothing about how long to wait.
pub const DEFAULT_429_PAUSE: Duration = Duration::from_secs(10);

/// Who asked for a request. What the streamer asks (a click, an automation
/// request) may use the whole budget; background work (polling, key checks,
/// pushes of edited settings, retries) only [`BudgetConfig::background_max`]
/// of it, so a burst of failures never leaves a click without a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    #[default]
    User,
    Background,
}

/// Client-side budget: at most `max_requests` sent per rolling `window`, of
/// which at most `background_max` for [`Priority::Background`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    pub max_requests: u32,
    pub window: Duration,
    pub background_max: u32,
}

impl BudgetConfig {
    /// Two thirds of an environment's documented limit per minute, half of
    /// that for background work: the sandbox's 30/min gives 20 (10),
    /// production's 800/min gives 533 (266).
    pub const fn for_requests_per_minute(limit: u32) -> BudgetConfig {
        let max = limit / 3 * 2 + (limit % 3) * 2 / 3;
        let max = if max == 0 { 1 } else { max };
        let background = if max / 2 == 0 { 1 } else { max / 2 };
        BudgetConfig {
            max_requests: max,
            window: Duration::from_secs(60),
            background_max: background,
        }
    }

    /// The sandbox's (and a custom server's) 30 requests/minute.
    pub const DEFAULT: BudgetConfig = BudgetConfig::for_requests_per_minute(30);

    /// A budget that never refuses (tests).
    pub const UNLIMITED: BudgetConfig = BudgetConfig {
        max_requests: u32::MAX,
        window: Duration::from_secs(60),
        background_max: u32::MAX,
    };
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig::DEFAULT
    }
}

/// Sliding-window log of the instants requests were sent, and for whom.
#[derive(Clone, Debug)]
pub struct Budget {
    config: BudgetConfig,
    sent: VecDeque<(Instant, Priority)>,
}

impl Budget {
    pub fn new(config: BudgetConfig) -> Self {
        Budget {
            config,
            sent: VecDeque::new(),
        }
    }

    pub fn config(&self) -> BudgetConfig {
        self.config
    }

    fn prune(&mut self, now: Instant) {
        while let Some(&(t, _)) = self.sent.front() {
            if now.saturating_duration_since(t) >= self.config.window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
    }

    /// Requests still allowed at `now` (for what the streamer asks).
    pub fn remaining(&mut self, now: Instant) -> u32 {
        self.prune(now);
        let used = u32::try_from(self.sent.len()).unwrap_or(u32::MAX);
        self.config.max_requests.saturating_sub(used)
    }

    /// Takes one request from the budget, or says how long until one is free
    /// for `priority`.
    pub fn try_acquire(&mut self, now: Instant, priority: Priority) -> Result<(), Duration> {
        if self.config.max_requests == 0 {
            return Err(self.config.window);
        }
        self.prune(now);
        let total = self.sent.len() as u64;
        let free_at = |nth_oldest: Option<Instant>| {
            let oldest = nth_oldest.unwrap_or(now);
            (oldest + self.config.window)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1))
        };
        if total >= u64::from(self.config.max_requests) {
            return Err(free_at(self.sent.front().map(|e| e.0)));
        }
        if priority == Priority::Background {
            let background = self.sent.iter().filter(|e| e.1 == Priority::Background).count() as u64;
            if background >= u64::from(self.config.background_max) {
                let oldest = self.sent.iter().find(|e| e.1 == Priority::Background).map(|e| e.0);
                return Err(free_at(oldest));
            }
        }
        // Keep the log bounded even for huge budgets.
        if self.sent.len() < 100_000 {
            self.sent.push_back((now, priority));
        }
        Ok(())
    }
}

/// What one response said about rate limits. Durations are relative to the
/// `now` given to [`RateLimitHeaders::parse`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    /// Until the window resets (`X-RateLimit-Reset`).
    pub reset_in: Option<Duration>,
    /// `Retry-After`, else `X-RateLimit-Retry-After`.
    pub retry_after: Option<Duration>,
}

impl RateLimitHeaders {
    pub fn parse(headers: &HeaderMap, now: SystemTime) -> RateLimitHeaders {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let retry_after = get("retry-after")
            .and_then(|v| parse_retry_after(v, now))
            .or_else(|| get("x-ratelimit-retry-after").and_then(parse_seconds));
        RateLimitHeaders {
            limit: get("x-ratelimit-limit").and_then(parse_count),
            remaining: get("x-ratelimit-remaining").and_then(parse_count),
            reset_in: get("x-ratelimit-reset").and_then(|v| parse_reset(v, now)),
            retry_after,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == RateLimitHeaders::default()
    }
}

fn parse_count(v: &str) -> Option<u32> {
    // Some servers send "30.0" or a negative number when over the limit.
    if let Ok(n) = v.parse::<u64>() {
        return Some(u32::try_from(n).unwrap_or(u32::MAX));
    }
    let f = v.parse::<f64>().ok().filter(|f| f.is_finite())?;
    Some(if f <= 0.0 { 0 } else { f.min(u32::MAX as f64) as u32 })
}

/// Non-negative seconds, integer or decimal (rounded up to the millisecond).
pub fn parse_seconds(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(n) = v.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let f = v.parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0)?;
    Some(Duration::from_millis((f * 1000.0).ceil().min(u64::MAX as f64) as u64))
}

/// `Retry-After`: delay-seconds or HTTP-date. A date in the past means 0.
pub fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    if let Some(d) = parse_seconds(v) {
        return Some(d);
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `X-RateLimit-Reset`: epoch seconds (> 1e9) or delta seconds.
pub fn parse_reset(v: &str, now: SystemTime) -> Option<Duration> {
    let secs = parse_seconds(v)?;
    if secs.as_secs() > EPOCH_THRESHOLD {
        let at = UNIX_EPOCH.checked_add(secs)?;
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    } else {
        Some(secs)
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let s = s.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let sec = it.next()?.parse().ok()?;
    if it.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h, m, sec))
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_system_time(y: i64, mo: u32, d: u32, (h, mi, s): (u32, u32, u32)) -> Option<SystemTime> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// HTTP-date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the obsolete
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`) forms.
pub fn parse_http_date(v: &str) -> Option<SystemTime> {
    let v = v.trim();
    let parts: Vec<&str> = v.split_whitespace().collect();
    match parts.as_slice() {
        // IMF-fixdate
        [wd, d, mo, y, t, "GMT"] if wd.ends_with(',') => {
            let y: i64 = y.parse().ok()?;
            to_system_time(y, month(mo)?, d.parse().ok()?, hms(t)?)
        }
        // RFC 850
        [wd, date, t, "GMT"] if wd.ends_with(',') => {
            let mut it = date.split('-');
            let d: u32 = it.next()?.parse().ok()?;
            let mo = month(it.next()?)?;
            let yy: i64 = it.next()?.parse().ok()?;
            // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            let y = if yy < 100 {
                if yy < 70 {
                    2000 + yy
                } else {
                    1900 + yy
                }
            } else {
                yy
            };
            to_system_time(y, mo, d, hms(t)?)
        }
        // asctime
        [_wd, mo, d, t, y] => {
            let y: i64 = y.parse().ok()?;
            to_system_time(y, month(mo)?, d.parse().ok()?, hms(t)?)
        }
        _ => None,
    }
}

/// The last rate-limit state seen, for display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// Last `X-RateLimit-Limit` seen.
    pub limit: Option<u32>,
    /// Last `X-RateLimit-Remaining` seen.
    pub remaining: Option<u32>,
    /// Time left until the server's window resets, as of the snapshot
    /// (`None` when unknown or passed).
    pub reset_in: Option<Duration>,
    /// How long the client will refuse to send (a 429, Remaining=0, or the
    /// client-side budget); `None` when it would send now.
    pub blocked_for: Option<Duration>,
    /// Requests left in the client-side budget.
    pub budget_remaining: u32,
    /// The client-side budget.
    pub budget: BudgetConfig,
}

/// Why the limiter refuses to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client-side budget is used up: the plugin paces itself.
    Budget(Duration),
    /// The server said to wait (a 429 or Remaining=0 until Reset).
    Server(Duration),
}

impl Refusal {
    pub fn wait(self) -> Duration {
        match self {
            Refusal::Budget(d) | Refusal::Server(d) => d,
        }
    }
}

/// Budget plus the server's instructions. Not thread-safe by itself: the
/// client keeps it in a `Mutex` and never holds that lock during a request.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    budget: Budget,
    blocked_until: Option<Instant>,
    limit: Option<u32>,
    remaining: Option<u32>,
    reset_at: Option<Instant>,
}

impl RateLimiter {
    pub fn new(config: BudgetConfig) -> Self {
        RateLimiter {
            budget: Budget::new(config),
            blocked_until: None,
            limit: None,
            remaining: None,
            reset_at: None,
        }
    }

    /// May a request for `priority` be sent at `now`? On `Ok` one request was
    /// taken from the budget.
    pub fn acquire(&mut self, now: Instant, priority: Priority) -> Result<(), Refusal> {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Err(Refusal::Server(until - now));
            }
            self.blocked_until = None;
        }
        self.budget.try_acquire(now, priority).map_err(Refusal::Budget)
    }

    /// Records a response's headers. `status` 429 blocks for `Retry-After`
    /// (else the reset time, else [`DEFAULT_429_PAUSE`]); `Remaining: 0`
    /// blocks until the reset. Returns the pause imposed, if any.
    pub fn observe(&mut self, status: u16, h: &RateLimitHeaders, now: Instant) -> Option<Duration> {
        if h.limit.is_some() {
            self.limit = h.limit;
        }
        if h.remaining.is_some() {
            self.remaining = h.remaining;
        }
        if let Some(r) = h.reset_in {
            self.reset_at = Some(now + r.min(MAX_SERVER_BLOCK));
        }
        let pause = if status == 429 {
            Some(
                h.retry_after
                    .or(h.reset_in)
                    .unwrap_or(DEFAULT_429_PAUSE)
                    .max(Duration::from_secs(1)),
            )
        } else if h.remaining == Some(0) {
            // Without a reset time, the next request's answer tells.
            h.reset_in.or(h.retry_after)
        } else {
            None
        };
        let pause = pause.map(|p| p.min(MAX_SERVER_BLOCK)).filter(|p| !p.is_zero())?;
        let until = now + pause;
        if self.blocked_until.is_none_or(|b| b < until) {
            self.blocked_until = Some(until);
        }
        Some(pause)
    }

    pub fn snapshot(&mut self, now: Instant) -> RateLimitSnapshot {
        let blocked = self.blocked_until.filter(|u| *u > now).map(|u| u - now);
        let budget_remaining = self.budget.remaining(now);
        let budget_wait = if budget_remaining == 0 {
            let mut probe = self.budget.clone();
            probe.try_acquire(now, Priority::User).err()
        } else {
            None
        };
        RateLimitSnapshot {
            limit: self.limit,
            remaining: self.remaining,
            reset_in: self.reset_at.filter(|r| *r > now).map(|r| r - now),
            blocked_for: match (blocked, budget_wait) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            budget_remaining,
            budget: self.budget.config(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn at(epoch: u64) -> SystemTime {
        UNIX_EPOCH + secs(epoch)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn budget_sliding_window() {
        let t0 = Instant::now();
        let mut b = Budget::new(BudgetConfig {
            max_requests: 3,
            window: secs(60),
            background_max: 3,
        });
        assert_eq!(b.remaining(t0), 3);
        assert!(b.try_acquire(t0, Priority::User).is_ok());
        assert!(b.try_acquire(t0 + secs(10), Priority::User).is_ok());
        assert!(b.try_acquire(t0 + secs(20), Priority::User).is_ok());
        assert_eq!(b.remaining(t0 + secs(20)), 0);
        // Full: the oldest (t0) frees at t0+60.
        assert_eq!(b.try_acquire(t0 + secs(30), Priority::User), Err(secs(30)));
        assert_eq!(b.try_acquire(t0 + secs(59), Priority::User), Err(secs(1)));
        // A refusal does not consume anything.
        assert_eq!(b.remaining(t0 + secs(59)), 0);
        assert!(b.try_acquire(t0 + secs(60), Priority::User).is_ok());
        // Now t0+10, t0+20, t0+60 are in the window.
        assert_eq!(b.try_acquire(t0 + secs(61), Priority::User), Err(secs(9)));
        assert_eq!(b.remaining(t0 + secs(79)), 1);
        assert_eq!(b.remaining(t0 + secs(80)), 2);
        assert_eq!(b.remaining(t0 + secs(200)), 3);
    }

    #[test]
    fn default_budget_is_20_per_minute() {
        let t0 = Instant::now();
        let mut b = Budget::new(BudgetConfig::default());
        for i in 0..20 {
            assert!(b
                .try_acquire(t0 + Duration::from_millis(i * 100), Priority::User)
                .is_ok());
        }
        let wait = b.try_acquire(t0 + secs(5), Priority::User).unwrap_err();
        assert_eq!(wait, secs(55));
    }

    #[test]
    fn zero_budget_refuses() {
        let mut b = Budget::new(BudgetConfig {
            max_requests: 0,
            window: secs(60),
            background_max: 0,
        });
        assert_eq!(b.try_acquire(Instant::now(), Priority::User), Err(secs(60)));
    }

    #[test]
    fn retry_after_forms() {
        let now = at(784_111_000); // 1994-11-06T08:36:40Z
        assert_eq!(parse_retry_after("120", now), Some(secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
        // 1994-11-06T08:49:37Z = 784111777
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(secs(777)));
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            Some(secs(777))
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), Some(secs(777)));
        // In the past: no wait.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-5", "soon", "Sun, 06 Nov 1994 25:00:00 GMT", "NaN", "inf"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn http_date_epoch_math() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(UNIX_EPOCH));
        assert_eq!(
            parse_http_date("Mon, 19 Jan 2026 02:30:00 GMT"),
            Some(at(1_768_789_800))
        );
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(at(951_782_400)));
    }

    #[test]
    fn reset_epoch_or_delta() {
        let now = at(1_768_789_800);
        // Epoch (sandbox convention).
        assert_eq!(parse_reset("1768789845", now), Some(secs(45)));
        // Epoch in the past.
        assert_eq!(parse_reset("1768789000", now), Some(Duration::ZERO));
        // Delta seconds.
        assert_eq!(parse_reset("45", now), Some(secs(45)));
        assert_eq!(parse_reset("1000000000", now), Some(secs(1_000_000_000)));
        assert_eq!(parse_reset("x", now), None);
    }

    #[test]
    fn parses_header_map() {
        let now = at(1_768_789_800);
        let h = headers(&[
            ("X-RateLimit-Limit", "30"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "1768789830"),
            ("Retry-After", "7"),
            ("X-RateLimit-Retry-After", "9"),
        ]);
        let p = RateLimitHeaders::parse(&h, now);
        assert_eq!(
            p,
            RateLimitHeaders {
                limit: Some(30),
                remaining: Some(0),
                reset_in: Some(secs(30)),
                retry_after: Some(secs(7)),
            }
        );
        // X-RateLimit-Retry-After when Retry-After is absent or unparsable.
        let h = headers(&[("x-ratelimit-retry-after", "9"), ("retry-after", "later")]);
        assert_eq!(RateLimitHeaders::parse(&h, now).retry_after, Some(secs(9)));
        assert!(RateLimitHeaders::parse(&HeaderMap::new(), now).is_empty());
        // Odd counts.
        let h = headers(&[("x-ratelimit-remaining", "-1"), ("x-ratelimit-limit", "30.0")]);
        let p = RateLimitHeaders::parse(&h, now);
        assert_eq!((p.limit, p.remaining), (Some(30), Some(0)));
    }

    #[test]
    fn limiter_honours_429_retry_after() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        assert!(l.acquire(t0, Priority::User).is_ok());
        let h = RateLimitHeaders {
            retry_after: Some(secs(5)),
            ..Default::default()
        };
        assert_eq!(l.observe(429, &h, t0), Some(secs(5)));
        assert_eq!(l.acquire(t0 + secs(1), Priority::User), Err(Refusal::Server(secs(4))));
        assert_eq!(l.snapshot(t0 + secs(1)).blocked_for, Some(secs(4)));
        assert!(l.acquire(t0 + secs(5), Priority::User).is_ok());
        assert_eq!(l.snapshot(t0 + secs(5)).blocked_for, None);
    }

    #[test]
    fn limiter_429_without_retry_after_uses_reset_or_default() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        let h = RateLimitHeaders {
            reset_in: Some(secs(20)),
            ..Default::default()
        };
        assert_eq!(l.observe(429, &h, t0), Some(secs(20)));
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        assert_eq!(
            l.observe(429, &RateLimitHeaders::default(), t0),
            Some(DEFAULT_429_PAUSE)
        );
        // A 429 saying "0" still pauses a moment.
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        let h = RateLimitHeaders {
            retry_after: Some(Duration::ZERO),
            ..Default::default()
        };
        assert_eq!(l.observe(429, &h, t0), Some(secs(1)));
    }

    #[test]
    fn limiter_remaining_zero_blocks_until_reset() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        let h = RateLimitHeaders {
            limit: Some(30),
            remaining: Some(0),
            reset_in: Some(secs(42)),
            retry_after: None,
        };
        assert_eq!(l.observe(200, &h, t0), Some(secs(42)));
        assert_eq!(l.acquire(t0 + secs(2), Priority::User), Err(Refusal::Server(secs(40))));
        let snap = l.snapshot(t0 + secs(2));
        assert_eq!(snap.limit, Some(30));
        assert_eq!(snap.remaining, Some(0));
        assert_eq!(snap.reset_in, Some(secs(40)));
        assert!(l.acquire(t0 + secs(42), Priority::User).is_ok());
        // Remaining > 0: no block.
        let h = RateLimitHeaders {
            remaining: Some(3),
            reset_in: Some(secs(42)),
            ..Default::default()
        };
        assert_eq!(l.observe(200, &h, t0 + secs(43)), None);
        assert!(l.acquire(t0 + secs(43), Priority::User).is_ok());
    }

    #[test]
    fn limiter_caps_absurd_pauses() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        let h = RateLimitHeaders {
            retry_after: Some(secs(10_000_000)),
            ..Default::default()
        };
        assert_eq!(l.observe(429, &h, t0), Some(MAX_SERVER_BLOCK));
    }

    #[test]
    fn limiter_a_shorter_pause_does_not_shorten_a_longer_one() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig::UNLIMITED);
        let long = RateLimitHeaders {
            retry_after: Some(secs(30)),
            ..Default::default()
        };
        let short = RateLimitHeaders {
            retry_after: Some(secs(2)),
            ..Default::default()
        };
        l.observe(429, &long, t0);
        l.observe(429, &short, t0 + secs(1));
        assert_eq!(l.acquire(t0 + secs(5), Priority::User), Err(Refusal::Server(secs(25))));
    }

    #[test]
    fn limiter_budget_refusal_and_snapshot() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(BudgetConfig {
            max_requests: 2,
            window: secs(10),
            background_max: 2,
        });
        assert!(l.acquire(t0, Priority::User).is_ok());
        assert!(l.acquire(t0 + secs(1), Priority::User).is_ok());
        assert_eq!(l.acquire(t0 + secs(2), Priority::User), Err(Refusal::Budget(secs(8))));
        let s = l.snapshot(t0 + secs(2));
        assert_eq!(s.budget_remaining, 0);
        assert_eq!(s.blocked_for, Some(secs(8)));
        assert_eq!(s.budget.max_requests, 2);
        assert_eq!(l.snapshot(t0 + secs(10)).budget_remaining, 1);
    }

    #[test]
    fn budgets_follow_the_documented_limits() {
        let sandbox = BudgetConfig::for_requests_per_minute(30);
        assert_eq!((sandbox.max_requests, sandbox.background_max), (20, 10));
        assert_eq!(BudgetConfig::DEFAULT, sandbox);
        let production = BudgetConfig::for_requests_per_minute(800);
        assert_eq!((production.max_requests, production.background_max), (533, 266));
        let tiny = BudgetConfig::for_requests_per_minute(1);
        assert_eq!((tiny.max_requests, tiny.background_max), (1, 1));
    }

    #[test]
    fn background_work_never_takes_the_streamers_share() {
        let t0 = Instant::now();
        let mut b = Budget::new(BudgetConfig::for_requests_per_minute(30));
        // A storm of retries and polls: only half the budget.
        let mut sent = 0;
        while b.try_acquire(t0, Priority::Background).is_ok() {
            sent += 1;
        }
        assert_eq!(sent, 10);
        // The background waits for its own oldest request to leave the window...
        assert_eq!(b.try_acquire(t0 + secs(1), Priority::Background), Err(secs(59)));
        // ...while clicks still go through, up to the whole budget.
        for _ in 0..10 {
            assert!(b.try_acquire(t0 + secs(1), Priority::User).is_ok());
        }
        assert_eq!(b.try_acquire(t0 + secs(2), Priority::User), Err(secs(58)));
    }
}
