//! Typed project nodes: models, seeds, sources and data tests, with the ids, configs and
//! dependencies that the graph, the compiler and the artifacts work from.

use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;

use super::config::NodeConfig;

/// A node's `unique_id`, shaped as dbt shapes it: `model.<project>.<name>`,
/// `source.<project>.<source>.<table>`, `test.<project>.<name>.<hash>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub String);

impl NodeId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The closed set of node kinds the graph holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    Model,
    Seed,
    Source,
    Test,
}

impl ResourceType {
    pub const ALL: [ResourceType; 4] = [Self::Model, Self::Seed, Self::Source, Self::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Seed => "seed",
            Self::Source => "source",
            Self::Test => "test",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A relation in the warehouse, unquoted; adapters quote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Relation {
    pub database: String,
    pub schema: String,
    pub identifier: String,
}

impl Relation {
    /// The relation rendered with double-quoted parts, as both DuckDB and Snowflake accept.
    pub fn quoted(&self) -> String {
        fn quote(part: &str) -> String {
            format!("\"{}\"", part.replace('"', "\"\""))
        }
        if self.database.is_empty() {
            format!("{}.{}", quote(&self.schema), quote(&self.identifier))
        } else {
            format!(
                "{}.{}.{}",
                quote(&self.database),
                quote(&self.schema),
                quote(&self.identifier)
            )
        }
    }
}

/// One column as documented in schema YAML.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    pub description: String,
    pub data_type: Option<String>,
}

/// A `ref(...)` or `source(...)` call recorded while parsing. Its line is looked up only when
/// it needs reporting, so parsing stays cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    Ref {
        package: Option<String>,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
}

/// What a generic test was declared with, kept for `test_name:` selection and the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestMetadata {
    pub name: String,
    pub namespace: Option<String>,
    pub kwargs: IndexMap<String, serde_json::Value>,
}

/// Kind-specific data of a node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Model,
    Seed,
    Source {
        source_name: String,
        source_description: String,
        loader: String,
    },
    Test {
        /// `Some` for generic tests declared in YAML, `None` for singular tests.
        metadata: Option<TestMetadata>,
        /// The model, seed or source this test is attached to, when it has one.
        attached_node: Option<NodeId>,
        column_name: Option<String>,
    },
}

/// A node of the project: everything the graph, the compiler and the artifacts need to know.
#[derive(Debug, Clone)]
pub struct Node {
    pub unique_id: NodeId,
    pub kind: NodeKind,
    pub name: String,
    pub package_name: String,
    pub fqn: Vec<String>,
    /// Path relative to the resource's root folder (e.g. `staging/events.sql`).
    pub path: String,
    /// Path relative to the project root (e.g. `models/staging/events.sql`).
    pub original_file_path: String,
    /// For YAML-declared nodes, the YAML file they came from.
    pub patch_path: Option<String>,
    pub raw_code: String,
    pub checksum: String,
    pub config: NodeConfig,
    pub description: String,
    pub columns: IndexMap<String, ColumnInfo>,
    pub references: Vec<Reference>,
    /// Unique ids of the macros the node's template called.
    pub macros: Vec<String>,
    pub relation: Relation,
}

impl Node {
    pub fn resource_type(&self) -> ResourceType {
        match self.kind {
            NodeKind::Model => ResourceType::Model,
            NodeKind::Seed => ResourceType::Seed,
            NodeKind::Source { .. } => ResourceType::Source,
            NodeKind::Test { .. } => ResourceType::Test,
        }
    }

    pub fn test_metadata(&self) -> Option<&TestMetadata> {
        match &self.kind {
            NodeKind::Test { metadata, .. } => metadata.as_ref(),
            _ => None,
        }
    }

    /// Whether the node carries SQL that the compiler renders.
    pub fn is_compiled(&self) -> bool {
        matches!(self.kind, NodeKind::Model | NodeKind::Test { .. })
    }
}
