//! The node graph (petgraph): references resolved to edges, cycle reporting, traversal and a
//! stable topological order; [`selector`] picks nodes from it with dbt's grammar.

mod dag;
pub mod selector;

pub use dag::Dag;
