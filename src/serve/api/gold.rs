//! Endpoints over the gold models as they are: PR cadence per repository, the hourly summary,
//! developer scores, trending repositories, PR merge latency, bot share, per-type totals, and
//! the snapshot's own freshness. Every value is bound as a parameter.

use std::collections::BTreeMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{AppState, answer, params, require};
use crate::serve::problem::{Problem, printable};

pub type QueryMap = Result<Query<BTreeMap<String, String>>, QueryRejection>;

/// GitHub's rules: an owner is 1-39 letters, digits and `-`; a name 1-100 letters, digits,
/// `.`, `-` and `_`.
fn check_repository(owner: &str, name: &str) -> Result<String, Problem> {
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if owner_ok && name_ok {
        Ok(format!("{owner}/{name}"))
    } else {
        Err(Problem::BadRequest(format!(
            "`{}/{}` is not a repository name: an owner is 1-39 letters, digits and `-`, a name 1-100 letters, digits, `.`, `-` and `_`",
            printable(owner),
            printable(name)
        )))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PrCadence {
    pub repo: String,
    /// PullRequestEvents of the repository.
    pub pull_requests: i64,
    /// `(last - first) / (n - 1)` in seconds; `null` with fewer than two.
    pub avg_seconds_between: Option<f64>,
}

/// Average time between the pull-request events of a repository (`gold.repo_pr_cadence`).
#[utoipa::path(
    get,
    path = "/api/repository/{owner}/{name}/avg_pr_time",
    params(("owner" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, body = PrCadence),
        (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn avg_pr_time(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    query: QueryMap,
) -> Response {
    let checked = params(query, &[]).and_then(|_| {
        let Path((owner, name)) =
            path.map_err(|err| Problem::BadRequest(format!("bad path: {}", err.body_text())))?;
        check_repository(&owner, &name)
    });
    let repo = match checked {
        Ok(repo) => repo,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.repo_pr_cadence")?;
        let cadence = snapshot.with_connection(|c| {
            let mut statement = c.prepare_cached(
                "select repo_name, pr_events, avg_seconds_between_pr_events from gold.repo_pr_cadence \
                 where lower(repo_name) = lower(?) order by pr_events desc limit 1",
            )?;
            let mut rows = statement.query_map([&repo], |row| {
                Ok(PrCadence {
                    repo: row.get(0)?,
                    pull_requests: row.get(1)?,
                    avg_seconds_between: row.get(2)?,
                })
            })?;
            rows.next().transpose()
        })?;
        if let Some(cadence) = cadence {
            return Ok(cadence);
        }
        // Fewer than two pull-request events: known from the repository totals.
        let known = if snapshot.has("gold.repo_metrics") {
            snapshot.with_connection(|c| {
                let mut statement = c.prepare_cached(
                    "select repo_name, pull_request_events from gold.repo_metrics \
                     where lower(repo_name) = lower(?) order by events desc limit 1",
                )?;
                let mut rows = statement.query_map([&repo], |row| {
                    Ok(PrCadence {
                        repo: row.get(0)?,
                        pull_requests: row.get(1)?,
                        avg_seconds_between: None,
                    })
                })?;
                rows.next().transpose()
            })?
        } else {
            None
        };
        known.ok_or_else(|| {
            Problem::NotFound(format!("no repository `{}` in the data", printable(&repo)))
        })
    })
    .await
}

/// Rows of a query whose every column is read by `read`.
pub fn rows<T>(
    snapshot: &crate::serve::snapshot::Snapshot,
    sql: &'static str,
    params: &[&dyn duckdb::ToSql],
    read: impl Fn(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> Result<Vec<T>, Problem> {
    Ok(snapshot.with_connection(|c| {
        let mut statement = c.prepare_cached(sql)?;
        statement.query_map(params, |row| read(row))?.collect()
    })?)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HourSummary {
    pub hour: String,
    pub events: i64,
    pub actors: i64,
    pub repos: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HourlySummary {
    pub hours: Vec<HourSummary>,
}

/// Distinct events, actors and repositories per hour (`gold.hourly_summary`), `from`..=`to`.
#[utoipa::path(
    get,
    path = "/api/summary/hourly",
    params(
        ("from" = Option<String>, Query, description = "First hour (UTC), e.g. `2024-05-01T00`"),
        ("to" = Option<String>, Query, description = "Last hour (UTC), inclusive"),
    ),
    responses((status = 200, body = HourlySummary), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn hourly_summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    let (from, to) = match time_range(query) {
        Ok(range) => range,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.hourly_summary")?;
        let hours = rows(
            snapshot,
            "select strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), events, actors, repos from gold.hourly_summary \
             where hour >= coalesce(cast(?1 as timestamp), '-infinity'::timestamp) \
               and hour <= coalesce(cast(?2 as timestamp), 'infinity'::timestamp) order by hour",
            &[&from, &to],
            |row| {
                Ok(HourSummary {
                    hour: row.get(0)?,
                    events: row.get(1)?,
                    actors: row.get(2)?,
                    repos: row.get(3)?,
                })
            },
        )?;
        Ok(HourlySummary { hours })
    })
    .await
}

/// `from` and `to`, checked: both times, `from <= to`.
pub fn time_range(query: QueryMap) -> Result<(Option<String>, Option<String>), Problem> {
    let p = params(query, &["from", "to"])?;
    let (from, to) = (p.timestamp("from")?, p.timestamp("to")?);
    if let (Some(from), Some(to)) = (&from, &to)
        && from > to
    {
        return Err(Problem::BadRequest(format!(
            "`from` ({from}) is after `to` ({to})"
        )));
    }
    Ok((from, to))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeveloperScore {
    pub actor_id: i64,
    pub login: Option<String>,
    pub score: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeveloperScores {
    /// The hour scored (default: the latest).
    pub hour: Option<String>,
    /// Highest score first (ties by login).
    pub developers: Vec<DeveloperScore>,
}

/// The top developers of an hour (`gold.developer_scores_hourly`: +1 per push and
/// pull-request event, bots excluded).
#[utoipa::path(
    get,
    path = "/api/developers/scores",
    params(
        ("hour" = Option<String>, Query, description = "The hour (UTC); default the latest"),
        ("limit" = Option<i64>, Query, description = "Developers to return, 1..1000 (default 10)"),
    ),
    responses((status = 200, body = DeveloperScores), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn developer_scores(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    let parsed = params(query, &["hour", "limit"])
        .and_then(|p| Ok((p.timestamp("hour")?, p.integer("limit", 10_i64, 1, 1000)?)));
    let (hour, limit) = match parsed {
        Ok(values) => values,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.developer_scores_hourly")?;
        let scored = rows(
            snapshot,
            "with chosen as (select coalesce(date_trunc('hour', cast(?1 as timestamp)), \
                 (select max(hour) from gold.developer_scores_hourly)) as hour) \
             select strftime(chosen.hour, '%Y-%m-%dT%H:%M:%SZ'), d.actor_id, d.actor_login, d.score \
             from chosen left join gold.developer_scores_hourly as d on d.hour = chosen.hour \
             order by d.score desc nulls last, d.actor_login limit ?2",
            &[&hour, &limit],
            |row| {
                let developer = match row.get::<_, Option<i64>>(1)? {
                    Some(actor_id) => Some(DeveloperScore {
                        actor_id,
                        login: row.get(2)?,
                        score: row.get(3)?,
                    }),
                    None => None,
                };
                Ok((row.get::<_, Option<String>>(0)?, developer))
            },
        )?;
        Ok(DeveloperScores {
            hour: scored.first().and_then(|(hour, _)| hour.clone()),
            developers: scored.into_iter().filter_map(|(_, d)| d).collect(),
        })
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrendingRepository {
    pub repo: Option<String>,
    pub stars: i64,
    pub previous_day_stars: i64,
    pub star_growth: i64,
    /// `null` when the day before had no stars.
    pub star_growth_ratio: Option<f64>,
    pub trend_rank: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Trending {
    /// The UTC day (default: the latest with stars).
    pub day: Option<String>,
    pub repositories: Vec<TrendingRepository>,
}

/// Repositories of a day ranked by star growth over the day before (`gold.trending_repos`).
#[utoipa::path(
    get,
    path = "/api/repositories/trending",
    params(
        ("day" = Option<String>, Query, description = "The UTC day, `2024-05-01`; default the latest"),
        ("limit" = Option<i64>, Query, description = "Repositories to return, 1..1000 (default 10)"),
    ),
    responses((status = 200, body = Trending), (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"))
)]
pub async fn trending_repositories(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    let parsed = params(query, &["day", "limit"])
        .and_then(|p| Ok((p.timestamp("day")?, p.integer("limit", 10_i64, 1, 1000)?)));
    let (day, limit) = match parsed {
        Ok(values) => values,
        Err(problem) => return problem.into_response(),
    };
    answer(&state, &headers, move |snapshot| {
        require(snapshot, "gold.trending_repos")?;
        let found = rows(
            snapshot,
            "with chosen as (select coalesce(cast(cast(?1 as timestamp) as date), \
                 (select max(day) from gold.trending_repos)) as day) \
             select strftime(chosen.day, '%Y-%m-%d'), t.repo_name, t.stars, t.previous_day_stars, \
                    t.star_growth, t.star_growth_ratio, t.trend_rank \
             from chosen left join gold.trending_repos as t on t.day = chosen.day \
             order by t.trend_rank nulls last, t.repo_name limit ?2",
            &[&day, &limit],
            |row| {
                let repository = match row.get::<_, Option<i64>>(2)? {
                    Some(stars) => Some(TrendingRepository {
                        repo: row.get(1)?,
                        stars,
                        previous_day_stars: row.get(3)?,
                        star_growth: row.get(4)?,
                        star_growth_ratio: row.get(5)?,
                        trend_rank: row.get(6)?,
                    }),
                    None => None,
                };
                Ok((row.get::<_, Option<String>>(0)?, repository))
            },
        )?;
        Ok(Trending {
            day: found.first().and_then(|(day, _)| day.clone()),
            repositories: found.into_iter().filter_map(|(_, r)| r).collect(),
        })
    })
    .await
}
