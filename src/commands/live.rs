//! `ghforge load --live`: poll the Events API until `--max-polls` or `--for`, a line per poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::adapters::duckdb::Access;
use crate::cli::LoadArgs;
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::load::Backoff;
use crate::load::bronze;
use crate::load::github::ApiOptions;
use crate::load::live::{self, Options, PollReport, PollStatus, Poller};
use crate::project::profiles::Warehouse;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &LoadArgs, console: Console) -> Result<i32> {
    let usage = |message: String, hint: &str| {
        Error::Project(Diagnostic::new(DiagnosticKind::Project, message).hint(hint))
    };
    let execution =
        |message: String| Error::Execution(Diagnostic::new(DiagnosticKind::Execution, message));
    let target = &settings.load.target;
    let Warehouse::DuckDb(duck) = &target.warehouse else {
        return Err(usage(
            format!(
                "`load --live` lands in a DuckDB target; `{}` is a Snowflake target",
                target.name
            ),
            "poll into a DuckDB target, or load archive hours into Snowflake without `--live`",
        ));
    };
    let stop_after = args
        .for_duration
        .as_deref()
        .map(|text| {
            parse_duration(text).ok_or_else(|| {
                usage(
                    format!("`--for {text}` is not a duration"),
                    "give seconds, minutes or hours: `--for 90s`, `--for 30m`, `--for 6h`",
                )
            })
        })
        .transpose()?;
    let options = Options {
        api: api_options(&args.api_url, args.timeout, args.retries),
        pages: args.pages.clamp(1, 10),
        interval: Duration::from_secs(args.interval),
    };
    let adapter = super::warehouse::open_duckdb(target, duck, Access::ReadWrite)?;
    let connection = adapter.connection().map_err(|err| execution(err.message))?;
    connection
        .execute_batch(&format!("{}{}", bronze::SCHEMA_SQL, live::POLL_LEDGER_SQL))
        .map_err(|err| execution(format!("creating the bronze tables failed: {err}")))?;
    let mut poller = Poller::new(options)
        .map_err(|err| execution(format!("cannot start the HTTP client: {err}")))?;
    let started = Instant::now();
    let stop = stop_on_signal();
    let (mut polls, mut new, mut failed) = (0u64, 0u64, 0u64);
    loop {
        let poll_id = live::next_poll_id(&connection).map_err(|err| execution(err.to_string()))?;
        let report = {
            let _span = tracing::info_span!("poll", poll_id).entered();
            poller
                .poll(&connection, poll_id)
                .map_err(|err| execution(err.to_string()))?
        };
        polls += 1;
        new += report.new;
        failed += u64::from(report.status == PollStatus::Failed);
        print_poll(&console, &report);
        let out_of_time = stop_after.is_some_and(|limit| started.elapsed() + report.wait >= limit);
        if args.max_polls.is_some_and(|max| polls >= max) || out_of_time || stopped(&stop) {
            break;
        }
        // Sleep in short steps, so Ctrl-C between polls ends the command at once.
        let until = Instant::now() + report.wait;
        while Instant::now() < until && !stopped(&stop) {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(100)));
        }
        if stopped(&stop) {
            break;
        }
    }
    console.info(
        "LivePollSummary",
        &format!("Done. {polls} polls: {new} new events, {failed} failed polls."),
        json!({"polls": polls, "new": new, "failed": failed}),
    );
    Ok(i32::from(failed > 0))
}

/// Set when SIGINT (Ctrl-C) or SIGTERM arrives: the poll in flight finishes and lands, then the
/// command ends.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    if let Ok(runtime) = runtime {
        std::thread::spawn(move || {
            runtime.block_on(async {
                let terminate = async {
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(mut signal) => signal.recv().await,
                        Err(_) => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate => {}
                }
            });
            flag.store(true, Ordering::SeqCst);
        });
    }
    stop
}

fn stopped(stop: &AtomicBool) -> bool {
    stop.load(Ordering::SeqCst)
}

fn print_poll(console: &Console, report: &PollReport) {
    let rate = report
        .rate_remaining
        .map(|n| format!(", rate limit {n} left"))
        .unwrap_or_default();
    let next = format!("next poll in {}s{rate}", report.wait.as_secs());
    let data = json!({
        "poll_id": report.poll_id,
        "status": report.status.as_str(),
        "pages": report.pages,
        "new": report.new,
        "seen": report.seen,
        "quarantined": report.quarantined,
        "gap": report.gap,
        "rate_remaining": report.rate_remaining,
        "next_poll_s": report.wait.as_secs(),
    });
    let id = report.poll_id;
    match report.status {
        PollStatus::Ok => console.info(
            "LivePoll",
            &format!(
                "Poll {id}: {} new, {} seen, {} quarantined ({} page{}); {next}",
                report.new,
                report.seen,
                report.quarantined,
                report.pages,
                if report.pages == 1 { "" } else { "s" }
            ),
            data,
        ),
        PollStatus::NotModified => console.info(
            "LivePoll",
            &format!("Poll {id}: not modified (304); {next}"),
            data,
        ),
        PollStatus::Gap => {
            let (from, to) = report.gap.clone().unwrap_or_default();
            console.warn(
                "LivePollGap",
                &format!(
                    "Poll {id}: {} new, but {} pages never reached an event seen before: events between {from} and {to} may be missing (recorded as a gap); {next}",
                    report.new, report.pages
                ),
            );
        }
        PollStatus::Failed => console.warn(
            "LivePollFailed",
            &format!(
                "Poll {id} failed: {}; {next}",
                report.message.as_deref().unwrap_or("unknown error")
            ),
        ),
    }
}

/// The API root, the token (`GITHUB_TOKEN`), the timeout and the retries of a command.
pub fn api_options(api_url: &str, timeout: f64, retries: u32) -> ApiOptions {
    ApiOptions {
        api_url: api_url.to_owned(),
        token: std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()),
        timeout: Duration::try_from_secs_f64(timeout).unwrap_or(Duration::from_secs(60)),
        retries,
        backoff: Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        },
    }
}

/// `90s`, `30m`, `6h`, or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_minutes_and_hours() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("6h"), Some(Duration::from_secs(21600)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
