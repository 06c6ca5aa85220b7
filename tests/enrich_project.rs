//! `ghforge enrich` feeding the bundled project: the busiest repositories' metadata from a fake
//! REST API on loopback lands in `bronze.repo_metadata`, and the next build types it in
//! `silver.repo_metadata` (a renamed repository joins by id, a gone one keeps a row) and joins
//! it into `gold.repo_metrics`, `gold.trending_repos` and `gold.language_activity`.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

use common::github_server::GithubServer;

fn ok(project: &Path, command: &mut assert_cmd::Command) {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, project)
    );
}

#[test]
fn enriched_metadata_is_typed_in_silver_and_joined_into_gold_by_repository_id() {
    let project = common::copy_bundled_project();
    let project = project.path();
    common::gen_archive(
        project,
        "2024-05-01T00",
        "2024-05-01T01",
        &["--events-per-hour", "2000"],
    );
    ok(
        project,
        common::ghforge(project).args([
            "load",
            "--from",
            "2024-05-01T00",
            "--to",
            "2024-05-01T01",
            "--source",
            "archive",
        ]),
    );
    ok(project, common::ghforge(project).arg("build"));

    let top = common::query(
        project,
        "select repo_name, repo_id from gold.active_repos order by events desc, repo_name limit 3",
    );
    assert_eq!(top.len(), 3);
    let server = GithubServer::start(1);
    let (kept, renamed, gone) = (&top[0], &top[1], &top[2]);
    server.repo(
        &kept[0],
        Some(&format!(
            r#"{{"id":{},"full_name":"{}","stargazers_count":1234,"forks_count":56,"subscribers_count":7,
                "language":"Rust","license":{{"spdx_id":"MIT"}},"topics":["cli","data"],
                "created_at":"2015-03-01T10:00:00Z","archived":false,"fork":false}}"#,
            kept[1], kept[0]
        )),
    );
    // Asked under its old name, GitHub answers (after the redirect) with the new one.
    server.repo(
        &renamed[0],
        Some(&format!(
            r#"{{"id":{},"full_name":"neworg/newname","stargazers_count":9,"language":null,"topics":[]}}"#,
            renamed[1]
        )),
    );
    server.repo(&gone[0], None);
    ok(
        project,
        common::ghforge(project).env_remove("GHFORGE_CLOCK").args([
            "enrich",
            "--limit",
            "3",
            "--api-url",
            &server.url,
        ]),
    );
    ok(project, common::ghforge(project).arg("build"));

    assert_eq!(
        common::query(project, "select count(*) from silver.repo_metadata"),
        [["3"]]
    );
    let typed = common::query(
        project,
        &format!(
            "select repo_name, is_gone, stars, forks, watchers, language, license_spdx_id, \
             array_to_string(topics, ','), created_at, is_archived, repo_id = {} \
             from silver.repo_metadata where requested_name = '{}'",
            kept[1], kept[0]
        ),
    );
    assert_eq!(
        typed,
        [[
            kept[0].as_str(),
            "false",
            "1234",
            "56",
            "7",
            "Rust",
            "MIT",
            "cli,data",
            "2015-03-01 10:00:00",
            "false",
            "true"
        ]]
    );
    assert_eq!(
        common::query(
            project,
            &format!(
                "select repo_name, language, stars from silver.repo_metadata where requested_name = '{}'",
                renamed[0]
            ),
        ),
        [["neworg/newname", "NULL", "9"]]
    );
    assert_eq!(
        common::query(
            project,
            &format!(
                "select is_gone, http_status, repo_id from silver.repo_metadata where requested_name = '{}'",
                gone[0]
            ),
        ),
        [["true", "404", "NULL"]]
    );

    // Gold joins on the id: the renamed repository too.
    assert_eq!(
        common::query(
            project,
            &format!(
                "select repo_id, language, stargazers from gold.repo_metrics \
                 where repo_id in ({}, {}, {}) order by stargazers desc nulls last",
                kept[1], renamed[1], gone[1]
            ),
        ),
        [
            [kept[1].as_str(), "Rust", "1234"],
            [renamed[1].as_str(), "NULL", "9"],
            [gone[1].as_str(), "NULL", "NULL"],
        ]
    );
    let languages = common::query(
        project,
        "select coalesce(language, '(none)'), sum(active_repos), sum(events) > 0 \
         from gold.language_activity group by all order by 1",
    );
    assert_eq!(languages.len(), 2, "{languages:?}");
    assert_eq!(languages[0][0], "(none)");
    assert_eq!(languages[1][..3], ["Rust", "1", "true"]);
    let trending = common::query(
        project,
        &format!(
            "select distinct stargazers from gold.trending_repos where repo_id = {}",
            kept[1]
        ),
    );
    assert!(
        trending.is_empty() || trending == [["1234"]],
        "{trending:?}"
    );
}
