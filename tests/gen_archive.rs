//! `ghforge gen-archive`: real file naming, determinism, both payload eras, pull requests that
//! span hours, and the faults (duplicates, malformed lines, huge lines) it injects on request.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

fn generate(out: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(out.parent().expect("parent"))
        .args(["gen-archive", "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("runs")
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open"))
        .read_to_end(&mut bytes)
        .expect("gunzip");
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn events(path: &Path) -> Vec<serde_json::Value> {
    lines(path)
        .iter()
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .filter(|e| e.get("created_at").is_some())
        .collect()
}

#[test]
fn hour_files_are_named_like_the_archive_and_deterministic() {
    let dir = tempfile::tempdir().expect("temp");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    for (out, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let output = generate(
            out,
            &[
                "--from",
                "2024-01-01T08",
                "--to",
                "2024-01-01T10",
                "--events-per-hour",
                "300",
                "--seed",
                seed,
            ],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let names: BTreeSet<String> = std::fs::read_dir(&a)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "2024-01-01-10.json.gz",
            "2024-01-01-8.json.gz",
            "2024-01-01-9.json.gz"
        ]
        .map(String::from)
        .into()
    );
    for name in &names {
        assert_eq!(
            lines(&a.join(name)),
            lines(&b.join(name)),
            "same seed, same lines"
        );
        assert_ne!(
            lines(&a.join(name)),
            lines(&c.join(name)),
            "another seed, other lines"
        );
    }
    let hour = events(&a.join("2024-01-01-9.json.gz"));
    assert_eq!(hour.len(), 300);
    assert!(hour.iter().all(|e| {
        e["created_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("2024-01-01T09:"))
    }));
    let types: BTreeSet<&str> = hour.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(types.len() >= 10, "{types:?}");
    let pushes = hour.iter().filter(|e| e["type"] == "PushEvent").count();
    assert!(
        (120..=230).contains(&pushes),
        "PushEvent share: {pushes} of 300"
    );
    assert!(hour.iter().any(|e| {
        e["actor"]["login"]
            .as_str()
            .is_some_and(|l| l.ends_with("[bot]"))
    }));
    assert!(hour.iter().any(|e| e.get("org").is_some()));
}

#[test]
fn payloads_follow_the_era_and_pull_requests_span_hours() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("out");
    let output = generate(
        &out,
        &[
            "--from",
            "2025-10-06T22",
            "--to",
            "2025-10-07T01",
            "--events-per-hour",
            "800",
        ],
    );
    assert!(output.status.success());
    let full = events(&out.join("2025-10-06-23.json.gz"));
    let trimmed = events(&out.join("2025-10-07-0.json.gz"));
    let push = |events: &[serde_json::Value]| {
        events
            .iter()
            .find(|e| {
                e["type"] == "PushEvent"
                    && e["created_at"]
                        .as_str()
                        .is_some_and(|t| !t.starts_with("2025-10-06T22"))
            })
            .cloned()
            .expect("a push")
    };
    let full_push = push(&full);
    assert!(full_push["payload"]["size"].is_u64() && full_push["payload"]["commits"].is_array());
    let trimmed_push = &push(&trimmed)["payload"];
    assert!(trimmed_push.get("size").is_none() && trimmed_push.get("commits").is_none());
    assert!(trimmed_push["head"].is_string());
    // Pull requests opened in one hour are closed or merged in a later one.
    let mut opened: BTreeMap<u64, String> = BTreeMap::new();
    let mut spanning = 0;
    let mut actions = BTreeSet::new();
    for name in [
        "2025-10-06-22.json.gz",
        "2025-10-06-23.json.gz",
        "2025-10-07-0.json.gz",
        "2025-10-07-1.json.gz",
    ] {
        for event in events(&out.join(name))
            .iter()
            .filter(|e| e["type"] == "PullRequestEvent")
        {
            let id = event["payload"]["pull_request"]["id"]
                .as_u64()
                .expect("pr id");
            let action = event["payload"]["action"]
                .as_str()
                .expect("action")
                .to_owned();
            actions.insert(action.clone());
            if action == "opened" {
                opened.insert(id, name.to_owned());
            } else if opened.get(&id).is_some_and(|hour| hour != name) {
                spanning += 1;
            }
        }
    }
    assert!(spanning > 0, "no pull request spans hours");
    assert!(
        actions.contains("merged"),
        "trimmed era merges: {actions:?}"
    );
    assert!(
        full.iter()
            .any(|e| e["payload"]["pull_request"]["merged"] == true)
    );
}

#[test]
fn faults_are_injected_on_request() {
    let dir = tempfile::tempdir().expect("temp");
    let out = dir.path().join("out");
    let output = generate(
        &out,
        &[
            "--from",
            "2024-06-01T00",
            "--to",
            "2024-06-01T01",
            "--events-per-hour",
            "500",
            "--faults",
            "dupes,malformed,huge-lines",
        ],
    );
    assert!(output.status.success());
    let second = lines(&out.join("2024-06-01-1.json.gz"));
    let invalid = second
        .iter()
        .filter(|l| serde_json::from_slice::<serde_json::Value>(l).is_err())
        .count();
    let missing_fields = second
        .iter()
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .filter(|e| e.get("created_at").is_none())
        .count();
    assert_eq!((invalid, missing_fields), (4, 1));
    assert!(
        second.iter().any(|l| l.contains(&0)),
        "a line with NUL bytes"
    );
    assert!(
        second.iter().any(|l| std::str::from_utf8(l).is_err()),
        "a line with invalid UTF-8"
    );
    let mut seen = BTreeSet::new();
    let duplicates = second.iter().filter(|l| !seen.insert((*l).clone())).count();
    assert!(duplicates >= 1);
    // The last event of the first hour appears again in the second, byte for byte.
    let first = lines(&out.join("2024-06-01-0.json.gz"));
    assert!(second.contains(first.last().expect("lines")));
    assert!(
        second.iter().any(|l| l.len() > 100_000),
        "a line over 100 KB"
    );
    let transcript = common::transcript(&output, dir.path());
    assert!(
        transcript.contains("Generated 2 hour files, 1000 events"),
        "{transcript}"
    );
}

#[test]
fn a_bad_hour_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp");
    let output = generate(&dir.path().join("out"), &["--from", "2024-01-01T25"]);
    assert_eq!(output.status.code(), Some(2));
    let transcript = common::transcript(&output, dir.path());
    assert!(
        transcript.contains("error[project]: `--from`: `2024-01-01T25` has no valid hour (0-23)"),
        "{transcript}"
    );
    assert!(transcript.contains("hint: hours are UTC"), "{transcript}");
}
