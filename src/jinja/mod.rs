//! The only module that imports minijinja. Templates render in two phases:
//! - **parse**: `ref`/`source`/`config` calls are recorded (with their line), nothing resolves;
//! - **compile**: `ref`/`source` resolve to relations through a [`Resolver`], ephemeral models
//!   become CTEs, and `run_query`/`statement` reach a database through a [`QueryRunner`].
//!
//! Macros from the macro paths are callable from every model and macro, as in dbt, and
//! `adapter.dispatch` finds `<adapter>__name` before `default__name`.

mod globals;
mod macros;
pub mod objects;

use std::collections::BTreeSet;
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error as JinjaError, ErrorKind, UndefinedBehavior};

use crate::error::{Diagnostic, DiagnosticKind};
use crate::project::config::ConfigLayer;
use crate::project::nodes::{Reference, Relation};

pub use macros::{MacroDef, MacroFile};
use objects::{ConfigObject, NODE_STATE, NodeState, QueryTable, RelationValue, lock};

/// What `ref` resolves to in the compile phase.
#[derive(Debug, Clone)]
pub enum Resolved {
    Relation(Relation),
    /// An ephemeral model: its compiled SQL is injected as a CTE of this name.
    Ephemeral {
        cte_name: String,
        sql: String,
    },
}

/// Why a `ref` or `source` call could not be resolved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("`{0}` is not a model or seed of this project")]
    UnknownRef(String),
    #[error("ephemeral model `{0}` was not compiled before its child")]
    EphemeralNotCompiled(String),
    #[error("source `{0}.{1}` is not declared")]
    UnknownSource(String, String),
}

/// Resolves `ref` and `source` calls while compiling; implemented by the compiler.
pub trait Resolver: Send + Sync + std::fmt::Debug {
    fn resolve_ref(&self, package: Option<&str>, name: &str) -> Result<Resolved, ResolveError>;
    /// The source table's relation, and its `external_location` when it is read from files.
    fn resolve_source(
        &self,
        source: &str,
        table: &str,
    ) -> Result<(Relation, Option<String>), ResolveError>;
}

/// Runs `run_query` and `statement` SQL while compiling at run time.
pub trait QueryRunner: Send + Sync + std::fmt::Debug {
    fn query(&self, sql: &str) -> Result<QueryTable, crate::types::QueryError>;
}

/// What a compile-phase render may use.
#[derive(Debug, Clone)]
pub struct CompileInputs {
    pub resolver: Arc<dyn Resolver>,
    pub is_incremental: bool,
    pub runner: Option<Arc<dyn QueryRunner>>,
}

/// The phase a render runs in.
#[derive(Debug, Clone)]
pub enum Phase {
    Parse,
    Compile(CompileInputs),
}

/// Reads environment variables; injected so tests need not touch the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Engine-wide values: the target, variables and how to read the environment.
#[derive(Clone)]
pub struct EngineOptions {
    pub project_name: String,
    pub adapter_type: String,
    /// `target` as templates see it (name, schema, type, threads, database, profile_name).
    pub target: IndexMap<String, serde_json::Value>,
    /// `--vars` first, then the project file's vars.
    pub cli_vars: IndexMap<String, serde_json::Value>,
    pub project_vars: IndexMap<String, serde_json::Value>,
    pub env: EnvLookup,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("project_name", &self.project_name)
            .field("adapter_type", &self.adapter_type)
            .finish_non_exhaustive()
    }
}

/// The node a template belongs to, as `this` and `model` show it.
#[derive(Debug, Clone)]
pub struct NodeInput<'a> {
    /// Template name: the file path relative to the project root.
    pub file: &'a str,
    pub source: &'a str,
    pub this: Option<Relation>,
    pub model: serde_json::Value,
    pub config: ConfigLayer,
}

/// What the parse phase found in one template.
#[derive(Debug, Clone, Default)]
pub struct ParseOutcome {
    pub references: Vec<Reference>,
    pub config_calls: Vec<ConfigLayer>,
    pub macros_called: BTreeSet<String>,
}

/// What the compile phase produced for one template.
#[derive(Debug, Clone)]
pub struct CompileOutcome {
    pub sql: String,
    pub macros_called: BTreeSet<String>,
}

/// A configured template environment with the project's macros.
#[derive(Debug)]
pub struct Engine {
    env: Environment<'static>,
    macros: Arc<IndexMap<String, MacroDef>>,
}

impl Engine {
    /// Build the environment: globals, built-in macros, then the project's macro files (a
    /// project macro overrides a built-in of the same name).
    pub fn new(options: EngineOptions, macro_files: Vec<MacroFile>) -> Result<Self, Diagnostic> {
        let mut env = base_environment();
        let macros = Arc::new(macros::register(&mut env, macro_files)?);
        globals::register(&mut env, &options, &macros);
        Ok(Self { env, macros })
    }

    pub fn macros(&self) -> &IndexMap<String, MacroDef> {
        &self.macros
    }

    /// Whether the project (not the built-ins) defines a macro of this name.
    pub fn project_defines(&self, name: &str) -> bool {
        self.macros.get(name).is_some_and(|m| !m.builtin)
    }

    /// Parse phase: render the template, recording `ref`/`source`/`config` calls.
    pub fn parse(&self, node: &NodeInput<'_>) -> Result<ParseOutcome, Diagnostic> {
        let state = Arc::new(NodeState::new(Phase::Parse, node.config.clone()));
        self.render(node, &state)?;
        Ok(ParseOutcome {
            references: std::mem::take(&mut *lock(&state.references)),
            config_calls: std::mem::take(&mut *lock(&state.config_calls)),
            macros_called: std::mem::take(&mut *lock(&state.macros_called)),
        })
    }

    /// Compile phase: render with resolved relations and inject ephemeral CTEs.
    pub fn compile(
        &self,
        node: &NodeInput<'_>,
        inputs: CompileInputs,
    ) -> Result<CompileOutcome, Diagnostic> {
        let state = Arc::new(NodeState::new(Phase::Compile(inputs), node.config.clone()));
        let sql = self.render(node, &state)?;
        let ephemerals = std::mem::take(&mut *lock(&state.ephemerals));
        Ok(CompileOutcome {
            sql: inject_ctes(&sql, &ephemerals),
            macros_called: std::mem::take(&mut *lock(&state.macros_called)),
        })
    }

    /// Call a macro by name with JSON arguments and return its output as text.
    pub fn call_macro(
        &self,
        name: &str,
        args: &[serde_json::Value],
        kwargs: &[(&str, serde_json::Value)],
        node: &NodeInput<'_>,
        phase: Phase,
    ) -> Result<String, Diagnostic> {
        let state = Arc::new(NodeState::new(phase, node.config.clone()));
        let ctx = node_context(node, &state);
        let mut values: Vec<Value> = args.iter().map(to_value).collect();
        if !kwargs.is_empty() {
            values.push(Value::from(minijinja::value::Kwargs::from_iter(
                kwargs.iter().map(|(k, v)| ((*k).to_owned(), to_value(v))),
            )));
        }
        macros::call_by_name(&self.env, &self.macros, name, &values, &ctx)
            .map(|value| value.to_string())
            .map_err(|err| self.to_diagnostic(&err))
    }

    fn render(&self, node: &NodeInput<'_>, state: &Arc<NodeState>) -> Result<String, Diagnostic> {
        let source = macros::rewrite_test_blocks(node.source);
        let template = self
            .env
            .template_from_named_str(node.file, &source)
            .map_err(|err| self.to_diagnostic(&err))?;
        template
            .render(node_context(node, state))
            .map_err(|err| self.to_diagnostic(&err))
    }

    /// Turn a template error into a diagnostic naming the file, line and column.
    pub fn to_diagnostic(&self, err: &JinjaError) -> Diagnostic {
        let (mut message, hint) = describe(err, &self.macros);
        if matches!(err.kind(), ErrorKind::SyntaxError) {
            message = format!("syntax error: {message}");
        }
        let mut diagnostic = Diagnostic::new(DiagnosticKind::Jinja, message);
        if let (Some(name), Some(line)) = (err.name(), err.line()) {
            // Macros live in templates named `<file>#<macro>`.
            let name = name.split_once('#').map_or(name, |(file, _)| file);
            let source = err.template_source();
            let column = match (err.range(), source) {
                (Some(range), Some(text)) => {
                    let start = range.start.min(text.len());
                    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                    Some(text[line_start..start].chars().count() + 1)
                }
                _ => None,
            };
            diagnostic = diagnostic.at(name, line, column, source);
        }
        match hint {
            Some(hint) => diagnostic.hint(hint),
            None => diagnostic,
        }
    }
}

/// Render one string of a YAML file with `env_var`, `var` and (for the project file, once the
/// profile is known) `target`.
pub fn render_config_string(
    raw: &str,
    vars: &IndexMap<String, serde_json::Value>,
    env: &EnvLookup,
    target: &IndexMap<String, serde_json::Value>,
) -> Result<String, Diagnostic> {
    let mut environment = base_environment();
    let options = EngineOptions {
        project_name: String::new(),
        adapter_type: String::new(),
        target: target.clone(),
        cli_vars: vars.clone(),
        project_vars: IndexMap::new(),
        env: env.clone(),
    };
    let macros = Arc::new(IndexMap::new());
    globals::register(&mut environment, &options, &macros);
    environment.render_str(raw, ()).map_err(|err| {
        let (message, hint) = describe(&err, &macros);
        let diagnostic = Diagnostic::new(DiagnosticKind::EnvVar, message);
        match hint {
            Some(hint) => diagnostic.hint(hint),
            None => diagnostic,
        }
    })
}

fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    minijinja_contrib::add_to_environment(&mut env);
    env
}

fn node_context(node: &NodeInput<'_>, state: &Arc<NodeState>) -> Value {
    let mut ctx = IndexMap::new();
    ctx.insert(NODE_STATE, Value::from_dyn_object(state.clone()));
    ctx.insert("config", Value::from_object(ConfigObject));
    ctx.insert(
        "this",
        node.this
            .clone()
            .map_or(Value::from(()), RelationValue::value),
    );
    ctx.insert("model", to_value(&node.model));
    ctx.insert(
        "execute",
        Value::from(matches!(state.phase, Phase::Compile(_))),
    );
    Value::from_pairs(ctx)
}

/// The names every macro call carries over from its caller's context.
pub(crate) const CONTEXT_NAMES: [&str; 5] = [NODE_STATE, "config", "this", "model", "execute"];

/// Prepend ephemeral models as CTEs, merging into a leading `with` as dbt does.
fn inject_ctes(sql: &str, ctes: &[(String, String)]) -> String {
    if ctes.is_empty() {
        return sql.to_owned();
    }
    let definitions: Vec<String> = ctes
        .iter()
        .map(|(name, body)| format!("{name} as (\n{}\n)", crate::materialize::body(body.trim())))
        .collect();
    let joined = definitions.join(", ");
    let start = sql.len() - skip_leading_comments(sql).len();
    let (leading, trimmed) = sql.split_at(start);
    let keyword = |text: &str, word: &str| {
        text.get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
            && text[word.len()..].starts_with(char::is_whitespace)
    };
    if keyword(trimmed, "with") {
        let rest = trimmed[4..].trim_start();
        if keyword(rest, "recursive") {
            format!(
                "{leading}with recursive {joined}, {}",
                rest[9..].trim_start()
            )
        } else {
            format!("{leading}with {joined}, {rest}")
        }
    } else {
        format!("{leading}with {joined}\n{trimmed}")
    }
}

/// `sql` after leading whitespace and `--`/`/* */` comments.
fn skip_leading_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .find('\n')
                .map_or("", |i| &after[i + 1..])
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .find("*/")
                .map_or("", |i| &after[i + 2..])
                .trim_start();
        } else {
            return rest;
        }
    }
}

/// Any serde value as a template value.
pub(crate) fn to_value<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A user-facing template error with an optional hint, raised by our functions.
#[derive(Debug)]
pub(crate) struct Hinted {
    pub hint: Option<String>,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hint.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for Hinted {}

pub(crate) fn user_error(message: impl Into<String>, hint: Option<String>) -> JinjaError {
    JinjaError::new(ErrorKind::InvalidOperation, message.into()).with_source(Hinted { hint })
}

fn describe(err: &JinjaError, macros: &IndexMap<String, MacroDef>) -> (String, Option<String>) {
    let detail = err.detail().map(str::to_owned);
    let hint = std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<Hinted>())
        .and_then(|h| h.hint.clone());
    match err.kind() {
        ErrorKind::UnknownFunction => {
            let name = detail
                .as_deref()
                .and_then(|d| d.split_whitespace().next())
                .unwrap_or_default()
                .to_owned();
            let suggestion = crate::suggest::closest(&name, macros.keys().map(String::as_str));
            (
                format!("`{name}` is not a macro or function"),
                Some(match suggestion {
                    Some(s) => {
                        format!("did you mean `{s}`? macros come from the project's macro paths")
                    }
                    None => {
                        "define it with `{% macro name(...) %}` in a file under the macro paths"
                            .to_owned()
                    }
                }),
            )
        }
        _ => (detail.unwrap_or_else(|| err.kind().to_string()), hint),
    }
}

#[cfg(test)]
mod tests {
    use super::inject_ctes;

    #[test]
    fn ctes_merge_into_a_leading_with() {
        let ctes = vec![("__dbt__cte__a".to_owned(), "select 1 as x".to_owned())];
        assert_eq!(
            inject_ctes("with b as (select 2) select * from b", &ctes),
            "with __dbt__cte__a as (\nselect 1 as x\n), b as (select 2) select * from b"
        );
        assert_eq!(
            inject_ctes("select * from __dbt__cte__a", &ctes),
            "with __dbt__cte__a as (\nselect 1 as x\n)\nselect * from __dbt__cte__a"
        );
        // A leading comment stays above the merged `with`; non-ASCII text does not panic.
        assert_eq!(
            inject_ctes("-- café\nwith b as (select 2) select * from b", &ctes),
            "-- café\nwith __dbt__cte__a as (\nselect 1 as x\n), b as (select 2) select * from b"
        );
        assert_eq!(
            inject_ctes("é", &ctes),
            "with __dbt__cte__a as (\nselect 1 as x\n)\né"
        );
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    fn engine() -> Engine {
        engine_with(vec![])
    }

    fn engine_with(macros: Vec<MacroFile>) -> Engine {
        Engine::new(
            EngineOptions {
                project_name: "p".into(),
                adapter_type: "duckdb".into(),
                target: IndexMap::new(),
                cli_vars: IndexMap::new(),
                project_vars: IndexMap::new(),
                env: Arc::new(|_| None),
            },
            macros,
        )
        .unwrap()
    }

    fn compile_text(engine: &Engine, source: &str) -> Result<String, Diagnostic> {
        #[derive(Debug)]
        struct NoRefs;
        impl Resolver for NoRefs {
            fn resolve_ref(&self, _: Option<&str>, name: &str) -> Result<Resolved, ResolveError> {
                Err(ResolveError::UnknownRef(name.to_owned()))
            }
            fn resolve_source(
                &self,
                source: &str,
                table: &str,
            ) -> Result<(Relation, Option<String>), ResolveError> {
                Err(ResolveError::UnknownSource(
                    source.to_owned(),
                    table.to_owned(),
                ))
            }
        }
        let input = NodeInput {
            file: "models/a.sql",
            source,
            this: None,
            model: serde_json::json!({}),
            config: ConfigLayer::new(),
        };
        let inputs = CompileInputs {
            resolver: Arc::new(NoRefs),
            is_incremental: false,
            runner: None,
        };
        engine.compile(&input, inputs).map(|o| o.sql)
    }

    /// A macro that calls a sibling from the same file which uses `return()` got the sibling's
    /// return value as its whole output (the built-in `not_null` test compiled to `False`).
    #[test]
    fn regression_return_in_a_sibling_macro_ends_only_that_macro() {
        let engine = engine_with(vec![MacroFile {
            path: "macros/m.sql".into(),
            text: "{% macro flag() %}{{ return(false) }}{% endmacro %}\n{% macro outer() %}{% set x = 'a' if flag() else 'b' %}select {{ x }}{% endmacro %}".into(),
            package: "p".into(),
        }]);
        assert_eq!(compile_text(&engine, "{{ outer() }}").unwrap(), "select b");
    }

    #[test]
    fn dispatch_prefers_the_adapter_implementation() {
        let engine = engine_with(vec![MacroFile {
            path: "macros/m.sql".into(),
            text: "{% macro now() %}{{ return(adapter.dispatch('now')()) }}{% endmacro %}{% macro default__now() %}now(){% endmacro %}{% macro duckdb__now() %}current_timestamp{% endmacro %}".into(),
            package: "p".into(),
        }]);
        assert_eq!(
            compile_text(&engine, "select {{ now() }}").unwrap(),
            "select current_timestamp"
        );
    }

    #[test]
    fn parse_records_refs() {
        let engine = engine();
        let outcome = engine
            .parse(&NodeInput {
                file: "models/a.sql",
                source: "select * from {{ ref('b') }}",
                this: None,
                model: serde_json::json!({}),
                config: ConfigLayer::new(),
            })
            .unwrap();
        assert_eq!(outcome.references.len(), 1);
    }
}
