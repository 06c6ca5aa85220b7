//! `ghforge load`: archive hours into the target's bronze tables, with a line per hour and a
//! summary. Exit 1 when an hour failed; a missing hour is a warning.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::archive::hours::Hour;
use crate::cli::LoadArgs;
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::load::objects::Objects;
use crate::load::{Backoff, Destination, Fetcher, HourOutcome, HourReport, Options, Source, load};
use crate::project::profiles::Warehouse;
use crate::settings::Settings;
use crate::storage::Location;

pub fn run(settings: Settings, args: &LoadArgs) -> Result<i32> {
    let console = Console {
        format: settings.log_format,
        color: settings.color,
    };
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
    let destination = match &args.destination {
        None => Destination::Bronze,
        Some(text) => {
            let location = Location::parse(text, &settings.load.file.root).map_err(|message| {
                usage(
                    message,
                    "give a folder or `s3://bucket/prefix` to `--destination`",
                )
            })?;
            let storage = location
                .open(settings.load.target.s3.as_ref())
                .map_err(|err| {
                    Error::Execution(
                        Diagnostic::new(DiagnosticKind::Execution, err.0)
                            .hint("check the target's `s3:` settings in profiles.yml"),
                    )
                })?;
            Destination::Objects(Objects {
                storage,
                format: args.format,
                destination: location.to_string(),
            })
        }
    };
    let fetcher = Fetcher::new(source, timeout, settings.load.target.s3.as_ref())
        .map_err(|message| Error::Execution(Diagnostic::new(DiagnosticKind::Execution, message)))?;
    let Warehouse::DuckDb(duck) = &settings.load.target.warehouse else {
        return Err(usage(
            format!(
                "target `{}` is not a DuckDB target",
                settings.load.target.name
            ),
            "`ghforge load` writes bronze into a `type: duckdb` target",
        ));
    };
    let adapter = super::run::open_duckdb(&settings.load.target, duck)?;
    let connection = adapter
        .connection()
        .map_err(|err| Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.message)))?;
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
        jobs: args.jobs.max(1),
        force: args.force,
        retries: args.retries,
        backoff: Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        },
    };
    let reports = load(
        &connection,
        &fetcher,
        &destination,
        &hours,
        options,
        &report_line,
    )
    .map_err(|err| {
        Error::Execution(Diagnostic::new(
            DiagnosticKind::Execution,
            format!("bronze tables: {err}"),
        ))
    })?;
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
        "load_summary",
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
        let last_complete = Hour::containing(chrono::Utc::now()).previous();
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
            "hour_retried",
            &format!("{hour}: attempt {} failed, retried: {reason}", attempt + 1),
        );
    }
    match &report.outcome {
        HourOutcome::Loaded { rows, quarantined, bytes } => console.info(
            "hour_loaded",
            &format!(
                "loaded {hour}: {rows} rows, {quarantined} quarantined, {:.1} MiB in {seconds:.2}s ({:.0} events/s)",
                *bytes as f64 / 1_048_576.0,
                *rows as f64 / seconds.max(1e-6)
            ),
            json!({"hour": hour.to_string(), "rows": rows, "quarantined": quarantined, "bytes": bytes}),
        ),
        HourOutcome::Skipped => console.info(
            "hour_skipped",
            &format!("skipped {hour}: already loaded (use --force to reload)"),
            json!({"hour": hour.to_string()}),
        ),
        HourOutcome::Missing => console.warn("hour_missing", &format!("{hour} is missing from the source (recorded as missing)")),
        HourOutcome::Failed(message) => console.warn("hour_failed", &format!("{hour} failed: {message}")),
    }
}
