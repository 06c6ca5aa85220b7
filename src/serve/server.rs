//! The HTTP server: opens the newest snapshot, binds the address, serves the API, the pages and
//! `/metrics` on a tokio runtime, follows newer snapshots, and stops gracefully on SIGINT or
//! SIGTERM (requests in flight finish first).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::json;

use super::api::{self, AppState};
use super::manifest::ManifestCache;
use super::snapshot::{Current, Snapshot, SnapshotError, file_name, watch};
use crate::console::Console;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("no serving snapshot under `{}`", dir.display())]
    NoSnapshot { dir: PathBuf },
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("cannot listen on `{address}`: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Where to listen.
#[derive(Debug, Clone)]
pub struct Listen {
    pub host: String,
    pub port: u16,
}

/// Serve `target_dir`'s snapshots until a signal stops the server.
pub fn serve(target_dir: &Path, listen: &Listen, console: Console) -> Result<(), ServeError> {
    let newest = super::newest_snapshot(target_dir)?.ok_or_else(|| ServeError::NoSnapshot {
        dir: super::serve_dir(target_dir),
    })?;
    let snapshot = Snapshot::open(&newest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(target_dir, snapshot, listen, console))
}

async fn run(
    target_dir: &Path,
    snapshot: Snapshot,
    listen: &Listen,
    console: Console,
) -> Result<(), ServeError> {
    let address = format!("{}:{}", listen.host, listen.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|source| ServeError::Bind {
            address: address.clone(),
            source,
        })?;
    let bound: SocketAddr = listener.local_addr()?;
    let invocation = snapshot.info.invocation_id.clone();
    let name = file_name(&snapshot.path);
    let current = Arc::new(Current::new(snapshot));
    let state = AppState {
        current: current.clone(),
        target_dir: target_dir.to_path_buf(),
        manifest: Arc::new(ManifestCache::new(target_dir)),
        catalog: Arc::new(ManifestCache::catalog(target_dir)),
        answers: Arc::default(),
    };
    let app = router(state);
    let watcher = tokio::spawn(watch(target_dir.to_path_buf(), current, console));
    console.info(
        "ServeSnapshot",
        &format!("Serving snapshot `{name}` (invocation {invocation})"),
        json!({"snapshot": name, "invocation_id": invocation}),
    );
    console.info(
        "ServeListening",
        &format!("Listening on http://{bound} (press Ctrl+C to stop)"),
        json!({"url": format!("http://{bound}")}),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    watcher.abort();
    console.info("ServeStopped", "Stopped serving.", json!({}));
    Ok(())
}

/// Every route: the API with its OpenAPI document, the pages, `/metrics`.
pub fn router(state: AppState) -> Router {
    let (api_routes, openapi) = api::router(state.clone());
    let openapi = Arc::new(openapi);
    api_routes
        .route(
            "/api/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/metrics", get(super::metrics::handler))
        .merge(super::pages::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    axum::response::IntoResponse::into_response(super::problem::Problem::NotFound(format!(
        "no such page or endpoint `{}`; the API is described at `/api/openapi.json`",
        super::problem::printable(uri.path())
    )))
}

/// SIGINT (Ctrl+C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
