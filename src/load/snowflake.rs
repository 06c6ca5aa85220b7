//! The bronze writer for Snowflake, beside the DuckDB one in `bronze`: the same three
//! tables (`"bronze"."events"` with VARIANT objects, `"bronze"."quarantine"`,
//! `"bronze"."load_ledger"`) and the same rule, one hour lands whole in one transaction with
//! its ledger row or not at all. Lines travel as positional binds in multi-row
//! `insert ... select ... from (values ...)` statements, flushed every [`BATCH_ROWS`] rows or
//! [`BATCH_BYTES`] bytes, so memory stays bounded however busy the hour. `ghforge load` uses it
//! through [`SnowflakeSink`]. Names are quoted lowercase so `source('gharchive', 'events')`
//! (schema `bronze`) finds them.

use snowflake_connector_rs::{PositionalBinds, Statement};

use crate::adapters::AdapterError;
use crate::adapters::Session;
use crate::adapters::snowflake::SnowflakeSession;
use crate::archive::hours::Hour;

use super::bronze::{LandError, Landed};
use super::lines::{self, BronzeEvent};
use super::{LedgerError, LedgerStatus};

/// Rows per insert statement at most.
pub const BATCH_ROWS: usize = 500;
/// Bound bytes per insert statement at most (a busy hour has 100 KB lines).
pub const BATCH_BYTES: usize = 8 << 20;

/// Statements that create the bronze schema and tables when missing.
pub const SCHEMA_STATEMENTS: [&str; 5] = [
    "create schema if not exists \"bronze\"",
    "create table if not exists \"bronze\".\"events\" (id varchar, type varchar, actor variant, repo variant, org variant, payload variant, public boolean, created_at timestamp_ntz, hour timestamp_ntz, source_file varchar, line_number number(38,0), loaded_at timestamp_ntz)",
    "create table if not exists \"bronze\".\"quarantine\" (hour timestamp_ntz, source_file varchar, line_number number(38,0), reason varchar, raw binary, loaded_at timestamp_ntz)",
    "create table if not exists \"bronze\".\"load_ledger\" (hour timestamp_ntz, status varchar, source_file varchar, rows number(38,0), quarantined number(38,0), bytes number(38,0), checksum varchar, started_at timestamp_ntz, finished_at timestamp_ntz, message varchar)",
    "create table if not exists \"bronze\".\"repo_metadata\" (repo_name varchar, status varchar, http_status number(38,0), etag varchar, fetched_at timestamp_ntz, body variant)",
];

/// The gzipped body an hour came from, for its ledger row.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    pub bytes: u64,
    pub checksum: &'a str,
}

/// One event line, owned so a batch outlives the line buffer.
struct EventRow {
    id: String,
    kind: String,
    actor: String,
    repo: String,
    org: Option<String>,
    payload: String,
    public: Option<bool>,
    created_at: String,
    line: i64,
}

impl EventRow {
    fn new(event: &BronzeEvent<'_>, line: i64) -> Self {
        let created_at = chrono::DateTime::from_timestamp_micros(event.created_at)
            .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
            .unwrap_or_default();
        Self {
            id: event.id.to_string(),
            kind: event.kind.to_string(),
            actor: event.actor.to_owned(),
            repo: event.repo.to_owned(),
            org: event.org.map(str::to_owned),
            payload: event.payload.to_owned(),
            public: event.public,
            created_at,
            line,
        }
    }

    fn size(&self) -> usize {
        self.id.len()
            + self.kind.len()
            + self.actor.len()
            + self.repo.len()
            + self.org.as_ref().map_or(0, String::len)
            + self.payload.len()
            + 64
    }
}

/// One quarantined line.
struct RejectRow {
    line: i64,
    reason: String,
    raw_hex: String,
}

/// What is common to every row of the hour.
struct HourColumns {
    hour: String,
    source: String,
    loaded_at: String,
}

/// Land `lines` (the hour's decompressed lines, without their newlines, in file order) as
/// `hour` from `source`: in one transaction, delete the hour's earlier rows (a forced reload),
/// insert every line into `"bronze"."events"` or `"bronze"."quarantine"`, and replace its
/// ledger row with `loaded`. On any error the transaction is rolled back and the hour is as
/// it was. The tables must exist ([`SCHEMA_STATEMENTS`]).
pub fn land_hour(
    session: &mut SnowflakeSession,
    hour: Hour,
    source: &str,
    lines: impl IntoIterator<Item = Vec<u8>>,
    body: Body<'_>,
) -> Result<Landed, AdapterError> {
    session.begin()?;
    match insert_hour(session, hour, source, lines, body) {
        Ok(landed) => {
            session.commit()?;
            Ok(landed)
        }
        Err(err) => {
            let _ = session.rollback();
            Err(err)
        }
    }
}

fn insert_hour(
    session: &mut SnowflakeSession,
    hour: Hour,
    source: &str,
    lines: impl IntoIterator<Item = Vec<u8>>,
    body: Body<'_>,
) -> Result<Landed, AdapterError> {
    let stamp = |t: chrono::DateTime<chrono::Utc>| {
        t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    };
    let columns = HourColumns {
        hour: stamp(hour.start()),
        source: source.to_owned(),
        loaded_at: stamp(crate::clock::now()),
    };
    for table in ["events", "quarantine"] {
        session.execute_bound(
            Statement::new_positional(format!(
                "delete from \"bronze\".\"{table}\" where hour = to_timestamp_ntz(?)"
            ))
            .bind(columns.hour.clone()),
        )?;
    }
    let mut landed = Landed::default();
    let mut events: Vec<EventRow> = Vec::new();
    let mut events_bytes = 0;
    let mut rejects: Vec<RejectRow> = Vec::new();
    let mut rejects_bytes = 0;
    for (index, line) in lines.into_iter().enumerate() {
        let number = i64::try_from(index + 1).unwrap_or(i64::MAX);
        if line.is_empty() {
            continue;
        }
        match lines::parse(&line) {
            Ok(event) => {
                let row = EventRow::new(&event, number);
                events_bytes += row.size();
                events.push(row);
                landed.rows += 1;
            }
            Err(rejection) => {
                let row = RejectRow {
                    line: number,
                    reason: rejection.reason(),
                    raw_hex: line.iter().map(|b| format!("{b:02X}")).collect(),
                };
                rejects_bytes += row.raw_hex.len() + row.reason.len();
                rejects.push(row);
                landed.quarantined += 1;
            }
        }
        if events.len() >= BATCH_ROWS || events_bytes >= BATCH_BYTES {
            insert_events(session, &columns, &mut events)?;
            events_bytes = 0;
        }
        if rejects.len() >= BATCH_ROWS || rejects_bytes >= BATCH_BYTES {
            insert_rejects(session, &columns, &mut rejects)?;
            rejects_bytes = 0;
        }
    }
    insert_events(session, &columns, &mut events)?;
    insert_rejects(session, &columns, &mut rejects)?;
    session.execute_bound(
        Statement::new_positional(
            "delete from \"bronze\".\"load_ledger\" where hour = to_timestamp_ntz(?)",
        )
        .bind(columns.hour.clone()),
    )?;
    session.execute_bound(
        Statement::new_positional(
            "insert into \"bronze\".\"load_ledger\" (hour, status, source_file, rows, quarantined, bytes, checksum, started_at, finished_at, message) select to_timestamp_ntz(?), 'loaded', ?, ?, ?, ?, ?, to_timestamp_ntz(?), to_timestamp_ntz(?), null",
        )
        .bind(columns.hour.clone())
        .bind(columns.source.clone())
        .bind(landed.rows)
        .bind(landed.quarantined)
        .bind(body.bytes)
        .bind(body.checksum.to_owned())
        .bind(columns.loaded_at.clone())
        .bind(stamp(crate::clock::now())),
    )?;
    Ok(Landed {
        bytes: body.bytes,
        ..landed
    })
}

/// `(?, ?, ...), (...)` for `rows` rows of `width` binds.
fn placeholders(rows: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; rows].join(", ")
}

fn insert_events(
    session: &mut SnowflakeSession,
    columns: &HourColumns,
    rows: &mut Vec<EventRow>,
) -> Result<(), AdapterError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into \"bronze\".\"events\" (id, type, actor, repo, org, payload, public, created_at, hour, source_file, line_number, loaded_at) select column1, column2, parse_json(column3), parse_json(column4), parse_json(column5), parse_json(column6), column7, to_timestamp_ntz(column8), to_timestamp_ntz(?), ?, column9, to_timestamp_ntz(?) from (values {})",
        placeholders(rows.len(), 9)
    );
    let mut statement: Statement<PositionalBinds> = Statement::new_positional(sql)
        .bind(columns.hour.clone())
        .bind(columns.source.clone())
        .bind(columns.loaded_at.clone());
    for row in rows.drain(..) {
        statement = statement
            .bind(row.id)
            .bind(row.kind)
            .bind(row.actor)
            .bind(row.repo)
            .bind(row.org)
            .bind(row.payload)
            .bind(row.public)
            .bind(row.created_at)
            .bind(row.line);
    }
    session.execute_bound(statement).map(drop)
}

fn insert_rejects(
    session: &mut SnowflakeSession,
    columns: &HourColumns,
    rows: &mut Vec<RejectRow>,
) -> Result<(), AdapterError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into \"bronze\".\"quarantine\" (hour, source_file, line_number, reason, raw, loaded_at) select to_timestamp_ntz(?), ?, column1, column2, to_binary(column3, 'HEX'), to_timestamp_ntz(?) from (values {})",
        placeholders(rows.len(), 3)
    );
    let mut statement: Statement<PositionalBinds> = Statement::new_positional(sql)
        .bind(columns.hour.clone())
        .bind(columns.source.clone())
        .bind(columns.loaded_at.clone());
    for row in rows.drain(..) {
        statement = statement.bind(row.line).bind(row.reason).bind(row.raw_hex);
    }
    session.execute_bound(statement).map(drop)
}

/// The bronze tables of a Snowflake target, for one load worker (its own session).
pub struct SnowflakeSink {
    session: SnowflakeSession,
}

impl SnowflakeSink {
    /// A worker's sink; the bronze tables must exist ([`SCHEMA_STATEMENTS`]).
    pub fn new(session: SnowflakeSession) -> Self {
        Self { session }
    }

    fn hour_text(hour: Hour) -> String {
        hour.start().format("%Y-%m-%d %H:00:00").to_string()
    }
}

impl super::Sink for SnowflakeSink {
    fn is_loaded(&mut self, hour: Hour) -> Result<bool, LedgerError> {
        let table = self
            .session
            .query(&format!(
                "select status from \"bronze\".\"load_ledger\" where hour = to_timestamp_ntz('{}')",
                Self::hour_text(hour)
            ))
            .map_err(LedgerError::reading)?;
        Ok(table.rows.iter().any(|row| {
            row.first().and_then(serde_json::Value::as_str) == Some(LedgerStatus::Loaded.as_str())
        }))
    }

    fn record(
        &mut self,
        hour: Hour,
        status: LedgerStatus,
        source: &str,
        message: &str,
    ) -> Result<(), LedgerError> {
        let at = Self::hour_text(hour);
        self.session
            .execute_bound(
                Statement::new_positional(
                    "delete from \"bronze\".\"load_ledger\" where hour = to_timestamp_ntz(?)",
                )
                .bind(at.clone()),
            )
            .and_then(|_| {
                self.session.execute_bound(
                    Statement::new_positional(
                        "insert into \"bronze\".\"load_ledger\" (hour, status, source_file, rows, quarantined, bytes, checksum, started_at, finished_at, message) select to_timestamp_ntz(?), ?, ?, 0, 0, 0, null, current_timestamp(), current_timestamp(), ?",
                    )
                    .bind(at)
                    .bind(status.as_str().to_owned())
                    .bind(source.to_owned())
                    .bind(message.to_owned()),
                )
            })
            .map(drop)
            .map_err(LedgerError::writing)
    }

    /// The body is held whole (an hour is ~100 MB of gzip) and checked to decompress to its
    /// end before anything is sent, so a damaged hour never opens a transaction.
    fn land(
        &mut self,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn std::io::Read + Send),
    ) -> Result<Landed, LandError> {
        use std::io::BufRead;
        let mut compressed = Vec::new();
        gzipped
            .read_to_end(&mut compressed)
            .map_err(LandError::Read)?;
        std::io::copy(
            &mut flate2::read::MultiGzDecoder::new(compressed.as_slice()),
            &mut std::io::sink(),
        )
        .map_err(LandError::Read)?;
        let checksum = crate::checksum::sha256_bytes(&compressed);
        let lines = std::io::BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(compressed.as_slice()),
        )
        .split(b'\n')
        .map_while(Result::ok);
        land_hour(
            &mut self.session,
            hour,
            source,
            lines,
            Body {
                bytes: compressed.len() as u64,
                checksum: &checksum,
            },
        )
        .map_err(LandError::Warehouse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_make_one_group_per_row() {
        assert_eq!(placeholders(2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
