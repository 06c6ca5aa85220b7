//! `ghforge serve` over real HTTP on loopback: the shipped project built once from six
//! generated hours, every endpoint checked against numbers computed here by SQL over bronze
//! (deduplicated on `(id, created_at)` as silver does), error cases (negative, non-numeric,
//! out of range, unknown parameters, injection strings) as problem+json 400/404, `ETag` and
//! 304s, the pages and `/metrics`, start-up errors (no snapshot, port taken) with their
//! hints, graceful shutdown, and serving while `load` and `build` write a new run.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use server::Server;

const FIRST: &str = "2024-05-01T00";
const LAST: &str = "2024-05-01T05";

fn ok(project: &Path, args: &[&str]) -> String {
    let output = common::ghforge(project).args(args).output().expect("runs");
    let transcript = common::transcript(&output, project);
    assert!(output.status.success(), "{transcript}");
    transcript
}

/// Generate, load and build `from..=to` in a copy of the shipped project.
fn built_project(from: &str, to: &str) -> tempfile::TempDir {
    let dir = common::copy_bundled_project();
    common::gen_archive(dir.path(), FIRST, "2024-05-01T11", &[]);
    load_and_build(dir.path(), from, to);
    dir
}

fn load_and_build(project: &Path, from: &str, to: &str) {
    let source = project.join("archive");
    let source = source.to_str().expect("utf-8");
    // Where the process clock can be pinned (`GHFORGE_CLOCK`), each step's clock starts at the
    // first hour it loads, so a later load stamps later rows, as in real life.
    let clock = format!("{from}:00:00Z");
    for args in [
        vec!["load", "--from", from, "--to", to, "--source", source],
        vec!["build"],
    ] {
        let output = common::ghforge(project)
            .env("GHFORGE_CLOCK", &clock)
            .args(&args)
            .output()
            .expect("runs");
        let transcript = common::transcript(&output, project);
        assert!(output.status.success(), "{transcript}");
        if args[0] == "build" {
            assert!(
                transcript.contains("Published serving snapshot `ghforge-target/serve/"),
                "{transcript}"
            );
        }
    }
}

/// The project every read-only test serves (built once per test binary).
fn shared() -> &'static Path {
    static PROJECT: OnceLock<tempfile::TempDir> = OnceLock::new();
    PROJECT.get_or_init(|| built_project(FIRST, LAST)).path()
}

/// Rows of `sql` over the project's main database, each row as JSON values.
fn sql(project: &Path, sql: &str) -> Vec<Vec<Value>> {
    common::query(project, sql)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| match cell.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) if cell == "NULL" => Value::Null,
                    Err(_) => match cell.parse::<f64>() {
                        Ok(x) => json!(x),
                        Err(_) => json!(cell),
                    },
                })
                .collect()
        })
        .collect()
}

/// Distinct bronze events, as silver keeps them.
const EVENTS: &str = "(select distinct on (id, created_at) id, created_at, type, \
     cast(repo->>'id' as bigint) as repo_id, repo->>'name' as repo_name, \
     cast(actor->>'id' as bigint) as actor_id, actor->>'login' as login, payload \
     from bronze.events order by id, created_at, hour, line_number)";

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!(
        (actual - expected).abs() < 1e-6 * expected.abs().max(1.0),
        "{what}: {actual} != {expected}"
    );
}

#[test]
fn events_count_matches_bronze_for_several_windows() {
    let project = shared();
    let server = Server::start(project);
    for offset in [1, 15, 60, 240, 43_200] {
        let answer = server.json(&format!("/api/events/count?offset={offset}"));
        let expected = sql(
            project,
            &format!(
                "with e as {EVENTS}, latest as (select max(created_at) as m from e) \
                 select type, count(*) as n from e, latest \
                 where created_at > m - to_minutes({offset}) and created_at <= m \
                 group by type order by n desc, type"
            ),
        );
        let counts: Vec<Vec<Value>> = answer["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| vec![c["type"].clone(), c["count"].clone()])
            .collect();
        assert_eq!(counts, expected, "offset {offset}");
        assert_eq!(answer["offset_minutes"], offset);
        assert_eq!(answer["as_of"], latest(project));
    }
    let default = server.json("/api/events/count");
    assert_eq!(default["offset_minutes"], 60);
}

/// The latest event time in bronze, as the API writes times.
fn latest(project: &Path) -> Value {
    sql(
        project,
        "select strftime(max(created_at), '%Y-%m-%dT%H:%M:%SZ') from bronze.events",
    )[0][0]
        .clone()
}

#[test]
fn latest_event_is_bronze_latest() {
    let project = shared();
    let server = Server::start(project);
    let info = server.json("/api/snapshot");
    assert_eq!(info["latest_created_at"], latest(project));
    assert_eq!(info["latest_loaded_hour"], json!("2024-05-01T05:00:00Z"));
    assert_eq!(info["command"], "build");
}

#[test]
fn active_repositories_match_bronze() {
    let project = shared();
    let server = Server::start(project);
    for (limit, offset) in [(10, 1440), (1, 30), (1000, 120)] {
        let answer = server.json(&format!(
            "/api/repositories/active?limit={limit}&offset={offset}"
        ));
        let window = format!(
            "with e as {EVENTS}, latest as (select max(created_at) as m from e) \
             select repo_id, max_by(repo_name, created_at) as repo, count(*) as n from e, latest \
             where created_at > m - to_minutes({offset}) and created_at <= m group by repo_id"
        );
        let expected = sql(
            project,
            &format!("{window} order by n desc, repo limit {limit}"),
        );
        let total = sql(project, &format!("select count(*) from ({window})"));
        let got: Vec<Vec<Value>> = answer["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|r| vec![r["repo"].clone(), r["events"].clone()])
            .collect();
        let expected: Vec<Vec<Value>> = expected
            .into_iter()
            .map(|r| vec![r[1].clone(), r[2].clone()])
            .collect();
        assert_eq!(got, expected, "limit {limit} offset {offset}");
        assert_eq!(answer["total"], total[0][0]);
    }
}

#[test]
fn average_pr_time_matches_bronze_and_unknown_repositories_are_404() {
    let project = shared();
    let server = Server::start(project);
    let cadence = sql(
        project,
        &format!(
            "with e as {EVENTS} select max_by(repo_name, created_at) as repo, count(*) as n, \
             date_diff('second', min(created_at), max(created_at)) / (count(*) - 1) as avg \
             from e where type = 'PullRequestEvent' group by repo_id having count(*) >= 2 \
             order by n desc, repo limit 3"
        ),
    );
    assert!(!cadence.is_empty());
    for row in &cadence {
        let repo = row[0].as_str().expect("name");
        let answer = server.json(&format!("/api/repository/{repo}/avg_pr_time"));
        assert_eq!(answer["repo"], row[0]);
        assert_eq!(answer["pull_requests"], row[1]);
        assert_close(
            &answer["avg_seconds_between"],
            row[2].as_f64().expect("avg"),
            repo,
        );
    }
    let single = sql(
        project,
        &format!(
            "with e as {EVENTS} select max_by(repo_name, created_at) as repo from e group by repo_id \
             having count(*) filter (where type = 'PullRequestEvent') = 1 order by repo limit 1"
        ),
    );
    let repo = single[0][0]
        .as_str()
        .expect("a repository with one pull-request event");
    let answer = server.json(&format!("/api/repository/{repo}/avg_pr_time"));
    assert_eq!(
        answer,
        json!({"repo": repo, "pull_requests": 1, "avg_seconds_between": null})
    );
    let missing = server.get("/api/repository/nobody/nothing/avg_pr_time");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}

#[test]
fn hourly_summary_and_bot_share_match_bronze() {
    let project = shared();
    let server = Server::start(project);
    let answer = server.json("/api/summary/hourly?from=2024-05-01T01&to=2024-05-01T03:00:00Z");
    let expected = sql(
        project,
        &format!(
            "with e as {EVENTS} select strftime(date_trunc('hour', created_at), '%Y-%m-%dT%H:%M:%SZ') as h, \
             count(*), count(distinct actor_id), count(distinct repo_id) from e \
             where date_trunc('hour', created_at) between '2024-05-01 01:00' and '2024-05-01 03:00' group by h order by h"
        ),
    );
    let got: Vec<Vec<Value>> = answer["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| {
            vec![
                h["hour"].clone(),
                h["events"].clone(),
                h["actors"].clone(),
                h["repos"].clone(),
            ]
        })
        .collect();
    assert_eq!(got, expected);
    let bots = server.json("/api/bots/share");
    let expected = sql(
        project,
        &format!(
            "with e as {EVENTS} select count(*), count(*) filter (where lower(login) like '%[bot]' \
             or lower(login) in (select lower(login) from silver.known_bots)) from e"
        ),
    );
    assert_eq!(bots["events"], expected[0][0]);
    assert_eq!(bots["bot_events"], expected[0][1]);
    assert_eq!(bots["hours"].as_array().expect("hours").len(), 6);
}

#[test]
fn developer_scores_trending_types_and_merge_latency_match_bronze() {
    let project = shared();
    let server = Server::start(project);
    let bot = "(lower(login) like '%[bot]' or lower(login) in (select lower(login) from silver.known_bots))";
    let scores = sql(
        project,
        &format!(
            "with e as {EVENTS} select max_by(login, created_at) as login, count(*) as score from e \
             where date_trunc('hour', created_at) = '2024-05-01 05:00' and not {bot} \
             and type in ('PushEvent', 'PullRequestEvent') group by actor_id order by score desc, login limit 5"
        ),
    );
    let answer = server.json("/api/developers/scores?limit=5");
    assert_eq!(answer["hour"], "2024-05-01T05:00:00Z");
    let got: Vec<Vec<Value>> = answer["developers"]
        .as_array()
        .expect("developers")
        .iter()
        .map(|d| vec![d["login"].clone(), d["score"].clone()])
        .collect();
    assert_eq!(got, scores);

    let stars = sql(
        project,
        &format!(
            "with e as {EVENTS} select max_by(repo_name, created_at) as repo, count(*) as n from e \
             where type = 'WatchEvent' group by repo_id order by n desc, repo limit 5"
        ),
    );
    let trending = server.json("/api/repositories/trending?limit=5");
    assert_eq!(trending["day"], "2024-05-01");
    let got: Vec<Vec<Value>> = trending["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| vec![r["repo"].clone(), r["star_growth"].clone()])
        .collect();
    assert_eq!(got, stars, "one day of data: growth = stars");

    let types = sql(
        project,
        &format!(
            "with e as {EVENTS} select type, count(*) as n from e group by type order by n desc, type"
        ),
    );
    let answer = server.json("/api/events/types");
    let got: Vec<Vec<Value>> = answer["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| vec![t["type"].clone(), t["events"].clone()])
        .collect();
    assert_eq!(got, types);

    let merged = sql(
        project,
        &format!(
            "with e as {EVENTS}, m as (select distinct \
                 cast(json_extract_string(payload, '$.pull_request.id') as bigint) as pr, \
                 date_diff('second', cast(json_extract_string(payload, '$.pull_request.created_at') as timestamp), \
                     cast(json_extract_string(payload, '$.pull_request.merged_at') as timestamp)) as s \
             from e where type = 'PullRequestEvent' and json_extract_string(payload, '$.action') = 'closed' \
               and cast(json_extract_string(payload, '$.pull_request.merged') as boolean)) \
             select count(*), quantile_cont(s, 0.5), max(s) from m"
        ),
    );
    let latency = server.json("/api/pull_requests/merge_latency");
    assert_eq!(latency["merged"], merged[0][0]);
    assert_close(
        &latency["p50_seconds"],
        merged[0][1].as_f64().expect("p50"),
        "p50",
    );
    assert_eq!(latency["max_seconds"], merged[0][2]);
    let bucketed: i64 = latency["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["pull_requests"].as_i64().expect("count"))
        .sum();
    assert_eq!(json!(bucketed), latency["with_latency"]);
}

/// The problem body of a request that must fail with `status`.
fn problem(server: &Server, path: &str, status: u16) -> Value {
    let response = server.get(path);
    assert_eq!(response.status(), status, "GET {path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "GET {path}"
    );
    let body: Value = response.json().expect("problem json");
    let detail = body["detail"].as_str().expect("detail").to_lowercase();
    for leak in [
        "select",
        "catalog",
        "binder",
        "parser error",
        "duckdb",
        "syntax",
    ] {
        assert!(
            !detail.contains(leak),
            "GET {path} leaks `{leak}`: {detail}"
        );
    }
    body
}

#[test]
fn bad_parameters_and_injection_strings_are_problems_never_database_errors() {
    let server = Server::start(shared());
    for path in [
        "/api/events/count?offset=-5",
        "/api/events/count?offset=0",
        "/api/events/count?offset=abc",
        "/api/events/count?offset=1.5",
        "/api/events/count?offset=43201",
        "/api/events/count?offset=99999999999999999999999",
        "/api/events/count?offset=1;drop%20table%20x",
        "/api/events/count?minutes=5",
        "/api/repositories/active?limit=0",
        "/api/repositories/active?limit=1001",
        "/api/repositories/active?limit=10&offset=-1",
        "/api/repositories/active?limit='%20or%201=1--",
        "/api/summary/hourly?from=yesterday",
        "/api/summary/hourly?from=2024-05-02&to=2024-05-01",
        "/api/developers/scores?hour=%27;%20drop%20table%20x;%20--",
        "/api/repositories/trending?day=2024-13-45",
        "/api/runs/not-an-id!",
        "/api/repository/x'%3B%20drop%20table%20x%3B%20--/y/avg_pr_time",
        "/api/repository/acme/'%3B%20drop%20table%20x%3B%20--/avg_pr_time",
        "/api/repository/a/b%27%20or%20%271%27=%271/avg_pr_time",
        "/api/repository/acme/widget/avg_pr_time?x=1",
    ] {
        let body = problem(&server, path, 400);
        assert_eq!(body["status"], 400);
        assert_eq!(body["title"], "Bad Request");
    }
    insta::assert_json_snapshot!(problem(&server, "/api/events/count?offset=-5", 400), @r#"
    {
      "type": "about:blank",
      "title": "Bad Request",
      "status": 400,
      "detail": "`offset` must be a whole number from 1 to 43200, got `-5`"
    }
    "#);
    for path in [
        "/api/repository/nobody/nothing/avg_pr_time",
        "/api/runs/0123abcd-0000-0000-0000-000000000000",
        "/api/lineage/model.gharchive.nothing",
        "/api/nothing",
    ] {
        problem(&server, path, 404);
    }
    // The server and its data are untouched.
    assert_eq!(
        server.json("/api/events/count?offset=60")["offset_minutes"],
        60
    );
}

#[test]
fn etag_is_the_snapshot_invocation_and_if_none_match_gives_304() {
    let project = shared();
    let server = Server::start(project);
    let response = server.get("/api/events/count?offset=60");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("ghforge-target/run_results.json"))
            .expect("run results"),
    )
    .expect("json");
    let invocation = results["metadata"]["invocation_id"].as_str().expect("id");
    assert_eq!(etag, format!("\"{invocation}\""));
    for path in [
        "/api/events/count?offset=60",
        "/api/repositories/active",
        "/api/events/types",
        "/api/runs",
    ] {
        let cached = server::client()
            .get(format!("{}{path}", server.url))
            .header("If-None-Match", &etag)
            .send()
            .expect("request");
        assert_eq!(cached.status(), 304, "{path}");
        assert_eq!(cached.headers()["etag"], etag.as_str());
        assert!(cached.text().expect("body").is_empty());
    }
    // A repeated request is answered from the snapshot's cache: the same bytes and tag.
    let first = server.get("/api/repositories/active?limit=5");
    let first_tag = first.headers()["etag"].clone();
    let first = first.text().expect("body");
    let again = server.get("/api/repositories/active?limit=5");
    assert_eq!(again.headers()["etag"], first_tag);
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(again.text().expect("body"), first);
    let stale = server::client()
        .get(format!("{}/api/events/count", server.url))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .expect("request");
    assert_eq!(stale.status(), 200);
}

#[test]
fn runs_metrics_openapi_and_pages() {
    let project = shared();
    let server = Server::start(project);
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("ghforge-target/run_results.json"))
            .expect("run results"),
    )
    .expect("json");
    let invocation = results["metadata"]["invocation_id"].as_str().expect("id");
    let runs = server.json("/api/runs");
    assert_eq!(runs["runs"][0]["invocation_id"], invocation);
    assert_eq!(runs["runs"][0]["command"], "build");
    assert_eq!(runs["runs"][0]["status"], "success");
    let run = server.json(&format!("/api/runs/{invocation}"));
    assert_eq!(
        run["nodes"].as_array().expect("nodes").len(),
        results["results"].as_array().expect("results").len()
    );

    let metrics = server.get("/metrics").text().expect("metrics");
    for line in [
        format!("ghforge_last_run_success{{command=\"build\",invocation_id=\"{invocation}\"}} 1"),
        "ghforge_load_hours{status=\"loaded\"} 6".to_owned(),
        "ghforge_load_rows 12000".to_owned(),
        "ghforge_load_quarantined_lines 0".to_owned(),
        "# TYPE ghforge_node_duration_seconds gauge".to_owned(),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("ghforge_node_rows_affected{unique_id=\"seed.gharchive.known_bots\"} 6"),
        "{metrics}"
    );

    let openapi = server.json("/api/openapi.json");
    let mut paths: Vec<&String> = openapi["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .collect();
    paths.sort();
    insta::assert_json_snapshot!(paths, @r#"
    [
      "/api/bots/share",
      "/api/developers/scores",
      "/api/events/count",
      "/api/events/hourly",
      "/api/events/types",
      "/api/lineage/{unique_id}",
      "/api/pull_requests/merge_latency",
      "/api/repositories/active",
      "/api/repositories/trending",
      "/api/repository/{owner}/{name}/avg_pr_time",
      "/api/runs",
      "/api/runs/{invocation_id}",
      "/api/snapshot",
      "/api/summary/hourly"
    ]
    "#);

    let dashboard = server.get("/").text().expect("page");
    let freshness = latest(project);
    assert!(
        dashboard.contains(freshness.as_str().expect("time")),
        "freshness on top"
    );
    for id in [
        "chart-events",
        "chart-active",
        "chart-developers",
        "chart-latency",
        "chart-bots",
        "chart-trending",
    ] {
        assert!(dashboard.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let runs_page = server.get("/runs").text().expect("page");
    assert!(
        runs_page.contains("model.gharchive.hourly_summary") && runs_page.contains("id=\"ledger\"")
    );
    let docs = server
        .get("/docs?node=model.gharchive.hourly_summary")
        .text()
        .expect("page");
    assert!(docs.contains("Distinct events, actors and repositories per hour."));
    assert!(
        docs.contains("<td>events</td><td>BIGINT</td>"),
        "types from the snapshot's catalog"
    );
    assert!(docs.contains("Compiled SQL"));
    for page in [&dashboard, &runs_page, &docs] {
        assert!(
            !page.contains("src=\"http") && !page.contains("href=\"http"),
            "no other host"
        );
    }
    let chart = server.get("/assets/chart.umd.min.js");
    assert_eq!(chart.status(), 200);
    assert!(
        chart
            .text()
            .expect("js")
            .starts_with("/*!\n * Chart.js v4.")
    );
}

#[path = "serve/live.rs"]
mod live;
