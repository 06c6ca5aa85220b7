//! Config layers: the `+key` values of the project file's trees, `config:` blocks and in-file
//! `config()` calls, and how they merge (later wins; tags and hooks accumulate; `meta` and
//! `column_types` merge key by key).

use indexmap::IndexMap;
use serde_json::Value;

/// One layer of raw config values, as written by the user.
pub type ConfigLayer = IndexMap<String, Value>;

/// Keys that dbt accepts with dashes and underscores alike.
pub(super) fn normalize_key(key: &str) -> String {
    let key = key.strip_prefix('+').unwrap_or(key);
    match key {
        "pre-hook" => "pre_hook".to_owned(),
        "post-hook" => "post_hook".to_owned(),
        "persist-docs" => "persist_docs".to_owned(),
        "full-refresh" => "full_refresh".to_owned(),
        "where" => "where".to_owned(),
        other => other.to_owned(),
    }
}

/// Keys whose values accumulate across layers instead of being replaced.
fn is_additive(key: &str) -> bool {
    matches!(key, "tags" | "pre_hook" | "post_hook")
}

/// Keys whose map values are merged key by key across layers.
fn is_merged_map(key: &str) -> bool {
    matches!(key, "meta" | "column_types")
}

/// Keys recognised as config without a `+` prefix inside the project file's config trees.
pub fn is_known_key(key: &str) -> bool {
    matches!(
        normalize_key(key).as_str(),
        "enabled"
            | "materialized"
            | "schema"
            | "database"
            | "alias"
            | "tags"
            | "meta"
            | "column_types"
            | "unique_key"
            | "incremental_strategy"
            | "on_schema_change"
            | "full_refresh"
            | "pre_hook"
            | "post_hook"
            | "severity"
            | "warn_if"
            | "error_if"
            | "where"
            | "limit"
            | "store_failures"
            | "docs"
            | "persist_docs"
            | "quote_columns"
            | "delimiter"
            | "location"
            | "partition_by"
            | "format"
    )
}

/// Merge `layer` onto `base`: later layers win, except additive and merged-map keys.
pub fn merge_layer(base: &mut ConfigLayer, layer: &ConfigLayer) {
    for (raw_key, value) in layer {
        let key = normalize_key(raw_key);
        if is_additive(&key) {
            let entry = base.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            let mut items = as_list(entry);
            for item in as_list(value) {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
            *entry = Value::Array(items);
        } else if is_merged_map(&key) {
            match (base.get_mut(&key), value) {
                (Some(Value::Object(existing)), Value::Object(new)) => {
                    for (k, v) in new {
                        existing.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    base.insert(key, value.clone());
                }
            }
        } else {
            base.insert(key, value.clone());
        }
    }
}

pub(super) fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The config layers that a project-file tree (`models:`, `seeds:`, `tests:`, `sources:`)
/// applies to a node with this `fqn`, least specific first. Keys with `+` (and known config
/// keys without it) are config; other keys name packages and folders.
pub fn tree_layers(tree: &Value, fqn: &[String]) -> Vec<ConfigLayer> {
    let mut layers = Vec::new();
    let mut level = tree;
    let mut depth = 0;
    while let Value::Object(map) = level {
        let layer: ConfigLayer = map
            .iter()
            .filter(|(key, value)| {
                key.starts_with('+')
                    || (is_known_key(key) && !is_path_level(key, value, fqn, depth))
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if !layer.is_empty() {
            layers.push(layer);
        }
        // The last fqn part is the node itself: a key of that name configures just the node.
        match fqn.get(depth).and_then(|part| map.get(part)) {
            Some(next) if next.is_object() => {
                level = next;
                depth += 1;
            }
            _ => break,
        }
    }
    layers
}

/// A known config key that is also the name of the next folder is read as the folder.
fn is_path_level(key: &str, value: &Value, fqn: &[String], depth: usize) -> bool {
    value.is_object() && fqn.get(depth).is_some_and(|part| part == key) && !is_merged_map(key)
}
