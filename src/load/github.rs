//! A GitHub REST API client that behaves as GitHub documents, shared by `load --live` and
//! `enrich`: conditional requests (`If-None-Match`; a 304 costs no rate limit), the poll
//! interval GitHub asks for (`X-Poll-Interval`), a wait until `X-RateLimit-Reset` when
//! `X-RateLimit-Remaining` reaches 0, `Retry-After` on a 403/429 secondary limit, and 5xx or
//! timeouts retried with backoff and jitter. The token goes in the `Authorization` header only.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::Backoff;

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// `https://api.github.com`, a GitHub Enterprise API root, or a test server.
    pub api_url: String,
    pub token: Option<String>,
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Backoff,
}

/// Why a request gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 5xx, a timeout, a reset: worth another attempt.
    #[error("{0}")]
    Transient(String),
    /// A primary or secondary rate limit: come back after this long.
    #[error("rate limited by the API; waiting {}s", .0.as_secs())]
    RateLimited(Duration),
    /// Anything else (401, 422, a body that cannot be read).
    #[error("{0}")]
    Permanent(String),
}

/// What a request got.
#[derive(Debug)]
pub enum Answer {
    Fresh {
        body: Vec<u8>,
        etag: Option<String>,
    },
    /// 304: unchanged since the ETag sent.
    NotModified,
    /// 404, 410 or 451: not there (any more), or not to be shown.
    Gone(u16),
}

/// What the API said about pacing in its last answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pacing {
    /// The latest `X-Poll-Interval`.
    pub poll_interval: Duration,
    /// The latest `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// How long until the spent rate limit resets (zero when it is not spent).
    pub wait: Duration,
}

pub struct Github {
    client: reqwest::blocking::Client,
    options: ApiOptions,
    pacing: Mutex<Pacing>,
}

impl Github {
    pub fn new(options: ApiOptions) -> Result<Self, reqwest::Error> {
        let client = reqwest::blocking::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("ghforge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            options,
            pacing: Mutex::new(Pacing::default()),
        })
    }

    pub fn pacing(&self) -> Pacing {
        *self.lock()
    }

    /// Forget a rate-limit wait already served (a new round of requests starts).
    pub fn clear_wait(&self) {
        self.lock().wait = Duration::ZERO;
    }

    /// `GET {api}{path}`, conditional on `etag`, retrying 5xx, timeouts and rate limits.
    pub fn get(&self, path: &str, etag: Option<&str>) -> Result<Answer, ApiError> {
        let mut attempt = 0;
        loop {
            match self.get_once(path, etag) {
                Err(ApiError::Transient(reason)) if attempt < self.options.retries => {
                    let seed = path.len() as u64 ^ u64::from(attempt) << 40;
                    let delay = self.options.backoff.delay(attempt, seed);
                    tracing::debug!(attempt, ?delay, "retrying `{path}`: {reason}");
                    std::thread::sleep(delay);
                }
                // A limit says when to come back: wait that long, then retry.
                Err(ApiError::RateLimited(wait)) if attempt < self.options.retries => {
                    tracing::debug!(attempt, ?wait, "rate limited on `{path}`");
                    std::thread::sleep(wait);
                    self.lock().wait = Duration::ZERO;
                }
                other => return other,
            }
            attempt += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pacing> {
        self.pacing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_once(&self, path: &str, etag: Option<&str>) -> Result<Answer, ApiError> {
        let url = format!("{}{path}", self.options.api_url.trim_end_matches('/'));
        let mut request = self
            .client
            .get(&url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = &self.options.token {
            request = request.bearer_auth(token);
        }
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let response = request
            .send()
            .map_err(|err| ApiError::Transient(format!("`{url}`: {}", without_url(err))))?;
        let headers = response.headers();
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // The reset is a wall-clock time on GitHub's side: compare with the system clock.
        let until_reset = number("x-ratelimit-reset").map(|reset| {
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            Duration::from_secs(reset.saturating_sub(now) + 1)
        });
        let status = response.status();
        let retry_after = number("retry-after").map(Duration::from_secs);
        {
            let mut pacing = self.lock();
            if let Some(seconds) = number("x-poll-interval") {
                pacing.poll_interval = Duration::from_secs(seconds);
            }
            pacing.remaining = number("x-ratelimit-remaining").or(pacing.remaining);
            if pacing.remaining == Some(0)
                && let Some(wait) = until_reset
            {
                pacing.wait = pacing.wait.max(wait);
            }
            let limited = status == reqwest::StatusCode::FORBIDDEN
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
            let wait = retry_after.or(until_reset.filter(|_| pacing.remaining == Some(0)));
            if limited && let Some(wait) = wait {
                pacing.wait = pacing.wait.max(wait);
                return Err(ApiError::RateLimited(wait));
            }
        }
        match status.as_u16() {
            304 => return Ok(Answer::NotModified),
            code @ (404 | 410 | 451) => return Ok(Answer::Gone(code)),
            _ if status.is_server_error() => {
                return Err(ApiError::Transient(format!("`{url}` answered {status}")));
            }
            _ if !status.is_success() => {
                return Err(ApiError::Permanent(format!(
                    "`{url}` answered {status}; check `--api-url` and `GITHUB_TOKEN`"
                )));
            }
            _ => {}
        }
        let etag = headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .map_err(|err| ApiError::Transient(format!("`{url}`: {}", without_url(err))))?;
        Ok(Answer::Fresh {
            body: body.to_vec(),
            etag,
        })
    }
}

/// A request error without the URL reqwest adds (the caller names it once).
fn without_url(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let text = err.without_url().to_string();
    if timeout {
        format!("timed out ({text})")
    } else {
        text
    }
}
