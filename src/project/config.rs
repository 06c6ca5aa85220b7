//! Node configuration: the `+key` trees of the project file, `config:` blocks of schema YAML and
//! in-file `config(...)` calls, merged most-specific-last into one typed [`NodeConfig`].

use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use super::layers::as_list;
pub use super::layers::{ConfigLayer, is_known_key, merge_layer, tree_layers};

/// How a model is built. A closed set: an unknown value is an error that lists these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materialization {
    View,
    Table,
    Incremental,
    Ephemeral,
    External,
    Seed,
    Test,
}

impl Materialization {
    const MODEL_CHOICES: [Materialization; 5] = [
        Self::View,
        Self::Table,
        Self::Incremental,
        Self::Ephemeral,
        Self::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Table => "table",
            Self::Incremental => "incremental",
            Self::Ephemeral => "ephemeral",
            Self::External => "external",
            Self::Seed => "seed",
            Self::Test => "test",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::Seed, Self::Test]
            .into_iter()
            .chain(Self::MODEL_CHOICES)
            .find(|m| m.as_str() == value)
    }
}

impl fmt::Display for Materialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `incremental_strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IncrementalStrategy {
    #[serde(rename = "append")]
    Append,
    #[serde(rename = "delete+insert")]
    DeleteInsert,
    #[serde(rename = "merge")]
    Merge,
    #[serde(rename = "insert_overwrite")]
    InsertOverwrite,
}

impl IncrementalStrategy {
    const ALL: [IncrementalStrategy; 4] = [
        Self::Append,
        Self::DeleteInsert,
        Self::Merge,
        Self::InsertOverwrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Append => "append",
            Self::DeleteInsert => "delete+insert",
            Self::Merge => "merge",
            Self::InsertOverwrite => "insert_overwrite",
        }
    }
}

/// `on_schema_change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSchemaChange {
    #[default]
    Ignore,
    AppendNewColumns,
    SyncAllColumns,
    Fail,
}

impl OnSchemaChange {
    const ALL: [OnSchemaChange; 4] = [
        Self::Ignore,
        Self::AppendNewColumns,
        Self::SyncAllColumns,
        Self::Fail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::AppendNewColumns => "append_new_columns",
            Self::SyncAllColumns => "sync_all_columns",
            Self::Fail => "fail",
        }
    }
}

/// Test `severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Severity {
    #[default]
    #[serde(rename = "ERROR")]
    Error,
    #[serde(rename = "WARN")]
    Warn,
}

/// The resolved configuration of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub enabled: bool,
    pub materialized: Materialization,
    pub schema: Option<String>,
    pub database: Option<String>,
    pub alias: Option<String>,
    pub tags: Vec<String>,
    pub meta: IndexMap<String, Value>,
    pub column_types: IndexMap<String, String>,
    pub unique_key: Vec<String>,
    pub incremental_strategy: Option<IncrementalStrategy>,
    pub on_schema_change: OnSchemaChange,
    pub full_refresh: Option<bool>,
    pub pre_hook: Vec<String>,
    pub post_hook: Vec<String>,
    pub severity: Severity,
    pub warn_if: String,
    pub error_if: String,
    pub where_clause: Option<String>,
    pub limit: Option<u64>,
    pub store_failures: Option<bool>,
    /// Every other key, kept for `config.<key>:` selection, macros and the manifest.
    pub extra: IndexMap<String, Value>,
}

/// A config value that does not fit its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

fn string_of(key: &str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(ConfigError::new(
            key,
            format!("expected a string, got `{other}`"),
        )),
    }
}

fn optional_string(key: &str, value: &Value) -> Result<Option<String>, ConfigError> {
    match value {
        Value::Null => Ok(None),
        other => string_of(key, other).map(Some),
    }
}

fn bool_of(key: &str, value: &Value) -> Result<bool, ConfigError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ConfigError::new(
            key,
            format!("expected true or false, got `{other}`"),
        )),
    }
}

fn string_list(key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    as_list(value).iter().map(|v| string_of(key, v)).collect()
}

fn choice<T: Copy>(
    key: &str,
    value: &Value,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ConfigError> {
    let text = string_of(key, value)?;
    all.iter()
        .copied()
        .find(|c| name(*c) == text)
        .ok_or_else(|| {
            let valid: Vec<_> = all.iter().map(|c| format!("`{}`", name(*c))).collect();
            ConfigError::new(key, format!("`{text}` is not one of {}", valid.join(", ")))
        })
}

impl NodeConfig {
    /// Build the typed config from merged layers, for a node whose default materialization is
    /// `default_materialization`.
    pub fn resolve(
        default_materialization: Materialization,
        merged: &ConfigLayer,
    ) -> Result<Self, ConfigError> {
        let mut config = NodeConfig {
            enabled: true,
            materialized: default_materialization,
            schema: None,
            database: None,
            alias: None,
            tags: Vec::new(),
            meta: IndexMap::new(),
            column_types: IndexMap::new(),
            unique_key: Vec::new(),
            incremental_strategy: None,
            on_schema_change: OnSchemaChange::Ignore,
            full_refresh: None,
            pre_hook: Vec::new(),
            post_hook: Vec::new(),
            severity: Severity::Error,
            warn_if: "!= 0".to_owned(),
            error_if: "!= 0".to_owned(),
            where_clause: None,
            limit: None,
            store_failures: None,
            extra: IndexMap::new(),
        };
        for (key, value) in merged {
            let key = key.as_str();
            match key {
                "enabled" => config.enabled = bool_of(key, value)?,
                "materialized" => {
                    // Seeds and tests keep their own materialization whatever a tree says.
                    if !matches!(
                        default_materialization,
                        Materialization::Seed | Materialization::Test
                    ) {
                        let text = string_of(key, value)?;
                        config.materialized = Materialization::parse(&text)
                            .filter(|m| Materialization::MODEL_CHOICES.contains(m))
                            .ok_or_else(|| {
                                let valid: Vec<_> = Materialization::MODEL_CHOICES
                                    .iter()
                                    .map(|m| format!("`{m}`"))
                                    .collect();
                                ConfigError::new(
                                    key,
                                    format!("`{text}` is not one of {}", valid.join(", ")),
                                )
                            })?;
                    }
                }
                "schema" => config.schema = optional_string(key, value)?,
                "database" => config.database = optional_string(key, value)?,
                "alias" => config.alias = optional_string(key, value)?,
                "tags" => config.tags = string_list(key, value)?,
                "meta" => match value {
                    Value::Object(map) => {
                        config.meta = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    }
                    Value::Null => {}
                    other => {
                        return Err(ConfigError::new(
                            key,
                            format!("expected a map, got `{other}`"),
                        ));
                    }
                },
                "column_types" => match value {
                    Value::Object(map) => {
                        for (column, ty) in map {
                            config
                                .column_types
                                .insert(column.clone(), string_of(key, ty)?);
                        }
                    }
                    Value::Null => {}
                    other => {
                        return Err(ConfigError::new(
                            key,
                            format!("expected a map, got `{other}`"),
                        ));
                    }
                },
                "unique_key" => config.unique_key = string_list(key, value)?,
                "incremental_strategy" => {
                    config.incremental_strategy = match value {
                        Value::Null => None,
                        v => Some(choice(
                            key,
                            v,
                            &IncrementalStrategy::ALL,
                            IncrementalStrategy::as_str,
                        )?),
                    }
                }
                "on_schema_change" => {
                    config.on_schema_change =
                        choice(key, value, &OnSchemaChange::ALL, OnSchemaChange::as_str)?;
                }
                "full_refresh" => {
                    config.full_refresh = match value {
                        Value::Null => None,
                        v => Some(bool_of(key, v)?),
                    }
                }
                "pre_hook" => config.pre_hook = hooks(key, value)?,
                "post_hook" => config.post_hook = hooks(key, value)?,
                "severity" => {
                    let text = string_of(key, value)?;
                    config.severity = match text.to_ascii_lowercase().as_str() {
                        "error" => Severity::Error,
                        "warn" => Severity::Warn,
                        _ => {
                            return Err(ConfigError::new(
                                key,
                                format!("`{text}` is not one of `error`, `warn`"),
                            ));
                        }
                    };
                }
                "warn_if" => config.warn_if = string_of(key, value)?,
                "error_if" => config.error_if = string_of(key, value)?,
                "where" => config.where_clause = optional_string(key, value)?,
                "limit" => {
                    config.limit = match value {
                        Value::Null => None,
                        Value::Number(n) => Some(n.as_u64().ok_or_else(|| {
                            ConfigError::new(key, format!("expected a whole number, got `{n}`"))
                        })?),
                        other => {
                            return Err(ConfigError::new(
                                key,
                                format!("expected a whole number, got `{other}`"),
                            ));
                        }
                    }
                }
                "store_failures" => {
                    config.store_failures = match value {
                        Value::Null => None,
                        v => Some(bool_of(key, v)?),
                    }
                }
                _ => {
                    config.extra.insert(key.to_owned(), value.clone());
                }
            }
        }
        Ok(config)
    }

    /// The config as dbt's manifest shows it (and as `config.<key>:` selection reads it).
    pub fn to_json(&self) -> IndexMap<String, Value> {
        let mut out = IndexMap::new();
        out.insert("enabled".into(), Value::Bool(self.enabled));
        out.insert("alias".into(), opt(&self.alias));
        out.insert("schema".into(), opt(&self.schema));
        out.insert("database".into(), opt(&self.database));
        out.insert("tags".into(), Value::from(self.tags.clone()));
        out.insert(
            "meta".into(),
            Value::Object(
                self.meta
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        );
        out.insert(
            "materialized".into(),
            Value::from(self.materialized.as_str()),
        );
        if self.materialized == Materialization::Test {
            out.insert(
                "severity".into(),
                Value::from(match self.severity {
                    Severity::Error => "ERROR",
                    Severity::Warn => "WARN",
                }),
            );
            out.insert("warn_if".into(), Value::from(self.warn_if.clone()));
            out.insert("error_if".into(), Value::from(self.error_if.clone()));
            out.insert("where".into(), opt(&self.where_clause));
            out.insert("limit".into(), self.limit.map_or(Value::Null, Value::from));
            out.insert(
                "store_failures".into(),
                self.store_failures.map_or(Value::Null, Value::from),
            );
        } else {
            out.insert(
                "incremental_strategy".into(),
                self.incremental_strategy
                    .map_or(Value::Null, |s| Value::from(s.as_str())),
            );
            out.insert(
                "on_schema_change".into(),
                Value::from(self.on_schema_change.as_str()),
            );
            out.insert(
                "full_refresh".into(),
                self.full_refresh.map_or(Value::Null, Value::from),
            );
            out.insert(
                "unique_key".into(),
                match self.unique_key.as_slice() {
                    [] => Value::Null,
                    [one] => Value::from(one.clone()),
                    many => Value::from(many.to_vec()),
                },
            );
            out.insert(
                "column_types".into(),
                Value::Object(
                    self.column_types
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                        .collect(),
                ),
            );
            out.insert("pre-hook".into(), hook_json(&self.pre_hook));
            out.insert("post-hook".into(), hook_json(&self.post_hook));
        }
        for (key, value) in &self.extra {
            out.insert(key.clone(), value.clone());
        }
        out
    }
}

fn opt(value: &Option<String>) -> Value {
    value
        .as_ref()
        .map_or(Value::Null, |v| Value::from(v.clone()))
}

fn hook_json(hooks: &[String]) -> Value {
    Value::Array(
        hooks
            .iter()
            .map(|sql| serde_json::json!({"sql": sql, "transaction": true}))
            .collect(),
    )
}

fn hooks(key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    as_list(value)
        .iter()
        .map(|hook| match hook {
            Value::Object(map) => map
                .get("sql")
                .ok_or_else(|| ConfigError::new(key, "a hook given as a map needs `sql`"))
                .and_then(|sql| string_of(key, sql)),
            other => string_of(key, other),
        })
        .collect()
}

/// A config from a JSON object literal, for tests.
#[cfg(test)]
pub fn from_json(default_materialization: Materialization, json: Value) -> NodeConfig {
    let layer: ConfigLayer = json
        .as_object()
        .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    match NodeConfig::resolve(default_materialization, &layer) {
        Ok(config) => config,
        Err(err) => panic!("test config does not resolve: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(value: Value) -> ConfigLayer {
        match value {
            Value::Object(map) => map.into_iter().collect(),
            _ => ConfigLayer::new(),
        }
    }

    #[test]
    fn later_layers_win_and_tags_accumulate() {
        let mut merged = ConfigLayer::new();
        merge_layer(
            &mut merged,
            &layer(json!({"+materialized": "view", "+tags": "a"})),
        );
        merge_layer(
            &mut merged,
            &layer(json!({"materialized": "table", "tags": ["b", "a"]})),
        );
        let config = NodeConfig::resolve(Materialization::View, &merged).unwrap();
        assert_eq!(config.materialized, Materialization::Table);
        assert_eq!(config.tags, vec!["a", "b"]);
    }

    #[test]
    fn unknown_materialization_lists_the_valid_ones() {
        let merged = layer(json!({"materialized": "tabel"}));
        let err = NodeConfig::resolve(Materialization::View, &merged).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config `materialized`: `tabel` is not one of `view`, `table`, `incremental`, `ephemeral`, `external`"
        );
    }

    #[test]
    fn most_specific_folder_wins() {
        let tree = json!({
            "+materialized": "view",
            "shop": {"+schema": "base", "marts": {"+materialized": "table", "orders": {"+tags": ["x"]}}}
        });
        let fqn: Vec<String> = ["shop", "marts", "orders"].map(String::from).to_vec();
        let mut merged = ConfigLayer::new();
        for layer in tree_layers(&tree, &fqn) {
            merge_layer(&mut merged, &layer);
        }
        let config = NodeConfig::resolve(Materialization::View, &merged).unwrap();
        assert_eq!(config.materialized, Materialization::Table);
        assert_eq!(config.schema.as_deref(), Some("base"));
        assert_eq!(config.tags, vec!["x"]);
    }

    #[test]
    fn hooks_accept_dash_and_underscore_spellings() {
        let mut merged = ConfigLayer::new();
        merge_layer(&mut merged, &layer(json!({"+pre-hook": "select 1"})));
        merge_layer(&mut merged, &layer(json!({"pre_hook": ["select 2"]})));
        let config = NodeConfig::resolve(Materialization::View, &merged).unwrap();
        assert_eq!(config.pre_hook, vec!["select 1", "select 2"]);
    }
}
