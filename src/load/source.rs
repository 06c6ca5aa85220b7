//! Where hour files come from: GH Archive over HTTP(S), or a mirror in a folder or an S3 bucket
//! (through [`Storage`]). A fetch gives the hour's gzipped body (a file is streamed; a download
//! is held whole, ~100 MB for a busy hour, so it can be checked complete before it lands),
//! tells a missing hour (404) apart, and sorts errors into the ones worth retrying (5xx, 429,
//! timeouts, resets, short bodies) and the ones that are not.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::archive::hours::Hour;
use crate::project::profiles::S3Config;
use crate::storage::{Location, Storage};

/// GH Archive itself.
pub const DEFAULT_SOURCE: &str = "https://data.gharchive.org";

/// A parsed `--source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An HTTP(S) base URL; hour `H` is `<base>/<YYYY-MM-DD-H>.json.gz`.
    Http(String),
    /// A mirror: a folder (also `file://...`) or `s3://bucket/prefix` holding
    /// `YYYY-MM-DD-H.json.gz` files.
    Mirror(Location),
}

/// What a fetch found.
pub enum Fetched {
    /// The gzipped hour: a file streamed from disk, or a download held whole.
    Body(Box<dyn Read + Send>),
    /// The source has no such hour: a 404, or no file in the mirror.
    Missing,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Worth another attempt: a 5xx or 429, a timeout, a reset, a short body.
    Transient(String),
    /// Another attempt would fail the same way (403, a permissions error, a bad URL).
    Permanent(String),
}

impl Source {
    /// Parse `--source`: an `http(s)://` base URL, `s3://bucket/prefix`, a `file://` URL or a
    /// folder path (relative paths are taken from the project folder).
    pub fn parse(text: &str, project_root: &Path) -> Result<Self, String> {
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Self::Http(text.trim_end_matches('/').to_owned()));
        }
        Location::parse(text, project_root).map(Self::Mirror)
    }

    /// Whether a damaged body is worth fetching again (a proxy may have cut a download; a file
    /// on disk reads the same every time).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Self::Mirror(Location::Local(_)))
    }
}

/// Fetches hours, holding what a source needs between hours (the HTTP connection pool, the
/// storage client).
pub struct Fetcher {
    source: Source,
    client: Client,
}

enum Client {
    Http(String, reqwest::blocking::Client),
    Store(Box<dyn Storage>),
}

impl Fetcher {
    /// `timeout` bounds each wait for an HTTP server: the response head and every read of the
    /// body. `s3` is the target's object storage settings, for an `s3://` mirror.
    pub fn new(source: Source, timeout: Duration, s3: Option<&S3Config>) -> Result<Self, String> {
        let client = match &source {
            Source::Http(base) => Client::Http(
                base.clone(),
                reqwest::blocking::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout.min(Duration::from_secs(10)))
                    .user_agent(concat!("ghforge/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|err| format!("cannot start the HTTP client: {err}"))?,
            ),
            Source::Mirror(location) => {
                Client::Store(location.open(s3).map_err(|err| err.to_string())?)
            }
        };
        Ok(Self { source, client })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The file or URL of `hour`, for messages and the ledger.
    pub fn describe(&self, hour: Hour) -> String {
        match &self.client {
            Client::Http(base, _) => format!("{base}/{}", hour.file_name()),
            Client::Store(store) => store.url(&hour.file_name()),
        }
    }

    /// One attempt at `hour`.
    pub fn fetch(&self, hour: Hour) -> Result<Fetched, FetchError> {
        match &self.client {
            Client::Http(_, client) => download(client, &self.describe(hour)),
            Client::Store(store) => match store.get(&hour.file_name()) {
                Ok(Some(body)) => Ok(Fetched::Body(body)),
                Ok(None) => Ok(Fetched::Missing),
                Err(err) if self.source.is_remote() => Err(FetchError::Transient(err.to_string())),
                Err(err) => Err(FetchError::Permanent(err.to_string())),
            },
        }
    }
}

fn download(client: &reqwest::blocking::Client, url: &str) -> Result<Fetched, FetchError> {
    let mut response = client.get(url).send().map_err(|err| request_error(&err))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(Fetched::Missing);
    }
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(FetchError::Transient(format!("HTTP {status}")));
    }
    if !status.is_success() {
        return Err(FetchError::Permanent(format!("HTTP {status}")));
    }
    let expected = response.content_length();
    let mut body = Vec::with_capacity(expected.unwrap_or(1 << 20).min(1 << 30) as usize);
    response
        .read_to_end(&mut body)
        .map_err(|err| FetchError::Transient(format!("the download broke off: {err}")))?;
    if let Some(expected) = expected
        && body.len() as u64 != expected
    {
        return Err(FetchError::Transient(format!(
            "short body: {} of {expected} bytes",
            body.len()
        )));
    }
    Ok(Fetched::Body(Box::new(std::io::Cursor::new(body))))
}

fn request_error(err: &reqwest::Error) -> FetchError {
    let text = error_chain(err);
    if err.is_builder() {
        FetchError::Permanent(text)
    } else {
        // Connect failures, resets and timeouts are what retries are for.
        FetchError::Transient(text)
    }
}

/// An error with its causes (reqwest's own text alone says "error sending request").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Exponential backoff with full jitter: attempt `n` (from 0) waits a random time in
/// `[0, min(cap, base * 2^n)]`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        // splitmix64 of the seed: enough randomness to spread retries, no RNG dependency.
        let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        ceiling.mul_f64((x >> 11) as f64 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_by_scheme() {
        let root = Path::new("/p");
        assert_eq!(
            Source::parse("https://data.gharchive.org/", root),
            Ok(Source::Http("https://data.gharchive.org".to_owned()))
        );
        assert_eq!(
            Source::parse("file:///mirror", root),
            Ok(Source::Mirror(Location::Local("/mirror".into())))
        );
        assert_eq!(
            Source::parse("mirror", root),
            Ok(Source::Mirror(Location::Local("/p/mirror".into())))
        );
        assert!(Source::parse("s3://lake/archive", root).is_ok_and(|s| s.is_remote()));
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for attempt in 0..10 {
            for seed in 0..50 {
                let delay = backoff.delay(attempt, seed);
                let ceiling = Duration::from_millis(100 << attempt).min(Duration::from_secs(1));
                assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            }
        }
        let spread: std::collections::BTreeSet<_> =
            (0..20).map(|seed| backoff.delay(3, seed)).collect();
        assert!(spread.len() > 15, "jitter spreads the delays");
    }
}
