//! The only module that knows `serde_yaml` (upstream is archived; keep it swappable): parses a
//! YAML file into a raw serde type and turns every failure into a [`Diagnostic`] with the file,
//! line and column.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Diagnostic, DiagnosticKind};

/// A parsed YAML document kept as a tree, for callers that render strings before typing it.
pub type Tree = serde_yaml::Value;

/// Parse `text` (the contents of `path`) as `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_yaml::from_str(text).map_err(|err| to_diagnostic(path, text, &err))
}

/// Parse `text` into a YAML tree, rejecting syntax errors with their place.
pub fn parse_tree(path: &Path, text: &str) -> Result<Tree, Diagnostic> {
    parse(path, text)
}

/// Type a tree whose strings were rendered; structural mistakes were caught by [`parse`].
pub fn from_tree<T: DeserializeOwned>(path: &Path, tree: Tree) -> Result<T, Diagnostic> {
    serde_yaml::from_value(tree).map_err(|err| {
        Diagnostic::new(DiagnosticKind::Yaml, clean_message(&err.to_string())).in_file(path)
    })
}

/// Walk every string of a tree (mapping values and sequence items, not keys), replacing it with
/// `render(path_of_keys, text)`. Keys listed in `skip` keep their raw text (hooks render later).
pub fn render_strings(
    tree: &mut Tree,
    skip: &[&str],
    render: &mut dyn FnMut(&str) -> Result<String, Diagnostic>,
) -> Result<(), Diagnostic> {
    match tree {
        serde_yaml::Value::String(text) if text.contains("{{") || text.contains("{%") => {
            *text = render(text)?;
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                render_strings(item, skip, render)?;
            }
        }
        serde_yaml::Value::Mapping(map) => {
            for (key, value) in map.iter_mut() {
                let skipped = key
                    .as_str()
                    .is_some_and(|k| skip.contains(&k.trim_start_matches('+')));
                if !skipped {
                    render_strings(value, skip, render)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Convert a YAML tree into JSON (configs, vars and test arguments are kept as JSON values).
pub fn to_json(tree: &Tree) -> serde_json::Value {
    serde_json::to_value(tree).unwrap_or(serde_json::Value::Null)
}

/// The 1-based line of the first occurrence of `needle` in `text`, for errors found after parsing.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    let offset = text.find(needle)?;
    Some(text[..offset].matches('\n').count() + 1)
}

fn to_diagnostic(path: &Path, text: &str, err: &serde_yaml::Error) -> Diagnostic {
    let message = clean_message(&err.to_string());
    let diagnostic = Diagnostic::new(DiagnosticKind::Yaml, message);
    match err.location() {
        Some(location) => diagnostic.at(path, location.line(), Some(location.column()), Some(text)),
        None => diagnostic.in_file(path),
    }
}

/// serde_yaml appends " at line X column Y" to messages; the location is shown apart.
fn clean_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}
