//! `ghforge ls`: list the nodes a selection picks, in stable order.

use std::io::Write;

use serde_json::json;

use crate::cli::{LsArgs, LsOutput};
use crate::error::Result;
use crate::project::nodes::{Node, NodeKind};
use crate::settings::Settings;

use super::load_and_select;

pub fn run(settings: Settings, args: &LsArgs) -> Result<i32> {
    let loaded = load_and_select(settings, &args.selection, &args.resource_type)?;
    let console = loaded.console;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for id in &loaded.selected {
        let node = &loaded.project.nodes[id];
        let line = match args.output {
            LsOutput::Selector => selector_form(node),
            LsOutput::Name => node.name.clone(),
            LsOutput::Path => node.original_file_path.clone(),
            LsOutput::Json => json!({
                "name": node.name,
                "resource_type": node.resource_type().as_str(),
                "package_name": node.package_name,
                "original_file_path": node.original_file_path,
                "unique_id": node.unique_id,
                "alias": node.relation.identifier,
                "config": node.config.to_json(),
                "tags": node.config.tags,
                "depends_on": {"nodes": loaded.dag.parents(id)},
            })
            .to_string(),
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    if loaded.selected.is_empty() {
        console.warn("NoNodesForSelectionCriteria", "no nodes selected");
    }
    loaded.finish();
    Ok(0)
}

fn selector_form(node: &Node) -> String {
    match &node.kind {
        NodeKind::Source { source_name, .. } => {
            format!("source:{}.{source_name}.{}", node.package_name, node.name)
        }
        _ => node.fqn.join("."),
    }
}
