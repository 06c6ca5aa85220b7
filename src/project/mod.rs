//! A project, loaded: the project file, the target, the template engine with the project's
//! macros, and every enabled node (models, seeds, sources, tests) with its resolved config
//! and relation. Loading parses every template once (the parse phase) to record refs.

pub mod config;
pub mod discover;
pub mod generic_tests;
pub mod layers;
pub mod nodes;
mod pending;
pub mod profiles;
pub mod project_file;
mod relations;
mod schema_index;
pub mod schema_yml;

use std::collections::{BTreeMap, HashMap};

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::checksum;
use crate::error::{Diagnostic, DiagnosticKind};
use crate::jinja::{Engine, EngineOptions, MacroFile, NodeInput, ParseOutcome};

use config::{ConfigLayer, Materialization, NodeConfig, merge_layer, tree_layers};
use nodes::{Node, NodeId, NodeKind, Relation};
use pending::{Pending, config_diagnostic, pending_generic_tests, pending_node, pending_sources};
use profiles::Target;
use project_file::ProjectFile;
use relations::resolve_relations;
use schema_index::SchemaIndex;

pub use crate::jinja::EnvLookup;

/// What loading a project needs, resolved by the settings.
pub struct LoadInputs {
    pub file: ProjectFile,
    pub target: Target,
    pub cli_vars: IndexMap<String, Value>,
    pub env: EnvLookup,
}

/// A loaded project.
#[derive(Debug)]
pub struct Project {
    pub file: ProjectFile,
    pub target: Target,
    pub engine: Engine,
    pub nodes: BTreeMap<NodeId, Node>,
    /// Names of disabled models and seeds, to explain refs to them.
    pub disabled: Vec<String>,
}

impl Project {
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// `this`, `model` and config of a node as the template engine takes them.
    pub fn node_input<'a>(&self, node: &'a Node) -> NodeInput<'a> {
        NodeInput {
            file: &node.original_file_path,
            source: &node.raw_code,
            this: Some(node.relation.clone()),
            model: model_json(node),
            config: node.config.to_json(),
        }
    }
}

/// `model` as templates see it.
pub(super) fn model_json(node: &Node) -> Value {
    json!({
        "name": node.name,
        "unique_id": node.unique_id,
        "resource_type": node.resource_type().as_str(),
        "package_name": node.package_name,
        "fqn": node.fqn,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "alias": node.relation.identifier,
        "schema": node.relation.schema,
        "database": node.relation.database,
        "config": node.config.to_json(),
        "tags": node.config.tags,
    })
}

/// Load the project: macros, schema YAML, models, seeds, sources and tests.
pub fn load(inputs: LoadInputs) -> Result<Project, Diagnostic> {
    let LoadInputs {
        file,
        target,
        cli_vars,
        env,
    } = inputs;
    let root = file.root.clone();
    let project_name = file.name.clone();

    let mut macro_files = discover::files(&root, &file.macro_paths, &["sql"], None)?;
    let generic_folders: Vec<String> = file
        .test_paths
        .iter()
        .map(|p| format!("{p}/generic"))
        .collect();
    macro_files.extend(discover::files(&root, &generic_folders, &["sql"], None)?);
    let engine = Engine::new(
        EngineOptions {
            project_name: project_name.clone(),
            adapter_type: target.warehouse.type_name().to_owned(),
            target: target_json(&target),
            cli_vars,
            project_vars: file.vars.clone(),
            env,
        },
        macro_files
            .into_iter()
            .map(|f| MacroFile {
                path: f.original_file_path,
                text: f.text,
                package: project_name.clone(),
            })
            .collect(),
    )?;

    let mut yaml_folders = file.model_paths.clone();
    yaml_folders.extend(file.seed_paths.iter().cloned());
    let schema_files = discover::files(&root, &yaml_folders, &["yml", "yaml"], None)?;
    let schemas = SchemaIndex::read(&schema_files)?;

    let mut pending = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let models = discover::files(&root, &file.model_paths, &["sql"], None)?;
    for model in &models {
        pending.push(pending_node(
            &file,
            model,
            Materialization::View,
            &schemas.models,
            &file.models,
            &mut names,
        )?);
    }
    let seeds = discover::files(&root, &file.seed_paths, &["csv"], None)?;
    for seed in &seeds {
        pending.push(pending_node(
            &file,
            seed,
            Materialization::Seed,
            &schemas.seeds,
            &file.seeds,
            &mut names,
        )?);
    }
    pending.extend(pending_sources(&file, &schemas)?);
    pending.extend(pending_generic_tests(&file, &schemas, &pending, &engine)?);
    let singular = discover::files(&root, &file.test_paths, &["sql"], Some("generic"))?;
    for test in &singular {
        let name = test.stem();
        let mut fqn = vec![project_name.clone()];
        fqn.extend(test.folders());
        fqn.push(name.clone());
        pending.push(Pending {
            unique_id: NodeId(format!("test.{project_name}.{name}")),
            kind: NodeKind::Test {
                metadata: None,
                attached_node: None,
                column_name: None,
            },
            layers: tree_layers(&file.tests, &fqn),
            name,
            fqn,
            path: test.path.clone(),
            original_file_path: test.original_file_path.clone(),
            patch_path: None,
            checksum: checksum::sha256(&test.text),
            raw_code: test.text.clone(),
            default_materialization: Materialization::Test,
            description: String::new(),
            columns: IndexMap::new(),
            render: true,
            references: Vec::new(),
            macros: Vec::new(),
        });
    }

    // The parse phase: every template rendered once, in parallel, recording refs and config().
    let placeholder = |p: &Pending| Relation {
        database: target.database.clone(),
        schema: target.schema.clone(),
        identifier: p.name.clone(),
    };
    let outcomes = crate::parallel::map(&pending, |p| {
        if !p.render {
            return Ok(ParseOutcome::default());
        }
        let mut merged = ConfigLayer::new();
        for layer in &p.layers {
            merge_layer(&mut merged, layer);
        }
        engine.parse(&NodeInput {
            file: &p.original_file_path,
            source: &p.raw_code,
            this: Some(placeholder(p)),
            model: json!({
                "name": p.name,
                "unique_id": p.unique_id,
                "fqn": p.fqn,
                "original_file_path": p.original_file_path,
            }),
            config: merged,
        })
    });

    let mut nodes = BTreeMap::new();
    let mut disabled = Vec::new();
    for (p, outcome) in pending.into_iter().zip(outcomes) {
        let outcome = outcome?;
        let mut merged = ConfigLayer::new();
        for layer in p.layers.iter().chain(&outcome.config_calls) {
            merge_layer(&mut merged, layer);
        }
        let config = NodeConfig::resolve(p.default_materialization, &merged)
            .map_err(|err| config_diagnostic(&err, &p, &file))?;
        if !config.enabled {
            if matches!(p.kind, NodeKind::Model | NodeKind::Seed) {
                disabled.push(p.name.clone());
            }
            continue;
        }
        let node = Node {
            unique_id: p.unique_id,
            kind: p.kind,
            name: p.name,
            package_name: project_name.clone(),
            fqn: p.fqn,
            path: p.path,
            original_file_path: p.original_file_path,
            patch_path: p.patch_path,
            raw_code: p.raw_code,
            checksum: p.checksum,
            config,
            description: p.description,
            columns: p.columns,
            references: if p.render {
                outcome.references
            } else {
                p.references
            },
            macros: if p.render {
                outcome.macros_called.into_iter().collect()
            } else {
                p.macros
            },
            relation: Relation {
                database: String::new(),
                schema: String::new(),
                identifier: String::new(),
            },
        };
        if let Some(previous) = nodes.insert(node.unique_id.clone(), node) {
            let file = nodes
                .get(&previous.unique_id)
                .map(|n| n.original_file_path.clone())
                .unwrap_or_default();
            return Err(Diagnostic::new(
                DiagnosticKind::Duplicate,
                format!(
                    "two nodes have the id `{}`: from `{}` and from `{file}`",
                    previous.unique_id, previous.original_file_path
                ),
            )
            .in_file(file)
            .hint("rename one of them (test and model names must be unique in a project)"));
        }
    }
    // Tests of disabled nodes go with them.
    let attached_missing: Vec<NodeId> = nodes
        .values()
        .filter(|n| match &n.kind {
            NodeKind::Test {
                attached_node: Some(id),
                ..
            } => !nodes.contains_key(id),
            _ => false,
        })
        .map(|n| n.unique_id.clone())
        .collect();
    for id in attached_missing {
        nodes.remove(&id);
    }

    let mut project = Project {
        file,
        target,
        engine,
        nodes,
        disabled,
    };
    resolve_relations(&mut project)?;
    Ok(project)
}

/// `target` as templates see it.
pub fn target_json(target: &Target) -> IndexMap<String, Value> {
    let mut map = IndexMap::new();
    map.insert("name".to_owned(), json!(target.name));
    map.insert("profile_name".to_owned(), json!(target.profile_name));
    map.insert("type".to_owned(), json!(target.warehouse.type_name()));
    map.insert("database".to_owned(), json!(target.database));
    map.insert("schema".to_owned(), json!(target.schema));
    map.insert("threads".to_owned(), json!(target.threads));
    if let profiles::Warehouse::DuckDb(duck) = &target.warehouse {
        map.insert("path".to_owned(), json!(duck.path.display().to_string()));
    }
    if let profiles::Warehouse::Snowflake(sf) = &target.warehouse {
        map.insert("account".to_owned(), json!(sf.account));
        map.insert("user".to_owned(), json!(sf.user));
        map.insert("role".to_owned(), json!(sf.role));
        map.insert("warehouse".to_owned(), json!(sf.warehouse));
    }
    map
}
