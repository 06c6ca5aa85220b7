//! ghforge: a dbt-style declarative SQL transformation engine on DuckDB, built for GitHub
//! Archive data. The binary (`main.rs`) is a thin shell over this library.

pub mod adapters;
pub mod archive;
pub mod artifacts;
pub mod catalog;
pub mod checksum;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod compile;
pub mod console;
pub mod error;
pub mod execute;
pub mod graph;
pub mod invocation;
pub mod jinja;
pub mod load;
pub mod logging;
pub mod materialize;
pub mod parallel;
pub mod plan;
pub mod project;
pub mod schema_tests;
pub mod serve;
pub mod settings;
pub mod storage;
pub mod suggest;
pub mod types;
pub mod yaml;
