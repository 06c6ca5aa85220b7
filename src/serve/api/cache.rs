//! Answers cached per snapshot: a snapshot never changes, so an endpoint's answer to the same
//! request is the same until the next snapshot. A middleware keeps the JSON bodies of the
//! snapshot's 200s by request URI (bounded; emptied when full or when the snapshot changes)
//! and answers repeats without a query. The run history and lineage change without a snapshot
//! and are never cached.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, not_modified, tagged};

/// Answers kept per snapshot.
const ENTRIES: usize = 4096;

/// The largest body kept.
const MAX_BODY: usize = 1 << 20;

/// Paths whose answers do not come from the snapshot.
const UNCACHED: [&str; 2] = ["/api/runs", "/api/lineage"];

/// The answers of one snapshot, by request URI.
#[derive(Default)]
pub struct AnswerCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// The `ETag` (quoted invocation id) the answers belong to.
    etag: String,
    bodies: HashMap<String, Bytes>,
}

impl AnswerCache {
    fn get(&self, etag: &str, key: &str) -> Option<Bytes> {
        let entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (entries.etag == etag)
            .then(|| entries.bodies.get(key).cloned())
            .flatten()
    }

    fn put(&self, etag: &str, key: String, body: Bytes) {
        let mut entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.etag != etag || entries.bodies.len() >= ENTRIES {
            entries.etag = etag.to_owned();
            entries.bodies.clear();
        }
        entries.bodies.insert(key, body);
    }
}

fn json(etag: &str, body: Bytes) -> Response {
    let mut response = Body::from(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    tagged(StatusCode::OK, etag, response)
}

/// The middleware: a cached answer of the current snapshot, or the handler's (kept when 200).
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET || UNCACHED.iter().any(|p| path.starts_with(p)) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    let etag = format!("\"{}\"", state.current.get().info.invocation_id);
    if let Some(body) = state.answers.get(&etag, &key) {
        if not_modified(request.headers(), &etag) {
            return tagged(StatusCode::NOT_MODIFIED, &etag, ().into_response());
        }
        return json(&etag, body);
    }
    let response = next.run(request).await;
    let answered_etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|size| size <= MAX_BODY as u64);
    let Some(answered_etag) =
        answered_etag.filter(|_| response.status() == StatusCode::OK && small)
    else {
        return response;
    };
    match axum::body::to_bytes(response.into_body(), MAX_BODY).await {
        Ok(body) => {
            state.answers.put(&answered_etag, key, body.clone());
            json(&answered_etag, body)
        }
        Err(err) => {
            super::Problem::Internal(format!("reading an answer failed: {err}")).into_response()
        }
    }
}
