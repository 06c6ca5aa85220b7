//! Generic data tests declared in schema YAML (`tests:`/`data_tests:` on models, columns, seeds
//! and source tables), turned into test nodes named and identified as dbt names them.

use indexmap::IndexMap;
use serde_json::Value;

use crate::checksum;
use crate::error::{Diagnostic, DiagnosticKind};
use crate::yaml;

use super::config::{ConfigLayer, is_known_key};
use super::nodes::{NodeId, Reference, TestMetadata};

/// What a generic test is attached to.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// A model or seed, referred to with `ref('name')`.
    Node { name: &'a str, id: &'a NodeId },
    /// A source table, referred to with `source('source', 'table')`.
    Source {
        source: &'a str,
        table: &'a str,
        id: &'a NodeId,
    },
}

/// A generic test ready to become a node.
#[derive(Debug, Clone)]
pub struct GenericTest {
    pub name: String,
    pub short_name: String,
    pub unique_id: NodeId,
    pub raw_code: String,
    pub metadata: TestMetadata,
    pub config: ConfigLayer,
    pub attached_node: NodeId,
    pub column_name: Option<String>,
    /// The tested node and every `ref(...)`/`source(...)` among the arguments.
    pub references: Vec<Reference>,
    /// Names of the macros the test calls directly.
    pub macros: Vec<String>,
}

/// Build one generic test from its YAML entry.
pub fn build(
    project: &str,
    yml_path: &str,
    yml_text: &str,
    entry: &yaml::Tree,
    target: &Target<'_>,
    column_name: Option<&str>,
) -> Result<GenericTest, Diagnostic> {
    let (test_name, args) = split_entry(entry).map_err(|message| {
        let needle = column_name.unwrap_or(match target {
            Target::Node { name, .. } => name,
            Target::Source { table, .. } => table,
        });
        Diagnostic::new(DiagnosticKind::Yaml, message)
            .at(
                yml_path,
                yaml::line_of(yml_text, needle).unwrap_or(0),
                None,
                Some(yml_text),
            )
            .hint("write a test as `- unique` or `- accepted_values: {values: [...]}`")
    })?;
    let (namespace, macro_name) = match test_name.split_once('.') {
        Some((namespace, name)) => (Some(namespace.to_owned()), name.to_owned()),
        None => (None, test_name.clone()),
    };
    let mut kwargs: IndexMap<String, Value> = IndexMap::new();
    let mut config = ConfigLayer::new();
    let mut custom_name = None;
    for (key, value) in args {
        match key.as_str() {
            "config" => {
                if let Value::Object(map) = value {
                    config.extend(map);
                }
            }
            "arguments" => {
                if let Value::Object(map) = value {
                    kwargs.extend(map);
                }
            }
            "name" => custom_name = value.as_str().map(str::to_owned),
            "column_name" => {
                kwargs.insert(key, value);
            }
            other if is_known_key(other) => {
                config.insert(key, value);
            }
            _ => {
                kwargs.insert(key, value);
            }
        }
    }
    if let Some(column) = column_name {
        kwargs.insert("column_name".to_owned(), Value::from(column));
    }
    let (target_expr, target_label, attached) = match target {
        Target::Node { name, id } => (format!("ref('{name}')"), (*name).to_owned(), (*id).clone()),
        Target::Source { source, table, id } => (
            format!("source('{source}', '{table}')"),
            format!("source_{source}_{table}"),
            (*id).clone(),
        ),
    };
    let prefix = namespace
        .as_ref()
        .map_or_else(|| macro_name.clone(), |ns| format!("{ns}_{macro_name}"));
    let (short_name, full_name) = synthesize_names(&prefix, &target_label, &kwargs);
    let name = custom_name.unwrap_or(full_name);
    let hash = checksum::md5(&format!(
        "{name}|{yml_path}|{attached}|{}",
        serde_json::to_string(&kwargs).unwrap_or_default()
    ));
    let mut call_args = vec![format!("model=get_where_subquery({target_expr})")];
    for (key, value) in &kwargs {
        call_args.push(format!("{key}={}", jinja_literal(value)));
    }
    let macro_call = match &namespace {
        Some(ns) => format!("{ns}.test_{macro_name}"),
        None => format!("test_{macro_name}"),
    };
    let mut metadata_kwargs = kwargs.clone();
    metadata_kwargs.insert(
        "model".to_owned(),
        Value::from(format!("{{{{ get_where_subquery({target_expr}) }}}}")),
    );
    let mut references = vec![match target {
        Target::Node { name, .. } => Reference::Ref {
            package: None,
            name: (*name).to_owned(),
        },
        Target::Source { source, table, .. } => Reference::Source {
            source: (*source).to_owned(),
            table: (*table).to_owned(),
        },
    }];
    references.extend(kwargs.values().filter_map(argument_reference));
    Ok(GenericTest {
        references,
        macros: vec![
            format!("test_{macro_name}"),
            "get_where_subquery".to_owned(),
        ],
        unique_id: NodeId(format!("test.{project}.{name}.{}", &hash[..10])),
        raw_code: format!("{{{{ {macro_call}({}) }}}}", call_args.join(", ")),
        metadata: TestMetadata {
            name: macro_name,
            namespace,
            kwargs: metadata_kwargs,
        },
        name,
        short_name,
        config,
        attached_node: attached,
        column_name: column_name.map(str::to_owned),
    })
}

/// A `ref('x')` or `source('a', 'b')` argument (e.g. `relationships`' `to`), as a reference.
fn argument_reference(value: &Value) -> Option<Reference> {
    let text = value.as_str()?.trim();
    let (function, rest) = text.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    let parts: Vec<String> = inner
        .split(',')
        .map(|part| {
            part.trim()
                .trim_matches(|c| c == '\'' || c == '"')
                .to_owned()
        })
        .collect();
    match (function.trim(), parts.as_slice()) {
        ("ref", [name]) => Some(Reference::Ref {
            package: None,
            name: name.clone(),
        }),
        ("ref", [package, name]) => Some(Reference::Ref {
            package: Some(package.clone()),
            name: name.clone(),
        }),
        ("source", [source, table]) => Some(Reference::Source {
            source: source.clone(),
            table: table.clone(),
        }),
        _ => None,
    }
}

/// `- unique` or `- accepted_values: {...}` or `- name: x, test_name: accepted_values, ...`.
fn split_entry(entry: &yaml::Tree) -> Result<(String, IndexMap<String, Value>), String> {
    match yaml::to_json(entry) {
        Value::String(name) => Ok((name, IndexMap::new())),
        Value::Object(map) if map.contains_key("test_name") => {
            let name = map
                .get("test_name")
                .and_then(Value::as_str)
                .ok_or("`test_name` must be a string")?
                .to_owned();
            Ok((
                name,
                map.into_iter().filter(|(k, _)| k != "test_name").collect(),
            ))
        }
        Value::Object(map) if map.len() == 1 => {
            let (name, args) = map.into_iter().next().ok_or("empty test entry")?;
            let args = match args {
                Value::Object(args) => args.into_iter().collect(),
                Value::Null => IndexMap::new(),
                other => {
                    return Err(format!(
                        "arguments of test `{name}` must be a map, got `{other}`"
                    ));
                }
            };
            Ok((name, args))
        }
        other => Err(format!("cannot read test entry `{other}`")),
    }
}

/// dbt's names: `<test>_<model>_<args>`; when 64 characters or longer, the first 30 characters
/// plus an MD5 of the full name.
fn synthesize_names(
    test: &str,
    target: &str,
    kwargs: &IndexMap<String, Value>,
) -> (String, String) {
    let mut keys: Vec<&String> = kwargs.keys().collect();
    keys.sort();
    let mut flat = Vec::new();
    for key in keys {
        match &kwargs[key] {
            Value::Object(map) => flat.extend(map.values().map(python_str)),
            Value::Array(items) => flat.extend(items.iter().map(python_str)),
            other => flat.push(python_str(other)),
        }
    }
    let clean: Vec<String> = flat.iter().map(|arg| clean_arg(arg)).collect();
    let identifier = format!("{test}_{target}");
    let full = format!("{identifier}_{}", clean.join("__"));
    if full.len() >= 64 {
        let truncated: String = identifier.chars().take(30).collect();
        (format!("{truncated}_{}", checksum::md5(&full)), full)
    } else {
        (full.clone(), full)
    }
}

/// `str(value)` as Python prints it, which is what dbt flattens into names.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// Runs of characters outside `[0-9a-zA-Z_]` become one `_`.
fn clean_arg(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut in_run = false;
    for c in arg.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// A JSON value as a Jinja literal; `ref(...)`/`source(...)` strings stay expressions.
fn jinja_literal(value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::String(s) => {
            let trimmed = s.trim();
            if (trimmed.starts_with("ref(") || trimmed.starts_with("source("))
                && trimmed.ends_with(')')
            {
                trimmed.to_owned()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(jinja_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    serde_json::to_string(k).unwrap_or_default(),
                    jinja_literal(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_dbt() {
        let mut kwargs = IndexMap::new();
        kwargs.insert("column_name".to_owned(), json!("status"));
        kwargs.insert("values".to_owned(), json!(["placed", "shipped"]));
        assert_eq!(
            synthesize_names("accepted_values", "orders", &kwargs).1,
            "accepted_values_orders_status__placed__shipped"
        );
        let mut rel = IndexMap::new();
        rel.insert("column_name".to_owned(), json!("customer_id"));
        rel.insert("to".to_owned(), json!("ref('customers')"));
        rel.insert("field".to_owned(), json!("id"));
        assert_eq!(
            synthesize_names("relationships", "orders", &rel).1,
            "relationships_orders_customer_id__id__ref_customers_"
        );
    }

    #[test]
    fn long_names_are_truncated_with_a_hash() {
        let mut kwargs = IndexMap::new();
        kwargs.insert(
            "column_name".to_owned(),
            json!("a_really_long_column_name_for_testing"),
        );
        let (short, full) = synthesize_names("not_null", "a_model_with_a_long_name", &kwargs);
        assert!(full.len() >= 64);
        assert_eq!(short.len(), 30 + 1 + 32);
        assert!(short.starts_with("not_null_a_model_with_a_long_n_"));
    }
}
