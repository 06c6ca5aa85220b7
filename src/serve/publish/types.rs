//! Snowflake's column types as DuckDB types of a snapshot, and each value as the text DuckDB
//! casts to that type. Pure: no connection, so the whole mapping is unit-tested.
//!
//! | Snowflake | snapshot (DuckDB) |
//! |---|---|
//! | `NUMBER(p,0)`, p ≤ 18 | `BIGINT` |
//! | `NUMBER(p,0)`, p > 18, or `NUMBER` | `BIGINT` when every value fits, else `HUGEINT` |
//! | `NUMBER(p,s)`, s > 0 | `DECIMAL(p,s)`, read as text so no digit is lost |
//! | `FLOAT`, `DOUBLE`, `REAL` | `DOUBLE` |
//! | `VARCHAR`, `TEXT`, `STRING`, `CHAR` | `VARCHAR` |
//! | `BOOLEAN`, `DATE`, `TIME` | the same |
//! | `TIMESTAMP_NTZ` | `TIMESTAMP` |
//! | `TIMESTAMP_TZ`, `TIMESTAMP_LTZ` | `TIMESTAMP`, in UTC (as the API writes times) |
//! | `VARIANT`, `OBJECT`, `ARRAY` | `JSON` |
//! | `BINARY` | `BLOB` |
//! | anything else (`GEOGRAPHY`, `VECTOR`, …) | `VARCHAR`, as Snowflake prints it |
//!
//! Values are staged as text and cast by DuckDB, so DuckDB's own parsers read every date,
//! timestamp and decimal.

use serde_json::Value as Json;

/// What a Snowflake column becomes in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// `NUMBER(p,0)` with p ≤ 18: always fits `BIGINT`.
    BigInt,
    /// `NUMBER(p,0)` with p > 18 (Snowflake's default `NUMBER(38,0)`): `BIGINT` when the values
    /// fit, else `HUGEINT`, which holds all 38 digits.
    WideInteger,
    /// `NUMBER(p,s)` with s > 0.
    Decimal {
        precision: u8,
        scale: u8,
    },
    Double,
    Varchar,
    Boolean,
    Date,
    Time,
    Timestamp,
    /// `TIMESTAMP_TZ` and `TIMESTAMP_LTZ`, converted to UTC.
    TimestampUtc,
    Json,
    Blob,
}

impl Mapped {
    /// The mapping of a Snowflake type as the adapter describes it (`NUMBER(38,0)`, `VARCHAR`,
    /// `TIMESTAMP_NTZ`, …).
    pub fn of(snowflake: &str) -> Self {
        let upper = snowflake.trim().to_ascii_uppercase();
        let (name, arguments) = match upper.split_once('(') {
            Some((name, rest)) => (name.trim(), Some(rest.trim_end_matches(')'))),
            None => (upper.as_str(), None),
        };
        match name {
            "NUMBER" | "DECIMAL" | "NUMERIC" | "FIXED" => number(arguments),
            "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "BYTEINT" => Self::WideInteger,
            "FLOAT" | "FLOAT4" | "FLOAT8" | "DOUBLE" | "DOUBLE PRECISION" | "REAL" => Self::Double,
            "BOOLEAN" => Self::Boolean,
            "DATE" => Self::Date,
            "TIME" => Self::Time,
            "TIMESTAMP_NTZ" | "TIMESTAMP" | "DATETIME" => Self::Timestamp,
            "TIMESTAMP_TZ" | "TIMESTAMP_LTZ" => Self::TimestampUtc,
            "VARIANT" | "OBJECT" | "ARRAY" => Self::Json,
            "BINARY" | "VARBINARY" => Self::Blob,
            _ => Self::Varchar,
        }
    }

    /// The select-list expression that reads `column` (quoted) from Snowflake: decimals as text,
    /// so no digit goes through a float.
    pub fn fetch_expression(self, column: &str) -> String {
        match self {
            Self::Decimal { .. } => format!("cast({column} as varchar) as {column}"),
            _ => column.to_owned(),
        }
    }

    /// The DuckDB type of the snapshot column; `fits_bigint` says whether every value of a
    /// [`Mapped::WideInteger`] column fits `BIGINT`.
    pub fn duckdb_type(self, fits_bigint: bool) -> String {
        match self {
            Self::BigInt => "BIGINT".to_owned(),
            Self::WideInteger if fits_bigint => "BIGINT".to_owned(),
            Self::WideInteger => "HUGEINT".to_owned(),
            Self::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
            Self::Double => "DOUBLE".to_owned(),
            Self::Varchar => "VARCHAR".to_owned(),
            Self::Boolean => "BOOLEAN".to_owned(),
            Self::Date => "DATE".to_owned(),
            Self::Time => "TIME".to_owned(),
            Self::Timestamp | Self::TimestampUtc => "TIMESTAMP".to_owned(),
            Self::Json => "JSON".to_owned(),
            Self::Blob => "BLOB".to_owned(),
        }
    }

    /// The DuckDB expression turning the staged text `column` into the snapshot's type.
    pub fn load_expression(self, column: &str, fits_bigint: bool) -> String {
        match self {
            Self::Blob => format!("unhex({column})"),
            Self::Varchar => column.to_owned(),
            _ => format!("CAST({column} AS {})", self.duckdb_type(fits_bigint)),
        }
    }

    /// A value the adapter returned, as the text DuckDB casts (`None` for NULL).
    pub fn text(self, value: &Json) -> Result<Option<String>, String> {
        Ok(match (self, value) {
            (_, Json::Null) => None,
            // A VARIANT holding a string is the JSON string, quotes and all.
            (Self::Json, other) => Some(other.to_string()),
            (Self::TimestampUtc, Json::String(text)) => Some(utc(text)?),
            (_, Json::String(text)) => Some(text.clone()),
            (_, Json::Bool(b)) => Some(b.to_string()),
            (_, Json::Number(n)) => Some(n.to_string()),
            (_, other) => Some(other.to_string()),
        })
    }
}

/// `NUMBER(p,s)`'s mapping from its `p,s` (`None`: Snowflake's default `NUMBER(38,0)`).
fn number(arguments: Option<&str>) -> Mapped {
    let mut parts = arguments
        .unwrap_or_default()
        .split(',')
        .map(|part| part.trim().parse::<u8>().ok());
    let precision = parts.next().flatten().unwrap_or(38);
    let scale = parts.next().flatten().unwrap_or(0);
    match (precision, scale) {
        (_, 0) if precision <= 18 => Mapped::BigInt,
        (_, 0) => Mapped::WideInteger,
        (precision, scale) => Mapped::Decimal {
            precision: precision.clamp(1, 38),
            scale: scale.min(precision.clamp(1, 38)),
        },
    }
}

/// A timestamp with an offset (`2024-03-01 10:00:00.5+01:00`, as the adapter prints
/// `TIMESTAMP_TZ`) as UTC text; text without an offset is UTC already (`TIMESTAMP_LTZ`).
fn utc(text: &str) -> Result<String, String> {
    let has_offset = text
        .get(19..)
        .is_some_and(|rest| rest.contains(['+', '-', 'Z']));
    if !has_offset {
        return Ok(text.to_owned());
    }
    chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
        .map_err(|err| format!("`{text}` is not a timestamp with an offset: {err}"))
}

/// Whether every value of a [`Mapped::WideInteger`] column fits `BIGINT` (the adapter gives
/// larger integers as text).
pub fn fits_bigint<'a>(values: impl IntoIterator<Item = &'a Json>) -> bool {
    values
        .into_iter()
        .all(|value| value.is_null() || value.as_i64().is_some())
}

/// A Snowflake column name as the snapshot names it: names Snowflake folded to upper case
/// (unquoted identifiers) in lower case, as DuckDB keeps them; quoted mixed-case names as they
/// are.
pub fn snapshot_column_name(name: &str) -> String {
    if name.chars().any(|c| c.is_lowercase()) {
        name.to_owned()
    } else {
        name.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snowflake_types_map_to_duckdb_types() {
        let types = [
            "NUMBER(18,0)",
            "NUMBER(38,0)",
            "NUMBER",
            "NUMBER(10,2)",
            "NUMBER(38,12)",
            "FLOAT",
            "VARCHAR",
            "TEXT",
            "BOOLEAN",
            "DATE",
            "TIME",
            "TIMESTAMP_NTZ",
            "TIMESTAMP_TZ",
            "TIMESTAMP_LTZ",
            "VARIANT",
            "OBJECT",
            "ARRAY",
            "BINARY",
            "GEOGRAPHY",
        ];
        let table: String = types
            .iter()
            .map(|ty| {
                let mapped = Mapped::of(ty);
                format!(
                    "{ty:<14} -> {:<14} | values too wide for BIGINT: {:<14} | fetched as {}\n",
                    mapped.duckdb_type(true),
                    mapped.duckdb_type(false),
                    mapped.fetch_expression("\"C\"")
                )
            })
            .collect();
        insta::assert_snapshot!(table);
    }

    #[test]
    fn values_become_the_text_duckdb_casts() {
        let cases = [
            (Mapped::BigInt, json!(42)),
            (
                Mapped::WideInteger,
                json!("170141183460469231731687303715884105727"),
            ),
            (
                Mapped::Decimal {
                    precision: 38,
                    scale: 6,
                },
                json!("12345678901234567890.123456"),
            ),
            (Mapped::Double, json!(0.1)),
            (Mapped::Boolean, json!(true)),
            (Mapped::Timestamp, json!("2024-03-01 10:00:00.123456")),
            (Mapped::TimestampUtc, json!("2024-03-01 10:00:00.5+01:30")),
            (Mapped::TimestampUtc, json!("2024-03-01 10:00:00")),
            (Mapped::Json, json!({"a": [1, "x"]})),
            (Mapped::Json, json!("a string")),
            (Mapped::Varchar, json!("it's")),
            (Mapped::Varchar, Json::Null),
        ];
        let texts: Vec<Option<String>> = cases
            .iter()
            .map(|(mapped, value)| mapped.text(value).unwrap_or_else(Some))
            .collect();
        assert_eq!(
            texts,
            [
                Some("42".to_owned()),
                Some("170141183460469231731687303715884105727".to_owned()),
                Some("12345678901234567890.123456".to_owned()),
                Some("0.1".to_owned()),
                Some("true".to_owned()),
                Some("2024-03-01 10:00:00.123456".to_owned()),
                Some("2024-03-01 08:30:00.500".to_owned()),
                Some("2024-03-01 10:00:00".to_owned()),
                Some(r#"{"a":[1,"x"]}"#.to_owned()),
                Some(r#""a string""#.to_owned()),
                Some("it's".to_owned()),
                None,
            ]
        );
        assert!(
            Mapped::TimestampUtc
                .text(&json!("2024-03-01 10:00:00+bad"))
                .is_err()
        );
    }

    #[test]
    fn wide_integers_are_bigint_only_when_every_value_fits() {
        assert!(fits_bigint(&[json!(1), Json::Null, json!(i64::MIN)]));
        assert!(!fits_bigint(&[json!(1), json!("9223372036854775808")]));
    }

    #[test]
    fn folded_names_are_lower_case_and_quoted_ones_kept() {
        assert_eq!(snapshot_column_name("REPO_NAME"), "repo_name");
        assert_eq!(snapshot_column_name("repo_name"), "repo_name");
        assert_eq!(snapshot_column_name("RepoName"), "RepoName");
        assert_eq!(snapshot_column_name("N_2"), "n_2");
    }
}
