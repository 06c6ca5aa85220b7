//! The DuckDB adapter: one database per run, one connection per worker (`try_clone` of the
//! first), profile `settings` applied at open. A database file locked by another process is
//! waited for a bounded time, then reported with the lock holder.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use duckdb::types::{TimeUnit, Value};

use crate::project::nodes::Relation;
use crate::project::profiles::{DuckDbTarget, S3Config};
use crate::types::QueryTable;

use super::{Adapter, AdapterError, AdapterErrorKind, Column, RelationType, Response, Session};

/// How long to wait for another process to release the database file.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// An open DuckDB database.
pub struct DuckDbAdapter {
    root: Mutex<duckdb::Connection>,
    access: Access,
}

impl DuckDbAdapter {
    /// Open the target's database, applying its settings, extensions and S3 secret, waiting up
    /// to `lock_wait` for a lock held by another process.
    pub fn open(
        target: &DuckDbTarget,
        s3: Option<&S3Config>,
        lock_wait: Duration,
        access: Access,
    ) -> Result<Self, AdapterError> {
        let started = Instant::now();
        let connection = loop {
            match open_once(&target.path, access) {
                Ok(connection) => break connection,
                Err(err) if is_lock_error(&err) && started.elapsed() < lock_wait => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(err) if is_lock_error(&err) => {
                    return Err(AdapterError {
                        kind: AdapterErrorKind::Locked,
                        sql: None,
                        message: format!(
                            "database `{}` is in use by another process and stayed locked for {}s: {}",
                            target.path.display(),
                            lock_wait.as_secs(),
                            first_line(&err.to_string())
                        ),
                    });
                }
                Err(err) => {
                    return Err(AdapterError::new(format!(
                        "cannot open database `{}`: {err}",
                        target.path.display()
                    )));
                }
            }
        };
        for (key, value) in &target.settings {
            let sql = format!("SET {key} = '{}'", value.replace('\'', "''"));
            connection.execute_batch(&sql).map_err(|err| {
                AdapterError::new(format!("setting `{key}` = `{value}` failed: {err}"))
            })?;
        }
        for extension in &target.extensions {
            // A name (`httpfs`) or the path of an extension file (offline machines).
            let sql = if extension.contains(['/', '\\', '.']) {
                format!("LOAD '{}'", extension.replace('\'', "''"))
            } else {
                format!("LOAD {extension}")
            };
            connection.execute_batch(&sql).map_err(|err| {
                AdapterError::new(format!("loading extension `{extension}` failed: {err}"))
            })?;
        }
        if let Some(s3) = s3 {
            connection
                .execute_batch(&s3_secret_sql(s3))
                .map_err(|err| {
                    // The statement holds the keys: only DuckDB's message is shown.
                    AdapterError::new(format!("creating the S3 secret failed: {err}"))
                })?;
        }
        Ok(Self {
            root: Mutex::new(connection),
            access,
        })
    }
}

/// `CREATE SECRET` for the target's `s3:` block; without keys DuckDB uses the AWS credential
/// chain. Never logged: it holds the keys.
fn s3_secret_sql(s3: &S3Config) -> String {
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let mut options = vec!["TYPE s3".to_owned()];
    match (&s3.access_key_id, &s3.secret_access_key) {
        (Some(id), Some(secret)) => {
            options.push(format!("KEY_ID {}", quote(id.expose())));
            options.push(format!("SECRET {}", quote(secret.expose())));
            if let Some(token) = &s3.session_token {
                options.push(format!("SESSION_TOKEN {}", quote(token.expose())));
            }
        }
        _ => options.push("PROVIDER credential_chain".to_owned()),
    }
    if let Some(region) = &s3.region {
        options.push(format!("REGION {}", quote(region)));
    }
    if let Some(endpoint) = &s3.endpoint {
        let (ssl, host) = match endpoint.split_once("://") {
            Some((scheme, host)) => (scheme.eq_ignore_ascii_case("https"), host),
            None => (true, endpoint.as_str()),
        };
        options.push(format!("ENDPOINT {}", quote(host.trim_end_matches('/'))));
        options.push(format!("USE_SSL {ssl}"));
    }
    options.push(format!(
        "URL_STYLE {}",
        quote(if s3.path_style() { "path" } else { "vhost" })
    ));
    format!(
        "CREATE OR REPLACE SECRET ghforge_s3 ({})",
        options.join(", ")
    )
}

/// Whether a run may write to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Never create or change the file (`--dry-run`): an absent file is an empty in-memory
    /// database, an existing one is opened read-only.
    ReadOnly,
}

fn open_once(path: &Path, access: Access) -> duckdb::Result<duckdb::Connection> {
    if path.as_os_str() == ":memory:" || (access == Access::ReadOnly && !path.exists()) {
        return duckdb::Connection::open_in_memory();
    }
    if access == Access::ReadOnly {
        let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
        return duckdb::Connection::open_with_flags(path, config);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    duckdb::Connection::open(path)
}

fn is_lock_error(err: &duckdb::Error) -> bool {
    let text = err.to_string();
    text.contains("Could not set lock") || text.contains("Conflicting lock")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

impl DuckDbAdapter {
    /// A raw connection to the database, for DuckDB-specific work (the bronze loader's appenders).
    pub fn connection(&self) -> Result<duckdb::Connection, AdapterError> {
        let root = self
            .root
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        root.try_clone()
            .map_err(|err| AdapterError::new(format!("cannot open a connection: {err}")))
    }
}

impl Adapter for DuckDbAdapter {
    fn type_name(&self) -> &'static str {
        "duckdb"
    }

    fn session(&self) -> Result<Box<dyn Session>, AdapterError> {
        let root = self
            .root
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let connection = root
            .try_clone()
            .map_err(|err| AdapterError::new(format!("cannot open a connection: {err}")))?;
        Ok(super::logged(Box::new(DuckDbSession {
            connection,
            catalog: match self.access {
                Access::ReadOnly => Catalog::Unread,
                Access::ReadWrite => Catalog::Live,
            },
        })))
    }
}

struct DuckDbSession {
    connection: duckdb::Connection,
    /// Read-only sessions (`--dry-run`, `compile`): nothing in this process can change the
    /// catalog, so every relation's type is read once, in one query, instead of once per node.
    catalog: Catalog,
}

type RelationKey = (String, String, String);

/// How a session knows which relations exist.
enum Catalog {
    /// Asks the database each time (a session that writes).
    Live,
    /// Read-only, not read yet.
    Unread,
    /// Read-only: relation types by (database, schema, name).
    Read(std::collections::HashMap<RelationKey, RelationType>),
}

/// `table_type` as a relation type.
fn relation_type_of(kind: Option<&str>) -> Option<RelationType> {
    match kind {
        Some("VIEW") => Some(RelationType::View),
        Some(_) => Some(RelationType::Table),
        None => None,
    }
}

fn failed(sql: &str, err: &duckdb::Error) -> AdapterError {
    AdapterError {
        kind: AdapterErrorKind::Other,
        message: err.to_string(),
        sql: Some(sql.to_owned()),
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Session for DuckDbSession {
    fn execute(&mut self, sql: &str) -> Result<Response, AdapterError> {
        // A single statement reports its changed rows; a batch does not.
        let mut statement = match self.connection.prepare(sql) {
            Ok(statement) => statement,
            Err(_) => {
                self.connection
                    .execute_batch(sql)
                    .map_err(|err| failed(sql, &err))?;
                return Ok(Response {
                    rows_affected: None,
                    message: "OK".to_owned(),
                });
            }
        };
        let rows = statement.execute([]).map_err(|err| failed(sql, &err))?;
        Ok(Response {
            rows_affected: Some(rows as u64),
            message: "OK".to_owned(),
        })
    }

    fn query(&mut self, sql: &str) -> Result<QueryTable, AdapterError> {
        let mut statement = self
            .connection
            .prepare(sql)
            .map_err(|err| failed(sql, &err))?;
        let mut rows = statement.query([]).map_err(|err| failed(sql, &err))?;
        let mut table = QueryTable::default();
        while let Some(row) = rows.next().map_err(|err| failed(sql, &err))? {
            let statement = row.as_ref();
            if table.column_names.is_empty() {
                table.column_names = statement.column_names();
            }
            let mut values = Vec::with_capacity(table.column_names.len());
            for index in 0..table.column_names.len() {
                let value: Value = row.get(index).map_err(|err| failed(sql, &err))?;
                values.push(to_json(value));
            }
            table.rows.push(values);
        }
        if table.column_names.is_empty() {
            table.column_names = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
        }
        Ok(table)
    }

    fn relation_type(&mut self, relation: &Relation) -> Result<Option<RelationType>, AdapterError> {
        if matches!(self.catalog, Catalog::Unread) {
            let table = self.query(
                "select table_catalog, table_schema, table_name, table_type from information_schema.tables",
            )?;
            let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
            let relations = table
                .rows
                .iter()
                .filter_map(|row| match row.as_slice() {
                    [database, schema, name, kind] => Some((
                        (text(database), text(schema), text(name)),
                        relation_type_of(kind.as_str())?,
                    )),
                    _ => None,
                })
                .collect();
            self.catalog = Catalog::Read(relations);
        }
        if let Catalog::Read(relations) = &self.catalog {
            let key = (
                relation.database.clone(),
                relation.schema.clone(),
                relation.identifier.clone(),
            );
            return Ok(relations.get(&key).copied());
        }
        let sql = format!(
            "select table_type from information_schema.tables where table_catalog = {} and table_schema = {} and table_name = {}",
            literal(&relation.database),
            literal(&relation.schema),
            literal(&relation.identifier)
        );
        let table = self.query(&sql)?;
        Ok(table
            .rows
            .first()
            .and_then(|row| row.first())
            .and_then(|kind| relation_type_of(kind.as_str())))
    }

    fn columns(&mut self, relation: &Relation) -> Result<Vec<Column>, AdapterError> {
        let sql = format!(
            "select column_name, data_type from information_schema.columns where table_catalog = {} and table_schema = {} and table_name = {} order by ordinal_position",
            literal(&relation.database),
            literal(&relation.schema),
            literal(&relation.identifier)
        );
        Ok(self
            .query(&sql)?
            .rows
            .into_iter()
            .map(|row| Column {
                name: row
                    .first()
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                data_type: row
                    .get(1)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect())
    }

    fn query_columns(&mut self, select_sql: &str) -> Result<Vec<Column>, AdapterError> {
        let sql = format!(
            "describe select * from (\n{}\n) as ghforge_query",
            crate::types::body(select_sql)
        );
        Ok(self
            .query(&sql)?
            .rows
            .into_iter()
            .map(|row| {
                let text = |i: usize| row.get(i).and_then(|v| v.as_str()).unwrap_or_default();
                Column {
                    name: text(0).to_owned(),
                    data_type: text(1).to_owned(),
                }
            })
            .collect())
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        self.connection
            .execute_batch("BEGIN TRANSACTION")
            .map_err(|err| failed("BEGIN TRANSACTION", &err))
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        self.connection
            .execute_batch("COMMIT")
            .map_err(|err| failed("COMMIT", &err))
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.connection
            .execute_batch("ROLLBACK")
            .map_err(|err| failed("ROLLBACK", &err))
    }
}

/// A DuckDB value as JSON (timestamps and dates as ISO text).
fn to_json(value: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::TinyInt(i) => J::from(i),
        Value::SmallInt(i) => J::from(i),
        Value::Int(i) => J::from(i),
        Value::BigInt(i) => J::from(i),
        Value::UTinyInt(i) => J::from(i),
        Value::USmallInt(i) => J::from(i),
        Value::UInt(i) => J::from(i),
        Value::UBigInt(i) => J::from(i),
        Value::HugeInt(i) => i64::try_from(i).map_or_else(|_| J::from(i.to_string()), J::from),
        Value::UHugeInt(i) => u64::try_from(i).map_or_else(|_| J::from(i.to_string()), J::from),
        Value::Float(f) => J::from(f64::from(f)),
        Value::Double(f) => J::from(f),
        Value::Decimal(d) => d
            .to_string()
            .parse::<f64>()
            .map_or_else(|_| J::from(d.to_string()), J::from),
        Value::Text(s) | Value::Enum(s) => J::from(s),
        Value::Timestamp(unit, v) => {
            let micros = match unit {
                TimeUnit::Second => v.saturating_mul(1_000_000),
                TimeUnit::Millisecond => v.saturating_mul(1_000),
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v / 1_000,
            };
            chrono::DateTime::from_timestamp_micros(micros).map_or(J::Null, |t| {
                J::from(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
            })
        }
        Value::Date32(days) => chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)
            .map_or(J::Null, |t| J::from(t.date_naive().to_string())),
        Value::List(items) | Value::Array(items) => {
            J::Array(items.into_iter().map(to_json).collect())
        }
        Value::Struct(map) => J::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_json(v.clone())))
                .collect(),
        ),
        other => J::from(format!("{other:?}")),
    }
}
