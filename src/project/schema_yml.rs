//! Schema YAML files under model and seed paths: raw shapes of `models:`, `sources:` and
//! `seeds:` entries with their descriptions, columns, data tests and config.

use indexmap::IndexMap;
use serde::Deserialize;

use crate::yaml;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchemaFile {
    #[serde(rename = "version")]
    pub _version: Option<yaml::Tree>,
    #[serde(default)]
    pub models: Vec<RawNodeProps>,
    #[serde(default)]
    pub seeds: Vec<RawNodeProps>,
    #[serde(default)]
    pub sources: Vec<RawSource>,
    // Accepted for compatibility with dbt projects; ghforge does not use them yet.
    #[serde(rename = "macros")]
    pub _macros: Option<yaml::Tree>,
    #[serde(rename = "snapshots")]
    pub _snapshots: Option<yaml::Tree>,
    #[serde(rename = "analyses")]
    pub _analyses: Option<yaml::Tree>,
    #[serde(rename = "exposures")]
    pub _exposures: Option<yaml::Tree>,
    #[serde(rename = "metrics")]
    pub _metrics: Option<yaml::Tree>,
    #[serde(rename = "semantic_models")]
    pub _semantic_models: Option<yaml::Tree>,
    #[serde(rename = "saved_queries")]
    pub _saved_queries: Option<yaml::Tree>,
    #[serde(rename = "unit_tests")]
    pub _unit_tests: Option<yaml::Tree>,
    #[serde(rename = "groups")]
    pub _groups: Option<yaml::Tree>,
}

/// Properties of a model or seed.
#[derive(Debug, Deserialize)]
pub struct RawNodeProps {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub config: Option<yaml::Tree>,
    #[serde(default)]
    pub columns: Vec<RawColumn>,
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<yaml::Tree>,
    #[serde(flatten)]
    pub _other: IndexMap<String, yaml::Tree>,
}

#[derive(Debug, Deserialize)]
pub struct RawColumn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub data_type: Option<String>,
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<yaml::Tree>,
    #[serde(flatten)]
    pub _other: IndexMap<String, yaml::Tree>,
}

#[derive(Debug, Deserialize)]
pub struct RawSource {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    #[serde(default)]
    pub loader: String,
    pub config: Option<yaml::Tree>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub tables: Vec<RawSourceTable>,
    #[serde(flatten)]
    pub _other: IndexMap<String, yaml::Tree>,
}

#[derive(Debug, Deserialize)]
pub struct RawSourceTable {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub identifier: Option<String>,
    pub config: Option<yaml::Tree>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub columns: Vec<RawColumn>,
    #[serde(default, alias = "data_tests")]
    pub tests: Vec<yaml::Tree>,
    #[serde(flatten)]
    pub _other: IndexMap<String, yaml::Tree>,
}
