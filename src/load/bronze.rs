//! The bronze writer for DuckDB: `bronze.events` (every line as received, with lineage),
//! `bronze.quarantine` (rejected lines with their reason and raw bytes) and `bronze.load_ledger`
//! (one row per hour). Each hour lands in one transaction: all of it or nothing.

use std::io::BufRead;

use duckdb::{Connection, params};

use crate::archive::hours::Hour;

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
}

fn hour_literal(hour: Hour) -> String {
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
}

impl From<duckdb::Error> for LandError {
    fn from(err: duckdb::Error) -> Self {
        Self::Database(err)
    }
}

/// Stream `reader` (the decompressed hour) into staging tables, then swap the hour into bronze
/// in one transaction together with its ledger row. `worker` names this connection's staging.
pub fn land(
    connection: &Connection,
    worker: usize,
    hour: Hour,
    source: &str,
    bytes: u64,
    checksum: &str,
    reader: &mut dyn BufRead,
) -> Result<Landed, LandError> {
    let stage = format!("_stage_{worker}");
    let stage_rejects = format!("_stage_rejects_{worker}");
    connection.execute_batch(&format!(
        "create or replace table bronze.{stage} (id varchar, type varchar, actor varchar, repo varchar, org varchar,
             payload varchar, public boolean, created_at varchar, line_number bigint);
         create or replace table bronze.{stage_rejects} (line_number bigint, reason varchar, raw blob);"
    ))?;
    let mut landed = Landed::default();
    let mut timeline = 0u64;
    {
        let mut events = connection.appender_to_db(&stage, "bronze")?;
        let mut rejects = connection.appender_to_db(&stage_rejects, "bronze")?;
        let mut line = Vec::with_capacity(4096);
        let mut number: i64 = 0;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(LandError::Read)?;
            if read == 0 {
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
                        event.id,
                        event.kind,
                        event.actor,
                        event.repo,
                        event.org,
                        event.payload,
                        event.public,
                        event.created_at,
                        number
                    ])?;
                    landed.rows += 1;
                }
                Err(rejection) => {
                    if rejection == Rejection::TimelineFormat {
                        timeline += 1;
                    }
                    rejects.append_row(params![number, rejection.reason(), line.as_slice()])?;
                    landed.quarantined += 1;
                }
            }
        }
        events.flush()?;
        rejects.flush()?;
    }
    if landed.rows == 0 && timeline > 0 {
        connection.execute_batch(&format!(
            "drop table bronze.{stage}; drop table bronze.{stage_rejects};"
        ))?;
        return Err(LandError::TimelineFormat);
    }
    let at = hour_literal(hour);
    let source_sql = source.replace('\'', "''");
    let checksum = checksum.replace('\'', "''");
    let swap = format!(
        "begin transaction;
         delete from bronze.events where hour = timestamp '{at}';
         delete from bronze.quarantine where hour = timestamp '{at}';
         insert into bronze.events
             select id, type, actor::json, repo::json, org::json, payload::json, public,
                    created_at::timestamp, timestamp '{at}', '{source_sql}', line_number, now()
             from bronze.{stage};
         insert into bronze.quarantine
             select timestamp '{at}', '{source_sql}', line_number, reason, raw, now() from bronze.{stage_rejects};
         insert or replace into bronze.load_ledger values (
             timestamp '{at}', 'loaded', '{source_sql}', {rows}, {quarantined}, {bytes}, '{checksum}', now(), now(), null);
         commit;
         drop table bronze.{stage};
         drop table bronze.{stage_rejects};",
        rows = landed.rows,
        quarantined = landed.quarantined,
    );
    if let Err(err) = connection.execute_batch(&swap) {
        let _ = connection.execute_batch("rollback");
        return Err(LandError::Database(err));
    }
    Ok(landed)
}
