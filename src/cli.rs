//! Command-line flags as clap parses them: raw input only. The `settings` module turns them,
//! with the profiles and the environment, into resolved settings once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::graph::selector::IndirectSelection;
use crate::project::nodes::ResourceType;

/// ghforge: a dbt-style SQL transformation engine on DuckDB, built for GitHub Archive data.
///
/// A project is a folder with `ghforge_project.yml` (or `dbt_project.yml`), SQL models with
/// Jinja (`ref`, `source`, `config`, macros), schema YAML with tests, and seeds. ghforge
/// compiles the models into a DAG and builds them in DuckDB or Snowflake.
#[derive(Debug, Parser)]
#[command(name = "ghforge", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The project folder (holds `ghforge_project.yml` or `dbt_project.yml`).
    #[arg(long, global = true, env = "GHFORGE_PROJECT_DIR", value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// Folder of `profiles.yml`. Otherwise: `$GHFORGE_PROFILES_DIR`, `$DBT_PROFILES_DIR`, the
    /// project folder, `~/.ghforge/`, then `~/.dbt/`. A project without `profile:` and no
    /// profiles file builds into an embedded DuckDB file `<project>/ghforge.duckdb`.
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// The profile target to use (default: the profile's `target:`).
    #[arg(long, short = 't', global = true)]
    pub target: Option<String>,
    /// Variables for `var(...)`, as YAML or JSON: `--vars '{since: 2024-01-01}'`.
    #[arg(long, global = true, value_name = "YAML")]
    pub vars: Option<String>,
    /// How log lines are printed.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The most verbose console lines shown: `debug` adds every statement sent to the
    /// warehouse. The debug log `<target-path>/logs/ghforge.log` is filtered by `GHFORGE_LOG`
    /// instead (default `ghforge=debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
}

/// Console verbosity, as dbt's `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
    /// Nothing on the console.
    None,
}

impl LogLevel {
    pub fn filter(self) -> tracing_subscriber::filter::LevelFilter {
        use tracing_subscriber::filter::LevelFilter;
        match self {
            Self::Debug => LevelFilter::DEBUG,
            Self::Info => LevelFilter::INFO,
            Self::Warn => LevelFilter::WARN,
            Self::Error => LevelFilter::ERROR,
            Self::None => LevelFilter::OFF,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event.
    Json,
}

/// Which nodes a command works on.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectionArgs {
    /// Nodes to include, in dbt's selector grammar: `model`, `+model`, `model+2`, `@model`,
    /// `tag:nightly`, `path:models/silver`, `config.materialized:table`, `source:gharchive+`,
    /// `state:modified`... Space means union, comma intersection.
    #[arg(long, short = 's', alias = "models", short_alias = 'm', num_args = 1.., value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// Nodes to leave out, in the same grammar.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// Folder with a previous `manifest.json`, for `state:` selectors.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// How tests next to selected nodes are included.
    #[arg(long, value_enum, default_value_t = IndirectSelection::Eager)]
    pub indirect_selection: IndirectSelection,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every selected model and test to SQL under `<target-path>/compiled/`, write
    /// `manifest.json`, and (on DuckDB, reading the database read-only) each node's plan under
    /// `<target-path>/run/`. Nothing is written to the warehouse.
    Compile(CompileArgs),
    /// List project nodes (models, seeds, sources, tests) that a selection picks.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Build the selected models in the target warehouse, in DAG order over `--threads`
    /// workers; a failed model skips its descendants. Writes `run_results.json`.
    Run(RunArgs),
    /// Load the selected seeds (CSV files under the seed paths) into the target warehouse.
    Seed(RunArgs),
    /// Run the selected data tests (generic tests from schema YAML, singular tests under the
    /// test paths); a test selects the rows that fail it.
    Test(RunArgs),
    /// Build seeds, models and their tests in DAG order; a failing error-severity test skips
    /// everything downstream of the model it tests.
    Build(RunArgs),
    /// Load GitHub Archive hours (from data.gharchive.org, a mirror folder or a bucket) into
    /// bronze (`bronze.events`, `bronze.quarantine`, `bronze.load_ledger`) in the target
    /// warehouse (DuckDB or Snowflake), or as objects with `--destination`: each hour lands
    /// whole or not at all, bad lines go to quarantine, failed downloads are retried, loaded
    /// hours are skipped unless `--force`. With `--live`, poll GitHub's Events API instead.
    Load(LoadArgs),
    /// Fetch repository metadata (stars, forks, language, licence, topics) from GitHub's REST
    /// API for the repositories of a model into `bronze.repo_metadata`, with conditional
    /// requests and a maximum age, so a second run right after the first asks nothing.
    Enrich(EnrichArgs),
    /// Show the ghforge and warehouse versions, the project, profile and target in use, and
    /// test the connection.
    Debug,
    /// Write realistic GitHub Archive hour files (gzipped NDJSON, real naming, both payload
    /// eras, power-law activity, PR lifecycles, faults on request). Needs no project.
    GenArchive(GenArchiveArgs),
    /// Serve the gold layer as a JSON API (`/api/...`, OpenAPI at `/api/openapi.json`), a
    /// dashboard (`/`), run monitoring (`/runs`, `/metrics`) and docs (`/docs`), read from the
    /// newest serving snapshot that `run`/`build` publish under `<target-path>/serve/`.
    Serve(ServeArgs),
    /// Publish a serving snapshot of the served relations now (`run` and `build` do it at
    /// their end).
    Publish(PublishArgs),
    /// The project's documentation: `ghforge docs generate` writes `catalog.json` and a static
    /// docs site; `ghforge serve` shows the same at `/docs`.
    Docs(DocsArgs),
    /// Delete the folders listed in the project file's `clean-targets` (default: the target
    /// path, with its compiled SQL, artifacts, serving snapshots and run history). Example:
    /// `ghforge clean`
    Clean(CleanArgs),
    /// Read the whole project (files, YAML, Jinja configs, the DAG) and write
    /// `<target-path>/manifest.json` without rendering SQL or touching the warehouse, as
    /// `dbt parse`; a quick check that the project is valid. Example: `ghforge parse`
    Parse,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Also delete `clean-targets` outside the project folder (by default they are refused).
    #[arg(long)]
    pub no_clean_project_files_only: bool,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    #[command(subcommand)]
    pub action: DocsAction,
}

#[derive(Debug, Subcommand)]
pub enum DocsAction {
    /// Compile the project, write `manifest.json`, `catalog.json` (dbt's v1 format: every
    /// built relation's type and columns, read from the warehouse's information schema) and a
    /// static docs site under `<target-path>/docs/` (open `index.html`; no server needed).
    Generate(DocsGenerateArgs),
}

#[derive(Debug, Args)]
pub struct DocsGenerateArgs {
    /// Do not read the warehouse: an empty catalog (as `dbt docs generate --empty-catalog`).
    #[arg(long)]
    pub empty_catalog: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct PublishArgs {}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// First hour, UTC, inclusive: `2024-01-01T00`.
    #[arg(long, conflicts_with_all = ["hours", "last"])]
    pub from: Option<String>,
    /// Last hour, UTC, inclusive (default: the first).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// A list of hours: `--hours 2024-01-01T00,2024-01-02T13`.
    #[arg(long, value_delimiter = ',', conflicts_with = "last")]
    pub hours: Vec<String>,
    /// The last N complete hours before now: `--last 6h`.
    #[arg(long)]
    pub last: Option<String>,
    /// Where hour files come from: GH Archive or another HTTP(S) base URL (hour files are
    /// `<base>/YYYY-MM-DD-H.json.gz`, hour unpadded), a mirror folder (path or `file://`), or
    /// `s3://bucket/prefix` (reached with the target's `s3:` settings).
    #[arg(long, env = "GHFORGE_SOURCE", default_value = crate::load::source::DEFAULT_SOURCE)]
    pub source: String,
    /// Land hours as objects instead of in the target database's bronze tables: a folder or
    /// `s3://bucket/prefix` (one object per hour under `year=/month=/day=/hour=` folders; the
    /// target's `s3:` settings reach the bucket). The ledger stays in the target database.
    #[arg(long)]
    pub destination: Option<String>,
    /// With `--destination`: `parquet` (the bronze columns; bad lines under `_quarantine/`) or
    /// `raw` (the hour file as received).
    #[arg(long, value_enum, default_value = "parquet", requires = "destination")]
    pub format: crate::load::objects::Format,
    /// Reload hours the ledger already has.
    #[arg(long)]
    pub force: bool,
    /// Hours downloaded and loaded at once (default: 4 from HTTP or S3, where downloads
    /// overlap; one per core from a folder).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Further attempts at an hour after a 5xx, a timeout, a reset or a truncated download
    /// (exponential backoff with jitter between them). A 404 is a missing hour, never retried.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// DuckDB's memory limit while loading (default: the profile's `memory_limit` setting, or
    /// 512MB per job). It bounds the buffer pool: one 1 GB-uncompressed hour loads in about
    /// 1 GB RSS; a smaller limit than the default slows concurrent hours down.
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Seconds to wait for the server before an attempt counts as timed out.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Poll GitHub's public Events API into bronze instead of loading archive hours: every
    /// poll's new events land with a `bronze.poll_ledger` row in one transaction; a poll whose
    /// pages never reach a seen event is recorded as a gap. The token comes from `GITHUB_TOKEN`.
    #[arg(long, conflicts_with_all = ["from", "hours", "last", "destination", "force"])]
    pub live: bool,
    /// `--live`: seconds between polls at least (GitHub's `X-Poll-Interval` may ask for more).
    #[arg(long, default_value_t = 60, requires = "live", value_name = "SECONDS")]
    pub interval: u64,
    /// `--live`: pages of 100 events read per poll at most (GitHub shows 300 events).
    #[arg(long, default_value_t = 3, requires = "live", value_name = "N")]
    pub pages: u32,
    /// `--live`: stop after N polls (default: run until stopped, or `--for`).
    #[arg(long, requires = "live", value_name = "N")]
    pub max_polls: Option<u64>,
    /// `--live`: stop after this long: `90s`, `30m`, `6h`.
    #[arg(long = "for", requires = "live", value_name = "DURATION")]
    pub for_duration: Option<String>,
    /// `--live`: the API root (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(
        long,
        env = "GHFORGE_GITHUB_API",
        default_value = "https://api.github.com"
    )]
    pub api_url: String,
}

#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// The model whose `repo_name` column (`owner/name`) lists the repositories, busiest first
    /// when it has an `events` column.
    #[arg(long = "from", default_value = "active_repos", value_name = "MODEL")]
    pub model: String,
    /// Repositories to enrich at most.
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Metadata younger than this is not requested again: `30m`, `24h`.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub max_age: String,
    /// Requests in flight at once (GitHub asks for few concurrent requests), 1 to 16.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The API root (GitHub Enterprise: `https://HOST/api/v3`). The token comes from
    /// `GITHUB_TOKEN`.
    #[arg(
        long,
        env = "GHFORGE_GITHUB_API",
        default_value = "https://api.github.com"
    )]
    pub api_url: String,
    /// Seconds to wait for the API before a request counts as timed out.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Further attempts after a 5xx, a timeout or a rate limit.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct GenArchiveArgs {
    /// First hour, UTC, inclusive: `2024-01-01T00`.
    #[arg(long)]
    pub from: String,
    /// Last hour, UTC, inclusive (default: the first).
    #[arg(long)]
    pub to: Option<String>,
    /// Folder to write the hour files to.
    #[arg(long)]
    pub out: PathBuf,
    /// Distinct events per hour.
    #[arg(long, default_value_t = 2000)]
    pub events_per_hour: usize,
    /// Payload era (default: by date; trimmed from 2025-10-07).
    #[arg(long, value_enum)]
    pub era: Option<crate::archive::generate::Era>,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Faults to inject, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub faults: Vec<crate::archive::generate::Fault>,
    /// Also write each hour's events as GitHub Events API pages (100 events each, newest
    /// first) under `<out>/events-api/<YYYY-MM-DDTHH>/page-N.json`, to serve to `load --live`.
    #[arg(long)]
    pub api_pages: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Worker threads (default: the target's `threads`).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rebuild incremental models (and seeds) from scratch.
    #[arg(long)]
    pub full_refresh: bool,
    /// Stop scheduling new nodes after the first failure.
    #[arg(long, short = 'x')]
    pub fail_fast: bool,
    /// `run` only: do not test the built models afterwards.
    #[arg(long)]
    pub no_tests: bool,
    /// Print the plan of each selected node (the statements it would send, in order, with
    /// their transactions) without writing to the warehouse; the DuckDB file is not created or
    /// changed. Plans are also written to `<target-path>/run/`.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the data tests' results as JUnit XML to PATH (GitLab, Jenkins test reports).
    #[arg(long, value_name = "PATH")]
    pub junit_xml: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
}

/// What `ls` prints per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsOutput {
    /// dbt's selector form: `project.folder.model`, `source:project.source.table`.
    Selector,
    /// The node name.
    Name,
    /// The file the node is defined in.
    Path,
    /// One JSON object per node.
    Json,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Only list nodes of these kinds.
    #[arg(long, value_parser = parse_resource_type, num_args = 1..)]
    pub resource_type: Vec<ResourceType>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = LsOutput::Selector)]
    pub output: LsOutput,
}

fn parse_resource_type(value: &str) -> Result<ResourceType, String> {
    ResourceType::parse(value).ok_or_else(|| {
        let valid: Vec<&str> = ResourceType::ALL.iter().map(|r| r.as_str()).collect();
        format!(
            "`{value}` is not a resource type; use one of: {}",
            valid.join(", ")
        )
    })
}
