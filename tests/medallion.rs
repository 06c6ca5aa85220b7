//! The bundled GH Archive project (`models/`, `macros/`, `seeds/`, `tests/project/`) on small
//! hand-made archive hours whose content is known by construction, once per payload format:
//! golden values of every gold model and of the silver facts they rest on (deduplication, bots
//! from the seed and from `[bot]`, push sizes only where the format tells, a pull request opened
//! in one hour and merged in the next, a repository renamed, stars on two days), an incremental
//! second run that must end where a one-shot build ends, and the `gold+` / `silver.events+`
//! selections.
//!
//! The two hours straddle midnight: `D1-23` and `D2-0`. Actors: alice (101), bob (102),
//! `dependabot[bot]` (103, a bot by suffix), renovate (104, a bot by the seed), carol (105).
//! Repositories: 201 `alice/tool`, 202 `acme/widget` (organisation 301 `acme`), 203 `bob/site`,
//! renamed `bob/website` in the second hour.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

/// The payload format of a fixture: full payloads (before 2025-10-07) or GitHub's trimmed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Era {
    Full,
    Trimmed,
}

impl Era {
    /// The first day (`D1`) and the day after it (`D2`).
    fn days(self) -> (&'static str, &'static str) {
        match self {
            Era::Full => ("2024-05-01", "2024-05-02"),
            Era::Trimmed => ("2025-11-01", "2025-11-02"),
        }
    }

    /// `--hours` values of the first and the second hour.
    fn hours(self) -> (String, String) {
        let (d1, d2) = self.days();
        (format!("{d1}T23"), format!("{d2}T00"))
    }

    fn name(self) -> &'static str {
        match self {
            Era::Full => "full",
            Era::Trimmed => "trimmed",
        }
    }
}

const ALICE: (i64, &str) = (101, "alice");
const BOB: (i64, &str) = (102, "bob");
const DEPENDABOT: (i64, &str) = (103, "dependabot[bot]");
const RENOVATE: (i64, &str) = (104, "renovate");
const CAROL: (i64, &str) = (105, "carol");

const TOOL: (i64, &str) = (201, "alice/tool");
const WIDGET: (i64, &str) = (202, "acme/widget");
const SITE: (i64, &str) = (203, "bob/site");
const WEBSITE: (i64, &str) = (203, "bob/website");

/// Writes the event lines of one era: `at` turns `("1", "23:05:00")` into a timestamp of day 1.
struct Fixture {
    era: Era,
}

impl Fixture {
    fn at(&self, day: u8, time: &str) -> String {
        let (d1, d2) = self.era.days();
        format!("{}T{time}Z", if day == 1 { d1 } else { d2 })
    }

    fn event(
        &self,
        id: &str,
        kind: &str,
        actor: (i64, &str),
        repo: (i64, &str),
        payload: Value,
        created_at: &str,
    ) -> Value {
        let mut event = json!({
            "id": id,
            "type": kind,
            "actor": {"id": actor.0, "login": actor.1, "display_login": actor.1, "gravatar_id": "",
                      "url": format!("https://api.github.com/users/{}", actor.1)},
            "repo": {"id": repo.0, "name": repo.1, "url": format!("https://api.github.com/repos/{}", repo.1)},
            "payload": payload,
            "public": true,
            "created_at": created_at,
        });
        if repo.0 == WIDGET.0 {
            event["org"] = json!({"id": 301, "login": "acme", "gravatar_id": "",
                                  "url": "https://api.github.com/orgs/acme"});
        }
        event
    }

    /// A push of `size` commits (full format: with `size`, `distinct_size` and the commits).
    fn push(
        &self,
        id: &str,
        actor: (i64, &str),
        repo: (i64, &str),
        size: usize,
        created_at: &str,
    ) -> Value {
        let mut payload = json!({
            "repository_id": repo.0,
            "push_id": format!("7{id}").parse::<i64>().expect("number"),
            "ref": "refs/heads/main",
            "head": format!("{id:0>40}"),
            "before": format!("{id:1>40}"),
        });
        if self.era == Era::Full {
            let commits: Vec<Value> = (0..size)
                .map(|i| {
                    json!({
                        "sha": format!("{id}{i:0>36}"),
                        "author": {"email": "e5e60dd1d3ba18c5b02eb2341af310d2d845320b@users.noreply.github.com",
                                   "name": actor.1},
                        "message": format!("change {i}"),
                        "distinct": true,
                        "url": "https://api.github.com/commits/x",
                    })
                })
                .collect();
            payload["size"] = json!(size);
            payload["distinct_size"] = json!(size);
            payload["commits"] = Value::Array(commits);
        }
        self.event(id, "PushEvent", actor, repo, payload, created_at)
    }

    /// A pull-request event. `merged_at` (full format) makes a `closed` event a merge; in the
    /// trimmed format a merge is the action `merged` and the pull request keeps only its ids.
    #[expect(clippy::too_many_arguments, reason = "one fixture event, spelled out")]
    fn pull_request(
        &self,
        id: &str,
        actor: (i64, &str),
        repo: (i64, &str),
        action: &str,
        (pr_id, number): (i64, i64),
        pr_created_at: &str,
        merged_at: Option<&str>,
        created_at: &str,
    ) -> Value {
        let payload = match self.era {
            Era::Full => {
                let closed = action == "closed";
                json!({
                    "action": action,
                    "number": number,
                    "pull_request": {
                        "id": pr_id, "number": number,
                        "state": if closed { "closed" } else { "open" },
                        "title": "Change", "user": {"login": actor.1, "id": actor.0},
                        "created_at": pr_created_at,
                        "closed_at": if closed { json!(created_at) } else { Value::Null },
                        "merged": merged_at.is_some(),
                        "merged_at": merged_at,
                        "additions": 10, "deletions": 2, "changed_files": 1,
                        "author_association": "MEMBER",
                        "base": {"repo": {"id": repo.0, "language": "Rust"}},
                    },
                })
            }
            Era::Trimmed => json!({
                "action": if merged_at.is_some() { "merged" } else { action },
                "number": number,
                "pull_request": {
                    "url": format!("https://api.github.com/repos/{}/pulls/{number}", repo.1),
                    "id": pr_id, "number": number,
                    "head": {"ref": "feature", "sha": "1"}, "base": {"ref": "main", "sha": "2"},
                },
            }),
        };
        self.event(id, "PullRequestEvent", actor, repo, payload, created_at)
    }

    fn star(&self, id: &str, actor: (i64, &str), repo: (i64, &str), created_at: &str) -> Value {
        self.event(
            id,
            "WatchEvent",
            actor,
            repo,
            json!({"action": "started"}),
            created_at,
        )
    }

    fn issue(
        &self,
        id: &str,
        actor: (i64, &str),
        repo: (i64, &str),
        action: &str,
        created_at: &str,
    ) -> Value {
        let payload = json!({"action": action, "issue": {"id": 7001, "number": 3, "title": "Crash",
                             "state": if action == "closed" { "closed" } else { "open" }}});
        self.event(id, "IssuesEvent", actor, repo, payload, created_at)
    }

    /// The lines of the first and the second hour file (with a byte-identical duplicate inside
    /// the first hour and a late duplicate of its last event in the second).
    fn hours(&self) -> (Vec<String>, Vec<String>) {
        let t1 = |time: &str| self.at(1, time);
        let t2 = |time: &str| self.at(2, time);
        let pr_9004_created = match self.era {
            Era::Full => "2024-04-30T00:10:00Z".to_owned(),
            Era::Trimmed => String::new(),
        };
        let first: Vec<Value> = vec![
            self.push("1001", ALICE, TOOL, 3, &t1("23:05:00")),
            self.push("1002", BOB, SITE, 1, &t1("23:10:00")),
            self.push("1003", RENOVATE, WIDGET, 2, &t1("23:15:00")),
            self.pull_request(
                "1004",
                ALICE,
                WIDGET,
                "opened",
                (9001, 7),
                &t1("23:20:00"),
                None,
                &t1("23:20:00"),
            ),
            self.pull_request(
                "1005",
                DEPENDABOT,
                TOOL,
                "opened",
                (9002, 1),
                &t1("23:25:00"),
                None,
                &t1("23:25:00"),
            ),
            self.pull_request(
                "1006",
                ALICE,
                TOOL,
                "closed",
                (9002, 1),
                &t1("23:25:00"),
                Some(&t1("23:40:00")),
                &t1("23:40:00"),
            ),
            self.star("1007", CAROL, TOOL, &t1("23:30:00")),
            self.star("1008", BOB, TOOL, &t1("23:35:00")),
            self.star("1009", ALICE, WIDGET, &t1("23:45:00")),
            self.issue("1010", BOB, SITE, "opened", &t1("23:50:00")),
            self.event(
                "1011",
                "IssueCommentEvent",
                CAROL,
                SITE,
                json!({"action": "created", "issue": {"id": 7001, "number": 3},
                       "comment": {"id": 7101, "body": "Same here", "user": {"login": "carol", "id": 105}}}),
                &t1("23:52:00"),
            ),
            self.event(
                "1012",
                "ForkEvent",
                CAROL,
                TOOL,
                json!({"forkee": {"id": 204, "name": "tool", "full_name": "carol/tool"}}),
                &t1("23:55:00"),
            ),
            self.event(
                "1013",
                "CreateEvent",
                ALICE,
                TOOL,
                json!({"ref": "v1.0", "ref_type": "tag", "master_branch": "main",
                       "description": null, "pusher_type": "user"}),
                &t1("23:56:00"),
            ),
            self.event(
                "1014",
                "ReleaseEvent",
                ALICE,
                TOOL,
                json!({"action": "published", "release": {"tag_name": "v1.0", "name": "One",
                       "draft": false, "prerelease": false, "published_at": t1("23:57:00")}}),
                &t1("23:57:00"),
            ),
            self.push("1015", ALICE, TOOL, 1, &t1("23:59:30")),
        ];
        let second: Vec<Value> = vec![
            self.pull_request(
                "1016",
                CAROL,
                WIDGET,
                "closed",
                (9001, 7),
                &t1("23:20:00"),
                // The payload's merge time is two seconds before the event is recorded.
                Some(&t2("00:09:58")),
                &t2("00:10:00"),
            ),
            self.star("1017", BOB, TOOL, &t2("00:05:00")),
            self.star("1018", CAROL, WEBSITE, &t2("00:06:00")),
            self.star("1019", ALICE, WEBSITE, &t2("00:07:00")),
            self.push("1020", DEPENDABOT, TOOL, 1, &t2("00:20:00")),
            self.push("1021", BOB, WEBSITE, 4, &t2("00:30:00")),
            self.event(
                "1022",
                "DeleteEvent",
                ALICE,
                TOOL,
                json!({"ref": "feature", "ref_type": "branch", "pusher_type": "user"}),
                &t2("00:35:00"),
            ),
            self.pull_request(
                "1023",
                BOB,
                WEBSITE,
                "opened",
                (9003, 2),
                &t2("00:40:00"),
                None,
                &t2("00:40:00"),
            ),
            self.issue("1024", BOB, WEBSITE, "closed", &t2("00:45:00")),
            self.push("1025", CAROL, WIDGET, 2, &t2("00:50:00")),
            // Opened two days before the data starts: only the full payload knows when.
            self.pull_request(
                "1026",
                ALICE,
                TOOL,
                "closed",
                (9004, 5),
                &pr_9004_created,
                Some(&t2("00:55:00")),
                &t2("00:55:00"),
            ),
        ];
        let line = |v: &Value| v.to_string();
        let mut first_lines: Vec<String> = first.iter().map(line).collect();
        // A byte-identical duplicate inside the hour.
        first_lines.insert(2, first_lines[1].clone());
        let mut second_lines = vec![first_lines.last().expect("an event").clone()];
        second_lines.extend(second.iter().map(line));
        (first_lines, second_lines)
    }
}

/// Writes `lines` as the gzipped hour file `archive/<day>-<hour>.json.gz`.
fn write_hour(archive: &Path, name: &str, events: &[String]) {
    std::fs::create_dir_all(archive).expect("archive dir");
    let file = std::fs::File::create(archive.join(format!("{name}.json.gz"))).expect("create");
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for line in events {
        encoder.write_all(line.as_bytes()).expect("write");
        encoder.write_all(b"\n").expect("write");
    }
    encoder.finish().expect("finish");
}

/// A copy of the bundled project with the era's two hour files under `archive/`.
fn project_with_archive(era: Era) -> tempfile::TempDir {
    let dir = common::copy_bundled_project();
    let fixture = Fixture { era };
    let (first, second) = fixture.hours();
    let (d1, d2) = era.days();
    let archive = dir.path().join("archive");
    write_hour(&archive, &format!("{d1}-23"), &first);
    write_hour(&archive, &format!("{d2}-0"), &second);
    dir
}

fn ghforge_ok(project: &Path, args: &[&str]) -> String {
    let output = common::ghforge(project).args(args).output().expect("runs");
    let transcript = common::transcript(&output, project);
    assert!(output.status.success(), "{transcript}");
    transcript
}

fn load(project: &Path, hours: &str) {
    let source = project.join("archive");
    let source = source.to_str().expect("utf-8 path");
    ghforge_ok(project, &["load", "--hours", hours, "--source", source]);
}

/// `ghforge build`, which must pass every test without a warning.
fn build(project: &Path) {
    let transcript = ghforge_ok(project, &["build"]);
    assert!(
        transcript.contains("WARN=0 FAIL=0 ERROR=0 SKIP=0"),
        "{transcript}"
    );
}

/// Rows as comma-joined lines, for compact expectations.
fn lines(project: &Path, sql: &str) -> Vec<String> {
    common::query(project, sql)
        .iter()
        .map(|r| r.join(","))
        .collect()
}

/// Every silver and gold table as sorted lines, without the load-time lineage columns (which
/// differ between runs by construction).
fn all_tables(project: &Path) -> BTreeMap<String, Vec<String>> {
    let tables = lines(
        project,
        "select schema_name || '.' || table_name from duckdb_tables() \
         where schema_name in ('silver', 'gold')",
    );
    tables
        .into_iter()
        .map(|table| {
            let mut content = lines(
                project,
                &format!(
                    "select columns(c -> c not in ('loaded_at', 'last_loaded_at')) from {table}"
                ),
            );
            content.sort();
            (table, content)
        })
        .collect()
}

/// A project with both hours loaded and built in one go.
fn built(era: Era) -> tempfile::TempDir {
    let dir = project_with_archive(era);
    let (first, second) = era.hours();
    load(dir.path(), &format!("{first},{second}"));
    build(dir.path());
    dir
}

/// The golden values of both eras; `full` and `trimmed` differ only where the format tells.
fn assert_golden(project: &Path, era: Era) {
    let (d1, d2) = era.days();
    let full = era == Era::Full;
    // Shortens timestamps of the two days in expectations: `1 23:05:00`, `2 00:10:00`.
    let day = |text: String| {
        text.replace(&format!("{d1} "), "1 ")
            .replace(&format!("{d2} "), "2 ")
    };
    let day_lines =
        |sql: &str| -> Vec<String> { lines(project, sql).into_iter().map(day).collect() };

    // Silver: 28 lines, 26 distinct events, the duplicates gone, bots from both sources.
    assert_eq!(lines(project, "select count(*) from bronze.events"), ["28"]);
    assert_eq!(
        lines(
            project,
            "select count(*), count(distinct id), min(payload_era), max(payload_era) from silver.events"
        ),
        [format!("26,26,{0},{0}", era.name())]
    );
    assert_eq!(
        lines(
            project,
            "select actor_id, login, is_bot from silver.actors order by actor_id"
        ),
        [
            "101,alice,false",
            "102,bob,false",
            "103,dependabot[bot],true",
            "104,renovate,true",
            "105,carol,false"
        ]
    );
    assert_eq!(
        day_lines(
            "select repo_id, repo_name, org_id, first_seen, last_seen, events from silver.repos order by repo_id"
        ),
        [
            "201,alice/tool,NULL,1 23:05:00,2 00:55:00,13",
            "202,acme/widget,301,1 23:15:00,2 00:50:00,5",
            "203,bob/website,NULL,1 23:10:00,2 00:45:00,8"
        ]
    );
    assert_eq!(
        day_lines("select org_id, login, first_seen, last_seen, events, repos from silver.orgs"),
        ["301,acme,1 23:15:00,2 00:50:00,5,1"]
    );
    // Push sizes only where the format tells, never 0; commits only from full payloads.
    let sizes = if full {
        [
            "1001,3,3", "1002,1,1", "1003,2,2", "1015,1,1", "1020,1,1", "1021,4,4", "1025,2,2",
        ]
    } else {
        [
            "1001,NULL,NULL",
            "1002,NULL,NULL",
            "1003,NULL,NULL",
            "1015,NULL,NULL",
            "1020,NULL,NULL",
            "1021,NULL,NULL",
            "1025,NULL,NULL",
        ]
    };
    assert_eq!(
        lines(
            project,
            "select event_id, size, distinct_size from silver.pushes order by event_id"
        ),
        sizes
    );
    assert_eq!(
        lines(project, "select count(*) from silver.commits"),
        [if full { "14" } else { "0" }]
    );
    for (table, count) in [
        ("pull_request_events", 6),
        ("issues", 2),
        ("issue_comments", 1),
        ("stars", 6),
        ("forks", 1),
        ("releases", 1),
        ("creates", 1),
        ("deletes", 1),
    ] {
        assert_eq!(
            lines(project, &format!("select count(*) from silver.{table}")),
            [count.to_string()],
            "silver.{table}"
        );
    }
    // Pull request lifecycles: 9001 opened in the first hour, merged in the second.
    let opened_9004 = if full {
        "2024-04-30 00:10:00,payload"
    } else {
        "NULL,NULL"
    };
    let (source, merged_9001) = if full {
        ("payload", "2 00:09:58")
    } else {
        ("opened_event", "2 00:10:00")
    };
    let merged_source = if full { "payload" } else { "merge_event" };
    assert_eq!(
        day_lines(
            "select pr_id, repo_id, pr_number, opened_at, opened_at_source, closed_at, merged_at, merged_at_source, state \
             from silver.pull_requests order by pr_id"
        ),
        [
            format!(
                "9001,202,7,1 23:20:00,{source},2 00:10:00,{merged_9001},{merged_source},merged"
            ),
            format!("9002,201,1,1 23:25:00,{source},1 23:40:00,1 23:40:00,{merged_source},merged"),
            format!("9003,203,2,2 00:40:00,{source},NULL,NULL,NULL,open"),
            format!("9004,201,5,{opened_9004},2 00:55:00,2 00:55:00,{merged_source},merged"),
        ]
    );

    // Gold.
    assert_eq!(
        day_lines("select hour, type, events from gold.event_counts_hourly order by hour, type"),
        [
            "1 23:00:00,CreateEvent,1",
            "1 23:00:00,ForkEvent,1",
            "1 23:00:00,IssueCommentEvent,1",
            "1 23:00:00,IssuesEvent,1",
            "1 23:00:00,PullRequestEvent,3",
            "1 23:00:00,PushEvent,4",
            "1 23:00:00,ReleaseEvent,1",
            "1 23:00:00,WatchEvent,3",
            "2 00:00:00,DeleteEvent,1",
            "2 00:00:00,IssuesEvent,1",
            "2 00:00:00,PullRequestEvent,3",
            "2 00:00:00,PushEvent,3",
            "2 00:00:00,WatchEvent,3",
        ]
    );
    // The last 60 minutes before the latest event (2 00:55:00): the fork at 23:55:00 is out.
    assert_eq!(
        day_lines("select type, events, window_end from gold.events_last_n_minutes order by type"),
        [
            "CreateEvent,1,2 00:55:00",
            "DeleteEvent,1,2 00:55:00",
            "IssuesEvent,1,2 00:55:00",
            "PullRequestEvent,3,2 00:55:00",
            "PushEvent,4,2 00:55:00",
            "ReleaseEvent,1,2 00:55:00",
            "WatchEvent,3,2 00:55:00",
        ]
    );
    assert_eq!(
        day_lines("select hour, events, actors, repos from gold.hourly_summary order by hour"),
        ["1 23:00:00,15,5,3", "2 00:00:00,11,4,3"]
    );
    // +1 per push and pull-request event of a non-bot: renovate and dependabot score nothing.
    assert_eq!(
        day_lines(
            "select hour, actor_id, actor_login, score from gold.developer_scores_hourly order by hour, actor_id"
        ),
        [
            "1 23:00:00,101,alice,4",
            "1 23:00:00,102,bob,1",
            "2 00:00:00,101,alice,1",
            "2 00:00:00,102,bob,2",
            "2 00:00:00,105,carol,2",
        ]
    );
    assert_eq!(
        day_lines(
            "select hour, events, bot_events, round(bot_share, 4) from gold.bot_share order by hour"
        ),
        ["1 23:00:00,15,2,0.1333", "2 00:00:00,11,1,0.0909"]
    );
    // (last - first) / (n - 1): 201 has 23:25, 23:40, 00:55; 202 has 23:20, 00:10; 203 one event.
    assert_eq!(
        day_lines(
            "select repo_id, repo_name, pr_events, first_pr_event_at, last_pr_event_at, avg_seconds_between_pr_events \
                   from gold.repo_pr_cadence order by repo_id"
        ),
        [
            "201,alice/tool,3,1 23:25:00,2 00:55:00,2700.0",
            "202,acme/widget,2,1 23:20:00,2 00:10:00,3000.0",
        ]
    );
    assert_eq!(
        day_lines(
            "select repo_id, repo_name, events, actors, window_start, window_end, activity_rank \
                   from gold.active_repos order by activity_rank"
        ),
        [
            format!("201,alice/tool,13,4,{d1} 00:55:00,2 00:55:00,1"),
            format!("203,bob/website,8,3,{d1} 00:55:00,2 00:55:00,2"),
            format!("202,acme/widget,5,3,{d1} 00:55:00,2 00:55:00,3"),
        ]
        .map(day)
    );
    assert_eq!(
        lines(
            project,
            "select repo_id, repo_name, day::varchar, stars, previous_day_stars, star_growth, star_growth_ratio, trend_rank \
             from gold.trending_repos order by day, trend_rank"
        ),
        [
            format!("201,alice/tool,{d1},2,0,2,NULL,1"),
            format!("202,acme/widget,{d1},1,0,1,NULL,2"),
            format!("203,bob/website,{d2},2,0,2,NULL,1"),
            format!("201,alice/tool,{d2},1,2,-1,-0.5,2"),
        ]
    );
    assert_eq!(
        day_lines(
            "select actor_id, login, is_bot, events, push_events, pull_request_events, issues_events, issue_comments, \
                   stars_given, repos, first_seen, last_seen from gold.actor_metrics order by actor_id"
        ),
        [
            "101,alice,false,10,2,3,0,0,2,3,1 23:05:00,2 00:55:00",
            "102,bob,false,7,2,1,2,0,2,2,1 23:10:00,2 00:45:00",
            "103,dependabot[bot],true,2,1,1,0,0,0,1,1 23:25:00,2 00:20:00",
            "104,renovate,true,1,1,0,0,0,0,1,1 23:15:00,1 23:15:00",
            "105,carol,false,6,1,1,0,1,2,3,1 23:30:00,2 00:50:00",
        ]
    );
    let commits = |n: u32| {
        if full {
            n.to_string()
        } else {
            "NULL".to_owned()
        }
    };
    assert_eq!(
        day_lines(
            "select repo_id, repo_name, org_id, events, actors, push_events, pushed_commits, stars, forks, \
                   pull_request_events, pull_requests, pull_requests_merged, issues_opened, releases, first_seen, last_seen \
                   from gold.repo_metrics order by repo_id"
        ),
        [
            format!(
                "201,alice/tool,NULL,13,4,3,{},3,1,3,2,2,0,1,1 23:05:00,2 00:55:00",
                commits(5)
            ),
            format!(
                "202,acme/widget,301,5,3,2,{},1,0,2,1,1,0,0,1 23:15:00,2 00:50:00",
                commits(4)
            ),
            format!(
                "203,bob/website,NULL,8,3,2,{},2,0,1,1,0,1,0,1 23:10:00,2 00:45:00",
                commits(5)
            ),
        ]
    );
    assert_eq!(
        day_lines(
            "select org_id, login, events, repos, actors, push_events, pull_request_events, stars, first_seen, last_seen \
                   from gold.org_metrics"
        ),
        ["301,acme,5,1,3,2,2,1,1 23:15:00,2 00:50:00"]
    );
    assert_eq!(
        lines(
            project,
            "select type, events, actors, repos, bot_events, round(share_of_events, 4) from gold.event_type_metrics order by type"
        ),
        [
            "CreateEvent,1,1,1,0,0.0385",
            "DeleteEvent,1,1,1,0,0.0385",
            "ForkEvent,1,1,1,0,0.0385",
            "IssueCommentEvent,1,1,1,0,0.0385",
            "IssuesEvent,2,1,1,0,0.0769",
            "PullRequestEvent,6,4,3,1,0.2308",
            "PushEvent,7,5,3,2,0.2692",
            "ReleaseEvent,1,1,1,0,0.0385",
            "WatchEvent,6,3,3,0,0.2308",
        ]
    );
    // Full payloads: `created_at` -> `merged_at`; trimmed: `opened` event -> `merged` event,
    // and NULL for 9004, whose opening the trimmed data never shows.
    let latency = if full {
        ["9001,2998", "9002,900", "9004,175500"]
    } else {
        ["9001,3000", "9002,900", "9004,NULL"]
    };
    assert_eq!(
        lines(
            project,
            "select pr_id, merge_latency_seconds from gold.pr_merge_latency order by pr_id"
        ),
        latency
    );
}

#[test]
fn golden_values_of_every_gold_model_with_full_payloads() {
    let dir = built(Era::Full);
    assert_golden(dir.path(), Era::Full);
}

#[test]
fn golden_values_of_every_gold_model_with_trimmed_payloads() {
    let dir = built(Era::Trimmed);
    assert_golden(dir.path(), Era::Trimmed);
}

/// One hour per run: after the first, PR 9001 is open and alice was last seen at 23:59:30;
/// after the second, 9001 is merged, alice's `last_seen` moved, 203 has its new name, and every
/// silver and gold table equals the one-shot build of both hours.
#[test]
fn incremental_second_run_moves_last_seen_and_completes_a_pull_request() {
    for era in [Era::Full, Era::Trimmed] {
        let (d1, d2) = era.days();
        let (first, second) = era.hours();
        let dir = project_with_archive(era);
        let project = dir.path();
        load(project, &first);
        build(project);
        assert_eq!(
            lines(
                project,
                "select last_seen from silver.actors where actor_id = 101"
            ),
            [format!("{d1} 23:59:30")]
        );
        assert_eq!(
            lines(
                project,
                "select state, merged_at from silver.pull_requests where pr_id = 9001"
            ),
            ["open,NULL"]
        );
        assert_eq!(
            lines(
                project,
                "select repo_name from silver.repos where repo_id = 203"
            ),
            ["bob/site"]
        );
        load(project, &second);
        build(project);
        assert_eq!(
            lines(
                project,
                "select first_seen, last_seen from silver.actors where actor_id = 101"
            ),
            [format!("{d1} 23:05:00,{d2} 00:55:00")]
        );
        assert_eq!(
            lines(
                project,
                "select state from silver.pull_requests where pr_id = 9001"
            ),
            ["merged"]
        );
        assert_golden(project, era);
        let one_shot = built(era);
        assert_eq!(all_tables(project), all_tables(one_shot.path()), "{era:?}");
    }
}

/// The model names `ghforge ls --select <select>` lists, sorted.
fn list(project: &Path, select: &str) -> Vec<String> {
    let output = common::ghforge(project)
        .args(["ls", "--select", select, "--resource-type", "model"])
        .args(["--output", "name"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, project)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

const GOLD: [&str; 17] = [
    "active_repos",
    "actor_metrics",
    "bot_share",
    "developer_scores_hourly",
    "event_counts_hourly",
    "event_type_metrics",
    "events_last_n_minutes",
    "hourly_summary",
    "language_activity",
    "org_metrics",
    "pr_merge_latency",
    "repo_activity_profiles",
    "repo_cluster_centroids",
    "repo_clusters",
    "repo_metrics",
    "repo_pr_cadence",
    "trending_repos",
];

const SILVER: [&str; 15] = [
    "actors",
    "commits",
    "creates",
    "deletes",
    "events",
    "forks",
    "issue_comments",
    "issues",
    "orgs",
    "pull_request_events",
    "pull_requests",
    "pushes",
    "releases",
    "repos",
    "stars",
];

#[test]
fn gold_plus_and_silver_events_plus_select_what_a_dbt_user_expects() {
    let dir = common::copy_bundled_project();
    // `gold+`: the gold folder and its descendants (gold models are leaves).
    assert_eq!(list(dir.path(), "gold+"), GOLD);
    // `silver.events+`: silver events and everything built on it: every model but
    // `silver.repo_metadata`, which reads `bronze.repo_metadata`.
    let mut everything: Vec<&str> = GOLD.iter().chain(SILVER.iter()).copied().collect();
    everything.sort_unstable();
    assert_eq!(list(dir.path(), "silver.events+"), everything);
    // `+pr_merge_latency`: its ancestors through the pull request lifecycle.
    assert_eq!(
        list(dir.path(), "+pr_merge_latency"),
        [
            "events",
            "pr_merge_latency",
            "pull_request_events",
            "pull_requests"
        ]
    );
}

#[test]
fn run_select_gold_plus_rebuilds_gold_only() {
    let dir = built(Era::Full);
    let transcript = ghforge_ok(dir.path(), &["run", "--select", "gold+", "--no-tests"]);
    assert!(
        transcript.contains("OK=17 ERROR=0 SKIP=0 TOTAL=17"),
        "{transcript}"
    );
    assert!(!transcript.contains("silver."), "{transcript}");
    assert_golden(dir.path(), Era::Full);
}

#[test]
fn regression_build_before_any_load_says_to_load_first() {
    let project = common::copy_bundled_project();
    let project = project.path();
    let output = common::ghforge(project)
        .args(["build", "--select", "silver.events"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let warnings: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
        .filter(|line| line.contains("warning:") || line.contains("hint:"))
        .map(str::to_owned)
        .collect();
    insta::assert_snapshot!(warnings.join("\n"), @r#"
    00:00:00  warning: source `gharchive.events` ("ghforge"."bronze"."events") does not exist in the warehouse yet; 1 selected node reads it and will fail
      hint: run `ghforge load --from <hour> [--to <hour>]` first (or `ghforge load --live`)
    "#);
}
