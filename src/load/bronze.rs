//! The bronze writer for DuckDB: `bronze.events` (every line as received, with lineage),
//! `bronze.quarantine` (rejected lines with their reason and raw bytes) and `bronze.load_ledger`
//! (one row per hour). Each hour lands in one transaction: all of it or nothing.

use std::io::{BufRead, BufReader, Read};

use duckdb::types::{TimeUnit, Value};
use duckdb::{Connection, params};

use crate::archive::hours::Hour;
use crate::checksum::HashingReader;

use super::lines::{self, Rejection};

pub const SCHEMA_SQL: &str = "
create schema if not exists bronze;
create table if not exists bronze.events (
    id varchar, type varchar, actor json, repo json, org json, payload json, public boolean,
    created_at timestamp, hour timestamp, source_file varchar, line_number bigint, loaded_at timestamp
);
create table if not exists bronze.quarantine (
    hour timestamp, source_file varchar, line_number bigint, reason varchar, raw blob, loaded_at timestamp
);
create table if not exists bronze.load_ledger (
    hour timestamp primary key, status varchar, source_file varchar, rows bigint, quarantined bigint,
    bytes bigint, checksum varchar, started_at timestamp, finished_at timestamp, message varchar
);
";

/// What an hour's load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Landed {
    pub rows: u64,
    pub quarantined: u64,
    /// Size of the gzipped body.
    pub bytes: u64,
}

/// The hour as a timestamp literal's text.
pub fn hour_literal(hour: Hour) -> String {
    hour.start().format("%Y-%m-%d %H:00:00").to_string()
}

/// The ledger status of `hour`, if it has one.
pub fn ledger_status(connection: &Connection, hour: Hour) -> duckdb::Result<Option<String>> {
    let mut statement = connection
        .prepare("select status from bronze.load_ledger where hour = cast(? as timestamp)")?;
    let mut rows = statement.query(params![hour_literal(hour)])?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}

/// Record an hour that did not land (missing upstream, or failed), leaving its rows untouched.
pub fn record(
    connection: &Connection,
    hour: Hour,
    status: &str,
    source: &str,
    message: &str,
) -> duckdb::Result<()> {
    connection.execute(
        "insert or replace into bronze.load_ledger values (cast(? as timestamp), ?, ?, 0, 0, 0, null, now(), now(), ?)",
        params![hour_literal(hour), status, source, message],
    )?;
    Ok(())
}

/// Why an hour could not land.
#[derive(Debug)]
pub enum LandError {
    /// The file could not be read to the end (truncated gzip, I/O error).
    Read(std::io::Error),
    /// Every event line is in the pre-2015 Timeline format.
    TimelineFormat,
    Database(duckdb::Error),
    /// The destination store refused the object.
    Store(String),
    /// A remote warehouse refused the rows.
    Warehouse(String),
}

impl From<duckdb::Error> for LandError {
    fn from(err: duckdb::Error) -> Self {
        Self::Database(err)
    }
}

/// Land one hour from its gzipped body in one transaction, together with its ledger row
/// (bytes and SHA-256 of the body): the hour's earlier rows (a `--force` reload) go, every line
/// lands in `bronze.events` or `bronze.quarantine`, and a failure or a kill leaves the hour as
/// it was. The body is decompressed as a stream and rows go through DuckDB appenders: the JSON
/// of each event is checked once, here, and stored as received, with no second parse.
pub fn land(
    connection: &Connection,
    hour: Hour,
    source: &str,
    gzipped: &mut dyn Read,
) -> Result<Landed, LandError> {
    let at = hour_literal(hour);
    connection.execute_batch("begin transaction")?;
    // Delete only when there is something to delete: a transaction that deletes from a table
    // keeps its appends to it in memory instead of writing them out as they come.
    if ledger_status(connection, hour)?.is_some() {
        connection.execute_batch(&format!(
            "delete from bronze.events where hour = timestamp '{at}';
             delete from bronze.quarantine where hour = timestamp '{at}';"
        ))?;
    }
    let mut body = HashingReader::new(gzipped);
    let appended = {
        let mut lines =
            BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(&mut body));
        append_hour(connection, hour, source, &mut lines)
    };
    let sealed = appended.and_then(|landed| {
        let (bytes, checksum) = body.finish().map_err(LandError::Read)?;
        connection.execute(
            "insert or replace into bronze.load_ledger values
                 (cast(? as timestamp), 'loaded', ?, ?, ?, ?, ?, now(), now(), null)",
            params![at, source, landed.rows, landed.quarantined, bytes, checksum],
        )?;
        connection.execute_batch("commit")?;
        Ok(Landed { bytes, ..landed })
    });
    if sealed.is_err() {
        let _ = connection.execute_batch("rollback");
    }
    sealed
}

/// Append every line of the hour (inside the caller's transaction).
fn append_hour(
    connection: &Connection,
    hour: Hour,
    source: &str,
    reader: &mut dyn BufRead,
) -> Result<Landed, LandError> {
    let micros = |at: chrono::DateTime<chrono::Utc>| {
        Value::Timestamp(TimeUnit::Microsecond, at.timestamp_micros())
    };
    let hour_value = micros(hour.start());
    let loaded_at = micros(chrono::Utc::now());
    let mut landed = Landed::default();
    let mut timeline = 0u64;
    let mut events = connection.appender_to_db("events", "bronze")?;
    let mut rejects = connection.appender_to_db("quarantine", "bronze")?;
    let mut line = Vec::with_capacity(1 << 16);
    let mut number: i64 = 0;
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(LandError::Read)?
            == 0
        {
            break;
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        match lines::parse(&line) {
            Ok(event) => {
                events.append_row(params![
                    event.id.as_ref(),
                    event.kind.as_ref(),
                    event.actor,
                    event.repo,
                    event.org,
                    event.payload,
                    event.public,
                    Value::Timestamp(TimeUnit::Microsecond, event.created_at),
                    hour_value,
                    source,
                    number,
                    loaded_at
                ])?;
                landed.rows += 1;
            }
            Err(rejection) => {
                if rejection == Rejection::TimelineFormat {
                    timeline += 1;
                }
                rejects.append_row(params![
                    hour_value,
                    source,
                    number,
                    rejection.reason(),
                    line.as_slice(),
                    loaded_at
                ])?;
                landed.quarantined += 1;
            }
        }
    }
    events.flush()?;
    rejects.flush()?;
    if landed.rows == 0 && timeline > 0 {
        return Err(LandError::TimelineFormat);
    }
    Ok(landed)
}

/// The bronze tables of a DuckDB target, for one load worker (its own connection).
pub struct BronzeSink {
    connection: Connection,
}

impl BronzeSink {
    /// A worker's sink on `connection`; the bronze tables must exist ([`SCHEMA_SQL`]).
    pub fn new(connection: Connection) -> Self {
        Self { connection }
    }
}

impl super::Sink for BronzeSink {
    fn is_loaded(&mut self, hour: Hour) -> Result<bool, String> {
        ledger_status(&self.connection, hour)
            .map(|status| status.as_deref() == Some("loaded"))
            .map_err(|err| format!("reading the load ledger failed: {err}"))
    }

    fn record(
        &mut self,
        hour: Hour,
        status: &str,
        source: &str,
        message: &str,
    ) -> Result<(), String> {
        record(&self.connection, hour, status, source, message).map_err(|err| err.to_string())
    }

    fn land(
        &mut self,
        hour: Hour,
        source: &str,
        gzipped: &mut dyn Read,
    ) -> Result<Landed, LandError> {
        land(&self.connection, hour, source, gzipped)
    }
}
