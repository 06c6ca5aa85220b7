//! The repository clusters of the bundled project (`gold.repo_activity_profiles`,
//! `gold.repo_cluster_centroids`, `gold.repo_clusters`): k-means in SQL models, on hand-made
//! archive hours with three kinds of repository that any clustering must tell apart (bots
//! pushing, people opening and merging pull requests, a crowd starring and forking), and on a
//! generated archive built twice.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

/// Repository ids per kind: 8 each.
const BOTS: std::ops::Range<i64> = 1000..1008;
const COLLABORATIVE: std::ops::Range<i64> = 2000..2008;
const POPULAR: std::ops::Range<i64> = 3000..3008;

struct Events {
    lines: Vec<String>,
}

impl Events {
    fn add(&mut self, kind: &str, actor: (i64, &str), repo: i64, payload: Value, minute: usize) {
        let id = 9_000_000 + self.lines.len();
        self.lines.push(
            json!({
                "id": id.to_string(),
                "type": kind,
                "actor": {"id": actor.0, "login": actor.1},
                "repo": {"id": repo, "name": format!("owner{repo}/repo{repo}")},
                "payload": payload,
                "public": true,
                "created_at": format!("2024-05-01T{:02}:{:02}:00Z", minute / 60 % 3, minute % 60),
            })
            .to_string(),
        );
    }
}

/// One hour file per hour, 00 to 02, of the three kinds; `repo % 3` varies the amounts a little.
fn write_archive(project: &Path) {
    let mut events = Events { lines: Vec::new() };
    for repo in BOTS {
        for push in 0..20 + repo % 3 {
            let payload =
                json!({"push_id": repo * 100 + push, "size": 1, "ref": "refs/heads/main"});
            let minute = usize::try_from(push * 7).expect("small");
            events.add("PushEvent", (50, "dependabot[bot]"), repo, payload, minute);
        }
    }
    for repo in COLLABORATIVE {
        for pr in 0..12 + repo % 3 {
            let actor = 100 + pr % 9;
            let login = format!("dev{actor}");
            let minute = usize::try_from(pr * 13).expect("small");
            let pull_request = json!({"id": repo * 1000 + pr, "number": pr, "merged": false});
            events.add(
                "PullRequestEvent",
                (actor, &login),
                repo,
                json!({"action": "opened", "number": pr, "pull_request": pull_request}),
                minute,
            );
            let merged = json!({"id": repo * 1000 + pr, "number": pr, "merged": true,
                                "merged_at": "2024-05-01T02:59:00Z"});
            events.add(
                "PullRequestEvent",
                (actor + 1, &login),
                repo,
                json!({"action": "closed", "number": pr, "pull_request": merged}),
                minute + 5,
            );
            events.add(
                "IssueCommentEvent",
                (actor + 2, &login),
                repo,
                json!({"action": "created", "issue": {"number": pr}}),
                minute + 3,
            );
        }
    }
    for repo in POPULAR {
        for star in 0..30 + repo % 3 {
            let actor = 500 + star;
            let login = format!("fan{actor}");
            let minute = usize::try_from(star * 5).expect("small");
            events.add(
                "WatchEvent",
                (actor, &login),
                repo,
                json!({"action": "started"}),
                minute,
            );
            if star % 4 == 0 {
                events.add(
                    "ForkEvent",
                    (actor, &login),
                    repo,
                    json!({"forkee": {"id": actor}}),
                    minute + 1,
                );
            }
        }
    }
    std::fs::create_dir_all(project.join("archive")).expect("archive folder");
    for hour in 0..3 {
        let prefix = format!("\"created_at\":\"2024-05-01T{hour:02}");
        let lines: Vec<&[u8]> = events
            .lines
            .iter()
            .filter(|line| line.contains(&prefix))
            .map(|line| line.as_bytes())
            .collect();
        common::gz_lines(
            &project.join(format!("archive/2024-05-01-{hour}.json.gz")),
            &lines,
        );
    }
}

fn load_and_build(project: &Path, vars: &str) {
    for args in [
        vec![
            "load",
            "--from",
            "2024-05-01T00",
            "--to",
            "2024-05-01T02",
            "--source",
            "archive",
        ],
        vec!["build", "--vars", vars],
    ] {
        let output = common::ghforge(project).args(&args).output().expect("runs");
        assert!(
            output.status.success(),
            "{}",
            common::transcript(&output, project)
        );
    }
}

#[test]
fn clusters_separate_bots_pull_requests_and_stars_and_label_them() {
    let project = common::copy_bundled_project();
    write_archive(project.path());
    load_and_build(project.path(), "{repo_clusters_k: 3}");

    let rows = common::query(
        project.path(),
        "select repo_id, cluster, label from gold.repo_clusters order by repo_id",
    );
    assert_eq!(rows.len(), 24, "{rows:?}");
    let mut clusters: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    for row in &rows {
        let repo: i64 = row[0].parse().expect("id");
        let kind = match repo {
            r if BOTS.contains(&r) => "bots",
            r if COLLABORATIVE.contains(&r) => "collaborative",
            _ => "popular",
        };
        clusters
            .entry(kind)
            .or_default()
            .insert((row[1].clone(), row[2].clone()));
    }
    let labels: BTreeMap<&str, Vec<&(String, String)>> = clusters
        .iter()
        .map(|(kind, found)| (*kind, found.iter().collect()))
        .collect();
    insta::assert_debug_snapshot!(labels, @r#"
    {
        "bots": [
            (
                "2",
                "bot-driven pushes",
            ),
        ],
        "collaborative": [
            (
                "1",
                "PR-heavy collaborative",
            ),
        ],
        "popular": [
            (
                "3",
                "popular: starred and forked",
            ),
        ],
    }
    "#);
    let distinct: BTreeSet<&String> = clusters.values().flatten().map(|(c, _)| c).collect();
    assert_eq!(distinct.len(), 3, "each kind its own cluster: {clusters:?}");

    let sizes = common::query(
        project.path(),
        "select cluster, repos from gold.repo_cluster_centroids order by cluster",
    );
    assert_eq!(sizes.len(), 3);
    assert!(sizes.iter().all(|row| row[1] == "8"), "{sizes:?}");
}

#[test]
fn clusters_are_the_same_on_every_build_of_the_same_events() {
    let mut results = Vec::new();
    for _ in 0..2 {
        let project = common::copy_bundled_project();
        common::gen_archive(
            project.path(),
            "2024-05-01T00",
            "2024-05-01T02",
            &["--events-per-hour", "3000"],
        );
        load_and_build(project.path(), "{}");
        results.push((
            common::query(
                project.path(),
                "select repo_id, cluster, label, round(distance, 9) from gold.repo_clusters order by repo_id",
            ),
            common::query(
                project.path(),
                "select * exclude (avg_events) from gold.repo_cluster_centroids order by cluster",
            ),
        ));
    }
    let (clusters, centroids) = &results[0];
    assert!(
        clusters.len() > 100,
        "{} clustered repositories",
        clusters.len()
    );
    assert_eq!(centroids.len(), 5);
    let labels: BTreeSet<&String> = centroids.iter().map(|row| &row[1]).collect();
    assert!(labels.len() >= 3, "labels tell clusters apart: {labels:?}");
    assert_eq!(
        results[0].0, results[1].0,
        "the same repositories in the same clusters"
    );
}
