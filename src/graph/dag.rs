//! Building the DAG from a loaded project: every `ref`/`source` becomes an edge from parent
//! to child; an unknown reference or a cycle is a project error with its place.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Diagnostic, DiagnosticKind};
use crate::project::Project;
use crate::project::nodes::{Node, NodeId, NodeKind, Reference};
use crate::suggest;

/// The project's dependency graph.
#[derive(Debug, Clone)]
pub struct Dag {
    graph: DiGraph<NodeId, ()>,
    index: HashMap<NodeId, NodeIndex>,
    parents: BTreeMap<NodeId, Vec<NodeId>>,
    children: BTreeMap<NodeId, Vec<NodeId>>,
}

impl Dag {
    /// Resolve every reference of every node and check the graph has no cycle.
    pub fn build(project: &Project) -> Result<Self, Diagnostic> {
        let refable: HashMap<&str, &NodeId> = project
            .nodes
            .values()
            .filter(|n| matches!(n.kind, NodeKind::Model | NodeKind::Seed))
            .map(|n| (n.name.as_str(), &n.unique_id))
            .collect();
        let sources: HashMap<(&str, &str), &NodeId> = project
            .nodes
            .values()
            .filter_map(|n| match &n.kind {
                NodeKind::Source { source_name, .. } => {
                    Some(((source_name.as_str(), n.name.as_str()), &n.unique_id))
                }
                _ => None,
            })
            .collect();

        let mut graph = DiGraph::with_capacity(project.nodes.len(), project.nodes.len() * 4);
        let mut index = HashMap::with_capacity(project.nodes.len());
        for id in project.nodes.keys() {
            index.insert(id.clone(), graph.add_node(id.clone()));
        }
        let mut parents: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
        let mut children: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
        for node in project.nodes.values() {
            let mut resolved = BTreeSet::new();
            for reference in &node.references {
                let parent = match reference {
                    Reference::Ref {
                        package,
                        name,
                        line,
                    } => {
                        if let Some(package) = package.as_deref().filter(|p| *p != project.name()) {
                            return Err(located(project, node, *line, Diagnostic::new(
                                DiagnosticKind::UnknownRef,
                                format!("`{}` refers to `{name}` in package `{package}`, which is not installed", node.name),
                            ))
                            .hint(format!("packages are not supported yet; use `ref('{name}')` for a model of this project")));
                        }
                        refable.get(name.as_str()).copied().ok_or_else(|| {
                            unknown_ref(project, node, name, *line, refable.keys().copied())
                        })?
                    }
                    Reference::Source {
                        source,
                        table,
                        line,
                    } => sources
                        .get(&(source.as_str(), table.as_str()))
                        .copied()
                        .ok_or_else(|| {
                            unknown_source(project, node, source, table, *line, &sources)
                        })?,
                };
                resolved.insert(parent.clone());
            }
            for parent in &resolved {
                graph.add_edge(index[parent], index[&node.unique_id], ());
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(node.unique_id.clone());
            }
            parents.insert(node.unique_id.clone(), resolved.into_iter().collect());
        }
        for list in children.values_mut() {
            list.sort();
            list.dedup();
        }
        let dag = Self {
            graph,
            index,
            parents,
            children,
        };
        dag.check_cycles(project)?;
        Ok(dag)
    }

    fn check_cycles(&self, project: &Project) -> Result<(), Diagnostic> {
        let mut cycles: Vec<Vec<NodeId>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || scc.iter().any(|i| self.graph.contains_edge(*i, *i)))
            .map(|scc| {
                let mut ids: Vec<NodeId> = scc.into_iter().map(|i| self.graph[i].clone()).collect();
                ids.sort();
                ids
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
    fn cycle_path(&self, members: &[NodeId]) -> Vec<NodeId> {
        let allowed: BTreeSet<&NodeId> = members.iter().collect();
        let start = &members[0];
        // Breadth-first search from the start back to itself, inside the component.
        let mut previous: HashMap<&NodeId, &NodeId> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for child in self.children(current) {
                if !allowed.contains(child) {
                    continue;
                }
                if child == start {
                    let mut back = Vec::new();
                    let mut step = current;
                    while step != start {
                        back.push(step.clone());
                        step = previous[step];
                    }
                    back.reverse();
                    let mut path = vec![start.clone()];
                    path.extend(back);
                    path.push(start.clone());
                    return path;
                }
                if !previous.contains_key(child) {
                    previous.insert(child, current);
                    queue.push_back(child);
                }
            }
        }
        members.to_vec()
    }

    pub fn contains(&self, id: &NodeId) -> bool {
        self.index.contains_key(id)
    }

    /// Direct parents, sorted.
    pub fn parents(&self, id: &NodeId) -> &[NodeId] {
        self.parents.get(id).map_or(&[], Vec::as_slice)
    }

    /// Direct children, sorted.
    pub fn children(&self, id: &NodeId) -> &[NodeId] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    /// Every node reachable upwards (`parents`) or downwards (`children`) within `depth` steps.
    pub fn reach(
        &self,
        starts: &BTreeSet<NodeId>,
        upwards: bool,
        depth: Option<usize>,
    ) -> BTreeSet<NodeId> {
        let mut seen = BTreeSet::new();
        let mut frontier: Vec<&NodeId> = starts.iter().collect();
        let mut level = 0;
        while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
            let mut next = Vec::new();
            for id in frontier {
                let neighbours = if upwards {
                    self.parents(id)
                } else {
                    self.children(id)
                };
                for n in neighbours {
                    if seen.insert(n.clone()) {
                        next.push(n);
                    }
                }
            }
            frontier = next;
            level += 1;
        }
        seen
    }

    /// All node ids in a stable topological order (ties broken by id).
    pub fn topological_order(&self) -> Vec<NodeId> {
        let mut remaining: HashMap<&NodeId, usize> =
            self.parents.iter().map(|(id, p)| (id, p.len())).collect();
        let mut ready: BTreeSet<&NodeId> = remaining
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(id, _)| *id)
            .collect();
        let mut order = Vec::with_capacity(remaining.len());
        while let Some(id) = ready.pop_first() {
            order.push(id.clone());
            for child in self.children(id) {
                if let Some(count) = remaining.get_mut(child) {
                    *count -= 1;
                    if *count == 0 {
                        ready.insert(child);
                    }
                }
            }
        }
        order
    }
}

fn located(project: &Project, node: &Node, line: usize, diagnostic: Diagnostic) -> Diagnostic {
    let text = std::fs::read_to_string(project.file.root.join(&node.original_file_path)).ok();
    if line == 0 {
        return diagnostic.in_file(&node.original_file_path);
    }
    let source = if node.raw_code.is_empty()
        || matches!(
            node.kind,
            NodeKind::Test {
                metadata: Some(_),
                ..
            }
        ) {
        text.as_deref()
    } else {
        Some(node.raw_code.as_str())
    };
    let column = source
        .and_then(|s| s.lines().nth(line - 1))
        .and_then(|l| l.find("ref(").or_else(|| l.find("source(")))
        .map(|c| c + 1);
    diagnostic.at(&node.original_file_path, line, column, source)
}

fn describe(node: &Node) -> String {
    format!("{} `{}`", node.resource_type(), node.name)
}

fn unknown_ref<'a>(
    project: &Project,
    node: &Node,
    name: &str,
    line: usize,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let line = if matches!(
        node.kind,
        NodeKind::Test {
            metadata: Some(_),
            ..
        }
    ) {
        let text = std::fs::read_to_string(project.file.root.join(&node.original_file_path))
            .unwrap_or_default();
        crate::yaml::line_of(&text, name).unwrap_or(0)
    } else {
        line
    };
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
    located(project, node, line, diagnostic).hint(hint)
}

fn unknown_source(
    project: &Project,
    node: &Node,
    source: &str,
    table: &str,
    line: usize,
    sources: &HashMap<(&str, &str), &NodeId>,
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
    located(project, node, line, diagnostic).hint(hint)
}
