//! Schema YAML files indexed by the models, seeds and sources they describe (one entry per name;
//! a name described twice is an error).

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{Diagnostic, DiagnosticKind};
use crate::yaml;

use super::config::ConfigLayer;
use super::discover::FoundFile;
use super::nodes::ColumnInfo;
use super::schema_yml::{RawColumn, RawNodeProps, RawSchemaFile};

/// Properties of a model or seed, with the file they came from.
pub(super) type RawProps<'a> = (&'a FoundFile, RawNodeProps);

/// Schema YAML entries by name, with the file each came from.
pub(super) struct SchemaIndex<'a> {
    pub(super) models: HashMap<String, (&'a FoundFile, RawNodeProps)>,
    pub(super) seeds: HashMap<String, (&'a FoundFile, RawNodeProps)>,
    pub(super) sources: Vec<(&'a FoundFile, super::schema_yml::RawSource)>,
}

impl<'a> SchemaIndex<'a> {
    pub(super) fn read(files: &'a [FoundFile]) -> Result<Self, Diagnostic> {
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

pub(super) fn yaml_layer(tree: Option<&yaml::Tree>) -> Option<ConfigLayer> {
    match tree.map(yaml::to_json) {
        Some(Value::Object(map)) => Some(map.into_iter().collect()),
        _ => None,
    }
}

pub(super) fn columns_of(raw: &[RawColumn]) -> IndexMap<String, ColumnInfo> {
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
