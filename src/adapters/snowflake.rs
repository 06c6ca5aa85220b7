//! The Snowflake adapter, on `snowflake-connector-rs`. The connector is async: the adapter owns
//! a small tokio runtime and every session call blocks on it, so the engine's worker threads see
//! the same synchronous [`Session`] as with DuckDB. Each worker logs in once.
//!
//! Login: password or key pair (PKCS#8 PEM at `private_key_path`, encrypted with
//! `private_key_passphrase` when given), with role, warehouse, database and schema, and always
//! the `QUERY_TAG` session parameter (the profile's `query_tag`, else `ghforge`): Snowflake
//! accepts it and emulators need at least one parameter. `endpoint` replaces
//! `https://<account>.snowflakecomputing.com` (private links, a local emulator).
//!
//! Plans arrive in Snowflake SQL (`crate::plan::dialect::Snowflake`) and are sent as written;
//! the only protocol need kept here is splitting a batch into single statements (the SQL API
//! runs one per request). A query's columns are described from a zero-row select. Views are
//! looked up in `information_schema.views` as well as `tables`.
//!
//! Secrets: passwords, passphrases and key text only go into the connector's login; errors name
//! the key file, never its contents.

mod statements;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value as Json;
use snowflake_connector_rs::{
    AuthConfig, CellValue, Client, ClientConfig, ColumnType, EndpointConfig, ErrorKind,
    KeyPairConfig, SessionConfig,
};

use crate::project::nodes::Relation;
use crate::project::profiles::{SnowflakeTarget, Target};
use crate::types::QueryTable;

use super::{Adapter, AdapterError, AdapterErrorKind, Column, RelationType, Response, Session};

/// The query tag sent at login when the profile sets none.
pub const DEFAULT_QUERY_TAG: &str = "ghforge";

/// A Snowflake account, logged in once to check the credentials.
pub struct SnowflakeAdapter {
    runtime: Arc<tokio::runtime::Runtime>,
    client: Client,
    /// The session opened by [`SnowflakeAdapter::open`], handed to the first caller.
    first: Mutex<Option<snowflake_connector_rs::Session>>,
    describe: String,
}

impl SnowflakeAdapter {
    /// Build the client of `target` and log in once, so bad credentials fail before any work.
    pub fn open(target: &Target, snowflake: &SnowflakeTarget) -> Result<Self, AdapterError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ghforge-snowflake")
            .enable_all()
            .build()
            .map_err(|err| {
                AdapterError::new(format!("cannot start the Snowflake client runtime: {err}"))
            })?;
        let client = Client::new(client_config(target, snowflake)?).map_err(|err| {
            AdapterError::new(format!(
                "invalid Snowflake client settings: {}",
                describe_error(&err)
            ))
        })?;
        let describe = format!(
            "user `{}` on account `{}`{}{}",
            snowflake.user,
            snowflake.account,
            snowflake
                .endpoint
                .as_ref()
                .map(|e| format!(" at `{e}`"))
                .unwrap_or_default(),
            snowflake
                .private_key_path
                .as_ref()
                .map(|p| format!(" with the private key `{}`", p.display()))
                .unwrap_or_default()
        );
        let adapter = Self {
            runtime: Arc::new(runtime),
            client,
            first: Mutex::new(None),
            describe,
        };
        let session = adapter.login()?;
        *adapter.first.lock().unwrap_or_else(PoisonError::into_inner) = Some(session);
        Ok(adapter)
    }

    fn login(&self) -> Result<snowflake_connector_rs::Session, AdapterError> {
        self.runtime
            .block_on(self.client.create_session())
            .map_err(|err| {
                AdapterError::new(format!(
                    "Snowflake login failed for {}: {}",
                    self.describe,
                    describe_error(&err)
                ))
            })
    }
}

/// The connector's settings for `target`; reads the private key file when there is one.
fn client_config(
    target: &Target,
    snowflake: &SnowflakeTarget,
) -> Result<ClientConfig, AdapterError> {
    let auth = match (&snowflake.private_key_path, &snowflake.password) {
        (Some(path), _) => {
            let pem = std::fs::read_to_string(path).map_err(|err| {
                AdapterError::new(format!(
                    "cannot read the private key `{}` of target `{}`: {err}",
                    path.display(),
                    target.name
                ))
            })?;
            AuthConfig::key_pair(match &snowflake.private_key_passphrase {
                Some(passphrase) => {
                    KeyPairConfig::from_encrypted_pem(pem, passphrase.expose().as_bytes())
                }
                None => KeyPairConfig::from_pem(pem),
            })
        }
        (None, Some(password)) => AuthConfig::password(password.expose()),
        (None, None) => {
            return Err(AdapterError::new(format!(
                "Snowflake target `{}` has neither `password` nor `private_key_path`",
                target.name
            )));
        }
    };
    let query_tag = snowflake
        .query_tag
        .clone()
        .unwrap_or_else(|| DEFAULT_QUERY_TAG.to_owned());
    let mut session = SessionConfig::new()
        .with_database(&target.database)
        .with_schema(&target.schema)
        .with_session_parameter("QUERY_TAG", Json::from(query_tag));
    if let Some(warehouse) = &snowflake.warehouse {
        session = session.with_warehouse(warehouse);
    }
    if let Some(role) = &snowflake.role {
        session = session.with_role(role);
    }
    let mut config =
        ClientConfig::new(&snowflake.user, &snowflake.account, auth).with_session(session);
    if let Some(endpoint) = &snowflake.endpoint {
        let url = reqwest::Url::parse(endpoint).map_err(|err| {
            AdapterError::new(format!(
                "`endpoint` `{endpoint}` of target `{}` is not a URL: {err}",
                target.name
            ))
        })?;
        config = config.with_endpoint(EndpointConfig::custom_base_url(url));
    }
    Ok(config)
}

/// The connector's error as one line: Snowflake's code and message when the server sent them,
/// else the error with its causes.
fn describe_error(err: &snowflake_connector_rs::Error) -> String {
    match (err.snowflake_code(), err.snowflake_message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) if err.kind() == ErrorKind::Auth => {
            format!("authentication rejected: {message}")
        }
        (None, Some(message)) => message.to_owned(),
        (code, None) => {
            let mut text = code.map(|c| format!("{c}: ")).unwrap_or_default();
            text.push_str(&err.to_string());
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

impl SnowflakeAdapter {
    /// A session with Snowflake-only operations (bound statements for bulk loads).
    pub fn snowflake_session(&self) -> Result<SnowflakeSession, AdapterError> {
        let first = self
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let session = match first {
            Some(session) => session,
            None => self.login()?,
        };
        Ok(SnowflakeSession {
            runtime: self.runtime.clone(),
            session,
        })
    }
}

impl Adapter for SnowflakeAdapter {
    fn type_name(&self) -> &'static str {
        "snowflake"
    }

    fn session(&self) -> Result<Box<dyn Session>, AdapterError> {
        Ok(super::logged(Box::new(self.snowflake_session()?)))
    }
}

/// One logged-in Snowflake session of a worker.
pub struct SnowflakeSession {
    runtime: Arc<tokio::runtime::Runtime>,
    session: snowflake_connector_rs::Session,
}

/// A statement's result: column names and their types, and the rows as the connector typed them.
struct Fetched {
    columns: Vec<(String, ColumnType)>,
    rows: Vec<Vec<CellValue>>,
}

impl SnowflakeSession {
    /// The connector's session, for Snowflake-specific work (binds, bulk loads).
    pub fn connector(&self) -> &snowflake_connector_rs::Session {
        &self.session
    }

    /// Block on a future of this session's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Run a statement with positional binds (bulk inserts); the rows it changed.
    pub fn execute_bound(
        &mut self,
        statement: snowflake_connector_rs::Statement<snowflake_connector_rs::PositionalBinds>,
    ) -> Result<Option<u64>, AdapterError> {
        // The statement text without its bound values, which may be large or private.
        let sql = statement.sql().to_owned();
        self.run(statement, &sql)
            .map(|fetched| rows_affected(&fetched))
    }

    fn fetch(&self, sql: &str) -> Result<Fetched, AdapterError> {
        self.run(sql.to_owned(), sql)
    }

    fn run(
        &self,
        statement: impl snowflake_connector_rs::IntoStatement,
        sql: &str,
    ) -> Result<Fetched, AdapterError> {
        let failed = |err: snowflake_connector_rs::Error| AdapterError {
            kind: AdapterErrorKind::Other,
            message: describe_error(&err),
            sql: Some(sql.to_owned()),
        };
        self.runtime.block_on(async {
            let cursor = self.session.query(statement).await.map_err(failed)?;
            let columns = cursor
                .schema()
                .columns()
                .iter()
                .map(|c| (c.name().to_owned(), c.ty().clone()))
                .collect();
            let rows: Vec<snowflake_connector_rs::DynamicRow> =
                cursor.collect().await.map_err(failed)?;
            Ok(Fetched {
                columns,
                rows: rows
                    .into_iter()
                    .map(|row| row.into_parts().1.into_vec())
                    .collect(),
            })
        })
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"DB".information_schema` of the relation's database (the current one when it has none).
fn information_schema(relation: &Relation) -> String {
    if relation.database.is_empty() {
        "information_schema".to_owned()
    } else {
        format!(
            "{}.information_schema",
            crate::types::quote(&relation.database)
        )
    }
}

impl Session for SnowflakeSession {
    fn execute(&mut self, sql: &str) -> Result<Response, AdapterError> {
        let mut response = Response {
            rows_affected: None,
            message: "OK".to_owned(),
        };
        for statement in statements::split(sql) {
            let fetched = self.fetch(statement)?;
            response = Response {
                rows_affected: rows_affected(&fetched),
                message: status_message(&fetched).unwrap_or_else(|| "OK".to_owned()),
            };
        }
        Ok(response)
    }

    fn query(&mut self, sql: &str) -> Result<QueryTable, AdapterError> {
        let fetched = self.fetch(sql)?;
        Ok(QueryTable {
            column_names: fetched.columns.into_iter().map(|(name, _)| name).collect(),
            rows: fetched
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(to_json).collect())
                .collect(),
        })
    }

    fn relation_type(&mut self, relation: &Relation) -> Result<Option<RelationType>, AdapterError> {
        let schema = information_schema(relation);
        let filter = format!(
            "table_schema = {} and table_name = {}",
            literal(&relation.schema),
            literal(&relation.identifier)
        );
        let sql = format!(
            "select 'view' as kind from {schema}.views where {filter}\nunion all\nselect 'table' as kind from {schema}.tables where {filter} and table_type <> 'VIEW'"
        );
        let table = self.query(&sql)?;
        let kinds: Vec<Option<&str>> = table
            .rows
            .iter()
            .map(|row| row.first().and_then(Json::as_str))
            .collect();
        Ok(if kinds.contains(&Some("view")) {
            Some(RelationType::View)
        } else if kinds.is_empty() {
            None
        } else {
            Some(RelationType::Table)
        })
    }

    /// From a zero-row select: the result's column types are the query's.
    fn query_columns(&mut self, select_sql: &str) -> Result<Vec<Column>, AdapterError> {
        let sql = format!(
            "select * from (\n{}\n) limit 0",
            crate::types::body(select_sql)
        );
        let fetched = self.fetch(&sql)?;
        Ok(fetched
            .columns
            .into_iter()
            .map(|(name, ty)| Column {
                name,
                data_type: sql_type(&ty),
            })
            .collect())
    }

    fn columns(&mut self, relation: &Relation) -> Result<Vec<Column>, AdapterError> {
        let sql = format!(
            "select column_name, data_type, numeric_precision, numeric_scale from {}.columns where table_schema = {} and table_name = {} order by ordinal_position",
            information_schema(relation),
            literal(&relation.schema),
            literal(&relation.identifier)
        );
        Ok(self
            .query(&sql)?
            .rows
            .into_iter()
            .map(|row| {
                let text = |i: usize| row.get(i).and_then(Json::as_str).unwrap_or_default();
                let number = |i: usize| row.get(i).and_then(Json::as_u64);
                let data_type = match (text(1), number(2), number(3)) {
                    ("NUMBER" | "DECIMAL" | "NUMERIC", Some(precision), scale) => {
                        format!("NUMBER({precision},{})", scale.unwrap_or(0))
                    }
                    (other, _, _) => other.to_owned(),
                };
                Column {
                    name: text(0).to_owned(),
                    data_type,
                }
            })
            .collect())
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        self.fetch("begin")?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        self.fetch("commit").map(drop)
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        self.fetch("rollback").map(drop)
    }
}

/// Rows a DML statement changed: Snowflake answers with `number of rows inserted` (`updated`,
/// `deleted`, ...) columns; their sum. `None` for other statements.
fn rows_affected(fetched: &Fetched) -> Option<u64> {
    let counted = !fetched.columns.is_empty()
        && fetched
            .columns
            .iter()
            .all(|(name, _)| name.to_ascii_lowercase().starts_with("number of rows"));
    if !counted {
        return None;
    }
    let row = fetched.rows.first()?;
    Some(
        row.iter()
            .map(|cell| match cell {
                CellValue::Integer(n) => u64::try_from(*n).unwrap_or(0),
                _ => 0,
            })
            .sum(),
    )
}

/// The `status` text DDL answers with (`Table X successfully created.`).
fn status_message(fetched: &Fetched) -> Option<String> {
    match (fetched.columns.as_slice(), fetched.rows.first()) {
        ([(name, _)], Some(row)) if name.eq_ignore_ascii_case("status") => match row.first() {
            Some(CellValue::String(text)) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A result column's type as SQL, for `alter table ... add column`.
fn sql_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Fixed {
            precision: Some(precision),
            scale,
            ..
        } => format!("NUMBER({precision},{})", scale.unwrap_or(0)),
        ColumnType::Fixed { .. } => "NUMBER".to_owned(),
        ColumnType::Real => "FLOAT".to_owned(),
        ColumnType::Text { .. } => "VARCHAR".to_owned(),
        ColumnType::Boolean => "BOOLEAN".to_owned(),
        ColumnType::Date => "DATE".to_owned(),
        ColumnType::Time { .. } => "TIME".to_owned(),
        ColumnType::TimestampNtz { .. } => "TIMESTAMP_NTZ".to_owned(),
        ColumnType::TimestampLtz { .. } => "TIMESTAMP_LTZ".to_owned(),
        ColumnType::TimestampTz { .. } => "TIMESTAMP_TZ".to_owned(),
        ColumnType::Variant => "VARIANT".to_owned(),
        ColumnType::Object => "OBJECT".to_owned(),
        ColumnType::Array => "ARRAY".to_owned(),
        ColumnType::Binary { .. } => "BINARY".to_owned(),
        ColumnType::Geography => "GEOGRAPHY".to_owned(),
        ColumnType::Geometry => "GEOMETRY".to_owned(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// A Snowflake value as JSON, as the DuckDB adapter gives it: numbers as numbers (decimals as
/// floats when they parse), dates and timestamps as ISO text, VARIANT / OBJECT / ARRAY as JSON.
fn to_json(value: CellValue) -> Json {
    match value {
        CellValue::Null => Json::Null,
        CellValue::Boolean(b) => Json::Bool(b),
        CellValue::Integer(n) => {
            i64::try_from(n).map_or_else(|_| Json::from(n.to_string()), Json::from)
        }
        CellValue::Float(f) => Json::from(f),
        CellValue::Decimal(d) => d
            .raw()
            .parse::<f64>()
            .map_or_else(|_| Json::from(d.raw()), Json::from),
        CellValue::String(s) => Json::from(s),
        CellValue::Date(d) => Json::from(d.to_string()),
        CellValue::Time(t) => Json::from(t.format("%H:%M:%S%.f").to_string()),
        CellValue::TimestampNtz(t) => Json::from(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        CellValue::TimestampLtz(t) => {
            Json::from(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
        }
        CellValue::TimestampTz(t) => Json::from(t.format("%Y-%m-%d %H:%M:%S%.f%:z").to_string()),
        CellValue::Json(v) => v,
        CellValue::Binary(b) => Json::from(
            b.as_bytes()
                .iter()
                .map(|byte| format!("{byte:02X}"))
                .collect::<String>(),
        ),
        other => Json::from(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_like_duckdb_results() {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default();
        let values = [
            CellValue::Null,
            CellValue::Boolean(true),
            CellValue::Integer(42),
            CellValue::Integer(i128::from(i64::MAX) + 1),
            CellValue::Float(1.5),
            CellValue::String("x".to_owned()),
            CellValue::Date(date),
            CellValue::TimestampNtz(date.and_hms_opt(3, 4, 5).unwrap_or_default()),
            CellValue::Json(serde_json::json!({"a": [1]})),
        ];
        let json: Vec<Json> = values.into_iter().map(to_json).collect();
        assert_eq!(
            Json::Array(json),
            serde_json::json!([null, true, 42, "9223372036854775808", 1.5, "x", "2024-01-02", "2024-01-02 03:04:05", {"a": [1]}])
        );
    }

    #[test]
    fn staging_columns_keep_their_precision() {
        assert_eq!(sql_type(&ColumnType::Real), "FLOAT");
        assert_eq!(sql_type(&ColumnType::Variant), "VARIANT");
    }
}
