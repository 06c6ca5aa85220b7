//! `ghforge load --live`: GitHub's public Events API polled into the same bronze tables as the
//! archive, on the same guarantees.
//!
//! - Requests follow GitHub's rules: `If-None-Match` with the last ETag (a 304 is free), never
//!   faster than `X-Poll-Interval`, a wait until `X-RateLimit-Reset` when
//!   `X-RateLimit-Remaining` reaches 0, `Retry-After` on a 403/429 secondary limit, and 5xx or
//!   timeouts retried with the archive loader's backoff and jitter. The token (`GITHUB_TOKEN`)
//!   goes in the `Authorization` header and nowhere else.
//! - A poll reads pages `1..=N` until a page holds an event bronze already has. When N pages
//!   never reach one, events may have been missed in between: the poll is a `gap`, and the
//!   ledger keeps the time range that may be incomplete.
//! - Each poll's new events land in `bronze.events` (as received, `source_file` `api:poll-<id>`),
//!   malformed items in `bronze.quarantine`, with one `bronze.poll_ledger` row, in one
//!   transaction: a kill at any moment loses nothing acknowledged and duplicates nothing.
//!   Events the archive later delivers again collapse in silver on `(id, created_at)`.

use std::collections::BTreeSet;
use std::time::Duration;

use duckdb::types::{TimeUnit, Value};
use duckdb::{Connection, params};
use serde_json::value::RawValue;

use super::bronze::append_event;
use super::github::{Answer, ApiOptions, Github};
use super::lines;

/// The poll ledger, beside the hour ledger of [`super::bronze::SCHEMA_SQL`].
pub const POLL_LEDGER_SQL: &str = "
create table if not exists bronze.poll_ledger (
    poll_id bigint primary key, polled_at timestamp, status varchar, etag varchar, pages bigint,
    events_new bigint, events_seen bigint, quarantined bigint, gap_from timestamp,
    gap_to timestamp, rate_remaining bigint, message varchar
);
";

/// GitHub returns at most 100 events a page.
const PER_PAGE: usize = 100;

/// How to poll.
#[derive(Debug, Clone)]
pub struct Options {
    pub api: ApiOptions,
    pub pages: u32,
    /// The shortest time between polls; GitHub's `X-Poll-Interval` can make it longer.
    pub interval: Duration,
}

/// How a poll ended, as the ledger's `status` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStatus {
    /// New events (or none), and the pages reached events seen before.
    Ok,
    /// 304: nothing changed since the last poll.
    NotModified,
    /// N pages never reached a seen event: events may be missing between the two polls.
    Gap,
    /// The API kept failing; nothing landed.
    Failed,
}

impl PollStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotModified => "not_modified",
            Self::Gap => "gap",
            Self::Failed => "failed",
        }
    }
}

/// What one poll did.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub poll_id: i64,
    pub status: PollStatus,
    pub pages: u32,
    pub new: u64,
    pub seen: u64,
    pub quarantined: u64,
    /// The range of `created_at` that may be incomplete, for a gap.
    pub gap: Option<(String, String)>,
    pub rate_remaining: Option<u64>,
    /// How long to wait before the next poll.
    pub wait: Duration,
    pub message: Option<String>,
}

/// A poll could not be recorded.
#[derive(Debug, thiserror::Error)]
#[error("the poll could not be written to bronze: {0}")]
pub struct LiveError(#[from] duckdb::Error);

/// The Events API client of one `load --live`.
pub struct Poller {
    api: Github,
    options: Options,
    /// The ETag of the last poll's first page.
    etag: Option<String>,
}

impl Poller {
    pub fn new(options: Options) -> Result<Self, reqwest::Error> {
        Ok(Self {
            api: Github::new(options.api.clone())?,
            options,
            etag: None,
        })
    }

    /// One poll: read pages, land what is new, record the poll.
    pub fn poll(&mut self, connection: &Connection, poll_id: i64) -> Result<PollReport, LiveError> {
        self.api.clear_wait();
        let mut report = PollReport {
            poll_id,
            status: PollStatus::Ok,
            pages: 0,
            new: 0,
            seen: 0,
            quarantined: 0,
            gap: None,
            rate_remaining: None,
            wait: Duration::ZERO,
            message: None,
        };
        let mut fresh: Vec<Box<RawValue>> = Vec::new();
        let mut ids = BTreeSet::new();
        let mut reached_seen = false;
        // The last page was short: there was nothing more to read.
        let mut exhausted = false;
        let mut new_etag = None;
        for page in 1..=self.options.pages.max(1) {
            let etag = if page == 1 { self.etag.clone() } else { None };
            let path = format!("/events?per_page={PER_PAGE}&page={page}");
            let answer = match self.api.get(&path, etag.as_deref()) {
                Ok(answer) => answer,
                Err(err) => {
                    report.status = PollStatus::Failed;
                    report.message = Some(err.to_string());
                    break;
                }
            };
            report.pages = page;
            let items: Vec<Box<RawValue>> = match answer {
                Answer::NotModified => {
                    report.status = PollStatus::NotModified;
                    break;
                }
                Answer::Gone(code) => {
                    report.status = PollStatus::Failed;
                    report.message = Some(format!(
                        "the API has no `/events` ({code}); check `--api-url`"
                    ));
                    break;
                }
                Answer::Fresh { body, etag } => match serde_json::from_slice(&body) {
                    Ok(items) => {
                        if page == 1 {
                            new_etag = etag;
                        }
                        items
                    }
                    Err(err) => {
                        report.status = PollStatus::Failed;
                        report.message =
                            Some(format!("page {page} is not a JSON array of events: {err}"));
                        break;
                    }
                },
            };
            let full = items.len() >= PER_PAGE;
            let page_ids: Vec<Option<String>> = items.iter().map(|i| event_id(i)).collect();
            let seen = seen_ids(connection, page_ids.iter().flatten())?;
            for (item, id) in items.into_iter().zip(page_ids) {
                match id {
                    Some(id) if seen.contains(&id) => {
                        report.seen += 1;
                        reached_seen = true;
                    }
                    // Pages shift while they are read: an event may come twice in one poll.
                    Some(id) if !ids.insert(id.clone()) => report.seen += 1,
                    _ => fresh.push(item),
                }
            }
            if reached_seen || !full {
                exhausted = !reached_seen;
                break;
            }
        }
        if report.status == PollStatus::Ok && !reached_seen && !exhausted {
            report.gap = gap_range(connection, &fresh)?;
            if report.gap.is_some() {
                report.status = PollStatus::Gap;
            }
        }
        let landed = land(connection, &mut report, &fresh, new_etag.as_deref())?;
        report.new = landed.0;
        report.quarantined = landed.1;
        if report.status != PollStatus::Failed && new_etag.is_some() {
            self.etag = new_etag;
        }
        let pacing = self.api.pacing();
        report.rate_remaining = pacing.remaining;
        report.wait = self
            .options
            .interval
            .max(pacing.poll_interval)
            .max(pacing.wait);
        Ok(report)
    }
}

fn event_id(item: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: serde_json::Value,
    }
    let id = serde_json::from_str::<Id>(item.get()).ok()?.id;
    match id {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Which of `ids` bronze already has, from the archive or an earlier poll.
fn seen_ids<'a>(
    connection: &Connection,
    ids: impl Iterator<Item = &'a String>,
) -> Result<BTreeSet<String>, LiveError> {
    let ids: Vec<&String> = ids.collect();
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let list = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".to_owned());
    let mut statement = connection.prepare(
        "select distinct id from bronze.events where id in (select unnest(cast(? as json)::varchar[]))",
    )?;
    let rows = statement.query_map(params![list], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `created_at` range a gap may have missed: from the newest event polled before to the
/// oldest event of this poll. `None` on the first poll (nothing before it to miss).
fn gap_range(
    connection: &Connection,
    fresh: &[Box<RawValue>],
) -> Result<Option<(String, String)>, LiveError> {
    let before: Option<String> = connection.query_row(
        "select strftime(max(created_at), '%Y-%m-%dT%H:%M:%SZ') from bronze.events where source_file like 'api:%'",
        [],
        |row| row.get(0),
    )?;
    let oldest = fresh
        .iter()
        .filter_map(|item| lines::parse(item.get().as_bytes()).ok())
        .map(|event| event.created_at)
        .min()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    Ok(before.zip(oldest))
}

/// Land the poll's new items and its ledger row in one transaction: (new, quarantined).
fn land(
    connection: &Connection,
    report: &mut PollReport,
    fresh: &[Box<RawValue>],
    etag: Option<&str>,
) -> Result<(u64, u64), LiveError> {
    let now = crate::clock::now();
    let loaded_at = Value::Timestamp(TimeUnit::Microsecond, now.timestamp_micros());
    let source = format!("api:poll-{}", report.poll_id);
    // Quarantined items are filed under the hour they were polled in.
    let micros = now.timestamp_micros();
    let poll_hour = Value::Timestamp(
        TimeUnit::Microsecond,
        micros - micros.rem_euclid(3_600_000_000),
    );
    connection.execute_batch("begin transaction")?;
    let landed = (|| -> Result<(u64, u64), duckdb::Error> {
        let mut counts = (0, 0);
        let mut events = connection.appender_to_db("events", "bronze")?;
        let mut rejects = connection.appender_to_db("quarantine", "bronze")?;
        for (number, item) in fresh.iter().enumerate() {
            let line = item.get().as_bytes();
            match lines::parse(line) {
                Ok(event) => {
                    let hour = event.created_at - event.created_at.rem_euclid(3_600_000_000);
                    let hour = Value::Timestamp(TimeUnit::Microsecond, hour);
                    append_event(
                        &mut events,
                        &event,
                        &hour,
                        &source,
                        number as i64 + 1,
                        &loaded_at,
                    )?;
                    counts.0 += 1;
                }
                Err(rejection) => {
                    rejects.append_row(params![
                        poll_hour,
                        source,
                        number as i64 + 1,
                        rejection.reason(),
                        line,
                        loaded_at
                    ])?;
                    counts.1 += 1;
                }
            }
        }
        events.flush()?;
        rejects.flush()?;
        let (gap_from, gap_to) = report.gap.clone().unzip();
        connection.execute(
            "insert or replace into bronze.poll_ledger values (?, cast(? as timestamp), ?, ?, ?, ?, ?, ?, cast(? as timestamp), cast(? as timestamp), ?, ?)",
            params![
                report.poll_id,
                now.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                report.status.as_str(),
                etag,
                report.pages,
                counts.0,
                report.seen,
                counts.1,
                gap_from,
                gap_to,
                report.rate_remaining,
                report.message
            ],
        )?;
        Ok(counts)
    })();
    match landed {
        Ok(counts) => {
            connection.execute_batch("commit")?;
            Ok(counts)
        }
        Err(err) => {
            let _ = connection.execute_batch("rollback");
            Err(err.into())
        }
    }
}

/// The next poll's id: one more than the ledger's last.
pub fn next_poll_id(connection: &Connection) -> Result<i64, LiveError> {
    Ok(connection.query_row(
        "select coalesce(max(poll_id), 0) + 1 from bronze.poll_ledger",
        [],
        |row| row.get(0),
    )?)
}
