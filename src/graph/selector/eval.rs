//! Evaluating a [`Selection`] on the graph: each atom's method picks nodes, graph operators
//! widen them, tests join by indirect selection, and set operations combine the results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::error::{Diagnostic, DiagnosticKind, io_error};
use crate::graph::Dag;
use crate::project::Project;
use crate::project::nodes::{Node, NodeId, NodeKind, ResourceType};

use super::glob::fnmatch;
use super::{Criterion, IndirectSelection, Method, Selection, StateCheck};

/// Checksums and configs of a previous run's manifest, for `state:` selection.
#[derive(Debug, Clone, Default)]
pub struct PreviousState {
    nodes: BTreeMap<String, (String, Value)>,
}

impl PreviousState {
    /// Read `<dir>/manifest.json`.
    pub fn load(dir: &Path) -> Result<Self, Diagnostic> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|err| {
            io_error(&path, "read", &err)
                .hint("`--state` takes the folder of a manifest.json from an earlier `ghforge compile` or `run`")
        })?;
        let manifest: Value = serde_json::from_str(&text).map_err(|err| {
            Diagnostic::new(
                DiagnosticKind::Project,
                format!("`{}` is not a manifest: {err}", path.display()),
            )
            .at(&path, err.line(), Some(err.column()), Some(&text))
        })?;
        let mut nodes = BTreeMap::new();
        for section in ["nodes", "sources", "seeds"] {
            if let Some(Value::Object(entries)) = manifest.get(section) {
                for (id, node) in entries {
                    let checksum = node
                        .pointer("/checksum/checksum")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let config = node.get("config").cloned().unwrap_or(Value::Null);
                    nodes.insert(id.clone(), (checksum, config));
                }
            }
        }
        Ok(Self { nodes })
    }

    fn check(&self, node: &Node, check: StateCheck) -> bool {
        let Some((checksum, config)) = self.nodes.get(node.unique_id.as_str()) else {
            return matches!(
                check,
                StateCheck::New
                    | StateCheck::Modified
                    | StateCheck::ModifiedBody
                    | StateCheck::ModifiedConfigs
            );
        };
        // dbt's source entries carry no checksum: treat a missing one as unchanged.
        let body_changed = !checksum.is_empty() && *checksum != node.checksum;
        let configs_changed = match config {
            Value::Object(old) => node
                .config
                .to_json()
                .iter()
                .any(|(key, value)| old.get(key).is_some_and(|o| o != value)),
            _ => false,
        };
        match check {
            StateCheck::New => false,
            StateCheck::Old => true,
            StateCheck::Modified => body_changed || configs_changed,
            StateCheck::ModifiedBody => body_changed,
            StateCheck::ModifiedConfigs => configs_changed,
            StateCheck::Unmodified => !body_changed && !configs_changed,
        }
    }
}

/// What evaluation looks at.
#[derive(Debug, Clone, Copy)]
pub struct SelectionContext<'a> {
    pub project: &'a Project,
    pub dag: &'a Dag,
    pub state: Option<&'a PreviousState>,
    pub indirect: IndirectSelection,
}

/// Evaluate a selection; `None` selects every node.
pub fn select(
    ctx: &SelectionContext<'_>,
    selection: Option<&Selection>,
) -> Result<BTreeSet<NodeId>, Diagnostic> {
    match selection {
        None => Ok(ctx.project.nodes.keys().cloned().collect()),
        Some(selection) => Ok(eval(ctx, selection)?.0),
    }
}

/// The criteria of `selection`'s included side that match no node by themselves (before
/// graph operators), each with the nearest node name when the criterion looks like a misspelt
/// one: what dbt warns about as "does not match any enabled nodes".
pub fn unmatched<'s>(
    ctx: &SelectionContext<'_>,
    selection: &'s Selection,
) -> Vec<(&'s Criterion, Option<String>)> {
    let mut out = Vec::new();
    collect_unmatched(ctx, selection, &mut out);
    out
}

fn collect_unmatched<'s>(
    ctx: &SelectionContext<'_>,
    selection: &'s Selection,
    out: &mut Vec<(&'s Criterion, Option<String>)>,
) {
    match selection {
        Selection::All => {}
        Selection::Atom(criterion) => {
            if matches!(criterion.method, Method::State(_)) {
                return;
            }
            let nodes = ctx.project.nodes.values();
            if nodes
                .clone()
                .any(|node| matches_method(ctx, node, criterion))
            {
                return;
            }
            let near = (criterion.method == Method::Fqn)
                .then(|| crate::suggest::closest(&criterion.value, nodes.map(|n| n.name.as_str())))
                .flatten()
                .map(str::to_owned);
            out.push((criterion, near));
        }
        Selection::And(parts) | Selection::Or(parts) => {
            for part in parts {
                collect_unmatched(ctx, part, out);
            }
        }
        Selection::Exclude { include, .. } => collect_unmatched(ctx, include, out),
    }
}

/// (direct, indirect) node sets, as dbt combines them.
type Bundle = (BTreeSet<NodeId>, BTreeSet<NodeId>);

/// How a set operation folds its components' sets.
type Combine = fn(Vec<BTreeSet<NodeId>>) -> BTreeSet<NodeId>;

fn eval(ctx: &SelectionContext<'_>, selection: &Selection) -> Result<Bundle, Diagnostic> {
    let (components, combine): (Vec<&Selection>, Combine) = match selection {
        Selection::All => {
            return Ok((ctx.project.nodes.keys().cloned().collect(), BTreeSet::new()));
        }
        Selection::Atom(criterion) => return criterion_nodes(ctx, criterion),
        Selection::Or(parts) => (parts.iter().collect(), union),
        Selection::And(parts) => (parts.iter().collect(), intersection),
        Selection::Exclude { include, exclude } => {
            (vec![include.as_ref(), exclude.as_ref()], difference)
        }
    };
    let bundles = components
        .into_iter()
        .map(|c| eval(ctx, c))
        .collect::<Result<Vec<_>, _>>()?;
    let (direct_sets, indirect_sets): (Vec<_>, Vec<_>) = bundles.into_iter().unzip();
    let direct = combine(direct_sets);
    let indirect = combine(indirect_sets);
    let direct = incorporate_indirect(ctx, direct, &indirect);
    Ok((direct, indirect))
}

fn union(sets: Vec<BTreeSet<NodeId>>) -> BTreeSet<NodeId> {
    sets.into_iter().flatten().collect()
}

fn intersection(sets: Vec<BTreeSet<NodeId>>) -> BTreeSet<NodeId> {
    let mut iter = sets.into_iter();
    let first = iter.next().unwrap_or_default();
    iter.fold(first, |acc, set| acc.intersection(&set).cloned().collect())
}

fn difference(sets: Vec<BTreeSet<NodeId>>) -> BTreeSet<NodeId> {
    let mut iter = sets.into_iter();
    let first = iter.next().unwrap_or_default();
    iter.fold(first, |acc, set| acc.difference(&set).cloned().collect())
}

fn criterion_nodes(
    ctx: &SelectionContext<'_>,
    criterion: &Criterion,
) -> Result<Bundle, Diagnostic> {
    let collected: BTreeSet<NodeId> = ctx
        .project
        .nodes
        .values()
        .filter(|node| matches_method(ctx, node, criterion))
        .map(|node| node.unique_id.clone())
        .collect::<BTreeSet<_>>();
    if let (Method::State(_), None) = (&criterion.method, ctx.state) {
        return Err(Diagnostic::new(
            DiagnosticKind::Selector,
            format!(
                "`{}` needs a previous manifest to compare with",
                criterion.raw
            ),
        )
        .hint("pass `--state <folder with manifest.json>`"));
    }
    let mut selected = collected.clone();
    if criterion.childrens_parents {
        let descendants = ctx.dag.reach(&collected, false, None);
        let mut with_descendants = collected.clone();
        with_descendants.extend(descendants);
        let ancestors = ctx.dag.reach(&with_descendants, true, None);
        selected.extend(with_descendants);
        selected.extend(ancestors);
    } else {
        if let Some(reach) = criterion.parents {
            selected.extend(ctx.dag.reach(&collected, true, reach.limit()));
        }
        if let Some(reach) = criterion.children {
            selected.extend(ctx.dag.reach(&collected, false, reach.limit()));
        }
    }
    if ctx.indirect == IndirectSelection::Empty {
        return Ok((selected, BTreeSet::new()));
    }
    Ok(expand_tests(ctx, selected))
}

/// Tests that are direct children of selected nodes join directly or wait as indirect.
fn expand_tests(ctx: &SelectionContext<'_>, selected: BTreeSet<NodeId>) -> Bundle {
    let mut direct = selected.clone();
    let mut indirect = BTreeSet::new();
    let selected_and_parents: BTreeSet<NodeId> = if ctx.indirect == IndirectSelection::Buildable {
        let mut set = selected.clone();
        set.extend(ctx.dag.reach(&selected, true, None));
        set.extend(sources(ctx));
        set
    } else {
        BTreeSet::new()
    };
    for id in &selected {
        for child in ctx.dag.children(id) {
            let Some(node) = ctx.project.nodes.get(child) else {
                continue;
            };
            if node.resource_type() != ResourceType::Test {
                continue;
            }
            let parents = ctx.dag.parents(child);
            let joins = ctx.indirect == IndirectSelection::Eager
                || parents.iter().all(|p| selected.contains(p))
                || (ctx.indirect == IndirectSelection::Buildable
                    && parents.iter().all(|p| selected_and_parents.contains(p)));
            if joins {
                direct.insert(child.clone());
            } else {
                indirect.insert(child.clone());
            }
        }
    }
    (direct, indirect)
}

fn sources<'a>(ctx: &'a SelectionContext<'a>) -> impl Iterator<Item = NodeId> + 'a {
    ctx.project
        .nodes
        .values()
        .filter(|n| n.resource_type() == ResourceType::Source)
        .map(|n| n.unique_id.clone())
}

/// Indirect tests whose parents are now all present join (cautious, buildable).
fn incorporate_indirect(
    ctx: &SelectionContext<'_>,
    direct: BTreeSet<NodeId>,
    indirect: &BTreeSet<NodeId>,
) -> BTreeSet<NodeId> {
    let mut selected = direct;
    let pool: BTreeSet<NodeId> = match ctx.indirect {
        IndirectSelection::Cautious => selected.clone(),
        IndirectSelection::Buildable => {
            let mut set = selected.clone();
            set.extend(ctx.dag.reach(&selected, true, None));
            set
        }
        IndirectSelection::Eager | IndirectSelection::Empty => return selected,
    };
    for id in indirect {
        if ctx.dag.parents(id).iter().all(|p| pool.contains(p)) {
            selected.insert(id.clone());
        }
    }
    selected
}

fn matches_method(ctx: &SelectionContext<'_>, node: &Node, criterion: &Criterion) -> bool {
    let value = criterion.value.as_str();
    match &criterion.method {
        // As in dbt, qualified names, resource types and test names match manifest nodes, not sources.
        Method::Fqn | Method::ResourceType | Method::TestName | Method::TestType
            if node.resource_type() == ResourceType::Source =>
        {
            false
        }
        Method::Fqn => {
            let fqn = &node.fqn;
            is_selected_node(fqn, value) || is_selected_node(&fqn[1.min(fqn.len())..], value)
        }
        Method::Path => matches_path(node, value),
        Method::File => {
            let file = Path::new(&node.original_file_path);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let stem = file
                .file_stem()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            fnmatch(&name, value) || fnmatch(&stem, value)
        }
        Method::Tag => node.config.tags.iter().any(|tag| fnmatch(tag, value)),
        Method::Config(keys) => {
            let config = node.config.to_json();
            let mut current = keys.first().and_then(|k| config.get(k.as_str()));
            for key in keys.iter().skip(1) {
                current = current.and_then(|v| v.get(key.as_str()));
            }
            // dbt compares `severity` case-insensitively.
            let case_insensitive = keys.len() == 1 && keys[0] == "severity";
            current.is_some_and(|v| config_matches(v, value, case_insensitive))
        }
        Method::ResourceType => node.resource_type().as_str() == value,
        Method::Source => match &node.kind {
            NodeKind::Source { source_name, .. } => {
                let parts: Vec<&str> = value.split('.').collect();
                let (package, source, table) = match parts.as_slice() {
                    [source] => ("*", *source, "*"),
                    [source, table] => ("*", *source, *table),
                    [package, source, table] => (*package, *source, *table),
                    _ => return false,
                };
                fnmatch(&node.package_name, package)
                    && fnmatch(source_name, source)
                    && fnmatch(&node.name, table)
            }
            _ => false,
        },
        Method::TestType => match &node.kind {
            NodeKind::Test { metadata, .. } => match value {
                "generic" | "schema" => metadata.is_some(),
                "singular" | "data" => metadata.is_none(),
                _ => false,
            },
            _ => false,
        },
        Method::TestName => node
            .test_metadata()
            .is_some_and(|m| fnmatch(&m.name, value)),
        Method::Package => fnmatch(&node.package_name, value),
        Method::State(check) => ctx.state.is_some_and(|state| state.check(node, *check)),
    }
}

/// dbt's qualified-name match: the leaf name, or the selector's dotted parts equal to the first
/// parts of the node's fqn; from the first part with a wildcard on, the rest of the selector is
/// matched against the rest of the fqn as one dotted string.
fn is_selected_node(fqn: &[String], selector: &str) -> bool {
    if fqn.last().is_some_and(|leaf| leaf == selector) {
        return true;
    }
    let flat: Vec<&str> = fqn.iter().flat_map(|segment| segment.split('.')).collect();
    let parts: Vec<&str> = selector.split('.').collect();
    if parts.len() > flat.len() {
        return false;
    }
    for (index, part) in parts.iter().enumerate() {
        if part.contains(['*', '?', '[', ']']) {
            return fnmatch(&flat[index..].join("."), &parts[index..].join("."));
        }
        if flat[index] != *part {
            return false;
        }
    }
    true
}

fn matches_path(node: &Node, selector: &str) -> bool {
    let pattern = selector.trim_start_matches("./").trim_end_matches('/');
    let candidates = [
        Some(node.original_file_path.as_str()),
        node.patch_path.as_deref(),
    ];
    candidates.into_iter().flatten().any(|file| {
        let mut path = Some(Path::new(file));
        while let Some(current) = path {
            let text = current.to_string_lossy();
            if text.is_empty() {
                break;
            }
            if fnmatch(&text, pattern) {
                return true;
            }
            path = current.parent();
        }
        false
    })
}

fn config_matches(value: &Value, selector: &str, case_insensitive: bool) -> bool {
    let scalar = |v: &Value| match v {
        Value::String(s) if case_insensitive => s.eq_ignore_ascii_case(selector),
        Value::String(s) => s == selector,
        Value::Bool(b) => selector.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => false,
    };
    match value {
        Value::Array(items) => items.iter().any(scalar),
        other => scalar(other),
    }
}
