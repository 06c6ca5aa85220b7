//! `ghforge load`: archive hours into bronze. Hours are read from a source (a local mirror
//! folder today; HTTP and S3 sources come next), decompressed as a stream, checked line by line
//! (bad lines go to quarantine, the rest of the hour still lands), and each hour lands in one
//! transaction with its ledger row, so an interrupted load never leaves half an hour behind.
//! Loaded hours are skipped unless `--force`.

pub mod bronze;
pub mod lines;

use std::collections::VecDeque;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::archive::hours::Hour;

/// Where hour files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder holding `YYYY-MM-DD-H.json.gz` files (also given as `file://...`).
    Directory(PathBuf),
}

impl Source {
    /// Parse `--source`: a folder path or `file://` URL. Remote sources are refused for now.
    pub fn parse(text: &str, project_root: &Path) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("file://") {
            return Ok(Self::Directory(PathBuf::from(path)));
        }
        if text.starts_with("http://") || text.starts_with("https://") || text.starts_with("s3://")
        {
            return Err(format!(
                "`{text}`: downloading from HTTP or S3 sources is not available in this version"
            ));
        }
        Ok(Self::Directory(project_root.join(text)))
    }

    fn describe(&self, hour: Hour) -> String {
        match self {
            Self::Directory(dir) => dir.join(hour.file_name()).display().to_string(),
        }
    }
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
}

/// Load `hours` from `source` into the bronze tables of `database`, with `jobs` workers;
/// `on_hour` is called as each hour finishes.
pub fn load(
    database: &duckdb::Connection,
    source: &Source,
    hours: &[Hour],
    jobs: usize,
    force: bool,
    on_hour: &(dyn Fn(&HourReport) + Sync),
) -> Result<Vec<HourReport>, duckdb::Error> {
    database.execute_batch(bronze::SCHEMA_SQL)?;
    let queue = Mutex::new(hours.iter().copied().collect::<VecDeque<Hour>>());
    let reports = Mutex::new(Vec::with_capacity(hours.len()));
    let connections: Vec<duckdb::Connection> = (0..jobs.clamp(1, hours.len().max(1)))
        .map(|_| database.try_clone())
        .collect::<Result<_, _>>()?;
    std::thread::scope(|scope| {
        for (worker, connection) in connections.into_iter().enumerate() {
            let queue = &queue;
            let reports = &reports;
            scope.spawn(move || {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop_front();
                    let Some(hour) = next else { break };
                    let started = Instant::now();
                    let outcome = load_hour(&connection, worker, source, hour, force);
                    let report = HourReport {
                        hour,
                        outcome,
                        elapsed: started.elapsed(),
                    };
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

fn load_hour(
    connection: &duckdb::Connection,
    worker: usize,
    source: &Source,
    hour: Hour,
    force: bool,
) -> HourOutcome {
    let described = source.describe(hour);
    if !force {
        match bronze::ledger_status(connection, hour) {
            Ok(Some(status)) if status == "loaded" => return HourOutcome::Skipped,
            Ok(_) => {}
            Err(err) => {
                return HourOutcome::Failed(format!("reading the load ledger failed: {err}"));
            }
        }
    }
    let Source::Directory(dir) = source;
    let path = dir.join(hour.file_name());
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return match bronze::record(
                connection,
                hour,
                "missing",
                &described,
                "no such hour in the source",
            ) {
                Ok(()) => HourOutcome::Missing,
                Err(err) => HourOutcome::Failed(format!("recording a missing hour failed: {err}")),
            };
        }
        Err(err) => {
            return fail(
                connection,
                hour,
                &described,
                format!("cannot read `{described}`: {err}"),
            );
        }
    };
    let checksum = crate::checksum::sha256_bytes(&bytes);
    let mut reader =
        BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(bytes.as_slice()));
    match bronze::land(
        connection,
        worker,
        hour,
        &described,
        bytes.len() as u64,
        &checksum,
        &mut reader,
    ) {
        Ok(landed) => HourOutcome::Loaded {
            rows: landed.rows,
            quarantined: landed.quarantined,
            bytes: bytes.len() as u64,
        },
        Err(bronze::LandError::Read(err)) => fail(
            connection,
            hour,
            &described,
            format!(
                "`{described}` is damaged (truncated or not gzip): {err}; nothing of this hour was loaded"
            ),
        ),
        Err(bronze::LandError::TimelineFormat) => fail(
            connection,
            hour,
            &described,
            "this hour is in the pre-2015 Timeline format, which ghforge does not load".to_owned(),
        ),
        Err(bronze::LandError::Database(err)) => fail(
            connection,
            hour,
            &described,
            format!("database error: {err}"),
        ),
    }
}

fn fail(connection: &duckdb::Connection, hour: Hour, source: &str, message: String) -> HourOutcome {
    // Keep what an earlier load landed; only an hour with no rows gets a `failed` ledger row.
    if !matches!(bronze::ledger_status(connection, hour), Ok(Some(status)) if status == "loaded") {
        let _ = bronze::record(connection, hour, "failed", source, &message);
    }
    HourOutcome::Failed(message)
}
