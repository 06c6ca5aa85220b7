//! Values that templates see: relations (`this`, `ref(...)`), the `config` object, the hidden
//! per-node state that records refs and config calls, and query results of `run_query`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::project::config::ConfigLayer;
use crate::project::nodes::{Reference, Relation};
pub use crate::types::QueryTable;

use super::{Phase, to_value, user_error};

/// The name under which the node state travels in the render context (and into macros).
pub const NODE_STATE: &str = "__ghforge_node";

/// What one render of one node records (parse phase) or needs (compile phase).
#[derive(Debug)]
pub struct NodeState {
    pub phase: Phase,
    pub references: Mutex<Vec<Reference>>,
    pub config_calls: Mutex<Vec<ConfigLayer>>,
    pub macros_called: Mutex<BTreeSet<String>>,
    pub ephemerals: Mutex<Vec<(String, String)>>,
    pub statements: Mutex<BTreeMap<String, Value>>,
    /// The node's resolved config (compile phase), for `config.get(...)`.
    pub config: ConfigLayer,
}

impl NodeState {
    pub fn new(phase: Phase, config: ConfigLayer) -> Self {
        Self {
            phase,
            references: Mutex::default(),
            config_calls: Mutex::default(),
            macros_called: Mutex::default(),
            ephemerals: Mutex::default(),
            statements: Mutex::default(),
            config,
        }
    }

    /// Find the node state of the render `state` belongs to.
    pub fn of(state: &State) -> Result<Arc<NodeState>, Error> {
        state
            .lookup(NODE_STATE)
            .and_then(|v| v.downcast_object::<NodeState>())
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no node is being rendered"))
    }
}

impl Object for NodeState {}

pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A relation as templates see it: renders as the quoted name, exposes its parts.
#[derive(Debug, Clone)]
pub struct RelationValue {
    pub relation: Relation,
    /// Ephemeral models render as their CTE name instead.
    pub cte_name: Option<String>,
    /// Sources read from files render as their `external_location` instead.
    pub external: Option<String>,
}

impl RelationValue {
    pub fn value(relation: Relation) -> Value {
        Value::from_object(Self {
            relation,
            cte_name: None,
            external: None,
        })
    }
}

impl Object for RelationValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let relation = &self.relation;
        Some(match key.as_str()? {
            "database" => Value::from(relation.database.clone()),
            "schema" => Value::from(relation.schema.clone()),
            "identifier" | "name" | "table" => Value::from(relation.identifier.clone()),
            "is_cte" => Value::from(self.cte_name.is_some()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "name"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "render" => Ok(Value::from(self.to_string())),
            "include" | "incorporate" => {
                // `include(database=False)` and friends: rebuild without the excluded parts.
                let kwargs = args.last().and_then(|v| Kwargs::try_from(v.clone()).ok());
                let flag = |name: &str| {
                    kwargs
                        .as_ref()
                        .and_then(|k| k.get::<Option<bool>>(name).ok().flatten())
                        .unwrap_or(true)
                };
                let mut relation = self.relation.clone();
                if method == "include" && !flag("database") {
                    relation.database.clear();
                }
                if method == "incorporate"
                    && let Some(path) = kwargs
                        .as_ref()
                        .and_then(|k| k.get::<Option<Value>>("path").ok().flatten())
                {
                    if let Some(identifier) = path
                        .get_attr("identifier")
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                    {
                        relation.identifier = identifier;
                    }
                    if let Some(schema) = path
                        .get_attr("schema")
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                    {
                        relation.schema = schema;
                    }
                }
                Ok(Value::from_object(RelationValue {
                    relation,
                    cte_name: self.cte_name.clone(),
                    external: self.external.clone(),
                }))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }
}

impl fmt::Display for RelationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cte_name.as_ref().or(self.external.as_ref()) {
            Some(text) => f.write_str(text),
            None => f.write_str(&self.relation.quoted()),
        }
    }
}

/// `config`: callable as `config(materialized='table')`, readable as `config.get('key')`.
#[derive(Debug)]
pub struct ConfigObject;

impl Object for ConfigObject {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let node = NodeState::of(state)?;
        let Some(kwargs) = args.last().and_then(|v| Kwargs::try_from(v.clone()).ok()) else {
            return Ok(Value::from(""));
        };
        if let Phase::Parse = node.phase {
            let mut layer = ConfigLayer::new();
            for key in kwargs.args() {
                let value: Value = kwargs.get(key)?;
                let json = serde_json::to_value(&value).map_err(|err| {
                    user_error(format!("config `{key}` cannot be stored: {err}"), None)
                })?;
                layer.insert(key.to_owned(), json);
            }
            lock(&node.config_calls).push(layer);
        }
        Ok(Value::from(""))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let node = NodeState::of(state)?;
        let key = args.first().and_then(Value::as_str).unwrap_or_default();
        let found = node
            .config
            .get(key)
            .or_else(|| node.config.get(&key.replace('-', "_")))
            .filter(|v| !v.is_null())
            .map(to_value);
        match method {
            "get" => Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::from(())))),
            "require" => match found {
                Some(value) => Ok(value),
                None if matches!(node.phase, Phase::Parse) => Ok(Value::from(())),
                None => Err(user_error(
                    format!("config `{key}` is required by this node but is not set"),
                    Some(format!(
                        "set `{key}` in `config(...)`, schema YAML or the project file"
                    )),
                )),
            },
            "set" | "persist_relation_docs" | "persist_column_docs" => Ok(Value::from(())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The row at `index` of a query result, as a template value.
fn row(table: &QueryTable, index: usize) -> Option<Value> {
    table
        .rows
        .get(index)
        .map(|row| Value::from_iter(row.iter().map(to_value)))
}

/// A query result as templates see it (agate-like): `rows`, `column_names`, `columns`,
/// index and iteration over rows.
impl Object for QueryTable {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(index) = key.as_usize() {
            return row(self, index);
        }
        Some(match key.as_str()? {
            "rows" => Value::from_iter((0..self.rows.len()).filter_map(|i| row(self, i))),
            "column_names" => Value::from_iter(self.column_names.iter().cloned()),
            "columns" => Value::from_iter(self.column_names.iter().enumerate().map(|(i, name)| {
                let values: Vec<Value> = self
                    .rows
                    .iter()
                    .map(|row| row.get(i).map(to_value).unwrap_or_default())
                    .collect();
                let mut column = BTreeMap::new();
                column.insert("name", Value::from(name.clone()));
                column.insert("values", Value::from(values));
                Value::from(column)
            })),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.rows.len())
    }
}
