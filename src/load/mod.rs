//! `ghforge load`: archive hours into bronze. Hours are fetched from a source (GH Archive over
//! HTTP, a mirror folder; transient failures are retried with backoff), decompressed as a
//! stream, checked line by line (bad lines go to quarantine, the rest of the hour still lands),
//! and each hour lands in one transaction with its ledger row, so an interrupted load never
//! leaves half an hour behind. Loaded hours are skipped unless `--force`.

pub mod bronze;
pub mod lines;
pub mod objects;
pub mod source;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::archive::hours::Hour;

pub use source::{Backoff, FetchError, Fetched, Fetcher, Source};

/// How hours are loaded.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Hours loaded at once.
    pub jobs: usize,
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

/// Where hours land.
pub enum Destination {
    /// `bronze.events` / `bronze.quarantine` / `bronze.load_ledger` of the target database.
    Bronze,
    /// One object per hour in a folder or bucket; the ledger in the target database.
    Objects(objects::Objects),
}

impl Destination {
    fn is_loaded(&self, connection: &duckdb::Connection, hour: Hour) -> Result<bool, String> {
        match self {
            Self::Bronze => bronze::ledger_status(connection, hour)
                .map(|status| status.as_deref() == Some("loaded"))
                .map_err(|err| format!("reading the load ledger failed: {err}")),
            Self::Objects(objects) => objects.is_loaded(connection, hour),
        }
    }

    fn record(
        &self,
        connection: &duckdb::Connection,
        hour: Hour,
        status: &str,
        source: &str,
        message: &str,
    ) -> duckdb::Result<()> {
        match self {
            Self::Bronze => bronze::record(connection, hour, status, source, message),
            Self::Objects(objects) => objects.record(connection, hour, status, source, message),
        }
    }

    fn land(
        &self,
        connection: &duckdb::Connection,
        hour: Hour,
        source: &str,
        gzipped: &mut dyn std::io::Read,
    ) -> Result<bronze::Landed, bronze::LandError> {
        match self {
            Self::Bronze => bronze::land(connection, hour, source, gzipped),
            Self::Objects(objects) => objects.land(connection, hour, source, gzipped),
        }
    }
}

/// Load `hours` through `fetcher` into `destination` (its ledger in `database`); `on_hour` is
/// called as each hour finishes.
pub fn load(
    database: &duckdb::Connection,
    fetcher: &Fetcher,
    destination: &Destination,
    hours: &[Hour],
    options: Options,
    on_hour: &(dyn Fn(&HourReport) + Sync),
) -> Result<Vec<HourReport>, duckdb::Error> {
    database.execute_batch(match destination {
        Destination::Bronze => bronze::SCHEMA_SQL,
        Destination::Objects(_) => objects::LEDGER_SQL,
    })?;
    let queue = Mutex::new(hours.iter().copied().collect::<VecDeque<Hour>>());
    let reports = Mutex::new(Vec::with_capacity(hours.len()));
    let connections: Vec<duckdb::Connection> = (0..options.jobs.clamp(1, hours.len().max(1)))
        .map(|_| database.try_clone())
        .collect::<Result<_, _>>()?;
    std::thread::scope(|scope| {
        for connection in connections {
            let queue = &queue;
            let reports = &reports;
            scope.spawn(move || {
                let target = Target {
                    connection: &connection,
                    destination,
                };
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop_front();
                    let Some(hour) = next else { break };
                    let report = load_hour(&target, fetcher, hour, options);
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
    Ok(reports)
}

/// A worker's way into the destination: its own connection for the ledger (and bronze).
struct Target<'a> {
    connection: &'a duckdb::Connection,
    destination: &'a Destination,
}

/// Why one attempt at an hour did not land it.
enum AttemptError {
    Transient(String),
    Permanent(String),
}

fn load_hour(target: &Target<'_>, fetcher: &Fetcher, hour: Hour, options: Options) -> HourReport {
    let started = Instant::now();
    let described = fetcher.describe(hour);
    let mut retried = Vec::new();
    let outcome = loop {
        if !options.force {
            match target.destination.is_loaded(target.connection, hour) {
                Ok(true) => break HourOutcome::Skipped,
                Ok(false) => {}
                Err(err) => break HourOutcome::Failed(err),
            }
        }
        match attempt(target, fetcher, hour, &described) {
            Ok(outcome) => break outcome,
            Err(AttemptError::Transient(reason)) if (retried.len() as u32) < options.retries => {
                let seed = hour.start().timestamp() as u64 ^ (retried.len() as u64) << 40;
                std::thread::sleep(options.backoff.delay(retried.len() as u32, seed));
                retried.push(reason);
            }
            Err(AttemptError::Transient(reason)) => {
                let attempts = retried.len() + 1;
                break fail(
                    target,
                    hour,
                    &described,
                    format!(
                        "{reason} (gave up after {attempts} attempt{})",
                        if attempts == 1 { "" } else { "s" }
                    ),
                );
            }
            Err(AttemptError::Permanent(reason)) => {
                break fail(target, hour, &described, reason);
            }
        }
    };
    HourReport {
        hour,
        outcome,
        elapsed: started.elapsed(),
        retried,
    }
}

/// Fetch `hour` once and land it.
fn attempt(
    target: &Target<'_>,
    fetcher: &Fetcher,
    hour: Hour,
    described: &str,
) -> Result<HourOutcome, AttemptError> {
    let mut body = match fetcher.fetch(hour) {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::Missing) => {
            return match target.destination.record(
                target.connection,
                hour,
                "missing",
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
    match target
        .destination
        .land(target.connection, hour, described, &mut body)
    {
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
        Err(bronze::LandError::TimelineFormat) => Err(AttemptError::Permanent(
            "this hour is in the pre-2015 Timeline format, which ghforge does not load".to_owned(),
        )),
        Err(bronze::LandError::Database(err)) => {
            Err(AttemptError::Permanent(format!("database error: {err}")))
        }
        // An object store may be restarting or throttling: worth another attempt.
        Err(bronze::LandError::Store(err)) => Err(AttemptError::Transient(err)),
    }
}

fn fail(target: &Target<'_>, hour: Hour, source: &str, message: String) -> HourOutcome {
    // Keep what an earlier load landed; only an hour that is not loaded gets a `failed` row.
    if !matches!(
        target.destination.is_loaded(target.connection, hour),
        Ok(true)
    ) {
        let _ = target
            .destination
            .record(target.connection, hour, "failed", source, &message);
    }
    HourOutcome::Failed(message)
}
