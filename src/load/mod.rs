//! `ghforge load`: archive hours into bronze. Hours are fetched from a source (GH Archive over
//! HTTP, a mirror folder; transient failures are retried with backoff), decompressed as a
//! stream, checked line by line (bad lines go to quarantine, the rest of the hour still lands),
//! and each hour lands in one transaction with its ledger row, so an interrupted load never
//! leaves half an hour behind. Loaded hours are skipped unless `--force`.

pub mod bronze;
pub mod enrich;
pub mod github;
pub mod lines;
pub mod live;
pub mod objects;
pub mod snowflake;
pub mod source;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::archive::hours::Hour;

pub use source::{Backoff, FetchError, Fetched, Fetcher, Source};

/// How hours are loaded (as many at once as there are sinks).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Reload hours the ledger already has.
    pub force: bool,
    /// Further attempts after a transient failure.
    pub retries: u32,
    pub backoff: Backoff,
}

/// How one hour ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HourOutcome {
    Loaded {
        rows: u64,
        quarantined: u64,
        bytes: u64,
    },
    /// Already in the ledger as loaded.
    Skipped,
    /// The source has no such hour (a 404 upstream): normal, recorded, not a failure.
    Missing,
    Failed(String),
}

/// One hour's report.
#[derive(Debug, Clone)]
pub struct HourReport {
    pub hour: Hour,
    pub outcome: HourOutcome,
    pub elapsed: Duration,
    /// Why each earlier attempt failed, when the hour needed retries.
    pub retried: Vec<String>,
}

/// An hour's state in the load ledger (its `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerStatus {
    Loaded,
    /// Not in the source (a 404): the archive has gaps.
    Missing,
    /// Could not be landed after its retries.
    Failed,
}

impl LedgerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loaded => "loaded",
            Self::Missing => "missing",
            Self::Failed => "failed",
        }
    }
}

/// A sink could not read or write its load ledger.
#[derive(Debug, thiserror::Error)]
#[error("{action} the load ledger failed: {source}")]
pub struct LedgerError {
    action: &'static str,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl LedgerError {
    pub fn reading(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            action: "reading",
            source: Box::new(source),
        }
    }

    pub fn writing(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            action: "writing",
            source: Box::new(source),
        }
    }
}

/// Where one worker lands hours: the bronze tables of a DuckDB target, objects in a folder or
/// bucket (ledger in DuckDB), or the bronze tables of a Snowflake target. Each worker owns its
/// sink (its own connection or session).
pub trait Sink: Send {
    /// Whether `hour` is loaded, so a rerun skips it.
    fn is_loaded(&mut self, hour: Hour) -> Result<bool, LedgerError>;
    /// Record an hour that did not land (`missing`, `failed`), leaving landed rows alone.
    fn record(
        &mut self,
        hour: Hour,
        status: LedgerStatus,
        source: &str,
        message: &str,
    ) -> Result<(), LedgerError>;
    /// Land one hour from its gzipped body, whole or not at all.
    fn land(
        &mut self,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn std::io::Read + Send),
    ) -> Result<bronze::Landed, bronze::LandError>;
}

/// Load `hours` through `fetcher`, one worker per sink; `on_hour` is called as each hour
/// finishes.
pub fn load(
    fetcher: &Fetcher,
    sinks: Vec<Box<dyn Sink>>,
    hours: &[Hour],
    options: Options,
    on_hour: &(dyn Fn(&HourReport) + Sync),
) -> Vec<HourReport> {
    let queue = Mutex::new(hours.iter().copied().collect::<VecDeque<Hour>>());
    let reports = Mutex::new(Vec::with_capacity(hours.len()));
    std::thread::scope(|scope| {
        for mut sink in sinks.into_iter().take(hours.len().max(1)) {
            let queue = &queue;
            let reports = &reports;
            scope.spawn(move || {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop_front();
                    let Some(hour) = next else { break };
                    let report = load_hour(&mut *sink, fetcher, hour, options);
                    on_hour(&report);
                    reports
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(report);
                }
            });
        }
    });
    let mut reports = reports
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reports.sort_by_key(|r| r.hour);
    reports
}

/// Why one attempt at an hour did not land it.
enum AttemptError {
    Transient(String),
    Permanent(String),
}

fn load_hour(sink: &mut dyn Sink, fetcher: &Fetcher, hour: Hour, options: Options) -> HourReport {
    let started = Instant::now();
    let described = fetcher.describe(hour);
    let _span = tracing::info_span!("hour", %hour, source = %described).entered();
    let mut retried = Vec::new();
    let outcome = loop {
        if !options.force {
            match sink.is_loaded(hour) {
                Ok(true) => break HourOutcome::Skipped,
                Ok(false) => {}
                Err(err) => break HourOutcome::Failed(err.to_string()),
            }
        }
        match attempt(sink, fetcher, hour, &described) {
            Ok(outcome) => break outcome,
            Err(AttemptError::Transient(reason)) if (retried.len() as u32) < options.retries => {
                let seed = hour.start().timestamp() as u64 ^ (retried.len() as u64) << 40;
                let delay = options.backoff.delay(retried.len() as u32, seed);
                tracing::debug!(attempt = retried.len() + 1, ?delay, "retrying: {reason}");
                std::thread::sleep(delay);
                retried.push(reason);
            }
            Err(AttemptError::Transient(reason)) => {
                let attempts = retried.len() + 1;
                break fail(
                    sink,
                    hour,
                    &described,
                    format!(
                        "{reason} (gave up after {attempts} attempt{})",
                        if attempts == 1 { "" } else { "s" }
                    ),
                );
            }
            Err(AttemptError::Permanent(reason)) => {
                break fail(sink, hour, &described, reason);
            }
        }
    };
    let elapsed = started.elapsed();
    tracing::debug!(
        ?outcome,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        "hour done"
    );
    HourReport {
        hour,
        outcome,
        elapsed,
        retried,
    }
}

/// Fetch `hour` once and land it.
fn attempt(
    sink: &mut dyn Sink,
    fetcher: &Fetcher,
    hour: Hour,
    described: &str,
) -> Result<HourOutcome, AttemptError> {
    let mut body = match fetcher.fetch(hour) {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::Missing) => {
            return match sink.record(
                hour,
                LedgerStatus::Missing,
                described,
                "no such hour in the source",
            ) {
                Ok(()) => Ok(HourOutcome::Missing),
                Err(err) => Err(AttemptError::Permanent(format!(
                    "recording a missing hour failed: {err}"
                ))),
            };
        }
        Err(FetchError::Transient(reason)) => {
            return Err(AttemptError::Transient(format!("`{described}`: {reason}")));
        }
        Err(FetchError::Permanent(reason)) => {
            return Err(AttemptError::Permanent(format!("`{described}`: {reason}")));
        }
    };
    match sink.land(hour, described, &mut body) {
        Ok(landed) => Ok(HourOutcome::Loaded {
            rows: landed.rows,
            quarantined: landed.quarantined,
            bytes: landed.bytes,
        }),
        Err(bronze::LandError::Read(err)) => {
            let reason = format!(
                "`{described}` is damaged (truncated or not gzip): {err}; nothing of this hour was loaded"
            );
            // A download may have been cut by the network; a file on disk reads the same again.
            Err(if fetcher.source().is_remote() {
                AttemptError::Transient(reason)
            } else {
                AttemptError::Permanent(reason)
            })
        }
        // An object store may be restarting or throttling: worth another attempt.
        Err(err @ bronze::LandError::Store(_)) => Err(AttemptError::Transient(err.to_string())),
        Err(err) => Err(AttemptError::Permanent(err.to_string())),
    }
}

fn fail(sink: &mut dyn Sink, hour: Hour, source: &str, message: String) -> HourOutcome {
    // Keep what an earlier load landed; only an hour that is not loaded gets a `failed` row.
    if !matches!(sink.is_loaded(hour), Ok(true)) {
        let _ = sink.record(hour, LedgerStatus::Failed, source, &message);
    }
    HourOutcome::Failed(message)
}
