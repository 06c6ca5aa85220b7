//! How each materialization turns compiled SQL into statements. Pure functions: relations,
//! compiled SQL, warehouse facts and the target's [`Dialect`] in, typed statements out; the
//! [`node_plan`] of a node puts them into transactions as the dialect allows. Every plan is
//! snapshot-testable without a database. The executor creates the schemas of a run first
//! (concurrent `create schema` in DuckDB conflict), then interprets each node's plan.

mod node_plan;

pub mod external;
pub mod incremental;
pub mod seed;
pub mod table;
pub mod view;

pub use crate::plan::body;
pub use node_plan::{NodeWork, PlanError, check_capabilities, external_settings, node_plan};

use crate::project::nodes::Relation;

/// `create schema if not exists` for the relation's schema.
pub fn create_schema(relation: &Relation) -> String {
    let schema = Relation {
        identifier: String::new(),
        ..relation.clone()
    };
    let quoted = schema.quoted();
    // `quoted()` of an empty identifier ends in `.""`; drop it.
    format!(
        "create schema if not exists {}",
        quoted.trim_end_matches(".\"\"")
    )
}

pub use crate::plan::dialect::with_suffix;

pub use crate::types::quote;
