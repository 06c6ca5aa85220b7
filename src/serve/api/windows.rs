//! Endpoints over a window of minutes ending at the latest event in the data (not the wall
//! clock: archive data lags): event counts per type, the most active repositories. They read
//! the snapshot's narrow `_ghforge.events`, sorted by time, so a window is a range scan.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::{AppState, answer, params, require};
use crate::serve::problem::Problem;
use crate::serve::snapshot::Snapshot;

/// The largest window: 30 days.
pub const MAX_OFFSET_MINUTES: i64 = 43_200;

const EVENTS: &str = "_ghforge.events";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub kind: String,
    pub count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventCounts {
    /// The latest event time; the window is `(as_of - offset, as_of]`.
    pub as_of: Option<String>,
    pub offset_minutes: i64,
    /// Per event type, most events first.
    pub counts: Vec<TypeCount>,
}

/// The window's end (`as_of`) at full precision, or `None` for a snapshot without events.
fn window_end(snapshot: &Snapshot) -> Result<Option<&str>, Problem> {
    require(snapshot, EVENTS)?;
    Ok(snapshot.info.as_of.as_deref())
}

/// Events per type in the last `offset` minutes before the latest event.
#[utoipa::path(
    get,
    path = "/api/events/count",
    params(("offset" = Option<i64>, Query, description = "Window in minutes, 1..43200 (default 60)")),
    responses(
        (status = 200, body = EventCounts),
        (status = 304, description = "Unchanged since the `If-None-Match` snapshot"),
        (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn events_count(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Response {
    let offset = match params(query, &["offset"])
        .and_then(|p| p.integer("offset", 60, 1, MAX_OFFSET_MINUTES))
    {
        Ok(offset) => offset,
        Err(problem) => return axum::response::IntoResponse::into_response(problem),
    };
    answer(&state, &headers, move |snapshot| {
        let as_of = window_end(snapshot)?;
        let counts = match as_of {
            None => Vec::new(),
            Some(as_of) => snapshot.with_connection(|c| {
                let mut statement = c.prepare_cached(
                    "select type, count(*) as events from _ghforge.events \
                     where created_at > cast(?1 as timestamp) - to_minutes(?2) \
                       and created_at <= cast(?1 as timestamp) \
                     group by type order by events desc, type",
                )?;
                statement
                    .query_map(duckdb::params![as_of, offset], |row| {
                        Ok(TypeCount {
                            kind: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                            count: row.get(1)?,
                        })
                    })?
                    .collect()
            })?,
        };
        Ok(EventCounts {
            as_of: snapshot.info.latest_created_at.clone(),
            offset_minutes: offset,
            counts,
        })
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActiveRepository {
    /// `owner/name` (the repository's latest name in the window).
    pub repo: String,
    pub events: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActiveRepositories {
    pub as_of: Option<String>,
    pub offset_minutes: i64,
    /// Repositories with at least one event in the window.
    pub total: i64,
    /// The `limit` most active, most events first (ties by name).
    pub repositories: Vec<ActiveRepository>,
}

/// The most active repositories in the last `offset` minutes before the latest event.
#[utoipa::path(
    get,
    path = "/api/repositories/active",
    params(
        ("limit" = Option<i64>, Query, description = "Repositories to return, 1..1000 (default 10)"),
        ("offset" = Option<i64>, Query, description = "Window in minutes, 1..43200 (default 1440)"),
    ),
    responses(
        (status = 200, body = ActiveRepositories),
        (status = 304, description = "Unchanged since the `If-None-Match` snapshot"),
        (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn active_repositories(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Response {
    let parsed = params(query, &["limit", "offset"]).and_then(|p| {
        Ok((
            p.integer("limit", 10_i64, 1, 1000)?,
            p.integer("offset", 1440, 1, MAX_OFFSET_MINUTES)?,
        ))
    });
    let (limit, offset) = match parsed {
        Ok(values) => values,
        Err(problem) => return axum::response::IntoResponse::into_response(problem),
    };
    answer(&state, &headers, move |snapshot| {
        let as_of = window_end(snapshot)?;
        let rows = match as_of {
            None => Vec::new(),
            Some(as_of) => snapshot.with_connection(|c| {
                let mut statement = c.prepare_cached(
                    "select max_by(repo_name, created_at) as repo, count(*) as events, \
                            count(*) over () as total \
                     from _ghforge.events \
                     where created_at > cast(?1 as timestamp) - to_minutes(?2) \
                       and created_at <= cast(?1 as timestamp) and repo_id is not null \
                     group by repo_id order by events desc, repo limit ?3",
                )?;
                statement
                    .query_map(duckdb::params![as_of, offset, limit], |row| {
                        Ok((
                            ActiveRepository {
                                repo: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                                events: row.get(1)?,
                            },
                            row.get::<_, i64>(2)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()
            })?,
        };
        let total = rows.first().map_or(0, |(_, total)| *total);
        Ok(ActiveRepositories {
            as_of: snapshot.info.latest_created_at.clone(),
            offset_minutes: offset,
            total,
            repositories: rows.into_iter().map(|(repo, _)| repo).collect(),
        })
    })
    .await
}
