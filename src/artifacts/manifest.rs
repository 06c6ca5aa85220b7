//! `manifest.json` in dbt's v12 shape for the keys ghforge has: nodes (models, seeds, tests),
//! sources, macros, parent and child maps. Entries are typed structs borrowing from the
//! project, streamed to the file (no intermediate JSON tree), ordered by unique id.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::compile::{CompiledNode, compiled_path};
use crate::error::{Diagnostic, io_error};
use crate::graph::Dag;
use crate::jinja::MacroDef;
use crate::project::Project;
use crate::project::nodes::{ColumnInfo, Node, NodeId, NodeKind, Reference, TestMetadata};

/// Values of a run that the manifest records but that change every time.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub invocation_id: String,
    pub generated_at: String,
    pub created_at: f64,
}

#[derive(Serialize)]
pub struct Manifest<'a> {
    metadata: Metadata<'a>,
    nodes: BTreeMap<&'a str, NodeEntry<'a>>,
    sources: BTreeMap<&'a str, SourceEntry<'a>>,
    macros: BTreeMap<&'a str, MacroEntry<'a>>,
    docs: Empty,
    exposures: Empty,
    metrics: Empty,
    groups: Empty,
    selectors: Empty,
    disabled: Empty,
    parent_map: BTreeMap<&'a str, &'a [NodeId]>,
    child_map: BTreeMap<&'a str, &'a [NodeId]>,
    group_map: Empty,
    saved_queries: Empty,
    semantic_models: Empty,
    unit_tests: Empty,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Metadata<'a> {
    dbt_schema_version: &'static str,
    dbt_version: &'static str,
    ghforge_version: &'static str,
    generated_at: &'a str,
    invocation_id: &'a str,
    env: Empty,
    project_name: &'a str,
    project_id: String,
    user_id: Option<()>,
    send_anonymous_usage_stats: bool,
    adapter_type: &'static str,
}

#[derive(Serialize)]
struct Checksum<'a> {
    name: &'static str,
    checksum: &'a str,
}

#[derive(Serialize)]
struct Column<'a> {
    name: &'a str,
    description: &'a str,
    meta: Empty,
    data_type: Option<&'a str>,
    constraints: [(); 0],
    quote: Option<()>,
    tags: [(); 0],
}

#[derive(Serialize)]
struct Docs {
    show: bool,
    node_color: Option<()>,
}

#[derive(Serialize)]
struct RefEntry<'a> {
    name: &'a str,
    package: Option<&'a str>,
    version: Option<()>,
}

#[derive(Serialize)]
struct DependsOn<'a> {
    macros: Vec<&'a str>,
    nodes: &'a [NodeId],
}

#[derive(Serialize)]
struct Contract {
    enforced: bool,
    alias_types: bool,
    checksum: Option<()>,
}

#[derive(Serialize)]
struct NodeEntry<'a> {
    database: &'a str,
    schema: &'a str,
    name: &'a str,
    resource_type: &'static str,
    package_name: &'a str,
    path: &'a str,
    original_file_path: &'a str,
    unique_id: &'a str,
    fqn: &'a [String],
    alias: &'a str,
    checksum: Checksum<'a>,
    config: IndexMap<String, Value>,
    tags: &'a [String],
    description: &'a str,
    columns: IndexMap<&'a str, Column<'a>>,
    meta: &'a IndexMap<String, Value>,
    docs: Docs,
    patch_path: Option<String>,
    build_path: Option<()>,
    unrendered_config: Empty,
    created_at: f64,
    relation_name: String,
    raw_code: &'a str,
    language: &'static str,
    refs: Vec<RefEntry<'a>>,
    sources: Vec<[&'a str; 2]>,
    metrics: [(); 0],
    depends_on: DependsOn<'a>,
    access: &'static str,
    contract: Contract,
    constraints: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    compiled_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compiled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compiled_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_ctes_injected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_ctes: Option<[(); 0]>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    test: Option<TestFields<'a>>,
}

#[derive(Serialize)]
struct TestFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    test_metadata: Option<&'a TestMetadata>,
    column_name: Option<&'a str>,
    attached_node: Option<&'a NodeId>,
    file_key_name: Option<()>,
}

#[derive(Serialize)]
struct SourceEntry<'a> {
    database: &'a str,
    schema: &'a str,
    name: &'a str,
    resource_type: &'static str,
    package_name: &'a str,
    path: &'a str,
    original_file_path: &'a str,
    unique_id: &'a str,
    fqn: &'a [String],
    source_name: &'a str,
    source_description: &'a str,
    loader: &'a str,
    identifier: &'a str,
    quoting: Empty,
    loaded_at_field: Option<()>,
    freshness: Option<()>,
    external: Option<()>,
    description: &'a str,
    columns: IndexMap<&'a str, Column<'a>>,
    meta: &'a IndexMap<String, Value>,
    source_meta: Empty,
    tags: &'a [String],
    config: IndexMap<String, Value>,
    patch_path: Option<()>,
    unrendered_config: Empty,
    relation_name: String,
    created_at: f64,
}

#[derive(Serialize)]
struct MacroEntry<'a> {
    name: &'a str,
    resource_type: &'static str,
    package_name: &'a str,
    path: &'a str,
    original_file_path: &'a str,
    unique_id: &'a str,
    macro_sql: Option<()>,
    depends_on: MacroDependsOn,
    description: &'static str,
    meta: Empty,
    docs: Docs,
    patch_path: Option<()>,
    arguments: [(); 0],
    created_at: f64,
    supported_languages: Option<()>,
    checksum: Checksum<'a>,
}

#[derive(Serialize)]
struct MacroDependsOn {
    macros: [(); 0],
}

fn columns(node: &Node) -> IndexMap<&str, Column<'_>> {
    node.columns
        .values()
        .map(|c: &ColumnInfo| {
            (
                c.name.as_str(),
                Column {
                    name: &c.name,
                    description: &c.description,
                    meta: Empty {},
                    data_type: c.data_type.as_deref(),
                    constraints: [],
                    quote: None,
                    tags: [],
                },
            )
        })
        .collect()
}

/// Build the manifest of `project`, with compiled SQL where `compiled` has it.
pub fn build<'a>(
    project: &'a Project,
    dag: &'a Dag,
    compiled: &'a BTreeMap<NodeId, CompiledNode>,
    invocation: &'a Invocation,
) -> Manifest<'a> {
    let mut nodes = BTreeMap::new();
    let mut sources = BTreeMap::new();
    for node in project.nodes.values() {
        match &node.kind {
            NodeKind::Source {
                source_name,
                source_description,
                loader,
            } => {
                sources.insert(
                    node.unique_id.as_str(),
                    SourceEntry {
                        database: &node.relation.database,
                        schema: &node.relation.schema,
                        name: &node.name,
                        resource_type: "source",
                        package_name: &node.package_name,
                        path: &node.path,
                        original_file_path: &node.original_file_path,
                        unique_id: node.unique_id.as_str(),
                        fqn: &node.fqn,
                        source_name,
                        source_description,
                        loader,
                        identifier: &node.relation.identifier,
                        quoting: Empty {},
                        loaded_at_field: None,
                        freshness: None,
                        external: None,
                        description: &node.description,
                        columns: columns(node),
                        meta: &node.config.meta,
                        source_meta: Empty {},
                        tags: &node.config.tags,
                        config: node.config.to_json(),
                        patch_path: None,
                        unrendered_config: Empty {},
                        relation_name: node.relation.quoted(),
                        created_at: invocation.created_at,
                    },
                );
            }
            _ => {
                nodes.insert(
                    node.unique_id.as_str(),
                    node_entry(
                        project,
                        dag,
                        node,
                        compiled.get(&node.unique_id),
                        invocation,
                    ),
                );
            }
        }
    }
    let macros = project
        .engine
        .macros()
        .values()
        .map(|def: &MacroDef| {
            (
                def.unique_id.as_str(),
                MacroEntry {
                    name: &def.name,
                    resource_type: "macro",
                    package_name: &def.package,
                    path: &def.original_file_path,
                    original_file_path: &def.original_file_path,
                    unique_id: &def.unique_id,
                    macro_sql: None,
                    depends_on: MacroDependsOn { macros: [] },
                    description: "",
                    meta: Empty {},
                    docs: Docs {
                        show: true,
                        node_color: None,
                    },
                    patch_path: None,
                    arguments: [],
                    created_at: invocation.created_at,
                    supported_languages: None,
                    checksum: Checksum {
                        name: "sha256",
                        checksum: &def.checksum,
                    },
                },
            )
        })
        .collect();
    let ids = project.nodes.keys();
    Manifest {
        metadata: Metadata {
            dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v12.json",
            dbt_version: "1.9.0",
            ghforge_version: env!("CARGO_PKG_VERSION"),
            generated_at: &invocation.generated_at,
            invocation_id: &invocation.invocation_id,
            env: Empty {},
            project_name: project.name(),
            project_id: crate::checksum::md5(project.name()),
            user_id: None,
            send_anonymous_usage_stats: false,
            adapter_type: project.target.warehouse.type_name(),
        },
        nodes,
        sources,
        macros,
        docs: Empty {},
        exposures: Empty {},
        metrics: Empty {},
        groups: Empty {},
        selectors: Empty {},
        disabled: Empty {},
        parent_map: ids
            .clone()
            .map(|id| (id.as_str(), dag.parents(id)))
            .collect(),
        child_map: ids.map(|id| (id.as_str(), dag.children(id))).collect(),
        group_map: Empty {},
        saved_queries: Empty {},
        semantic_models: Empty {},
        unit_tests: Empty {},
    }
}

fn node_entry<'a>(
    project: &'a Project,
    dag: &'a Dag,
    node: &'a Node,
    compiled: Option<&'a CompiledNode>,
    invocation: &Invocation,
) -> NodeEntry<'a> {
    let mut macros: Vec<&str> = node.macros.iter().map(String::as_str).collect();
    if let Some(c) = compiled {
        macros.extend(c.macros.iter().map(String::as_str));
    }
    macros.sort_unstable();
    macros.dedup();
    let refs = node
        .references
        .iter()
        .filter_map(|r| match r {
            Reference::Ref { package, name, .. } => Some(RefEntry {
                name,
                package: package.as_deref(),
                version: None,
            }),
            Reference::Source { .. } => None,
        })
        .collect();
    let sources = node
        .references
        .iter()
        .filter_map(|r| match r {
            Reference::Source { source, table, .. } => Some([source.as_str(), table.as_str()]),
            Reference::Ref { .. } => None,
        })
        .collect();
    let test = match &node.kind {
        NodeKind::Test {
            metadata,
            attached_node,
            column_name,
        } => Some(TestFields {
            test_metadata: metadata.as_ref(),
            column_name: column_name.as_deref(),
            attached_node: attached_node.as_ref(),
            file_key_name: None,
        }),
        _ => None,
    };
    NodeEntry {
        database: &node.relation.database,
        schema: &node.relation.schema,
        name: &node.name,
        resource_type: node.resource_type().as_str(),
        package_name: &node.package_name,
        path: &node.path,
        original_file_path: &node.original_file_path,
        unique_id: node.unique_id.as_str(),
        fqn: &node.fqn,
        alias: &node.relation.identifier,
        checksum: Checksum {
            name: "sha256",
            checksum: &node.checksum,
        },
        config: node.config.to_json(),
        tags: &node.config.tags,
        description: &node.description,
        columns: columns(node),
        meta: &node.config.meta,
        docs: Docs {
            show: true,
            node_color: None,
        },
        patch_path: node
            .patch_path
            .as_ref()
            .map(|p| format!("{}://{p}", node.package_name)),
        build_path: None,
        unrendered_config: Empty {},
        created_at: invocation.created_at,
        relation_name: node.relation.quoted(),
        raw_code: &node.raw_code,
        language: "sql",
        refs,
        sources,
        metrics: [],
        depends_on: DependsOn {
            macros,
            nodes: dag.parents(&node.unique_id),
        },
        access: "protected",
        contract: Contract {
            enforced: false,
            alias_types: true,
            checksum: None,
        },
        constraints: [],
        compiled_path: compiled.map(|_| {
            PathBuf::from(&project.file.target_path)
                .join(compiled_path(project, node))
                .to_string_lossy()
                .into_owned()
        }),
        compiled: compiled.map(|_| true),
        compiled_code: compiled.map(|c| c.sql.as_str()),
        extra_ctes_injected: compiled.map(|_| true),
        extra_ctes: compiled.map(|_| []),
        test,
    }
}

/// Write `manifest.json` into `target_dir`, streaming compact JSON (as dbt writes it) to a
/// fresh file.
pub fn write(target_dir: &Path, manifest: &Manifest<'_>) -> Result<(), Diagnostic> {
    std::fs::create_dir_all(target_dir).map_err(|err| io_error(target_dir, "create", &err))?;
    let path = target_dir.join("manifest.json");
    if path.exists() {
        std::fs::remove_file(&path).map_err(|err| io_error(&path, "replace", &err))?;
    }
    let file = std::fs::File::create(&path).map_err(|err| io_error(&path, "write", &err))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut writer, manifest)
        .map_err(std::io::Error::from)
        .and_then(|()| writer.flush())
        .map_err(|err| io_error(&path, "write", &err))
}
