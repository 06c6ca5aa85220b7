//! A project, loaded: the project file, the target, the template engine with the project's
//! macros, and every enabled node (models, seeds, sources, tests) with its resolved config
//! and relation. Loading parses every template once (the parse phase) to record refs.

pub mod config;
pub mod discover;
pub mod generic_tests;
pub mod nodes;
pub mod profiles;
pub mod project_file;
pub mod schema_yml;

use std::collections::{BTreeMap, HashMap};

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::checksum;
use crate::error::{Diagnostic, DiagnosticKind};
use crate::jinja::{Engine, EngineOptions, MacroFile, NodeInput, ParseOutcome, Phase};
use crate::yaml;

use config::{ConfigLayer, Materialization, NodeConfig, merge_layer, tree_layers};
use discover::FoundFile;
use nodes::{ColumnInfo, Node, NodeId, NodeKind, Relation};
use profiles::Target;
use project_file::ProjectFile;
use schema_yml::{RawColumn, RawNodeProps, RawSchemaFile};

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
fn model_json(node: &Node) -> Value {
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

/// A node before its config is final: what parsing needs.
struct Pending {
    unique_id: NodeId,
    kind: NodeKind,
    name: String,
    fqn: Vec<String>,
    path: String,
    original_file_path: String,
    patch_path: Option<String>,
    raw_code: String,
    checksum: String,
    default_materialization: Materialization,
    /// Layers from the project file and schema YAML, least specific first.
    layers: Vec<ConfigLayer>,
    description: String,
    columns: IndexMap<String, ColumnInfo>,
    /// Only models and singular tests are rendered while parsing; generic tests know their
    /// references from their YAML entry.
    render: bool,
    /// References known without rendering (generic tests).
    references: Vec<nodes::Reference>,
    macros: Vec<String>,
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

/// Schema YAML entries by name, with the file each came from.
struct SchemaIndex<'a> {
    models: HashMap<String, (&'a FoundFile, RawNodeProps)>,
    seeds: HashMap<String, (&'a FoundFile, RawNodeProps)>,
    sources: Vec<(&'a FoundFile, schema_yml::RawSource)>,
}

impl<'a> SchemaIndex<'a> {
    fn read(files: &'a [FoundFile]) -> Result<Self, Diagnostic> {
        let mut index = SchemaIndex {
            models: HashMap::new(),
            seeds: HashMap::new(),
            sources: Vec::new(),
        };
        for file in files {
            if file.text.trim().is_empty() {
                continue;
            }
            let raw: RawSchemaFile =
                yaml::parse(std::path::Path::new(&file.original_file_path), &file.text)?;
            for (props, is_seed) in raw
                .models
                .into_iter()
                .map(|p| (p, false))
                .chain(raw.seeds.into_iter().map(|p| (p, true)))
            {
                let target = if is_seed {
                    &mut index.seeds
                } else {
                    &mut index.models
                };
                if let Some((other, _)) = target.get(&props.name) {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Duplicate,
                        format!(
                            "`{}` is described twice: in `{}` and in `{}`",
                            props.name, other.original_file_path, file.original_file_path
                        ),
                    )
                    .at(
                        &file.original_file_path,
                        yaml::line_of(&file.text, &format!("name: {}", props.name)).unwrap_or(0),
                        None,
                        Some(&file.text),
                    )
                    .hint("keep one entry per model or seed across schema files"));
                }
                target.insert(props.name.clone(), (file, props));
            }
            index
                .sources
                .extend(raw.sources.into_iter().map(|s| (file, s)));
        }
        Ok(index)
    }
}

fn yaml_layer(tree: Option<&yaml::Tree>) -> Option<ConfigLayer> {
    match tree.map(yaml::to_json) {
        Some(Value::Object(map)) => Some(map.into_iter().collect()),
        _ => None,
    }
}

fn columns_of(raw: &[RawColumn]) -> IndexMap<String, ColumnInfo> {
    raw.iter()
        .map(|c| {
            (
                c.name.clone(),
                ColumnInfo {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    data_type: c.data_type.clone(),
                },
            )
        })
        .collect()
}

fn pending_node(
    file: &ProjectFile,
    found: &FoundFile,
    default_materialization: Materialization,
    props: &HashMap<String, (&FoundFile, RawNodeProps)>,
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

fn pending_sources(
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

fn pending_generic_tests(
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

fn config_diagnostic(err: &config::ConfigError, p: &Pending, file: &ProjectFile) -> Diagnostic {
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
    if let Some(yml) = yml {
        if let Ok(text) = std::fs::read_to_string(file.root.join(yml)) {
            if let Some(line) = yaml::line_of(&text, &format!("{needle}:")) {
                return diagnostic.at(yml, line, None, Some(&text));
            }
        }
    }
    match yaml::line_of(&file.text, needle) {
        Some(line) => diagnostic.at(&file.file_name, line, None, Some(&file.text)),
        None => diagnostic.in_file(yml.unwrap_or(&p.original_file_path)),
    }
}

/// Database, schema and identifier of every node: sources from their YAML, models and seeds
/// through `generate_schema_name` / `generate_alias_name` (a project macro overrides each).
fn resolve_relations(project: &mut Project) -> Result<(), Diagnostic> {
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

fn call_name_macro(
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
