//! `ghforge load`: archive hours into the target's bronze tables (DuckDB or Snowflake) or into
//! objects, one worker per sink, with a line per hour and a summary. Exit 1 when an hour
//! failed; a missing hour is a warning.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::adapters::Session;
use crate::archive::hours::Hour;
use crate::cli::LoadArgs;
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::load::bronze::{self, BronzeSink};
use crate::load::objects::{self, ObjectSink, Objects};
use crate::load::snowflake::{self as snowflake_bronze, SnowflakeSink};
use crate::load::{Backoff, Fetcher, HourOutcome, HourReport, Options, Sink, Source, load};
use crate::project::profiles::Warehouse;
use crate::settings::Settings;
use crate::storage::Location;

pub fn run(settings: Settings, args: &LoadArgs) -> Result<i32> {
    let console = Console {
        format: settings.log_format,
    };
    if args.live {
        return super::live::run(&settings, args, console);
    }
    let usage = |message: String, hint: &str| {
        Error::Project(Diagnostic::new(DiagnosticKind::Project, message).hint(hint))
    };
    let hours = hours_of(args).map_err(|message| {
        usage(
            message,
            "give `--from 2024-01-01T00 [--to ...]`, `--hours a,b` or `--last 6h`",
        )
    })?;
    let source = Source::parse(&args.source, &settings.load.file.root).map_err(|message| {
        usage(
            message,
            "pass `--source https://data.gharchive.org`, another HTTP(S) mirror, or a folder of hour files (`ghforge gen-archive` writes realistic ones)",
        )
    })?;
    // A misspelt folder would count every hour as missing and exit 0.
    if let Source::Mirror(Location::Local(folder)) = &source
        && !folder.is_dir()
    {
        return Err(usage(
            format!(
                "`--source {}`: no such folder `{}`",
                args.source,
                folder.display()
            ),
            "check the path (relative paths start at the project folder), or leave `--source` out to load from https://data.gharchive.org",
        ));
    }
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| {
            usage(
                format!(
                    "`--timeout {}` is not a positive number of seconds",
                    args.timeout
                ),
                "for example `--timeout 30`",
            )
        })?;
    let fetcher = Fetcher::new(source, timeout, settings.load.target.s3.as_ref())
        .map_err(|message| Error::Execution(Diagnostic::new(DiagnosticKind::Execution, message)))?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            if fetcher.source().is_remote() {
                4
            } else {
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
            }
        })
        .clamp(1, hours.len().max(1));
    let target = &settings.load.target;
    let sinks = match &target.warehouse {
        Warehouse::DuckDb(duck) => duckdb_sinks(&settings, args, duck, jobs)?,
        Warehouse::Snowflake(_) if args.destination.is_some() => {
            return Err(usage(
                format!("target `{}` is a Snowflake target", target.name),
                "`--destination` keeps its ledger in a DuckDB target; load into Snowflake without it",
            ));
        }
        Warehouse::Snowflake(snowflake) => snowflake_sinks(target, snowflake, jobs)?,
    };
    let started = Instant::now();
    let total = hours.len();
    // A progress bar on a terminal (hidden when output is redirected, and in JSON mode).
    let progress = if console.format == crate::cli::LogFormat::Text {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} hours  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let landed = std::sync::atomic::AtomicU64::new(0);
    let landed_bytes = std::sync::atomic::AtomicU64::new(0);
    let report_line = |report: &HourReport| {
        if let HourOutcome::Loaded { rows, bytes, .. } = report.outcome {
            landed.fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
            landed_bytes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        }
        let events = landed.load(std::sync::atomic::Ordering::Relaxed);
        progress.inc(1);
        progress.set_message(format!(
            "{events} events, {:.1} MiB, {:.0} events/s",
            landed_bytes.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1_048_576.0,
            events as f64 / started.elapsed().as_secs_f64().max(1e-6)
        ));
        progress.suspend(|| print_hour(&console, report));
    };
    let options = Options {
        force: args.force,
        retries: args.retries,
        backoff: Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        },
    };
    let reports = load(&fetcher, sinks, &hours, options, &report_line);
    progress.finish_and_clear();
    let count = |f: fn(&HourOutcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
    let loaded = count(|o| matches!(o, HourOutcome::Loaded { .. }));
    let (rows, quarantined) = reports
        .iter()
        .fold((0, 0), |(r, q), report| match report.outcome {
            HourOutcome::Loaded {
                rows, quarantined, ..
            } => (r + rows, q + quarantined),
            _ => (r, q),
        });
    let failed = count(|o| matches!(o, HourOutcome::Failed(_)));
    let seconds = started.elapsed().as_secs_f64();
    console.info(
        "LoadSummary",
        &format!(
            "Done. {total} hours: {loaded} loaded ({rows} rows, {quarantined} quarantined), {} skipped, {} missing, {failed} failed in {seconds:.2}s ({:.0} events/s).",
            count(|o| matches!(o, HourOutcome::Skipped)),
            count(|o| matches!(o, HourOutcome::Missing)),
            rows as f64 / seconds.max(1e-6)
        ),
        json!({"hours": total, "loaded": loaded, "rows": rows, "quarantined": quarantined, "failed": failed}),
    );
    Ok(i32::from(failed > 0))
}

fn execution(message: impl Into<String>) -> Error {
    Error::Execution(Diagnostic::new(DiagnosticKind::Execution, message))
}

/// One sink per worker on a DuckDB target: its bronze tables, or objects with `--destination`
/// (the ledger in the database either way).
fn duckdb_sinks(
    settings: &Settings,
    args: &LoadArgs,
    duck: &crate::project::profiles::DuckDbTarget,
    jobs: usize,
) -> Result<Vec<Box<dyn Sink>>> {
    let target = &settings.load.target;
    let adapter =
        super::warehouse::open_duckdb(target, duck, crate::adapters::duckdb::Access::ReadWrite)?;
    let connection = adapter.connection().map_err(|err| execution(err.message))?;
    // DuckDB's default limit is 80% of RAM, and a loading transaction keeps what it appended
    // in the buffer pool up to that limit: bound it, so memory stays flat whatever the hour.
    let memory_limit = args
        .memory_limit
        .clone()
        .or_else(|| duck.settings.get("memory_limit").cloned())
        .unwrap_or_else(|| format!("{}MB", 512 * jobs));
    connection
        .execute_batch(&format!(
            "SET memory_limit = '{}'",
            memory_limit.replace('\'', "''")
        ))
        .map_err(|err| {
            Error::Project(
                Diagnostic::new(
                    DiagnosticKind::Project,
                    format!("`--memory-limit {memory_limit}`: {err}"),
                )
                .hint("give a size such as `512MB` or `2GB`"),
            )
        })?;
    // Checkpoint once, when the load closes the database, rather than after each hour's commit
    // (the appends already went to the file; a checkpoint per hour cost a fifth of the time).
    if !duck.settings.contains_key("checkpoint_threshold") {
        connection
            .execute_batch("SET checkpoint_threshold = '16GB'")
            .map_err(|err| execution(format!("setting checkpoint_threshold failed: {err}")))?;
    }
    let objects = match &args.destination {
        None => None,
        Some(text) => {
            let location = Location::parse(text, &settings.load.file.root).map_err(|message| {
                Error::Project(
                    Diagnostic::new(DiagnosticKind::Project, message)
                        .hint("give a folder or `s3://bucket/prefix` to `--destination`"),
                )
            })?;
            let storage = location.open(target.s3.as_ref()).map_err(|err| {
                Error::Execution(
                    Diagnostic::new(DiagnosticKind::Execution, err.to_string())
                        .hint("check the target's `s3:` settings in profiles.yml"),
                )
            })?;
            Some(std::sync::Arc::new(Objects {
                storage,
                format: args.format,
                destination: location.to_string(),
            }))
        }
    };
    connection
        .execute_batch(match objects {
            None => bronze::SCHEMA_SQL,
            Some(_) => objects::LEDGER_SQL,
        })
        .map_err(|err| execution(format!("creating the bronze tables failed: {err}")))?;
    (0..jobs)
        .map(|_| {
            let worker = connection
                .try_clone()
                .map_err(|err| execution(format!("cannot open a connection: {err}")))?;
            Ok(match &objects {
                None => Box::new(BronzeSink::new(worker)) as Box<dyn Sink>,
                Some(objects) => Box::new(ObjectSink {
                    objects: objects.clone(),
                    ledger: worker,
                }),
            })
        })
        .collect()
}

/// One session per worker on a Snowflake target, its bronze tables created when missing.
fn snowflake_sinks(
    target: &crate::project::profiles::Target,
    snowflake: &crate::project::profiles::SnowflakeTarget,
    jobs: usize,
) -> Result<Vec<Box<dyn Sink>>> {
    let adapter = super::warehouse::open_snowflake(target, snowflake)?;
    let mut session = adapter
        .snowflake_session()
        .map_err(|err| execution(err.message))?;
    for statement in snowflake_bronze::SCHEMA_STATEMENTS {
        session.execute(statement).map_err(|err| {
            execution(format!(
                "creating the bronze tables failed: {}",
                err.message
            ))
        })?;
    }
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(SnowflakeSink::new(session))];
    for _ in 1..jobs {
        let session = adapter
            .snowflake_session()
            .map_err(|err| execution(err.message))?;
        sinks.push(Box::new(SnowflakeSink::new(session)));
    }
    Ok(sinks)
}

fn hours_of(args: &LoadArgs) -> Result<Vec<Hour>, String> {
    if let Some(from) = &args.from {
        let from = Hour::parse(from)?;
        let to = args
            .to
            .as_deref()
            .map(Hour::parse)
            .transpose()?
            .unwrap_or(from);
        if to < from {
            return Err(format!("`--to {to}` is before `--from {from}`"));
        }
        return Ok(Hour::range(from, to));
    }
    if !args.hours.is_empty() {
        let mut hours = args
            .hours
            .iter()
            .map(|h| Hour::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        hours.sort();
        hours.dedup();
        return Ok(hours);
    }
    if let Some(last) = &args.last {
        let count: usize = last
            .trim_end_matches('h')
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`--last {last}` is not a number of hours like `6h`"))?;
        // The last `count` complete hours before the current one.
        let last_complete = Hour::containing(crate::clock::now()).previous();
        let first = (1..count).fold(last_complete, |hour, _| hour.previous());
        return Ok(Hour::range(first, last_complete));
    }
    Err("no hours given".to_owned())
}

/// One line per finished hour.
fn print_hour(console: &Console, report: &HourReport) {
    let hour = report.hour;
    let seconds = report.elapsed.as_secs_f64();
    for (attempt, reason) in report.retried.iter().enumerate() {
        console.warn(
            "HourRetried",
            &format!("{hour}: attempt {} failed, retried: {reason}", attempt + 1),
        );
    }
    match &report.outcome {
        HourOutcome::Loaded { rows, quarantined, bytes } => console.info(
            "HourLoaded",
            &format!(
                "loaded {hour}: {rows} rows, {quarantined} quarantined, {:.1} MiB in {seconds:.2}s ({:.0} events/s)",
                *bytes as f64 / 1_048_576.0,
                *rows as f64 / seconds.max(1e-6)
            ),
            json!({"hour": hour.to_string(), "rows": rows, "quarantined": quarantined, "bytes": bytes}),
        ),
        HourOutcome::Skipped => console.info(
            "HourSkipped",
            &format!("skipped {hour}: already loaded (use --force to reload)"),
            json!({"hour": hour.to_string()}),
        ),
        HourOutcome::Missing => console.warn("HourMissing", &format!("{hour} is missing from the source (recorded as missing)")),
        HourOutcome::Failed(message) => console.warn("HourFailed", &format!("{hour} failed: {message}")),
    }
}
