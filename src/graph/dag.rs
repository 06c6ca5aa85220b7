//! Building the DAG from a loaded project: every `ref`/`source` becomes an edge from parent
//! to child; an unknown reference or a cycle is a project error with its place.

use std::collections::{BTreeSet, HashMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Diagnostic, DiagnosticKind};
use crate::project::Project;
use crate::project::nodes::{Node, NodeId, NodeKind, Reference};
use crate::suggest;

/// The project's dependency graph. Nodes are numbered in unique-id order; parents and
/// children lists are sorted.
#[derive(Debug, Clone)]
pub struct Dag {
    graph: DiGraph<usize, ()>,
    ids: Vec<NodeId>,
    index: HashMap<NodeId, usize>,
    parents: Vec<Vec<NodeId>>,
    children: Vec<Vec<NodeId>>,
}

impl Dag {
    /// Resolve every reference of every node and check the graph has no cycle.
    pub fn build(project: &Project) -> Result<Self, Diagnostic> {
        let ids: Vec<NodeId> = project.nodes.keys().cloned().collect();
        let index: HashMap<NodeId, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let mut refable: HashMap<&str, usize> = HashMap::new();
        let mut sources: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, node) in project.nodes.values().enumerate() {
            match &node.kind {
                NodeKind::Model | NodeKind::Seed => {
                    refable.insert(&node.name, i);
                }
                NodeKind::Source { source_name, .. } => {
                    sources.insert((source_name, &node.name), i);
                }
                NodeKind::Test { .. } => {}
            }
        }

        let mut graph = DiGraph::with_capacity(ids.len(), ids.len() * 4);
        for i in 0..ids.len() {
            graph.add_node(i);
        }
        let mut parent_indices: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        let mut child_indices: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        for (child, node) in project.nodes.values().enumerate() {
            let mut resolved = Vec::with_capacity(node.references.len());
            for reference in &node.references {
                let parent = match reference {
                    Reference::Ref { package, name } => {
                        if let Some(package) = package.as_deref().filter(|p| *p != project.name()) {
                            return Err(located(project, node, &[name], Diagnostic::new(
                                DiagnosticKind::UnknownRef,
                                format!("`{}` refers to `{name}` in package `{package}`, which is not installed", node.name),
                            ))
                            .hint(format!("packages are not supported yet; use `ref('{name}')` for a model of this project")));
                        }
                        *refable.get(name.as_str()).ok_or_else(|| {
                            unknown_ref(project, node, name, refable.keys().copied())
                        })?
                    }
                    Reference::Source { source, table } => *sources
                        .get(&(source.as_str(), table.as_str()))
                        .ok_or_else(|| unknown_source(project, node, source, table, &sources))?,
                };
                resolved.push(parent);
            }
            resolved.sort_unstable();
            resolved.dedup();
            for &parent in &resolved {
                graph.add_edge(NodeIndex::new(parent), NodeIndex::new(child), ());
                child_indices[parent].push(child);
            }
            parent_indices[child] = resolved;
        }
        let to_ids = |lists: Vec<Vec<usize>>| -> Vec<Vec<NodeId>> {
            lists
                .into_iter()
                .map(|list| list.into_iter().map(|i| ids[i].clone()).collect())
                .collect()
        };
        let dag = Self {
            graph,
            parents: to_ids(parent_indices),
            children: to_ids(child_indices),
            ids,
            index,
        };
        dag.check_cycles(project)?;
        Ok(dag)
    }

    fn check_cycles(&self, project: &Project) -> Result<(), Diagnostic> {
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || scc.iter().any(|i| self.graph.contains_edge(*i, *i)))
            .map(|scc| {
                let mut members: Vec<usize> = scc.into_iter().map(NodeIndex::index).collect();
                members.sort_unstable();
                members
            })
            .collect();
        cycles.sort();
        let Some(members) = cycles.first() else {
            return Ok(());
        };
        let path = self.cycle_path(members);
        let first = &project.nodes[&path[0]];
        let shown: Vec<&str> = path.iter().map(NodeId::as_str).collect();
        Err(Diagnostic::new(
            DiagnosticKind::Cycle,
            format!("found a cycle: {}", shown.join(" --> ")),
        )
        .in_file(&first.original_file_path)
        .hint("a model cannot depend on itself, directly or through other models; remove one of these refs"))
    }

    /// A closed path through the members of one strongly connected component.
    fn cycle_path(&self, members: &[usize]) -> Vec<NodeId> {
        let allowed: BTreeSet<usize> = members.iter().copied().collect();
        let start = members[0];
        // Breadth-first search from the start back to itself, inside the component.
        let mut previous: HashMap<usize, usize> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for child in self
                .graph
                .neighbors(NodeIndex::new(current))
                .map(NodeIndex::index)
            {
                if !allowed.contains(&child) {
                    continue;
                }
                if child == start {
                    let mut back = Vec::new();
                    let mut step = current;
                    while step != start {
                        back.push(self.ids[step].clone());
                        step = previous[&step];
                    }
                    back.reverse();
                    let mut path = vec![self.ids[start].clone()];
                    path.extend(back);
                    path.push(self.ids[start].clone());
                    return path;
                }
                previous.entry(child).or_insert_with(|| {
                    queue.push_back(child);
                    current
                });
            }
        }
        members.iter().map(|&i| self.ids[i].clone()).collect()
    }

    pub fn contains(&self, id: &NodeId) -> bool {
        self.index.contains_key(id)
    }

    /// Direct parents, sorted.
    pub fn parents(&self, id: &NodeId) -> &[NodeId] {
        self.index.get(id).map_or(&[], |&i| &self.parents[i])
    }

    /// Direct children, sorted.
    pub fn children(&self, id: &NodeId) -> &[NodeId] {
        self.index.get(id).map_or(&[], |&i| &self.children[i])
    }

    /// Every node reachable upwards (`parents`) or downwards (`children`) within `depth` steps.
    pub fn reach(
        &self,
        starts: &BTreeSet<NodeId>,
        upwards: bool,
        depth: Option<usize>,
    ) -> BTreeSet<NodeId> {
        let lists = if upwards {
            &self.parents
        } else {
            &self.children
        };
        let mut seen = vec![false; self.ids.len()];
        let mut frontier: Vec<usize> = starts
            .iter()
            .filter_map(|id| self.index.get(id).copied())
            .collect();
        let mut level = 0;
        while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
            let mut next = Vec::new();
            for i in frontier {
                for neighbour in &lists[i] {
                    let n = self.index[neighbour];
                    if !seen[n] {
                        seen[n] = true;
                        next.push(n);
                    }
                }
            }
            frontier = next;
            level += 1;
        }
        seen.iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| self.ids[i].clone())
            .collect()
    }

    /// All node ids in a stable topological order (ties broken by id).
    pub fn topological_order(&self) -> Vec<NodeId> {
        let mut remaining: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> =
            (0..self.ids.len()).filter(|&i| remaining[i] == 0).collect();
        let mut order = Vec::with_capacity(self.ids.len());
        while let Some(i) = ready.pop_first() {
            order.push(self.ids[i].clone());
            for child in &self.children[i] {
                let c = self.index[child];
                remaining[c] -= 1;
                if remaining[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        order
    }
}

/// Point at the first line of the node's file that mentions one of `names` in quotes.
fn located(project: &Project, node: &Node, names: &[&str], diagnostic: Diagnostic) -> Diagnostic {
    let is_generic_test = matches!(
        node.kind,
        NodeKind::Test {
            metadata: Some(_),
            ..
        }
    );
    let text = if node.raw_code.is_empty() || is_generic_test {
        std::fs::read_to_string(project.file.root.join(&node.original_file_path))
            .unwrap_or_default()
    } else {
        node.raw_code.clone()
    };
    let line = names.iter().find_map(|name| {
        [
            format!("'{name}'"),
            format!("\"{name}\""),
            format!(" {name}\n"),
            format!(" {name}"),
        ]
        .iter()
        .find_map(|needle| crate::yaml::line_of(&text, needle))
    });
    let Some(line) = line else {
        return diagnostic.in_file(&node.original_file_path);
    };
    let column = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find("ref(").or_else(|| l.find("source(")))
        .map(|c| c + 1);
    diagnostic.at(&node.original_file_path, line, column, Some(&text))
}

fn describe(node: &Node) -> String {
    format!("{} `{}`", node.resource_type(), node.name)
}

fn unknown_ref<'a>(
    project: &Project,
    node: &Node,
    name: &str,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        DiagnosticKind::UnknownRef,
        format!("{} refers to `{name}`, which was not found", describe(node)),
    );
    let hint = if project.disabled.iter().any(|d| d == name) {
        format!("`{name}` is disabled (`enabled: false`); enable it or remove the ref")
    } else {
        match suggest::closest(name, known) {
            Some(close) => format!("did you mean `ref('{close}')`?"),
            None => "check the model or seed name; refs take file names without `.sql`/`.csv`"
                .to_owned(),
        }
    };
    located(project, node, &[name], diagnostic).hint(hint)
}

fn unknown_source(
    project: &Project,
    node: &Node,
    source: &str,
    table: &str,
    sources: &HashMap<(&str, &str), usize>,
) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        DiagnosticKind::UnknownSource,
        format!(
            "{} refers to source `{source}.{table}`, which was not found",
            describe(node)
        ),
    );
    let names: Vec<String> = sources.keys().map(|(s, t)| format!("{s}.{t}")).collect();
    let wanted = format!("{source}.{table}");
    let hint = match suggest::closest(&wanted, names.iter().map(String::as_str)) {
        Some(close) => {
            let (s, t) = close.split_once('.').unwrap_or((close, ""));
            format!("did you mean `source('{s}', '{t}')`?")
        }
        None => {
            "declare it under `sources:` in a schema YAML file under the model paths".to_owned()
        }
    };
    located(project, node, &[table], diagnostic).hint(hint)
}
