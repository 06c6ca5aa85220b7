//! The compile phase over a set of nodes: every `ref`/`source` resolved to its relation,
//! ephemeral models compiled first (in graph order) and injected as CTEs, the rest rendered in
//! parallel. Pure: templates in, SQL text out; nothing here runs SQL.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::error::{Diagnostic, io_error};
use crate::graph::Dag;
use crate::jinja::{CompileInputs, QueryRunner, ResolveError, Resolved, Resolver};
use crate::project::Project;
use crate::project::config::Materialization;
use crate::project::nodes::{Node, NodeId, NodeKind, Relation};

/// The SQL of one compiled node and the macros it called.
#[derive(Debug, Clone)]
pub struct CompiledNode {
    pub sql: String,
    pub macros: BTreeSet<String>,
}

/// Resolves refs and sources of this project; ephemeral SQL fills in as it compiles.
#[derive(Debug)]
struct ProjectResolver {
    refs: HashMap<String, (Relation, bool)>,
    sources: HashMap<(String, String), (Relation, Option<String>)>,
    ephemeral_sql: RwLock<HashMap<String, String>>,
}

impl Resolver for ProjectResolver {
    fn resolve_ref(&self, _package: Option<&str>, name: &str) -> Result<Resolved, ResolveError> {
        let (relation, ephemeral) = self
            .refs
            .get(name)
            .ok_or_else(|| ResolveError::UnknownRef(name.to_owned()))?;
        if !*ephemeral {
            return Ok(Resolved::Relation(relation.clone()));
        }
        let sql = self
            .ephemeral_sql
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or_else(|| ResolveError::EphemeralNotCompiled(name.to_owned()))?;
        Ok(Resolved::Ephemeral {
            cte_name: format!("__dbt__cte__{name}"),
            sql,
        })
    }

    fn resolve_source(
        &self,
        source: &str,
        table: &str,
    ) -> Result<(Relation, Option<String>), ResolveError> {
        self.sources
            .get(&(source.to_owned(), table.to_owned()))
            .cloned()
            .ok_or_else(|| ResolveError::UnknownSource(source.to_owned(), table.to_owned()))
    }
}

/// Compiles nodes of one project: ephemeral models are compiled on first use and injected as
/// CTEs into the nodes that ref them.
#[derive(Debug)]
pub struct Compiler<'a> {
    project: &'a Project,
    dag: &'a Dag,
    resolver: Arc<ProjectResolver>,
}

impl<'a> Compiler<'a> {
    pub fn new(project: &'a Project, dag: &'a Dag) -> Self {
        let mut refs = HashMap::new();
        let mut sources = HashMap::new();
        for node in project.nodes.values() {
            match &node.kind {
                NodeKind::Model | NodeKind::Seed => {
                    let ephemeral = node.config.materialized == Materialization::Ephemeral;
                    refs.insert(node.name.clone(), (node.relation.clone(), ephemeral));
                }
                NodeKind::Source { source_name, .. } => {
                    sources.insert(
                        (source_name.clone(), node.name.clone()),
                        (node.relation.clone(), external_location(node)),
                    );
                }
                NodeKind::Test { .. } => {}
            }
        }
        Self {
            project,
            dag,
            resolver: Arc::new(ProjectResolver {
                refs,
                sources,
                ephemeral_sql: RwLock::default(),
            }),
        }
    }

    /// Compile the ephemeral models that `ids` need (parents before children).
    pub fn prepare_ephemerals(
        &self,
        ids: &BTreeSet<NodeId>,
    ) -> Result<BTreeMap<NodeId, CompiledNode>, Diagnostic> {
        let needed = self.dag.reach(ids, true, None);
        let mut compiled = BTreeMap::new();
        for id in self.dag.topological_order() {
            let node = &self.project.nodes[&id];
            let is_ephemeral = node.config.materialized == Materialization::Ephemeral
                && matches!(node.kind, NodeKind::Model);
            if is_ephemeral && (needed.contains(&id) || ids.contains(&id)) {
                let outcome = self.compile_node(node, false, None)?;
                self.resolver
                    .ephemeral_sql
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(node.name.clone(), outcome.sql.clone());
                compiled.insert(id, outcome);
            }
        }
        Ok(compiled)
    }

    /// Compile one node; `is_incremental` is what `is_incremental()` returns in it.
    pub fn compile_node(
        &self,
        node: &Node,
        is_incremental: bool,
        runner: Option<Arc<dyn QueryRunner>>,
    ) -> Result<CompiledNode, Diagnostic> {
        self.render(node, &node.raw_code, is_incremental, runner)
    }

    /// Render a project-level hook (`on-run-start`, `on-run-end`), outside any node.
    pub fn render_project_hook(
        &self,
        text: &str,
        runner: Option<Arc<dyn QueryRunner>>,
    ) -> Result<String, Diagnostic> {
        let input = crate::jinja::NodeInput {
            file: &self.project.file.file_name,
            source: text,
            this: None,
            model: serde_json::Value::Null,
            config: crate::project::config::ConfigLayer::new(),
        };
        let inputs = CompileInputs {
            resolver: self.resolver.clone(),
            is_incremental: false,
            runner,
        };
        self.project
            .engine
            .compile(&input, inputs)
            .map(|outcome| outcome.sql)
    }

    /// Render `text` (a hook, say) in the context of `node`.
    pub fn render(
        &self,
        node: &Node,
        text: &str,
        is_incremental: bool,
        runner: Option<Arc<dyn QueryRunner>>,
    ) -> Result<CompiledNode, Diagnostic> {
        let mut input = self.project.node_input(node);
        input.source = text;
        let inputs = CompileInputs {
            resolver: self.resolver.clone(),
            is_incremental,
            runner,
        };
        self.project
            .engine
            .compile(&input, inputs)
            .map(|outcome| CompiledNode {
                sql: outcome.sql,
                macros: outcome.macros_called,
            })
    }
}

/// Compile the nodes in `ids` (and the ephemeral models they need) without a database:
/// `is_incremental()` is false.
pub fn compile(
    project: &Project,
    dag: &Dag,
    ids: &BTreeSet<NodeId>,
) -> Result<BTreeMap<NodeId, CompiledNode>, Diagnostic> {
    let compiler = Compiler::new(project, dag);
    let mut compiled: BTreeMap<NodeId, CompiledNode> = compiler
        .prepare_ephemerals(ids)?
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect();
    let rest: Vec<&Node> = ids
        .iter()
        .filter(|id| !compiled.contains_key(*id))
        .filter_map(|id| project.nodes.get(id))
        .filter(|node| node.is_compiled())
        .collect();
    let results = crate::parallel::map(&rest, |node| compiler.compile_node(node, false, None));
    for (node, result) in rest.into_iter().zip(results) {
        compiled.insert(node.unique_id.clone(), result?);
    }
    Ok(compiled)
}

/// Where a node's compiled SQL goes, relative to the target path.
pub fn compiled_path(project: &Project, node: &Node) -> PathBuf {
    artifact_path(project, node, "compiled")
}

/// Where a node's file goes under `<target-path>/<folder>/`, as dbt lays out `compiled/` and
/// `run/`.
fn artifact_path(project: &Project, node: &Node, folder: &str) -> PathBuf {
    let base = PathBuf::from(folder).join(project.name());
    match &node.kind {
        NodeKind::Test {
            metadata: Some(_), ..
        } => base.join(&node.original_file_path).join(&node.path),
        _ => base.join(&node.original_file_path),
    }
}

/// Write compiled SQL files under `<target-path>/compiled/`, in parallel.
pub fn write_compiled(
    project: &Project,
    target_dir: &std::path::Path,
    compiled: &BTreeMap<NodeId, CompiledNode>,
) -> Result<(), Diagnostic> {
    let files: Vec<(PathBuf, &str)> = compiled
        .iter()
        .map(|(id, node)| {
            (
                target_dir.join(compiled_path(project, &project.nodes[id])),
                node.sql.as_str(),
            )
        })
        .collect();
    write_files(&files)
}

/// Write each node's plan under `<target-path>/run/`, where dbt keeps the SQL a run executes.
pub fn write_plans(
    project: &Project,
    target_dir: &std::path::Path,
    plans: &BTreeMap<NodeId, &crate::plan::Plan>,
) -> Result<(), Diagnostic> {
    let texts: Vec<(PathBuf, String)> = plans
        .iter()
        .map(|(id, plan)| {
            let path = artifact_path(project, &project.nodes[id], "run");
            (target_dir.join(path), plan.to_string())
        })
        .collect();
    let files: Vec<(PathBuf, &str)> = texts
        .iter()
        .map(|(path, text)| (path.clone(), text.as_str()))
        .collect();
    write_files(&files)
}

fn write_files(files: &[(PathBuf, &str)]) -> Result<(), Diagnostic> {
    let folders: BTreeSet<&std::path::Path> =
        files.iter().filter_map(|(path, _)| path.parent()).collect();
    for folder in folders {
        std::fs::create_dir_all(folder).map_err(|err| io_error(folder, "create", &err))?;
    }
    crate::parallel::map(files, |(path, sql)| write_if_changed(path, sql.as_bytes()))
        .into_iter()
        .collect()
}

/// Write `contents` to `path` unless the file already holds exactly that. A changed file is
/// removed first: rewriting a file in place makes ext4 flush it on close, which is 5x slower
/// for thousands of small files.
pub fn write_if_changed(path: &std::path::Path, contents: &[u8]) -> Result<(), Diagnostic> {
    match std::fs::read(path) {
        Ok(existing) if existing == contents => return Ok(()),
        Ok(_) => std::fs::remove_file(path).map_err(|err| io_error(path, "replace", &err))?,
        Err(_) => {}
    }
    std::fs::write(path, contents).map_err(|err| io_error(path, "write", &err))
}

/// What a source table with `external_location` (in `config` or `meta`, as dbt-duckdb reads it)
/// renders as: a table function call as written, or a quoted path or URL that DuckDB reads by
/// its extension. `{name}`, `{identifier}` and `{schema}` are filled in.
fn external_location(node: &Node) -> Option<String> {
    let location = node
        .config
        .extra
        .get("external_location")
        .or_else(|| node.config.meta.get("external_location"))?
        .as_str()?
        .replace("{name}", &node.name)
        .replace("{identifier}", &node.relation.identifier)
        .replace("{schema}", &node.relation.schema);
    Some(if location.contains('(') || location.starts_with('\'') {
        location
    } else {
        format!("'{}'", location.replace('\'', "''"))
    })
}
