//! `manifest.json` in dbt's v12 shape for the keys ghforge has: nodes (models, seeds, tests),
//! sources, macros, parent and child maps. Maps are ordered by unique id so the file is stable.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::compile::{CompiledNode, compiled_path};
use crate::error::{Diagnostic, io_error};
use crate::graph::Dag;
use crate::project::Project;
use crate::project::nodes::{Node, NodeId, NodeKind, Reference};

/// Values of a run that the manifest records but that change every time.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub invocation_id: String,
    pub generated_at: String,
    pub created_at: f64,
}

/// Build the manifest.
pub fn build(
    project: &Project,
    dag: &Dag,
    compiled: &BTreeMap<NodeId, CompiledNode>,
    invocation: &Invocation,
) -> Value {
    let mut nodes = Map::new();
    let mut sources = Map::new();
    for node in project.nodes.values() {
        let entry = node_json(
            project,
            dag,
            node,
            compiled.get(&node.unique_id),
            invocation,
        );
        match node.kind {
            NodeKind::Source { .. } => sources.insert(node.unique_id.to_string(), entry),
            _ => nodes.insert(node.unique_id.to_string(), entry),
        };
    }
    let mut macros = Map::new();
    let mut macro_list: Vec<_> = project.engine.macros().values().collect();
    macro_list.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    for def in macro_list {
        macros.insert(
            def.unique_id.clone(),
            json!({
                "name": def.name,
                "resource_type": "macro",
                "package_name": def.package,
                "path": def.original_file_path,
                "original_file_path": def.original_file_path,
                "unique_id": def.unique_id,
                "macro_sql": Value::Null,
                "depends_on": {"macros": []},
                "description": "",
                "meta": {},
                "docs": {"show": true, "node_color": null},
                "patch_path": null,
                "arguments": [],
                "created_at": invocation.created_at,
                "supported_languages": null,
                "checksum": {"name": "sha256", "checksum": def.checksum},
            }),
        );
    }
    let mut parent_map = Map::new();
    let mut child_map = Map::new();
    for id in project.nodes.keys() {
        parent_map.insert(id.to_string(), json!(dag.parents(id)));
        child_map.insert(id.to_string(), json!(dag.children(id)));
    }
    json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.9.0",
            "ghforge_version": env!("CARGO_PKG_VERSION"),
            "generated_at": invocation.generated_at,
            "invocation_id": invocation.invocation_id,
            "env": {},
            "project_name": project.name(),
            "project_id": crate::checksum::md5(project.name()),
            "user_id": null,
            "send_anonymous_usage_stats": false,
            "adapter_type": project.target.warehouse.type_name(),
        },
        "nodes": nodes,
        "sources": sources,
        "macros": macros,
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": {},
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
    })
}

fn node_json(
    project: &Project,
    dag: &Dag,
    node: &Node,
    compiled: Option<&CompiledNode>,
    invocation: &Invocation,
) -> Value {
    let columns: Map<String, Value> = node
        .columns
        .values()
        .map(|c| {
            (
                c.name.clone(),
                json!({
                    "name": c.name,
                    "description": c.description,
                    "meta": {},
                    "data_type": c.data_type,
                    "constraints": [],
                    "quote": null,
                    "tags": [],
                }),
            )
        })
        .collect();
    let mut entry = json!({
        "database": node.relation.database,
        "schema": node.relation.schema,
        "name": node.name,
        "resource_type": node.resource_type().as_str(),
        "package_name": node.package_name,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "unique_id": node.unique_id,
        "fqn": node.fqn,
        "description": node.description,
        "columns": columns,
        "meta": node.config.meta,
        "tags": node.config.tags,
        "config": node.config.to_json(),
        "patch_path": node.patch_path.as_ref().map(|p| format!("{}://{p}", node.package_name)),
        "unrendered_config": {},
        "created_at": invocation.created_at,
        "relation_name": node.relation.quoted(),
    });
    let Value::Object(map) = &mut entry else {
        return entry;
    };
    match &node.kind {
        NodeKind::Source {
            source_name,
            source_description,
            loader,
        } => {
            map.insert("source_name".into(), json!(source_name));
            map.insert("source_description".into(), json!(source_description));
            map.insert("loader".into(), json!(loader));
            map.insert("identifier".into(), json!(node.relation.identifier));
            map.insert("quoting".into(), json!({}));
            map.insert("loaded_at_field".into(), Value::Null);
            map.insert("freshness".into(), Value::Null);
            map.insert("external".into(), Value::Null);
            map.insert("source_meta".into(), json!({}));
        }
        _ => {
            map.insert("alias".into(), json!(node.relation.identifier));
            map.insert(
                "checksum".into(),
                json!({"name": "sha256", "checksum": node.checksum}),
            );
            map.insert("raw_code".into(), json!(node.raw_code));
            map.insert("language".into(), json!("sql"));
            let refs: Vec<Value> = node
                .references
                .iter()
                .filter_map(|r| match r {
                    Reference::Ref { package, name, .. } => {
                        Some(json!({"name": name, "package": package, "version": null}))
                    }
                    Reference::Source { .. } => None,
                })
                .collect();
            let source_refs: Vec<Value> = node
                .references
                .iter()
                .filter_map(|r| match r {
                    Reference::Source { source, table, .. } => Some(json!([source, table])),
                    Reference::Ref { .. } => None,
                })
                .collect();
            map.insert("refs".into(), json!(refs));
            map.insert("sources".into(), json!(source_refs));
            map.insert("metrics".into(), json!([]));
            let mut macros: Vec<String> = node.macros.clone();
            if let Some(c) = compiled {
                macros.extend(c.macros.iter().cloned());
            }
            macros.sort();
            macros.dedup();
            map.insert(
                "depends_on".into(),
                json!({"macros": macros, "nodes": dag.parents(&node.unique_id)}),
            );
            map.insert("docs".into(), json!({"show": true, "node_color": null}));
            map.insert("build_path".into(), Value::Null);
            map.insert("access".into(), json!("protected"));
            map.insert(
                "contract".into(),
                json!({"enforced": false, "alias_types": true, "checksum": null}),
            );
            map.insert("constraints".into(), json!([]));
            if let Some(c) = compiled {
                map.insert(
                    "compiled_path".into(),
                    json!(
                        Path::new(&project.file.target_path)
                            .join(compiled_path(project, node))
                            .to_string_lossy()
                    ),
                );
                map.insert("compiled".into(), json!(true));
                map.insert("compiled_code".into(), json!(c.sql));
                map.insert("extra_ctes_injected".into(), json!(true));
                map.insert("extra_ctes".into(), json!([]));
            }
            if let NodeKind::Test {
                metadata,
                attached_node,
                column_name,
            } = &node.kind
            {
                if let Some(metadata) = metadata {
                    map.insert("test_metadata".into(), json!(metadata));
                }
                map.insert("column_name".into(), json!(column_name));
                map.insert("attached_node".into(), json!(attached_node));
                map.insert("file_key_name".into(), Value::Null);
            }
        }
    }
    entry
}

/// Write `manifest.json` into `target_dir`.
pub fn write(target_dir: &Path, manifest: &Value) -> Result<(), Diagnostic> {
    std::fs::create_dir_all(target_dir).map_err(|err| io_error(target_dir, "create", &err))?;
    let path = target_dir.join("manifest.json");
    let text = serde_json::to_string_pretty(manifest).unwrap_or_default();
    std::fs::write(&path, text).map_err(|err| io_error(&path, "write", &err))
}
