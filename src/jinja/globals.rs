//! Global functions and objects of the template context: `ref`, `source`, `var`, `env_var`,
//! `is_incremental`, `log`, `return`, `run_query`, `statement`/`load_result`, `adapter`,
//! `exceptions`, `target`, `tojson`/`fromjson`.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::project::nodes::{Reference, Relation};

use super::objects::{NodeState, QueryTable, RelationValue, lock};
use super::{EngineOptions, MacroDef, Phase, Resolved, macros, to_value, user_error};

pub fn register(
    env: &mut Environment<'static>,
    options: &EngineOptions,
    macro_defs: &Arc<IndexMap<String, MacroDef>>,
) {
    env.add_global("ref", Value::from_function(ref_fn));
    env.add_global("source", Value::from_function(source_fn));
    env.add_global("is_incremental", Value::from_function(is_incremental));
    env.add_global("return", Value::from_function(macros::return_value));
    env.add_global("log", Value::from_function(log));
    env.add_global("run_query", Value::from_function(run_query));
    env.add_global("statement", Value::from_function(statement));
    env.add_global("load_result", Value::from_function(load_result));
    env.add_global(
        "tojson",
        Value::from_function(|value: Value| {
            serde_json::to_string(&value).map_err(|err| user_error(err.to_string(), None))
        }),
    );
    env.add_global(
        "fromjson",
        Value::from_function(|text: String| {
            serde_json::from_str::<serde_json::Value>(&text)
                .map(|json| to_value(&json))
                .map_err(|err| user_error(format!("fromjson: {err}"), None))
        }),
    );
    env.add_global("target", to_value(&options.target));
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_global(
        "adapter",
        Value::from_object(Adapter {
            adapter_type: options.adapter_type.clone(),
            macros: macro_defs.clone(),
        }),
    );
    let vars = Vars {
        cli: options.cli_vars.clone(),
        project: scoped_vars(&options.project_vars, &options.project_name),
    };
    env.add_global("var", Value::from_object(vars));
    let env_lookup = options.env.clone();
    env.add_global(
        "env_var",
        Value::from_function(move |name: String, default: Option<Value>| {
            match (env_lookup(&name), default) {
                (Some(value), _) => Ok(Value::from(value)),
                (None, Some(default)) => Ok(default),
                (None, None) => Err(user_error(
                    format!("environment variable `{name}` is required but not set"),
                    Some(format!(
                        "set it (`export {name}=...`) or give a default: `env_var('{name}', 'default')`"
                    )),
                )),
            }
        }),
    );
}

/// Project vars may be scoped under the project's name, as in dbt; flatten those on top.
fn scoped_vars(
    vars: &IndexMap<String, serde_json::Value>,
    project_name: &str,
) -> IndexMap<String, serde_json::Value> {
    let mut flat: IndexMap<String, serde_json::Value> = vars
        .iter()
        .filter(|(key, _)| key.as_str() != project_name)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(serde_json::Value::Object(scoped)) = vars.get(project_name) {
        for (key, value) in scoped {
            flat.insert(key.clone(), value.clone());
        }
    }
    flat
}

fn kwarg_string(args: &[Value], index: usize, name: &str) -> Option<String> {
    let positional = args
        .get(index)
        .filter(|v| Kwargs::try_from((*v).clone()).is_err())
        .and_then(|v| v.as_str().map(str::to_owned));
    positional.or_else(|| {
        args.last()
            .and_then(|v| Kwargs::try_from(v.clone()).ok())
            .and_then(|k| k.get::<Option<String>>(name).ok().flatten())
    })
}

fn ref_fn(state: &State, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    // `version=` / `v=` select model versions in dbt; ghforge has no versioned models.
    let _: Option<Value> = kwargs.get("version")?;
    let _: Option<Value> = kwargs.get("v")?;
    kwargs.assert_all_used()?;
    let node = NodeState::of(state)?;
    let positional: Vec<String> = args
        .iter()
        .filter(|v| Kwargs::try_from((*v).clone()).is_err())
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                user_error(
                    format!("ref() takes model names as strings, got `{v}`"),
                    None,
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let (package, name) = match positional.as_slice() {
        [name] => (None, name.clone()),
        [package, name] => (Some(package.clone()), name.clone()),
        _ => {
            return Err(user_error(
                "ref() takes one or two arguments: `ref('model')` or `ref('package', 'model')`",
                None,
            ));
        }
    };
    match &node.phase {
        Phase::Parse => {
            lock(&node.references).push(Reference::Ref {
                package,
                name: name.clone(),
            });
            Ok(RelationValue::value(Relation {
                database: String::new(),
                schema: String::new(),
                identifier: name,
            }))
        }
        Phase::Compile(inputs) => match inputs
            .resolver
            .resolve_ref(package.as_deref(), &name)
            .map_err(|err| user_error(err.to_string(), None))?
        {
            Resolved::Relation(relation) => Ok(RelationValue::value(relation)),
            Resolved::Ephemeral { cte_name, sql } => {
                let mut ephemerals = lock(&node.ephemerals);
                if !ephemerals.iter().any(|(n, _)| *n == cte_name) {
                    ephemerals.push((cte_name.clone(), sql));
                }
                Ok(Value::from_object(RelationValue {
                    relation: Relation {
                        database: String::new(),
                        schema: String::new(),
                        identifier: name,
                    },
                    cte_name: Some(cte_name),
                    external: None,
                }))
            }
        },
    }
}

fn source_fn(state: &State, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let node = NodeState::of(state)?;
    let positional = |index: usize| args.get(index).and_then(|v| v.as_str().map(str::to_owned));
    let source = positional(0).or(kwargs.get::<Option<String>>("source_name")?);
    let table = positional(1).or(kwargs.get::<Option<String>>("table_name")?);
    kwargs.assert_all_used()?;
    let (Some(source), Some(table)) = (source, table) else {
        return Err(user_error(
            "source() takes two arguments: `source('source_name', 'table_name')`",
            None,
        ));
    };
    match &node.phase {
        Phase::Parse => {
            lock(&node.references).push(Reference::Source {
                source: source.clone(),
                table: table.clone(),
            });
            Ok(RelationValue::value(Relation {
                database: String::new(),
                schema: source,
                identifier: table,
            }))
        }
        Phase::Compile(inputs) => inputs
            .resolver
            .resolve_source(&source, &table)
            .map(|(relation, external)| {
                Value::from_object(RelationValue {
                    relation,
                    cte_name: None,
                    external,
                })
            })
            .map_err(|err| user_error(err.to_string(), None)),
    }
}

fn is_incremental(state: &State) -> Result<bool, Error> {
    Ok(match NodeState::of(state)?.phase {
        Phase::Parse => false,
        Phase::Compile(ref inputs) => inputs.is_incremental,
    })
}

/// dbt's `log(msg, info=False)`: `info` positionally or as a keyword.
fn log(
    state: &State,
    message: Value,
    info: Option<bool>,
    kwargs: minijinja::value::Kwargs,
) -> Result<String, Error> {
    let info = match info {
        Some(info) => Some(info),
        None => kwargs.get::<Option<bool>>("info")?,
    };
    kwargs.assert_all_used()?;
    let compiling = NodeState::of(state).is_ok_and(|n| matches!(n.phase, Phase::Compile(_)));
    if compiling && info.unwrap_or(false) {
        tracing::info!(target: crate::console::USER_TARGET, "{message}");
    } else if compiling {
        tracing::debug!(target: crate::console::USER_TARGET, "{message}");
    }
    Ok(String::new())
}

fn runner_query(state: &State, sql: &str) -> Result<Option<QueryTable>, Error> {
    let node = NodeState::of(state)?;
    match &node.phase {
        Phase::Parse => Ok(None),
        Phase::Compile(inputs) => match &inputs.runner {
            Some(runner) => runner
                .query(sql)
                .map(Some)
                .map_err(|err| user_error(format!("query failed: {err}"), None)),
            None => Err(user_error(
                "`run_query` and `statement` need a database connection, which this command does not open",
                Some(
                    "`ghforge compile` does not connect to the warehouse; `ghforge run` renders this model with a connection"
                        .to_owned(),
                ),
            )),
        },
    }
}

fn run_query(state: &State, sql: String) -> Result<Value, Error> {
    Ok(runner_query(state, &sql)?.map_or(Value::from(()), Value::from_object))
}

fn statement(state: &mut State, name: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let fetch_result: Option<bool> = kwargs.get("fetch_result")?;
    let _: Option<bool> = kwargs.get("auto_begin")?;
    let _: Option<String> = kwargs.get("language")?;
    let caller: Value = kwargs.get("caller")?;
    kwargs.assert_all_used()?;
    let sql = caller.call(state, &[])?.to_string();
    let Some(table) = runner_query(state, &sql)? else {
        return Ok(String::new());
    };
    if let Some(name) = name {
        let node = NodeState::of(state)?;
        let mut result = IndexMap::new();
        let rows: Vec<Vec<serde_json::Value>> = table.rows.clone();
        result.insert("response", Value::from("OK"));
        if fetch_result.unwrap_or(false) {
            result.insert("data", to_value(&rows));
            result.insert("table", Value::from_object(table));
        }
        lock(&node.statements).insert(name, Value::from_pairs(result));
    }
    Ok(String::new())
}

fn load_result(state: &State, name: String) -> Result<Value, Error> {
    let node = NodeState::of(state)?;
    let statements = lock(&node.statements);
    Ok(statements.get(&name).cloned().unwrap_or(Value::from(())))
}

/// `var('name')` / `var('name', default)`; also `var.has_var('name')`.
#[derive(Debug)]
struct Vars {
    cli: IndexMap<String, serde_json::Value>,
    project: IndexMap<String, serde_json::Value>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.cli.get(name).or_else(|| self.project.get(name))
    }
}

impl Object for Vars {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let name = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| user_error("var() takes a variable name: `var('name')`", None))?;
        match (self.get(name), args.get(1)) {
            (Some(value), _) => Ok(to_value(value)),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => Err(user_error(
                format!("required variable `{name}` is not set"),
                Some(format!(
                    "pass it with `--vars '{{{name}: ...}}'`, set it under `vars:` in the project file, or give a default: `var('{name}', ...)`"
                )),
            )),
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "has_var" => Ok(Value::from(
                args.first()
                    .and_then(Value::as_str)
                    .is_some_and(|name| self.get(name).is_some()),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `exceptions.raise_compiler_error(msg)`, `exceptions.warn(msg)`.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let message = args.first().map(ToString::to_string).unwrap_or_default();
        match method {
            "raise_compiler_error" => Err(user_error(message, None)),
            "warn" => {
                tracing::warn!(target: crate::console::USER_TARGET, "{message}");
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `adapter`: `dispatch`, `quote`, `type`.
#[derive(Debug)]
struct Adapter {
    adapter_type: String,
    macros: Arc<IndexMap<String, MacroDef>>,
}

impl Object for Adapter {
    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "dispatch" => {
                let name = kwarg_string(args, 0, "macro_name")
                    .ok_or_else(|| user_error("adapter.dispatch() takes a macro name", None))?;
                macros::dispatch(state, &self.macros, &self.adapter_type, &name)
            }
            "quote" => {
                let identifier = args.first().map(ToString::to_string).unwrap_or_default();
                Ok(Value::from(format!(
                    "\"{}\"",
                    identifier.replace('"', "\"\"")
                )))
            }
            "type" => Ok(Value::from(self.adapter_type.clone())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
