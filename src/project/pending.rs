//! Nodes before their config is final: models and seeds from files, source tables and generic
//! tests from schema YAML, each with the config layers that apply to it, and the message for a
//! config value that does not fit.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::checksum;
use crate::error::{Diagnostic, DiagnosticKind};
use crate::jinja::Engine;
use crate::yaml;

use super::config::{self, ConfigLayer, Materialization, tree_layers};
use super::discover::FoundFile;
use super::generic_tests;
use super::nodes::{ColumnInfo, NodeId, NodeKind, Reference};
use super::project_file::ProjectFile;
use super::schema_index::{RawProps, SchemaIndex, columns_of, yaml_layer};

/// A node before its config is final: what parsing needs.
pub(super) struct Pending {
    pub(super) unique_id: NodeId,
    pub(super) kind: NodeKind,
    pub(super) name: String,
    pub(super) fqn: Vec<String>,
    pub(super) path: String,
    pub(super) original_file_path: String,
    pub(super) patch_path: Option<String>,
    pub(super) raw_code: String,
    pub(super) checksum: String,
    pub(super) default_materialization: Materialization,
    /// Layers from the project file and schema YAML, least specific first.
    pub(super) layers: Vec<ConfigLayer>,
    pub(super) description: String,
    pub(super) columns: IndexMap<String, ColumnInfo>,
    /// Only models and singular tests are rendered while parsing; generic tests know their
    /// references from their YAML entry.
    pub(super) render: bool,
    /// References known without rendering (generic tests).
    pub(super) references: Vec<Reference>,
    pub(super) macros: Vec<String>,
}

pub(super) fn pending_node(
    file: &ProjectFile,
    found: &FoundFile,
    default_materialization: Materialization,
    props: &HashMap<String, RawProps<'_>>,
    tree: &Value,
    names: &mut HashMap<String, String>,
) -> Result<Pending, Diagnostic> {
    let name = found.stem();
    if let Some(other) = names.insert(name.clone(), found.original_file_path.clone()) {
        return Err(Diagnostic::new(
            DiagnosticKind::Duplicate,
            format!(
                "two resources are named `{name}`: `{other}` and `{}`",
                found.original_file_path
            ),
        )
        .in_file(&found.original_file_path)
        .hint("names of models and seeds must be unique in a project; rename one of the files"));
    }
    let mut fqn = vec![file.name.clone()];
    fqn.extend(found.folders());
    fqn.push(name.clone());
    let mut layers = tree_layers(tree, &fqn);
    let prop = props.get(&name);
    if let Some(layer) = prop.and_then(|(_, p)| yaml_layer(p.config.as_ref())) {
        layers.push(layer);
    }
    let (kind, resource) = match default_materialization {
        Materialization::Seed => (NodeKind::Seed, "seed"),
        _ => (NodeKind::Model, "model"),
    };
    let is_model = matches!(kind, NodeKind::Model);
    Ok(Pending {
        unique_id: NodeId(format!("{resource}.{}.{name}", file.name)),
        kind,
        fqn,
        path: found.path.clone(),
        original_file_path: found.original_file_path.clone(),
        patch_path: prop.map(|(f, _)| f.original_file_path.clone()),
        raw_code: if is_model {
            found.text.clone()
        } else {
            String::new()
        },
        checksum: checksum::sha256(&found.text),
        default_materialization,
        layers,
        description: prop.map(|(_, p)| p.description.clone()).unwrap_or_default(),
        columns: prop
            .map(|(_, p)| columns_of(&p.columns))
            .unwrap_or_default(),
        render: is_model,
        references: Vec::new(),
        macros: Vec::new(),
        name,
    })
}

pub(super) fn pending_sources(
    file: &ProjectFile,
    schemas: &SchemaIndex<'_>,
) -> Result<Vec<Pending>, Diagnostic> {
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for (yml, source) in &schemas.sources {
        for table in &source.tables {
            let key = (source.name.clone(), table.name.clone());
            if let Some(other) = seen.insert(key, yml.original_file_path.clone()) {
                return Err(Diagnostic::new(
                    DiagnosticKind::Duplicate,
                    format!(
                        "source table `{}.{}` is declared twice: in `{other}` and in `{}`",
                        source.name, table.name, yml.original_file_path
                    ),
                )
                .in_file(&yml.original_file_path)
                .hint("declare each source table once"));
            }
            let mut fqn = vec![file.name.clone()];
            fqn.extend(yml.folders());
            fqn.push(source.name.clone());
            fqn.push(table.name.clone());
            let mut layers = tree_layers(
                &file.sources,
                &[file.name.clone(), source.name.clone(), table.name.clone()],
            );
            layers.extend(yaml_layer(source.config.as_ref()));
            layers.extend(yaml_layer(table.config.as_ref()));
            let tags: Vec<String> = source.tags.iter().chain(&table.tags).cloned().collect();
            if !tags.is_empty() {
                let mut layer = ConfigLayer::new();
                layer.insert("tags".to_owned(), json!(tags));
                layers.push(layer);
            }
            let identifier = table
                .identifier
                .clone()
                .unwrap_or_else(|| table.name.clone());
            let mut extra = ConfigLayer::new();
            extra.insert(
                "__source_schema".to_owned(),
                json!(source.schema.clone().unwrap_or_else(|| source.name.clone())),
            );
            extra.insert("__source_database".to_owned(), json!(source.database));
            extra.insert("__identifier".to_owned(), json!(identifier));
            layers.push(extra);
            out.push(Pending {
                unique_id: NodeId(format!(
                    "source.{}.{}.{}",
                    file.name, source.name, table.name
                )),
                kind: NodeKind::Source {
                    source_name: source.name.clone(),
                    source_description: source.description.clone(),
                    loader: source.loader.clone(),
                },
                name: table.name.clone(),
                fqn,
                path: yml.original_file_path.clone(),
                original_file_path: yml.original_file_path.clone(),
                patch_path: None,
                raw_code: String::new(),
                checksum: checksum::sha256(&format!("{}.{}", source.name, table.name)),
                default_materialization: Materialization::View,
                layers,
                description: table.description.clone(),
                columns: columns_of(&table.columns),
                render: false,
                references: Vec::new(),
                macros: Vec::new(),
            });
        }
    }
    Ok(out)
}

pub(super) fn pending_generic_tests(
    file: &ProjectFile,
    schemas: &SchemaIndex<'_>,
    known: &[Pending],
    engine: &Engine,
) -> Result<Vec<Pending>, Diagnostic> {
    let ids: HashMap<&str, &NodeId> = known
        .iter()
        .filter(|p| matches!(p.kind, NodeKind::Model | NodeKind::Seed))
        .map(|p| (p.name.as_str(), &p.unique_id))
        .collect();
    // One job per test entry, in a stable order; the jobs then run in parallel.
    let mut jobs: Vec<(
        &FoundFile,
        &yaml::Tree,
        generic_tests::Target<'_>,
        Option<&str>,
    )> = Vec::new();
    let mut described: Vec<_> = schemas
        .models
        .values()
        .chain(schemas.seeds.values())
        .collect();
    described.sort_by(|a, b| {
        (&a.0.original_file_path, &a.1.name).cmp(&(&b.0.original_file_path, &b.1.name))
    });
    for (yml, props) in described {
        let Some(id) = ids.get(props.name.as_str()) else {
            continue;
        };
        let target = generic_tests::Target::Node {
            name: &props.name,
            id,
        };
        jobs.extend(
            props
                .tests
                .iter()
                .map(|entry| (*yml, entry, target.clone(), None)),
        );
        for column in &props.columns {
            jobs.extend(
                column
                    .tests
                    .iter()
                    .map(|entry| (*yml, entry, target.clone(), Some(column.name.as_str()))),
            );
        }
    }
    let source_ids: Vec<NodeId> = schemas
        .sources
        .iter()
        .flat_map(|(_, source)| {
            source.tables.iter().map(|table| {
                NodeId(format!(
                    "source.{}.{}.{}",
                    file.name, source.name, table.name
                ))
            })
        })
        .collect();
    let mut source_ids = source_ids.iter();
    for (yml, source) in &schemas.sources {
        for table in &source.tables {
            let Some(id) = source_ids.next() else { break };
            let target = generic_tests::Target::Source {
                source: &source.name,
                table: &table.name,
                id,
            };
            jobs.extend(
                table
                    .tests
                    .iter()
                    .map(|entry| (*yml, entry, target.clone(), None)),
            );
            for column in &table.columns {
                jobs.extend(
                    column
                        .tests
                        .iter()
                        .map(|entry| (*yml, entry, target.clone(), Some(column.name.as_str()))),
                );
            }
        }
    }
    crate::parallel::map(&jobs, |(yml, entry, target, column)| {
        let test = generic_tests::build(
            &file.name,
            &yml.original_file_path,
            &yml.text,
            entry,
            target,
            *column,
        )?;
        let mut fqn = vec![file.name.clone()];
        fqn.extend(yml.folders());
        fqn.push(test.name.clone());
        let mut layers = tree_layers(&file.tests, &fqn);
        layers.push(test.config);
        Ok(Pending {
            unique_id: test.unique_id,
            kind: NodeKind::Test {
                metadata: Some(test.metadata),
                attached_node: Some(test.attached_node),
                column_name: test.column_name,
            },
            name: test.name,
            fqn,
            path: format!("{}.sql", test.short_name),
            original_file_path: yml.original_file_path.clone(),
            patch_path: None,
            checksum: checksum::sha256(&test.raw_code),
            raw_code: test.raw_code,
            default_materialization: Materialization::Test,
            layers,
            description: String::new(),
            columns: IndexMap::new(),
            render: false,
            references: test.references,
            macros: test
                .macros
                .iter()
                .filter_map(|name| engine.macros().get(name).map(|m| m.unique_id.clone()))
                .collect(),
        })
    })
    .into_iter()
    .collect()
}

pub(super) fn config_diagnostic(
    err: &config::ConfigError,
    p: &Pending,
    file: &ProjectFile,
) -> Diagnostic {
    let kind = match p.kind {
        NodeKind::Model => "model",
        NodeKind::Seed => "seed",
        NodeKind::Source { .. } => "source",
        NodeKind::Test { .. } => "test",
    };
    let diagnostic = Diagnostic::new(
        DiagnosticKind::Config,
        format!("{kind} `{}` has an {err}", p.name),
    );
    let needle = err.key.as_str();
    if let Some(line) =
        yaml::line_of(&p.raw_code, needle).filter(|_| p.raw_code.contains("config("))
    {
        return diagnostic.at(&p.original_file_path, line, None, Some(&p.raw_code));
    }
    // Schema YAML that declared the node (or the test), then the project file.
    let yml = p.patch_path.as_deref().or_else(|| {
        Some(p.original_file_path.as_str()).filter(|f| f.ends_with(".yml") || f.ends_with(".yaml"))
    });
    if let Some(yml) = yml
        && let Ok(text) = std::fs::read_to_string(file.root.join(yml))
        && let Some(line) = yaml::line_of(&text, &format!("{needle}:"))
    {
        return diagnostic.at(yml, line, None, Some(&text));
    }
    match yaml::line_of(&file.text, needle) {
        Some(line) => diagnostic.at(&file.file_name, line, None, Some(&file.text)),
        None => diagnostic.in_file(yml.unwrap_or(&p.original_file_path)),
    }
}
