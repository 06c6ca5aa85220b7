//! The JSON API: shared state, the answer path every endpoint takes (one snapshot per request,
//! `ETag` = its invocation id, `If-None-Match` → 304, the query on a blocking thread), the
//! router and the OpenAPI document (utoipa, collected from the handlers).

pub mod cache;
pub mod gold;
pub mod runs;
pub mod totals;
pub mod windows;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::manifest::ManifestCache;
use super::problem::{Params, Problem};
use super::snapshot::{Current, Snapshot};

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub current: Arc<Current>,
    pub target_dir: PathBuf,
    pub manifest: Arc<ManifestCache>,
    /// `catalog.json`, when `ghforge docs generate` wrote one: column types of every relation.
    pub catalog: Arc<ManifestCache>,
    pub answers: Arc<cache::AnswerCache>,
}

/// The query string of a request, checked against the names an endpoint takes.
pub fn params(
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    allowed: &[&str],
) -> Result<Params, Problem> {
    let Query(values) = query.map_err(|err| {
        Problem::BadRequest(format!(
            "the query string cannot be read: {}",
            err.body_text()
        ))
    })?;
    Params::new(values, allowed)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// A response with `ETag` and `Cache-Control: no-cache` (clients revalidate every time).
pub fn tagged(status: StatusCode, etag: &str, body: Response) -> Response {
    let mut response = body;
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Answer from the current snapshot: 304 when the client has this snapshot's answer, else
/// `work` on a blocking thread, as JSON.
pub async fn answer<T, F>(state: &AppState, headers: &HeaderMap, work: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Snapshot) -> Result<T, Problem> + Send + 'static,
{
    let snapshot = state.current.get();
    let etag = format!("\"{}\"", snapshot.info.invocation_id);
    if not_modified(headers, &etag) {
        return tagged(StatusCode::NOT_MODIFIED, &etag, ().into_response());
    }
    match tokio::task::spawn_blocking(move || work(&snapshot)).await {
        Ok(Ok(value)) => tagged(StatusCode::OK, &etag, Json(value).into_response()),
        Ok(Err(problem)) => problem.into_response(),
        Err(err) => Problem::Internal(format!("query task failed: {err}")).into_response(),
    }
}

/// A 404 problem when the snapshot lacks `table` (the project does not serve it).
pub fn require(snapshot: &Snapshot, table: &str) -> Result<(), Problem> {
    if snapshot.has(table) {
        Ok(())
    } else {
        Err(Problem::NotFound(format!(
            "this project's snapshot does not serve `{table}`; serve the model (config `serve: true`) and run `ghforge build`"
        )))
    }
}

/// The API's routes and their OpenAPI document.
pub fn router(state: AppState) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = OpenApiRouter::<AppState>::new()
        .routes(routes!(windows::events_count))
        .routes(routes!(windows::active_repositories))
        .routes(routes!(gold::avg_pr_time))
        .routes(routes!(gold::hourly_summary))
        .routes(routes!(gold::developer_scores))
        .routes(routes!(gold::trending_repositories))
        .routes(routes!(totals::merge_latency))
        .routes(routes!(totals::bot_share))
        .routes(routes!(totals::event_types))
        .routes(routes!(totals::events_hourly))
        .routes(routes!(totals::snapshot_info))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::show_run))
        .routes(routes!(runs::lineage))
        .split_for_parts();
    let router = router.route_layer(axum::middleware::from_fn_with_state(
        state,
        cache::middleware,
    ));
    api.info.title = "ghforge serve".to_owned();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    // The default info names utoipa's own author and licence.
    api.info.contact = None;
    api.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    api.info.description = Some(
        "The gold layer of a ghforge project, read from its newest serving snapshot.".to_owned(),
    );
    (router, api)
}
