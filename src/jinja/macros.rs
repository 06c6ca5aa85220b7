//! Macros: loading macro files (with dbt's `{% test %}` blocks), making every macro a global
//! callable from any template, `return(...)` out of a macro, and `adapter.dispatch` lookup.

use std::cell::RefCell;

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::error::{Diagnostic, DiagnosticKind};

use super::CONTEXT_NAMES;
use super::objects::{NodeState, lock};

/// Macros that ship with ghforge; a project macro of the same name replaces one.
const BUILTIN_MACROS: &str = include_str!("builtin_macros.sql");
const BUILTIN_TEMPLATE: &str = "<ghforge>/builtin_macros.sql";

/// A macro file as read from disk.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Path relative to the project root, used as the template name.
    pub path: String,
    pub text: String,
    pub package: String,
}

/// One macro the environment knows.
#[derive(Debug, Clone)]
pub struct MacroDef {
    pub name: String,
    pub unique_id: String,
    pub package: String,
    pub original_file_path: String,
    /// The template holding just this macro.
    pub template: String,
    pub line: usize,
    pub builtin: bool,
    pub checksum: String,
}

/// Load built-in and project macro files and register every macro as a global function.
///
/// Each macro becomes a template of its own (named `<file>#<macro>`, padded so line numbers
/// match the file), so a macro calling a sibling from the same file goes through the global
/// function too, and `return()` always ends the right call.
pub fn register(
    env: &mut Environment<'static>,
    files: Vec<MacroFile>,
) -> Result<IndexMap<String, MacroDef>, Diagnostic> {
    let mut defs: IndexMap<String, MacroDef> = IndexMap::new();
    let builtin = MacroFile {
        path: BUILTIN_TEMPLATE.to_owned(),
        text: BUILTIN_MACROS.to_owned(),
        package: "ghforge".to_owned(),
    };
    for (is_builtin, file) in
        std::iter::once((true, builtin)).chain(files.into_iter().map(|f| (false, f)))
    {
        let source = rewrite_test_blocks(&file.text);
        // Compile the whole file once so syntax errors point at the file as written.
        env.template_from_named_str(&file.path, &source)
            .map_err(|err| syntax_diagnostic(&err, &file))?;
        for chunk in split_macros(&source) {
            let name = chunk.name;
            if let Some(existing) = defs.get(&name).filter(|d| !d.builtin) {
                return Err(Diagnostic::new(
                    DiagnosticKind::Duplicate,
                    format!(
                        "macro `{name}` is defined twice: in `{}` and in `{}`",
                        existing.original_file_path, file.path
                    ),
                )
                .at(&file.path, chunk.line, None, Some(&source))
                .hint("rename or remove one of them; macro names are global in a project"));
            }
            let template = format!("{}#{name}", file.path);
            env.add_template_owned(template.clone(), chunk.padded_source)
                .map_err(|err| syntax_diagnostic(&err, &file))?;
            defs.insert(
                name.clone(),
                MacroDef {
                    unique_id: format!("macro.{}.{name}", file.package),
                    name,
                    package: file.package.clone(),
                    original_file_path: file.path.clone(),
                    template,
                    line: chunk.line,
                    builtin: is_builtin,
                    checksum: crate::checksum::sha256(&chunk.text),
                },
            );
        }
    }
    for def in defs.values() {
        env.add_global(def.name.clone(), macro_value(def));
    }
    Ok(defs)
}

fn syntax_diagnostic(err: &Error, file: &MacroFile) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        DiagnosticKind::Jinja,
        format!(
            "syntax error: {}",
            err.detail().unwrap_or("invalid template")
        ),
    );
    match err.line() {
        Some(line) => diagnostic.at(&file.path, line, None, Some(&file.text)),
        None => diagnostic.in_file(&file.path),
    }
}

/// One `{% macro %}...{% endmacro %}` block of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MacroChunk {
    name: String,
    /// 1-based line of the `{% macro` tag.
    line: usize,
    text: String,
    /// The block preceded by the newlines and spaces that come before it in the file.
    padded_source: String,
}

/// The top-level macro blocks of a template, in file order.
fn split_macros(source: &str) -> Vec<MacroChunk> {
    let mut chunks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut name = String::new();
    let mut offset = 0usize;
    while let Some(found) = source[offset..].find("{%") {
        let tag_start = offset + found;
        let Some(close) = source[tag_start..].find("%}") else {
            break;
        };
        let tag_end = tag_start + close + 2;
        let body = source[tag_start + 2..tag_end - 2]
            .trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        let word: String = body
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        match word.as_str() {
            "macro" => {
                if depth == 0 {
                    start = tag_start;
                    name = body["macro".len()..]
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                }
                depth += 1;
            }
            "endmacro" if depth > 0 => {
                depth -= 1;
                if depth == 0 && !name.is_empty() {
                    let line = source[..start].matches('\n').count() + 1;
                    let column = start - source[..start].rfind('\n').map_or(0, |i| i + 1);
                    let text = source[start..tag_end].to_owned();
                    chunks.push(MacroChunk {
                        padded_source: format!(
                            "{}{}{text}",
                            "\n".repeat(line - 1),
                            " ".repeat(column)
                        ),
                        name: std::mem::take(&mut name),
                        line,
                        text,
                    });
                }
            }
            _ => {}
        }
        offset = tag_end;
    }
    chunks
}

/// dbt's `{% test name(args) %} ... {% endtest %}` blocks are macros named `test_<name>`.
pub fn rewrite_test_blocks(source: &str) -> String {
    if !source.contains("test") {
        return source.to_owned();
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        out.push_str(&rest[..start + 2]);
        rest = &rest[start + 2..];
        let trim = usize::from(rest.starts_with('-'));
        let (dash, body) = rest.split_at(trim);
        let spaces = body.len() - body.trim_start().len();
        let (space, word_part) = body.split_at(spaces);
        if let Some(after) = word_part.strip_prefix("endtest")
            && after.starts_with(|c: char| c.is_whitespace() || c == '-' || c == '%')
        {
            out.push_str(dash);
            out.push_str(space);
            out.push_str("endmacro");
            rest = after;
            continue;
        }
        if let Some(after) = word_part.strip_prefix("test")
            && after.starts_with(char::is_whitespace)
        {
            out.push_str(dash);
            out.push_str(space);
            out.push_str("macro test_");
            rest = after.trim_start();
            continue;
        }
    }
    out.push_str(rest);
    out
}

thread_local! {
    /// One slot per active macro call; `return(value)` fills the innermost one.
    static RETURN_SLOTS: RefCell<Vec<Option<Value>>> = const { RefCell::new(Vec::new()) };
}

/// `return(value)`: stop the current macro and make `value` its result.
pub fn return_value(value: Value) -> Result<Value, Error> {
    let stored = RETURN_SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        match slots.last_mut() {
            Some(slot) => {
                *slot = Some(value);
                true
            }
            None => false,
        }
    });
    if stored {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            "return() ended the macro",
        ))
    } else {
        Err(super::user_error(
            "`return()` is only allowed inside a macro",
            Some("use `{{ value }}` to output a value from a model".to_owned()),
        ))
    }
}

fn with_return_slot(call: impl FnOnce() -> Result<String, Error>) -> Result<Value, Error> {
    RETURN_SLOTS.with(|slots| slots.borrow_mut().push(None));
    let result = call();
    let returned = RETURN_SLOTS.with(|slots| slots.borrow_mut().pop().flatten());
    match (returned, result) {
        (Some(value), _) => Ok(value),
        (None, Ok(text)) => Ok(Value::from(text)),
        (None, Err(err)) => Err(err),
    }
}

/// A global function that calls macro `def` with the caller's node context.
fn macro_value(def: &MacroDef) -> Value {
    let name = def.name.clone();
    let template = def.template.clone();
    let unique_id = def.unique_id.clone();
    Value::from_function(
        move |state: &State, args: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let mut args = args.0;
            if kwargs.args().next().is_some() {
                args.push(Value::from(kwargs));
            }
            if let Ok(node) = NodeState::of(state) {
                lock(&node.macros_called).insert(unique_id.clone());
            }
            let ctx = Value::from_pairs(
                CONTEXT_NAMES
                    .iter()
                    .filter_map(|n| state.lookup(n).map(|v| ((*n).to_owned(), v))),
            );
            invoke(state.env(), &template, &name, &args, ctx)
        },
    )
}

fn invoke(
    env: &Environment<'_>,
    template: &str,
    name: &str,
    args: &[Value],
    ctx: Value,
) -> Result<Value, Error> {
    let template = env.get_template(template)?;
    let mut captured = template.render_captured(ctx)?;
    with_return_slot(|| captured.with_state_mut(|state| state.call_macro(name, args)))
}

/// Call a macro from Rust with a prepared context.
pub fn call_by_name(
    env: &Environment<'_>,
    macros: &IndexMap<String, MacroDef>,
    name: &str,
    args: &[Value],
    ctx: &Value,
) -> Result<Value, Error> {
    let def = macros
        .get(name)
        .ok_or_else(|| Error::new(ErrorKind::UnknownFunction, format!("{name} is unknown")))?;
    invoke(env, &def.template, name, args, ctx.clone())
}

/// `adapter.dispatch('name')`: the first of `<adapter>__name`, `default__name`, `name`.
pub fn dispatch(
    state: &State,
    macros: &IndexMap<String, MacroDef>,
    adapter_type: &str,
    name: &str,
) -> Result<Value, Error> {
    let candidates = [
        format!("{adapter_type}__{name}"),
        format!("default__{name}"),
    ];
    for candidate in &candidates {
        if macros.contains_key(candidate)
            && let Some(value) = state.lookup(candidate)
        {
            return Ok(value);
        }
    }
    Err(super::user_error(
        format!("no implementation of macro `{name}` for adapter `{adapter_type}`"),
        Some(format!(
            "define `{{% macro {}(...) %}}` or `{{% macro {}(...) %}}` in the macro paths",
            candidates[0], candidates[1]
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_blocks_become_macros() {
        let source = "{% test is_even(model, column_name) %}\nselect 1\n{%- endtest %}";
        assert_eq!(
            rewrite_test_blocks(source),
            "{% macro test_is_even(model, column_name) %}\nselect 1\n{%- endmacro %}"
        );
    }

    #[test]
    fn macros_split_into_blocks_padded_to_their_lines() {
        let source = "{# doc #}\n{% macro a() %}{% macro inner() %}{% endmacro %}{% endmacro %}\n\n  {%- macro b(x) -%}{{ x }}{%- endmacro %}";
        let chunks = split_macros(source);
        let names: Vec<(&str, usize)> = chunks.iter().map(|c| (c.name.as_str(), c.line)).collect();
        assert_eq!(names, vec![("a", 2), ("b", 4)]);
        assert_eq!(
            chunks[1].padded_source,
            "\n\n\n  {%- macro b(x) -%}{{ x }}{%- endmacro %}"
        );
    }
}
