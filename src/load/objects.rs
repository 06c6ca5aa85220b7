//! Bronze as objects (`ghforge load --destination s3://bucket/prefix` or a folder): each hour
//! lands as one object under hive-style folders, `year=YYYY/month=MM/day=DD/hour=H/`, either as
//! received (`--format raw`, the gzipped NDJSON) or as Parquet with the bronze columns
//! (`--format parquet`; rejected lines go to the same key under `_quarantine/`). The ledger lives
//! in the target database (`bronze.object_ledger`) with each object's key, size and SHA-256; a
//! rerun skips an hour only when its object is still there with that size and checksum. An
//! object becomes visible only once whole, so a killed load never leaves a partial hour.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use duckdb::{Connection, params};

use crate::archive::hours::Hour;
use crate::checksum::HashingReader;
use crate::storage::Storage;

use super::bronze::{self, LandError, Landed, hour_literal};
use super::{LedgerError, LedgerStatus};

/// How hours are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The hour file as received (gzipped NDJSON).
    Raw,
    /// The bronze columns as Parquet, bad lines under `_quarantine/`.
    Parquet,
}

pub const LEDGER_SQL: &str = "
create schema if not exists bronze;
create table if not exists bronze.object_ledger (
    destination varchar, hour timestamp, status varchar, object_key varchar, rows bigint,
    quarantined bigint, bytes bigint, checksum varchar, source_file varchar,
    finished_at timestamp, message varchar, primary key (destination, hour)
);
";

/// The folder of an hour's objects.
pub fn folder(hour: Hour) -> String {
    let start = hour.start();
    start.format("year=%Y/month=%m/day=%d/hour=").to_string() + &start.format("%-H").to_string()
}

/// The key of an hour's object in `format`.
pub fn key(hour: Hour, format: Format) -> String {
    let name = hour.file_name();
    match format {
        Format::Raw => format!("{}/{name}", folder(hour)),
        Format::Parquet => format!(
            "{}/{}.parquet",
            folder(hour),
            name.trim_end_matches(".json.gz")
        ),
    }
}

/// The key of an hour's rejected lines (Parquet format): under `_quarantine/`, so a glob over
/// `year=*/...` reads events alone.
pub fn quarantine_key(hour: Hour) -> String {
    format!("_quarantine/{}", key(hour, Format::Parquet))
}

/// Where hours go: the store and the format.
pub struct Objects {
    pub storage: Box<dyn Storage>,
    pub format: Format,
    /// The destination's URL, the ledger's key.
    pub destination: String,
}

/// A ledger row of a loaded hour.
struct Recorded {
    key: String,
    bytes: u64,
    checksum: String,
}

impl Objects {
    /// Whether `hour` is loaded: in the ledger, and its object still there, whole.
    pub fn is_loaded(&self, ledger: &Connection, hour: Hour) -> Result<bool, LedgerError> {
        let recorded = self.recorded(ledger, hour).map_err(LedgerError::reading)?;
        let Some(recorded) = recorded else {
            return Ok(false);
        };
        let object = self
            .storage
            .head(&recorded.key)
            .map_err(LedgerError::reading)?;
        Ok(object.is_some_and(|object| {
            object.size == recorded.bytes
                && object
                    .sha256
                    .as_ref()
                    .is_none_or(|sha| *sha == recorded.checksum)
        }))
    }

    fn recorded(&self, ledger: &Connection, hour: Hour) -> duckdb::Result<Option<Recorded>> {
        let mut statement = ledger.prepare(
            "select object_key, bytes, checksum from bronze.object_ledger
             where destination = ? and hour = cast(? as timestamp) and status = 'loaded'",
        )?;
        let mut rows = statement.query(params![self.destination, hour_literal(hour)])?;
        Ok(match rows.next()? {
            Some(row) => Some(Recorded {
                key: row.get(0)?,
                bytes: row.get::<_, i64>(1)?.max(0) as u64,
                checksum: row.get(2)?,
            }),
            None => None,
        })
    }

    /// Record an hour that did not land (missing upstream, or failed).
    pub fn record(
        &self,
        ledger: &Connection,
        hour: Hour,
        status: LedgerStatus,
        source: &str,
        message: &str,
    ) -> duckdb::Result<()> {
        ledger.execute(
            "insert or replace into bronze.object_ledger values
                 (?, cast(? as timestamp), ?, null, 0, 0, 0, null, ?, now(), ?)",
            params![
                self.destination,
                hour_literal(hour),
                status.as_str(),
                source,
                message
            ],
        )?;
        Ok(())
    }

    /// Land one hour from its gzipped body: build the object in a scratch folder, upload it,
    /// then record it in the ledger.
    pub fn land(
        &self,
        ledger: &Connection,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn Read + Send),
    ) -> Result<Landed, LandError> {
        let scratch = tempfile::tempdir().map_err(LandError::Read)?;
        let (file, landed) = match self.format {
            Format::Raw => raw(scratch.path(), gzipped)?,
            Format::Parquet => self.parquet(scratch.path(), hour, source, gzipped)?,
        };
        let (bytes, checksum) =
            HashingReader::new(std::fs::File::open(&file).map_err(LandError::Read)?)
                .finish()
                .map_err(LandError::Read)?;
        let key = key(hour, self.format);
        self.storage
            .put_file(&key, &file, &checksum)
            .map_err(LandError::Store)?;
        ledger.execute(
            "insert or replace into bronze.object_ledger values
                 (?, cast(? as timestamp), 'loaded', ?, ?, ?, ?, ?, ?, now(), null)",
            params![
                self.destination,
                hour_literal(hour),
                key,
                landed.rows,
                landed.quarantined,
                bytes,
                checksum,
                source
            ],
        )?;
        Ok(Landed { bytes, ..landed })
    }

    /// Parse the hour into a scratch DuckDB file (the bronze writer, so lines are judged the
    /// same way), then copy it out as Parquet; a quarantine object goes up first when lines
    /// were rejected.
    fn parquet(
        &self,
        scratch: &Path,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn Read + Send),
    ) -> Result<(std::path::PathBuf, Landed), LandError> {
        let database = Connection::open(scratch.join("stage.duckdb"))?;
        // The scratch database spills to its folder rather than growing with the hour.
        database.execute_batch("SET memory_limit = '512MB'")?;
        database.execute_batch(bronze::SCHEMA_SQL)?;
        let landed = bronze::land(&database, hour, source, gzipped)?;
        let events = scratch.join("events.parquet");
        let copy = |table: &str, to: &Path| {
            database.execute_batch(&format!(
                "copy bronze.{table} to '{}' (format parquet)",
                to.display().to_string().replace('\'', "''")
            ))
        };
        copy("events", &events)?;
        if landed.quarantined == 0 {
            // A reload without rejects leaves no stale quarantine object behind.
            self.storage
                .delete(&[quarantine_key(hour)])
                .map_err(LandError::Store)?;
        } else {
            let rejects = scratch.join("quarantine.parquet");
            copy("quarantine", &rejects)?;
            let checksum =
                crate::checksum::sha256_bytes(&std::fs::read(&rejects).map_err(LandError::Read)?);
            self.storage
                .put_file(&quarantine_key(hour), &rejects, &checksum)
                .map_err(LandError::Store)?;
        }
        Ok((events, landed))
    }
}

/// Spool the body as received into the scratch folder and check it: whole gzip, line count.
fn raw(
    scratch: &Path,
    gzipped: &mut (dyn Read + Send),
) -> Result<(std::path::PathBuf, Landed), LandError> {
    let file = scratch.join("hour.json.gz");
    let mut out = std::fs::File::create(&file).map_err(LandError::Read)?;
    std::io::copy(gzipped, &mut out).map_err(LandError::Read)?;
    drop(out);
    let mut lines = BufReader::with_capacity(
        1 << 20,
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).map_err(LandError::Read)?),
    );
    let (mut rows, mut last) = (0u64, b'\n');
    loop {
        let buffer = lines.fill_buf().map_err(LandError::Read)?;
        let Some(&end) = buffer.last() else { break };
        rows += memchr::memchr_iter(b'\n', buffer).count() as u64;
        last = end;
        let consumed = buffer.len();
        lines.consume(consumed);
    }
    // A last line without its newline still counts.
    rows += u64::from(last != b'\n');
    Ok((
        file,
        Landed {
            rows,
            quarantined: 0,
            bytes: 0,
        },
    ))
}

/// Objects for one load worker: the shared store, and the worker's own connection to the
/// ledger database.
pub struct ObjectSink {
    pub objects: std::sync::Arc<Objects>,
    pub ledger: Connection,
}

impl super::Sink for ObjectSink {
    fn is_loaded(&mut self, hour: Hour) -> Result<bool, LedgerError> {
        self.objects.is_loaded(&self.ledger, hour)
    }

    fn record(
        &mut self,
        hour: Hour,
        status: LedgerStatus,
        source: &str,
        message: &str,
    ) -> Result<(), LedgerError> {
        self.objects
            .record(&self.ledger, hour, status, source, message)
            .map_err(LedgerError::writing)
    }

    fn land(
        &mut self,
        hour: Hour,
        source: &str,
        gzipped: &mut (dyn Read + Send),
    ) -> Result<Landed, LandError> {
        self.objects.land(&self.ledger, hour, source, gzipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hive_folders_with_unpadded_hours() {
        let hour = Hour::parse("2024-03-05T07").unwrap();
        assert_eq!(
            key(hour, Format::Raw),
            "year=2024/month=03/day=05/hour=7/2024-03-05-7.json.gz"
        );
        assert_eq!(
            key(hour, Format::Parquet),
            "year=2024/month=03/day=05/hour=7/2024-03-05-7.parquet"
        );
    }
}
