//! Server-rendered pages: the dashboard (`/`), run monitoring (`/runs`) and the docs site
//! (`/docs`), plus the vendored chart library they load from this server (no CDN).

use axum::Router;
use axum::routing::get;

use super::api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
