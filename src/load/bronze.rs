//! The bronze writer for DuckDB: `bronze.events` (every line as received, with lineage),
//! `bronze.quarantine` (rejected lines with their reason and raw bytes) and `bronze.load_ledger`
//! (one row per hour). Each hour lands in one transaction: all of it or nothing.

use std::io::{BufRead, BufReader, Read};

use duckdb::types::{TimeUnit, Value};
use duckdb::{Connection, params};

use crate::archive::hours::Hour;
use crate::checksum::HashingReader;

use super::lines::{self, Rejection};
use super::{LedgerError, LedgerStatus};

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
create table if not exists bronze.repo_metadata (
    repo_name varchar primary key, status varchar, http_status integer, etag varchar,
    fetched_at timestamp, body json
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
    status: LedgerStatus,
    source: &str,
    message: &str,
) -> duckdb::Result<()> {
    connection.execute(
        "insert or replace into bronze.load_ledger values (cast(? as timestamp), ?, ?, 0, 0, 0, null, now(), now(), ?)",
        params![hour_literal(hour), status.as_str(), source, message],
    )?;
    Ok(())
}

/// Why an hour could not land.
#[derive(Debug, thiserror::Error)]
pub enum LandError {
    /// The file could not be read to the end (truncated gzip, I/O error).
    #[error("cannot read the hour's file: {0}")]
    Read(std::io::Error),
    /// Every event line is in the pre-2015 Timeline format.
    #[error("this hour is in the pre-2015 Timeline format, which ghforge does not load")]
    TimelineFormat,
    #[error("database error: {0}")]
    Database(#[from] duckdb::Error),
    /// The destination store refused the object.
    #[error("{0}")]
    Store(#[from] crate::storage::StorageError),
    /// A remote warehouse refused the rows.
    #[error("warehouse error: {0}")]
    Warehouse(#[from] crate::adapters::AdapterError),
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
    gzipped: &mut (dyn Read + Send),
) -> Result<Landed, LandError> {
    let at = hour_literal(hour);
    connection.execute_batch("begin transaction")?;
    // Only an hour the ledger knows can have rows to replace (a first load skips the deletes).
    if ledger_status(connection, hour)?.is_some() {
        connection.execute_batch(&format!(
            "delete from bronze.events where hour = timestamp '{at}';
             delete from bronze.quarantine where hour = timestamp '{at}';"
        ))?;
    }
    // Reading, hashing and gunzip run on a thread of their own, a chunk ahead of the parsing
    // and appending here: a lone hour keeps two cores busy.
    let (appended, body) = std::thread::scope(|scope| {
        let (chunks, received) = std::sync::mpsc::sync_channel(4);
        let reader = scope.spawn(move || decompress(gzipped, &chunks));
        let mut lines = BufReader::with_capacity(1 << 20, ChunkReader::new(received));
        let appended = append_hour(connection, hour, source, &mut lines);
        // Dropping the receiving end stops the reader if the appends ended early.
        drop(lines);
        let body = reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the decompressing thread panicked")));
        (appended, body)
    });
    let sealed = appended.and_then(|landed| {
        let (bytes, checksum) = body.map_err(LandError::Read)?;
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

/// Gunzip `gzipped` into chunks of about 1 MiB sent to `chunks` (a read error is sent too, so
/// the appends stop on it); returns the size and SHA-256 of the compressed body.
fn decompress(
    gzipped: &mut (dyn Read + Send),
    chunks: &std::sync::mpsc::SyncSender<std::io::Result<Vec<u8>>>,
) -> std::io::Result<(u64, String)> {
    let mut body = HashingReader::new(gzipped);
    let mut decoder = flate2::read::MultiGzDecoder::new(&mut body);
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        let mut filled = 0;
        while filled < chunk.len() {
            match decoder.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let kind = err.kind();
                    let text = err.to_string();
                    let _ = chunks.send(Err(err));
                    return Err(std::io::Error::new(kind, text));
                }
            }
        }
        if filled == 0 {
            break;
        }
        chunk.truncate(filled);
        if chunks.send(Ok(chunk)).is_err() {
            // The appends stopped; their error is the one reported.
            return Err(std::io::Error::other("the load stopped"));
        }
    }
    drop(decoder);
    body.finish()
}

/// The receiving end of [`decompress`] as a reader.
struct ChunkReader {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    position: usize,
}

impl ChunkReader {
    fn new(chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>) -> Self {
        Self {
            chunks,
            current: Vec::new(),
            position: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.position = 0;
                }
                Ok(Err(err)) => return Err(err),
                // The sender is gone: the whole body was read.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.position);
        buf[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
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
    let loaded_at = micros(crate::clock::now());
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
                append_event(&mut events, &event, &hour_value, source, number, &loaded_at)?;
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

/// Append one judged event to `bronze.events`, with its hour and lineage (source and line).
pub fn append_event(
    events: &mut duckdb::Appender<'_>,
    event: &lines::BronzeEvent<'_>,
    hour: &Value,
    source: &str,
    line_number: i64,
    loaded_at: &Value,
) -> duckdb::Result<()> {
    events.append_row(params![
        event.id.as_ref(),
        event.kind.as_ref(),
        event.actor,
        event.repo,
        event.org,
        event.payload,
        event.public,
        Value::Timestamp(TimeUnit::Microsecond, event.created_at),
        hour,
        source,
        line_number,
        loaded_at
    ])
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
    fn is_loaded(&mut self, hour: Hour) -> Result<bool, LedgerError> {
        ledger_status(&self.connection, hour)
            .map(|status| status.as_deref() == Some(LedgerStatus::Loaded.as_str()))
            .map_err(LedgerError::reading)
    }

    fn record(
        &mut self,
        hour: Hour,
        status: LedgerStatus,
        source: &str,
        message: &str,
    ) -> Result<(), LedgerError> {
        record(&self.connection, hour, status, source, message).map_err(LedgerError::writing)
    }

    fn land(
        &mut self,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn Read + Send),
    ) -> Result<Landed, LandError> {
        land(&self.connection, hour, source, gzipped)
    }
}
