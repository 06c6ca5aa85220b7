//! Where every node lives: sources from their YAML, models, seeds and tests through
//! `generate_schema_name` / `generate_alias_name` (built in, or a project override).

use serde_json::Value;

use crate::error::Diagnostic;
use crate::jinja::Phase;

use super::nodes::{Node, NodeId, NodeKind, Relation};
use super::{Project, model_json};

/// Database, schema and identifier of every node: sources from their YAML, models and seeds
/// through `generate_schema_name` / `generate_alias_name` (a project macro overrides each).
pub(super) fn resolve_relations(project: &mut Project) -> Result<(), Diagnostic> {
    // The Rust default stands in for the built-in macros unless the project overrides them,
    // directly or through dispatch (`default__...`, `<adapter>__...`).
    let adapter = project.target.warehouse.type_name();
    let overrides = |name: &str| {
        [
            name.to_owned(),
            format!("default__{name}"),
            format!("{adapter}__{name}"),
        ]
        .iter()
        .any(|candidate| project.engine.project_defines(candidate))
    };
    let custom_schema = overrides("generate_schema_name");
    let custom_alias = overrides("generate_alias_name");
    let target = project.target.clone();
    let ids: Vec<NodeId> = project.nodes.keys().cloned().collect();
    for id in ids {
        let Some(node) = project.nodes.get(&id) else {
            continue;
        };
        let relation = match &node.kind {
            NodeKind::Source { .. } => {
                let extra = &node.config.extra;
                let text = |key: &str| extra.get(key).and_then(Value::as_str).map(str::to_owned);
                Relation {
                    database: text("__source_database").unwrap_or_else(|| target.database.clone()),
                    schema: text("__source_schema").unwrap_or_default(),
                    identifier: text("__identifier").unwrap_or_else(|| node.name.clone()),
                }
            }
            _ => {
                let is_test = matches!(node.kind, NodeKind::Test { .. });
                let custom = node
                    .config
                    .schema
                    .clone()
                    .or_else(|| is_test.then(|| "dbt_test__audit".to_owned()));
                let schema = if custom_schema {
                    call_name_macro(project, node, "generate_schema_name", custom.clone())?
                } else {
                    match custom {
                        Some(custom) => format!("{}_{}", target.schema, custom.trim()),
                        None => target.schema.clone(),
                    }
                };
                let identifier = if custom_alias {
                    call_name_macro(
                        project,
                        node,
                        "generate_alias_name",
                        node.config.alias.clone(),
                    )?
                } else if is_test {
                    node.config
                        .alias
                        .clone()
                        .unwrap_or_else(|| node.path.trim_end_matches(".sql").to_owned())
                } else {
                    node.config
                        .alias
                        .clone()
                        .unwrap_or_else(|| node.name.clone())
                };
                Relation {
                    database: node
                        .config
                        .database
                        .clone()
                        .unwrap_or_else(|| target.database.clone()),
                    schema,
                    identifier,
                }
            }
        };
        if let Some(node) = project.nodes.get_mut(&id) {
            if let NodeKind::Source { .. } = node.kind {
                node.config.extra.retain(|k, _| !k.starts_with("__"));
            }
            node.relation = relation;
        }
    }
    Ok(())
}

pub(super) fn call_name_macro(
    project: &Project,
    node: &Node,
    macro_name: &str,
    custom: Option<String>,
) -> Result<String, Diagnostic> {
    let input = project.node_input(node);
    let output = project.engine.call_macro(
        macro_name,
        &[custom.map_or(Value::Null, Value::from), model_json(node)],
        &[],
        &input,
        Phase::Parse,
    )?;
    Ok(output.trim().to_owned())
}
