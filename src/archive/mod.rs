//! GitHub Archive hour files: naming and hour ranges ([`hours`]) and a realistic, deterministic
//! generator of hour files ([`generate`]) for the demo, the tests and the benchmarks, and the
//! same events as Events API pages ([`api_pages`]).

pub mod api_pages;
pub mod generate;
pub mod hours;
