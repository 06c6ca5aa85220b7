//! GitHub Archive hour files: naming and hour ranges ([`hours`]) and a realistic, deterministic
//! generator of hour files ([`generate`]) for the demo, the tests and the benchmarks.

pub mod generate;
pub mod hours;
