//! `ghforge gen-archive`: write realistic GitHub Archive hour files for demos, tests and
//! benchmarks (see [`crate::archive::generate`]).

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::json;

use crate::archive::api_pages;
use crate::archive::generate::{Options, generate};
use crate::archive::hours::Hour;
use crate::cli::{GenArchiveArgs, GlobalArgs};
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result, io_error};

pub fn run(global: &GlobalArgs, args: &GenArchiveArgs) -> Result<i32> {
    let console = Console {
        format: global.log_format,
    };
    let hour = |text: &str, flag: &str| {
        Hour::parse(text).map_err(|message| {
            Error::Project(
                Diagnostic::new(DiagnosticKind::Project, format!("`--{flag}`: {message}"))
                    .hint("hours are UTC, e.g. `--from 2024-01-01T00 --to 2024-01-01T23`"),
            )
        })
    };
    let from = hour(&args.from, "from")?;
    let to = match &args.to {
        Some(to) => hour(to, "to")?,
        None => from,
    };
    if to < from {
        return Err(Error::Project(
            Diagnostic::new(
                DiagnosticKind::Project,
                format!("`--to {to}` is before `--from {from}`"),
            )
            .hint("give the first hour with `--from` and the last with `--to`"),
        ));
    }
    let options = Options {
        events_per_hour: args.events_per_hour.max(1),
        era: args.era,
        seed: args.seed,
        faults: args.faults.iter().copied().collect::<BTreeSet<_>>(),
    };
    let started = Instant::now();
    let files = generate(from, to, &args.out, &options)
        .map_err(|err| Error::Execution(io_error(&args.out, "write hour files into", &err)))?;
    for file in &files {
        console.info(
            "HourWritten",
            &format!(
                "wrote {} ({} events, {} lines, {} duplicates, {} malformed, {} KiB)",
                file.path.display(),
                file.events,
                file.lines,
                file.duplicates,
                file.malformed,
                file.bytes / 1024
            ),
            json!({"hour": file.hour.to_string(), "path": file.path, "events": file.events, "lines": file.lines,
                   "duplicates": file.duplicates, "malformed": file.malformed, "bytes": file.bytes}),
        );
        if args.api_pages {
            let dir = args.out.join("events-api").join(file.hour.to_string());
            let pages = api_pages::write(&file.path, &dir).map_err(|err| {
                Error::Execution(io_error(&dir, "write Events API pages into", &err))
            })?;
            console.info(
                "ApiPagesWritten",
                &format!("wrote {} ({} Events API pages)", dir.display(), pages.len()),
                json!({"hour": file.hour.to_string(), "path": dir, "pages": pages.len()}),
            );
        }
    }
    let events: usize = files.iter().map(|f| f.events).sum();
    console.info(
        "ArchiveGenerated",
        &format!(
            "Generated {} hour files, {events} events, in {:.2}s.",
            files.len(),
            started.elapsed().as_secs_f64()
        ),
        json!({"hours": files.len(), "events": events}),
    );
    Ok(0)
}
