//! One file per command. Each takes resolved [`Settings`] and returns an exit code.

pub mod clean;
pub mod compile;
pub mod debug;
pub mod docs;
pub mod enrich;
pub mod gen_archive;
pub mod junit;
pub mod live;
pub mod load;
pub mod ls;
pub mod run;
pub mod serve;
pub mod warehouse;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::cli::SelectionArgs;
use crate::console::Console;
use crate::error::Result;
use crate::graph::Dag;
use crate::graph::selector::{PreviousState, SelectionContext, parse_selection, select};
use crate::project::nodes::{NodeId, ResourceType};
use crate::project::{self, Project};
use crate::settings::Settings;

/// A loaded project, its graph and the nodes a command selected.
pub struct Loaded {
    pub project: Project,
    pub dag: Dag,
    pub selected: BTreeSet<NodeId>,
    pub console: Console,
}

impl Loaded {
    /// The end of a command: the process exits next, so skip freeing the project's many
    /// small allocations (a tenth of the run time for a 10,000-model project).
    pub fn finish(self) {
        std::mem::forget(self);
    }

    pub fn target_dir(&self) -> PathBuf {
        self.project.file.root.join(&self.project.file.target_path)
    }
}

/// Load the project, build the graph and evaluate the selection, keeping `resource_types`
/// (all types when empty).
pub fn load_and_select(
    settings: Settings,
    selection: &SelectionArgs,
    resource_types: &[ResourceType],
) -> Result<Loaded> {
    let console = Console {
        format: settings.log_format,
    };
    // Check the selector before the (possibly long) load.
    let parsed = parse_selection(&selection.select, &selection.exclude)?;
    let state = selection
        .state
        .as_deref()
        .map(PreviousState::load)
        .transpose()?;
    let root = settings.load.file.root.clone();
    let project = project::load(settings.load).map_err(|d| d.relative_to(&root))?;
    let dag = Dag::build(&project).map_err(|d| d.relative_to(&root))?;
    let ctx = SelectionContext {
        project: &project,
        dag: &dag,
        state: state.as_ref(),
        indirect: selection.indirect_selection,
    };
    for (criterion, near) in parsed
        .as_ref()
        .map(|selection| crate::graph::selector::unmatched(&ctx, selection))
        .unwrap_or_default()
    {
        let hint = match near {
            Some(name) => format!("\n  hint: did you mean `{name}`?"),
            None => String::new(),
        };
        console.warn(
            "NoNodesForSelectionCriteria",
            &format!(
                "The selection criterion '{}' does not match any enabled nodes{hint}",
                criterion.raw
            ),
        );
    }
    let selected = select(&ctx, parsed.as_ref())?
        .into_iter()
        .filter(|id| {
            resource_types.is_empty()
                || project
                    .nodes
                    .get(id)
                    .is_some_and(|n| resource_types.contains(&n.resource_type()))
        })
        .collect();
    Ok(Loaded {
        project,
        dag,
        selected,
        console,
    })
}

/// dbt's "Found 3 models, 2 seeds, ..." line.
pub fn found_summary(project: &Project) -> String {
    let mut counts = [0usize; 4];
    for node in project.nodes.values() {
        counts[node.resource_type() as usize] += 1;
    }
    let macros = project
        .engine
        .macros()
        .values()
        .filter(|m| !m.builtin)
        .count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "Found {}, {}, {}, {}, {}",
        plural(counts[ResourceType::Model as usize], "model", "models"),
        plural(counts[ResourceType::Seed as usize], "seed", "seeds"),
        plural(
            counts[ResourceType::Test as usize],
            "data test",
            "data tests"
        ),
        plural(counts[ResourceType::Source as usize], "source", "sources"),
        plural(macros, "macro", "macros"),
    )
}
