//! `ghforge enrich`: repository metadata from `GET /repos/{owner}/{name}` into
//! `bronze.repo_metadata`, one row per repository (the JSON as received, its ETag, when it was
//! fetched, and whether the repository is there). Rows younger than the maximum age are not
//! requested; older ones are requested with their ETag, so an unchanged repository costs a 304
//! that only refreshes `fetched_at`. A 404/410/451 keeps a `gone` row. Requests run on a few
//! threads; rows are written on the caller's connection as answers come.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use duckdb::{Connection, params};

use super::github::{Answer, ApiError, Github};

/// The bronze tables, `bronze.repo_metadata` among them.
pub use super::bronze::SCHEMA_SQL;

/// What happened to one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the metadata is new or changed.
    Fetched,
    /// 304: unchanged; `fetched_at` refreshed.
    NotModified,
    /// 404, 410 or 451.
    Gone(u16),
    /// Younger than the maximum age: not requested.
    Fresh,
    Failed(String),
}

/// What `enrich` did for each repository, in the order asked.
#[derive(Debug, Clone)]
pub struct Report {
    pub repo: String,
    pub outcome: Outcome,
}

/// Why enrichment could not read or write its table.
#[derive(Debug, thiserror::Error)]
#[error("bronze.repo_metadata: {0}")]
pub struct EnrichError(#[from] duckdb::Error);

/// Enrich `repos` (`owner/name`) with `concurrency` requests in flight; `on_repo` is called as
/// each one is done.
pub fn enrich(
    connection: &Connection,
    api: &Github,
    repos: &[String],
    max_age: Duration,
    concurrency: usize,
    on_repo: &mut dyn FnMut(&Report),
) -> Result<Vec<Report>, EnrichError> {
    let known = known(connection)?;
    let now = crate::clock::now();
    let cutoff = now - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let mut reports = Vec::with_capacity(repos.len());
    let mut queue = VecDeque::new();
    for repo in repos {
        if !is_repo_name(repo) {
            let report = Report {
                repo: repo.clone(),
                outcome: Outcome::Failed("not an `owner/name` repository name".to_owned()),
            };
            on_repo(&report);
            reports.push(report);
            continue;
        }
        match known.get(repo) {
            Some((_, fetched_at)) if *fetched_at > cutoff => {
                let report = Report {
                    repo: repo.clone(),
                    outcome: Outcome::Fresh,
                };
                on_repo(&report);
                reports.push(report);
            }
            known_row => {
                queue.push_back((repo.clone(), known_row.and_then(|(etag, _)| etag.clone())))
            }
        }
    }
    let queue = Mutex::new(queue);
    let (sender, answers) = std::sync::mpsc::channel();
    std::thread::scope(|scope| -> Result<(), EnrichError> {
        for _ in 0..concurrency.clamp(1, 16) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop_front();
                    let Some((repo, etag)) = next else { break };
                    let answer = api.get(&format!("/repos/{repo}"), etag.as_deref());
                    if sender.send((repo, answer)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (repo, answer) in answers {
            let outcome = write(connection, &repo, answer)?;
            let report = Report { repo, outcome };
            on_repo(&report);
            reports.push(report);
        }
        Ok(())
    })?;
    Ok(reports)
}

/// `owner/name` with GitHub's characters only, so nothing else reaches the request path.
fn is_repo_name(text: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(text.split_once('/'), Some((owner, name)) if part(owner) && part(name))
}

/// A stored repository's ETag and `fetched_at`.
type Known = (Option<String>, chrono::DateTime<chrono::Utc>);

/// Each stored repository's ETag and `fetched_at`.
fn known(connection: &Connection) -> Result<HashMap<String, Known>, EnrichError> {
    let mut statement = connection
        .prepare("select repo_name, etag, epoch_us(fetched_at) from bronze.repo_metadata")?;
    let rows = statement.query_map([], |row| {
        let micros: i64 = row.get(2)?;
        Ok((
            row.get::<_, String>(0)?,
            (
                row.get::<_, Option<String>>(1)?,
                chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default(),
            ),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Store one answer: the outcome it stands for.
fn write(
    connection: &Connection,
    repo: &str,
    answer: Result<Answer, ApiError>,
) -> Result<Outcome, EnrichError> {
    let now = crate::clock::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    Ok(match answer {
        Ok(Answer::Fresh { body, etag }) => {
            let body = String::from_utf8_lossy(&body);
            if serde_json::from_str::<serde_json::Value>(&body).is_err() {
                return Ok(Outcome::Failed("the answer is not JSON".to_owned()));
            }
            connection.execute(
                "insert or replace into bronze.repo_metadata values (?, 'ok', 200, ?, cast(? as timestamp), ?)",
                params![repo, etag, now, body.as_ref()],
            )?;
            Outcome::Fetched
        }
        Ok(Answer::NotModified) => {
            connection.execute(
                "update bronze.repo_metadata set fetched_at = cast(? as timestamp) where repo_name = ?",
                params![now, repo],
            )?;
            Outcome::NotModified
        }
        Ok(Answer::Gone(code)) => {
            connection.execute(
                "insert or replace into bronze.repo_metadata values (?, 'gone', ?, null, cast(? as timestamp), null)",
                params![repo, code, now],
            )?;
            Outcome::Gone(code)
        }
        Err(err) => Outcome::Failed(err.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owner_slash_name_reaches_the_request_path() {
        assert!(is_repo_name("rust-lang/rust"));
        assert!(is_repo_name("a.b/c_d-e"));
        for bad in [
            "rust", "a/b/c", "../etc", "a/..", "a/b?x=1", "a/b c", "/b", "a/",
        ] {
            assert!(!is_repo_name(bad), "{bad}");
        }
    }
}
