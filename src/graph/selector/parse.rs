//! Parsing `--select`/`--exclude` values into a [`Selection`]: whitespace separates a union,
//! commas an intersection, and each atom is `[@][N+][method:]value[+N]`.

use crate::error::{Diagnostic, DiagnosticKind};

use super::{Criterion, Method, Reach, Selection, StateCheck};

/// Parse the values of `--select` and `--exclude` into one selection (`None`: select all).
pub fn parse_selection(
    select: &[String],
    exclude: &[String],
) -> Result<Option<Selection>, Diagnostic> {
    let include = parse_spec(select)?;
    let exclude = parse_spec(exclude)?;
    Ok(match (include, exclude) {
        (None, None) => None,
        (Some(include), None) => Some(include),
        (include, Some(exclude)) => Some(Selection::Exclude {
            include: Box::new(include.unwrap_or(Selection::All)),
            exclude: Box::new(exclude),
        }),
    })
}

/// Parse one flag's values: a union of intersections of atoms.
pub fn parse_spec(values: &[String]) -> Result<Option<Selection>, Diagnostic> {
    let mut union = Vec::new();
    for token in values.iter().flat_map(|v| v.split_whitespace()) {
        let parts: Vec<Selection> = token
            .split(',')
            .map(|atom| parse_atom(atom, token).map(Selection::Atom))
            .collect::<Result<_, _>>()?;
        union.push(if parts.len() == 1 {
            parts.into_iter().next().unwrap_or(Selection::All)
        } else {
            Selection::And(parts)
        });
    }
    Ok(match union.len() {
        0 => None,
        1 => union.pop(),
        _ => Some(Selection::Or(union)),
    })
}

fn selector_error(raw: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::new(
        DiagnosticKind::Selector,
        format!("invalid selector `{raw}`: {}", message.into()),
    )
    .hint(hint)
}

fn parse_depth(digits: &str, raw: &str) -> Result<Reach, Diagnostic> {
    if digits.is_empty() {
        return Ok(Reach::All);
    }
    digits.parse::<usize>().map(Reach::Depth).map_err(|_| {
        selector_error(
            raw,
            format!("`{digits}` is not a depth"),
            "write a depth as digits, e.g. `2+model`",
        )
    })
}

fn parse_atom(atom: &str, token: &str) -> Result<Criterion, Diagnostic> {
    if atom.is_empty() {
        return Err(selector_error(
            token,
            "empty selector between commas",
            "join selectors with `,` for intersection and with a space for union, e.g. `tag:a,tag:b`",
        ));
    }
    let mut rest = atom;
    let childrens_parents = rest.starts_with('@');
    if childrens_parents {
        rest = &rest[1..];
    }
    // Leading `N+` (parents).
    let digits_len = rest.chars().take_while(char::is_ascii_digit).count();
    let mut parents = None;
    if rest[digits_len..].starts_with('+') {
        parents = Some(parse_depth(&rest[..digits_len], atom)?);
        rest = &rest[digits_len + 1..];
    }
    // Trailing `+N` (children).
    let mut children = None;
    let trailing_digits = rest.chars().rev().take_while(char::is_ascii_digit).count();
    let before_digits = &rest[..rest.len() - trailing_digits];
    if let Some(stripped) = before_digits.strip_suffix('+') {
        children = Some(parse_depth(&rest[rest.len() - trailing_digits..], atom)?);
        rest = stripped;
    }
    if childrens_parents && (parents.is_some() || children.is_some()) {
        return Err(selector_error(
            atom,
            "`@` cannot be combined with `+`",
            "use `@model` alone (it already includes descendants and their ancestors)",
        ));
    }
    let (method, value) = match rest.split_once(':') {
        Some((method, value)) => (parse_method(method, value, atom)?, value),
        None => (default_method(rest), rest),
    };
    if value.is_empty() {
        return Err(selector_error(
            atom,
            "no value to select",
            "write `method:value`, e.g. `tag:nightly` or `path:models/silver`",
        ));
    }
    Ok(Criterion {
        raw: atom.to_owned(),
        method,
        value: value.to_owned(),
        parents,
        children,
        childrens_parents,
    })
}

/// dbt's default: a `/` means a path, a file extension means a file, else a qualified name.
fn default_method(value: &str) -> Method {
    if value.contains('/') || value.contains('\\') {
        Method::Path
    } else if [".sql", ".py", ".csv"]
        .iter()
        .any(|ext| value.to_ascii_lowercase().ends_with(ext))
    {
        Method::File
    } else {
        Method::Fqn
    }
}

/// dbt's node types; ghforge projects hold the first four.
const RESOURCE_TYPES: [&str; 9] = [
    "model",
    "seed",
    "source",
    "test",
    "snapshot",
    "analysis",
    "exposure",
    "metric",
    "unit_test",
];

fn parse_method(method: &str, value: &str, raw: &str) -> Result<Method, Diagnostic> {
    let (name, args) = match method.split_once('.') {
        Some((name, args)) => (name, Some(args)),
        None => (method, None),
    };
    let no_args = |m: Method| match args {
        None => Ok(m),
        Some(args) => Err(selector_error(
            raw,
            format!("method `{name}` takes no argument, got `.{args}`"),
            format!("write `{name}:{value}`"),
        )),
    };
    match name {
        "fqn" => no_args(Method::Fqn),
        "path" => no_args(Method::Path),
        "file" => no_args(Method::File),
        "tag" => no_args(Method::Tag),
        "resource_type" => {
            if !RESOURCE_TYPES.contains(&value) {
                return Err(selector_error(
                    raw,
                    format!("`{value}` is not a resource type"),
                    format!("use one of: {}", RESOURCE_TYPES.join(", ")),
                ));
            }
            no_args(Method::ResourceType)
        }
        "source" => no_args(Method::Source),
        "test_type" => no_args(Method::TestType),
        "test_name" => no_args(Method::TestName),
        "package" => no_args(Method::Package),
        "config" => match args {
            Some(keys) if !keys.is_empty() => {
                Ok(Method::Config(keys.split('.').map(str::to_owned).collect()))
            }
            _ => Err(selector_error(
                raw,
                "`config` needs a key",
                "write `config.<key>:<value>`, e.g. `config.materialized:incremental`",
            )),
        },
        "state" => {
            let check = match (value, args) {
                ("new", None) => StateCheck::New,
                ("old", None) => StateCheck::Old,
                ("unmodified", None) => StateCheck::Unmodified,
                ("modified", None) => StateCheck::Modified,
                ("modified.body", None) => StateCheck::ModifiedBody,
                ("modified.configs", None) => StateCheck::ModifiedConfigs,
                _ => {
                    return Err(selector_error(
                        raw,
                        format!("`{value}` is not a state"),
                        "use `state:new`, `state:old`, `state:modified` (`.body`, `.configs`) or `state:unmodified`",
                    ));
                }
            };
            Ok(Method::State(check))
        }
        other => {
            let valid: Vec<String> = Method::NAMES.iter().map(|m| format!("`{m}`")).collect();
            let hint = match crate::suggest::closest(other, Method::NAMES) {
                Some(close) => format!("did you mean `{close}:`? methods: {}", valid.join(", ")),
                None => format!("methods: {}", valid.join(", ")),
            };
            Err(selector_error(
                raw,
                format!("`{other}` is not a selector method"),
                hint,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(text: &str) -> Criterion {
        parse_atom(text, text).unwrap()
    }

    #[test]
    fn operators_and_depths() {
        let c = atom("2+tag:nightly+3");
        assert_eq!(c.method, Method::Tag);
        assert_eq!(c.value, "nightly");
        assert_eq!(c.parents, Some(Reach::Depth(2)));
        assert_eq!(c.children, Some(Reach::Depth(3)));
        let c = atom("@events");
        assert!(c.childrens_parents);
        assert_eq!(c.method, Method::Fqn);
    }

    #[test]
    fn default_methods() {
        assert_eq!(atom("models/silver").method, Method::Path);
        assert_eq!(atom("events.sql").method, Method::File);
        assert_eq!(atom("silver.events").method, Method::Fqn);
        assert_eq!(
            atom("config.materialized:table").method,
            Method::Config(vec!["materialized".to_owned()])
        );
    }

    #[test]
    fn union_and_intersection() {
        let spec = parse_spec(&["a b,c".to_owned()]).unwrap().unwrap();
        let Selection::Or(parts) = spec else {
            panic!("expected a union")
        };
        assert_eq!(parts.len(), 2);
        assert!(matches!(parts[1], Selection::And(_)));
    }
}
