//! Run monitoring and lineage endpoints: the run history (`ETag` = the newest run's
//! invocation id) and a node's lineage neighbourhood from the manifest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::gold::QueryMap;
use super::{AppState, not_modified, params, tagged};
use crate::serve::history::{self, RunRecord};
use crate::serve::manifest;
use crate::serve::problem::{Problem, printable};

/// Runs `/api/runs` lists.
const RUNS_LISTED: usize = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunList {
    /// Newest first, without their nodes (see `/api/runs/{invocation_id}`).
    pub runs: Vec<RunRecord>,
}

/// Answer `work` on a blocking thread, tagged with the newest run's id.
async fn from_history<T, F>(state: &AppState, headers: &HeaderMap, work: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&std::path::Path) -> Result<T, Problem> + Send + 'static,
{
    let target_dir = state.target_dir.clone();
    let etag = history::newest_id(&target_dir).map(|id| format!("\"{id}\""));
    if let Some(etag) = &etag
        && not_modified(headers, etag)
    {
        return tagged(StatusCode::NOT_MODIFIED, etag, ().into_response());
    }
    match tokio::task::spawn_blocking(move || work(&target_dir)).await {
        Ok(Ok(value)) => {
            let body = Json(value).into_response();
            match etag {
                Some(etag) => tagged(StatusCode::OK, &etag, body),
                None => body,
            }
        }
        Ok(Err(problem)) => problem.into_response(),
        Err(err) => Problem::Internal(format!("history task failed: {err}")).into_response(),
    }
}

/// The last runs, newest first.
#[utoipa::path(get, path = "/api/runs", responses((status = 200, body = RunList)))]
pub async fn list_runs(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryMap,
) -> Response {
    if let Err(problem) = params(query, &[]) {
        return problem.into_response();
    }
    from_history(&state, &headers, |target_dir| {
        let mut runs = history::load(target_dir, RUNS_LISTED);
        for run in &mut runs {
            run.nodes.clear();
        }
        Ok(RunList { runs })
    })
    .await
}

/// Whether `id` looks like an invocation id (hex digits and dashes).
fn check_invocation_id(id: &str) -> Result<(), Problem> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(())
    } else {
        Err(Problem::BadRequest(format!(
            "`{}` is not an invocation id (hex digits and dashes)",
            printable(id)
        )))
    }
}

/// One run with every node's status, timing and rows.
#[utoipa::path(
    get,
    path = "/api/runs/{invocation_id}",
    params(("invocation_id" = String, Path)),
    responses(
        (status = 200, body = RunRecord),
        (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn show_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: QueryMap,
) -> Response {
    let checked = params(query, &[]).and_then(|_| {
        let Path(id) =
            path.map_err(|err| Problem::BadRequest(format!("bad path: {}", err.body_text())))?;
        check_invocation_id(&id)?;
        Ok(id)
    });
    let id = match checked {
        Ok(id) => id,
        Err(problem) => return problem.into_response(),
    };
    from_history(&state, &headers, move |target_dir| {
        history::find(target_dir, &id)
            .ok_or_else(|| Problem::NotFound(format!("no run `{id}` in the history")))
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineageNode {
    pub unique_id: String,
    pub name: String,
    pub resource_type: String,
    /// Negative upstream, positive downstream, 0 for the chosen node.
    pub level: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lineage {
    pub unique_id: String,
    pub depth: i64,
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<LineageEdge>,
}

/// The nodes `depth` levels upstream and downstream of a node, and the edges between them.
#[utoipa::path(
    get,
    path = "/api/lineage/{unique_id}",
    params(
        ("unique_id" = String, Path, description = "e.g. `model.gharchive.hourly_summary`"),
        ("depth" = Option<i64>, Query, description = "Levels each way, 1..10 (default 2)"),
    ),
    responses(
        (status = 200, body = Lineage),
        (status = 400, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = crate::serve::problem::ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn lineage(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: QueryMap,
) -> Response {
    let checked = params(query, &["depth"]).and_then(|p| {
        let Path(id) =
            path.map_err(|err| Problem::BadRequest(format!("bad path: {}", err.body_text())))?;
        Ok((id, p.integer("depth", 2_i64, 1, 10)?))
    });
    let (id, depth) = match checked {
        Ok(values) => values,
        Err(problem) => return problem.into_response(),
    };
    let cache = state.manifest.clone();
    let result = tokio::task::spawn_blocking(move || {
        let manifest = cache.get().ok_or_else(|| {
            Problem::NotFound("no manifest.json yet; run `ghforge build` first".to_owned())
        })?;
        neighbourhood(&manifest, &id, depth)
    })
    .await;
    match result {
        Ok(Ok(lineage)) => Json(lineage).into_response(),
        Ok(Err(problem)) => problem.into_response(),
        Err(err) => Problem::Internal(format!("lineage task failed: {err}")).into_response(),
    }
}

/// Breadth-first both ways from `id`, `depth` levels.
pub fn neighbourhood(
    manifest: &serde_json::Value,
    id: &str,
    depth: i64,
) -> Result<Lineage, Problem> {
    if manifest::node(manifest, id).is_none() {
        return Err(Problem::NotFound(format!(
            "no node `{}` in the manifest",
            printable(id)
        )));
    }
    let mut levels: BTreeMap<String, i64> = BTreeMap::from([(id.to_owned(), 0)]);
    let mut edges = BTreeSet::new();
    for (map, sign) in [("parent_map", -1_i64), ("child_map", 1)] {
        let mut queue = VecDeque::from([(id.to_owned(), 0_i64)]);
        while let Some((current, level)) = queue.pop_front() {
            if level >= depth {
                continue;
            }
            for next in manifest::neighbours(manifest, map, &current) {
                let edge = if sign < 0 {
                    (next.to_owned(), current.clone())
                } else {
                    (current.clone(), next.to_owned())
                };
                edges.insert(edge);
                if !levels.contains_key(next) {
                    levels.insert(next.to_owned(), sign * (level + 1));
                    queue.push_back((next.to_owned(), level + 1));
                }
            }
        }
    }
    let nodes = levels
        .iter()
        .map(|(unique_id, level)| {
            let node = manifest::node(manifest, unique_id);
            let field = |key: &str| {
                node.and_then(|n| n[key].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            LineageNode {
                unique_id: unique_id.clone(),
                name: field("name"),
                resource_type: field("resource_type"),
                level: *level,
            }
        })
        .collect();
    Ok(Lineage {
        unique_id: id.to_owned(),
        depth,
        nodes,
        edges: edges
            .into_iter()
            .map(|(from, to)| LineageEdge { from, to })
            .collect(),
    })
}
