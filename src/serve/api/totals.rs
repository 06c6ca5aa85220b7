//! Endpoints over whole-data totals and distributions: PR merge latency, bot share per hour,
//! per-type totals, and the snapshot's freshness.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::gold::{QueryMap, rows, time_range};
use super::{AppState, answer, params, require};
use crate::serve::snapshot::SnapshotInfo;

/// Upper bounds (seconds) of the merge-latency histogram; the last bucket is open.
const LATENCY_BUCKETS: [(i64, &str); 6] = [
    (600, "≤ 10 min"),
    (3_600, "≤ 1 h"),
    (21_600, "≤ 6 h"),
    (86_400, "≤ 1 day"),
    (604_800, "≤ 7 days"),
    (i64::MAX, "> 7 days"),
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LatencyBucket {
    pub label: String,
    /// Upper bound in seconds, inclusive; `null` for the last bucket.
    pub le_seconds: Option<i64>,
    pub pull_requests: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergeLatency {
    /// Merged pull requests.
    pub merged: i64,
    /// Of those, how many have a known opening time (the rest have no latency).
    pub with_latency: i64,
    pub avg_seconds: Option<f64>,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub p99_seconds: Option<f64>,
    pub max_seconds: Option<i64>,
    pub buckets: Vec<LatencyBucket>,
}

/// The distribution of opening-to-merge times (`gold.pr_merge_latency`).
#[utoipa::path(
    get,
    path = "/api/pull_requests/merge_latency",
    responses((status = 200, body = MergeLatency), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn merge_latency(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    if let Err(problem) = params(query, &[]) {
        return problem.into_response();
    }
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.pr_merge_latency")?;
        let summary = rows(
            snapshot,
            "select count(*), count(merge_latency_seconds), avg(merge_latency_seconds), \
                    quantile_cont(merge_latency_seconds, 0.5), quantile_cont(merge_latency_seconds, 0.9), \
                    quantile_cont(merge_latency_seconds, 0.99), cast(max(merge_latency_seconds) as bigint) \
             from gold.pr_merge_latency",
            &[],
            |row| {
                Ok(MergeLatency {
                    merged: row.get(0)?,
                    with_latency: row.get(1)?,
                    avg_seconds: row.get(2)?,
                    p50_seconds: row.get(3)?,
                    p90_seconds: row.get(4)?,
                    p99_seconds: row.get(5)?,
                    max_seconds: row.get(6)?,
                    buckets: Vec::new(),
                })
            },
        )?;
        let latencies = rows(
            snapshot,
            "select cast(merge_latency_seconds as bigint) from gold.pr_merge_latency \
             where merge_latency_seconds is not null",
            &[],
            |row| row.get::<_, i64>(0),
        )?;
        let mut counts = [0_i64; LATENCY_BUCKETS.len()];
        for latency in latencies {
            let index = LATENCY_BUCKETS
                .iter()
                .position(|(le, _)| latency <= *le)
                .unwrap_or(LATENCY_BUCKETS.len() - 1);
            counts[index] += 1;
        }
        let mut summary = summary.into_iter().next().ok_or_else(|| {
            crate::serve::problem::Problem::Internal("an aggregate returned no row".to_owned())
        })?;
        summary.buckets = LATENCY_BUCKETS
            .iter()
            .zip(counts)
            .map(|((le, label), pull_requests)| LatencyBucket {
                label: (*label).to_owned(),
                le_seconds: (*le != i64::MAX).then_some(*le),
                pull_requests,
            })
            .collect();
        Ok(summary)
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BotHour {
    pub hour: String,
    pub events: i64,
    pub bot_events: i64,
    pub bot_share: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BotShare {
    pub events: i64,
    pub bot_events: i64,
    /// Over the hours returned; `null` without events.
    pub bot_share: Option<f64>,
    pub hours: Vec<BotHour>,
}

/// Events by bots per hour and overall (`gold.bot_share`), `from`..=`to`.
#[utoipa::path(
    get,
    path = "/api/bots/share",
    params(
        ("from" = Option<String>, Query, description = "First hour (UTC)"),
        ("to" = Option<String>, Query, description = "Last hour (UTC), inclusive"),
    ),
    responses((status = 200, body = BotShare), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn bot_share(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    let (from, to) = match time_range(query) {
        Ok(range) => range,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.bot_share")?;
        let hours = rows(
            snapshot,
            "select strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), events, bot_events, bot_share from gold.bot_share \
             where hour >= coalesce(cast(?1 as timestamp), '-infinity'::timestamp) \
               and hour <= coalesce(cast(?2 as timestamp), 'infinity'::timestamp) order by hour",
            &[&from, &to],
            |row| {
                Ok(BotHour {
                    hour: row.get(0)?,
                    events: row.get(1)?,
                    bot_events: row.get(2)?,
                    bot_share: row.get(3)?,
                })
            },
        )?;
        let events: i64 = hours.iter().map(|h| h.events).sum();
        let bot_events: i64 = hours.iter().map(|h| h.bot_events).sum();
        let share = (events > 0).then(|| bot_events as f64 / events as f64);
        Ok(BotShare {
            events,
            bot_events,
            bot_share: share,
            hours,
        })
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeTotal {
    #[serde(rename = "type")]
    pub kind: String,
    pub events: i64,
    pub actors: i64,
    pub repos: i64,
    pub bot_events: i64,
    pub share_of_events: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeTotals {
    /// Most events first.
    pub types: Vec<TypeTotal>,
}

/// Totals per event type over all the data (`gold.event_type_metrics`).
#[utoipa::path(
    get,
    path = "/api/events/types",
    responses((status = 200, body = TypeTotals), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn event_types(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    if let Err(problem) = params(query, &[]) {
        return problem.into_response();
    }
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.event_type_metrics")?;
        let types = rows(
            snapshot,
            "select type, events, actors, repos, bot_events, share_of_events \
             from gold.event_type_metrics order by events desc, type",
            &[],
            |row| {
                Ok(TypeTotal {
                    kind: row.get(0)?,
                    events: row.get(1)?,
                    actors: row.get(2)?,
                    repos: row.get(3)?,
                    bot_events: row.get(4)?,
                    share_of_events: row.get(5)?,
                })
            },
        )?;
        Ok(TypeTotals { types })
    })
    .await
}

/// Which run the answers come from and how fresh the data is.
#[utoipa::path(
    get,
    path = "/api/snapshot",
    responses((status = 200, body = SnapshotInfo))
)]
pub async fn snapshot_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    if let Err(problem) = params(query, &[]) {
        return problem.into_response();
    }
    answer(&state, &headers, |snapshot| Ok(snapshot.info.clone())).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeSeries {
    #[serde(rename = "type")]
    pub kind: String,
    /// Events per hour, aligned with `hours`.
    pub events: Vec<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HourlyTypes {
    pub hours: Vec<String>,
    /// One series per event type, most events first.
    pub series: Vec<TypeSeries>,
}

/// Events per type and hour (`gold.event_counts_hourly`), `from`..=`to`, as chart series.
#[utoipa::path(
    get,
    path = "/api/events/hourly",
    params(
        ("from" = Option<String>, Query, description = "First hour (UTC)"),
        ("to" = Option<String>, Query, description = "Last hour (UTC), inclusive"),
    ),
    responses((status = 200, body = HourlyTypes), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn events_hourly(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    let (from, to) = match time_range(query) {
        Ok(range) => range,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.event_counts_hourly")?;
        let cells = rows(
            snapshot,
            "select strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), type, events from gold.event_counts_hourly \
             where hour >= coalesce(cast(?1 as timestamp), '-infinity'::timestamp) \
               and hour <= coalesce(cast(?2 as timestamp), 'infinity'::timestamp) \
               and type is not null order by hour, type",
            &[&from, &to],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?)),
        )?;
        Ok(series_of(cells))
    })
    .await
}

/// Pivot `(hour, type, events)` cells (sorted by hour) into aligned series.
fn series_of(cells: Vec<(String, String, i64)>) -> HourlyTypes {
    let mut hours: Vec<String> = Vec::new();
    let mut by_type: std::collections::BTreeMap<String, Vec<i64>> =
        std::collections::BTreeMap::new();
    for (hour, kind, events) in cells {
        if hours.last() != Some(&hour) {
            hours.push(hour);
        }
        let index = hours.len() - 1;
        let series = by_type.entry(kind).or_default();
        series.resize(index + 1, 0);
        series[index] = events;
    }
    let mut series: Vec<TypeSeries> = by_type
        .into_iter()
        .map(|(kind, mut events)| {
            events.resize(hours.len(), 0);
            TypeSeries { kind, events }
        })
        .collect();
    series.sort_by_key(|s| std::cmp::Reverse(s.events.iter().sum::<i64>()));
    HourlyTypes { hours, series }
}
