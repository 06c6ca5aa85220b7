//! `catalog.json` in dbt's v1 schema, from the warehouse's information schema: for each model,
//! seed, snapshot and source of the manifest that exists in the warehouse, its relation type and
//! its columns with their types, in order. Relations the manifest names but the warehouse lacks
//! (not built yet, ephemeral) are left out, as dbt leaves them out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use crate::adapters::{AdapterError, Session};
use crate::artifacts::manifest::Invocation;
use crate::plan::dialect::Dialect;

/// The manifest's relations: (schema, identifier) lower-cased → the (unique id, is a source)
/// of each node that names it (a seed and a source over it name the same relation).
fn relations(manifest: &Value) -> BTreeMap<(String, String), Vec<(String, bool)>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    let nodes = manifest["nodes"].as_object().into_iter().flatten();
    let sources = manifest["sources"].as_object().into_iter().flatten();
    for (id, node) in nodes.chain(sources) {
        let kind = node["resource_type"].as_str().unwrap_or_default();
        let is_source = kind == "source";
        if !matches!(kind, "model" | "seed" | "snapshot" | "source")
            || node["config"]["materialized"] == "ephemeral"
        {
            continue;
        }
        let name = if is_source {
            &node["identifier"]
        } else {
            &node["alias"]
        };
        let name = name.as_str().or(node["name"].as_str()).unwrap_or_default();
        let schema = node["schema"].as_str().unwrap_or_default();
        out.entry((schema.to_lowercase(), name.to_lowercase()))
            .or_default()
            .push((id.clone(), is_source));
    }
    out
}

/// The catalog of `manifest`'s relations as the warehouse behind `session` (speaking
/// `dialect`) has them.
pub fn build(
    session: &mut dyn Session,
    dialect: &dyn Dialect,
    manifest: &Value,
    invocation: &Invocation,
) -> Result<Value, AdapterError> {
    let relations = relations(manifest);
    let schemas: BTreeSet<&str> = relations.keys().map(|(s, _)| s.as_str()).collect();
    let mut nodes = serde_json::Map::new();
    let mut sources = serde_json::Map::new();
    if !schemas.is_empty() {
        let list: Vec<String> = schemas.iter().map(|s| dialect.literal(s)).collect();
        let table = session.query(&format!(
            "select c.table_catalog, c.table_schema, c.table_name, t.table_type, c.column_name, \
             c.ordinal_position, c.data_type \
             from information_schema.columns as c \
             inner join information_schema.tables as t \
               on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema \
              and t.table_name = c.table_name \
             where c.table_catalog = current_database() and lower(c.table_schema) in ({}) \
             order by c.table_schema, c.table_name, c.ordinal_position",
            list.join(", ")
        ))?;
        for row in &table.rows {
            let text = |i: usize| row.get(i).and_then(Value::as_str).unwrap_or_default();
            let key = (text(1).to_lowercase(), text(2).to_lowercase());
            let index = row
                .get(5)
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or_default();
            for (id, is_source) in relations.get(&key).into_iter().flatten() {
                let entries = if *is_source { &mut sources } else { &mut nodes };
                let entry = entries.entry(id.clone()).or_insert_with(|| {
                    json!({
                        "metadata": {"type": text(3), "schema": text(1), "name": text(2),
                                     "database": text(0), "comment": null, "owner": null},
                        "columns": {},
                        "stats": {"has_stats": {"id": "has_stats", "label": "Has Stats?", "value": false,
                                  "include": false,
                                  "description": "Indicates whether there are statistics for this table"}},
                        "unique_id": id,
                    })
                });
                entry["columns"][text(4)] =
                    json!({"type": text(6), "index": index, "name": text(4), "comment": null});
            }
        }
    }
    Ok(wrap(manifest, invocation, nodes, sources))
}

/// A catalog without relations (`--empty-catalog`).
pub fn empty(manifest: &Value, invocation: &Invocation) -> Value {
    wrap(
        manifest,
        invocation,
        serde_json::Map::new(),
        serde_json::Map::new(),
    )
}

fn wrap(
    manifest: &Value,
    invocation: &Invocation,
    nodes: serde_json::Map<String, Value>,
    sources: serde_json::Map<String, Value>,
) -> Value {
    json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
            "dbt_version": manifest["metadata"]["dbt_version"],
            "ghforge_version": env!("CARGO_PKG_VERSION"),
            "generated_at": invocation.generated_at,
            "invocation_id": invocation.invocation_id,
            "invocation_started_at": invocation.generated_at,
            "env": {},
        },
        "nodes": nodes,
        "sources": sources,
        "errors": null,
    })
}

/// Write `catalog` as `<target_dir>/catalog.json`, whole or not at all.
pub fn write(target_dir: &Path, catalog: &Value) -> std::io::Result<()> {
    std::fs::create_dir_all(target_dir)?;
    let partial = target_dir.join("catalog.json.partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(catalog)?)?;
    std::fs::rename(partial, target_dir.join("catalog.json"))
}

/// Column name → type of `unique_id` in a loaded catalog.
pub fn column_types(catalog: &Value, unique_id: &str) -> BTreeMap<String, String> {
    let entry = catalog["nodes"]
        .get(unique_id)
        .or_else(|| catalog["sources"].get(unique_id));
    entry
        .and_then(|e| e["columns"].as_object())
        .map(|columns| {
            columns
                .iter()
                .map(|(name, c)| {
                    (
                        name.clone(),
                        c["type"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
