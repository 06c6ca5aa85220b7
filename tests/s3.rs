//! S3 end to end against a real S3 server on loopback (moto): `ghforge load --destination s3://`
//! lands one object per hour and skips verified ones on rerun, models read bronze from S3
//! through DuckDB's httpfs, external models write Parquet to S3 and an incremental external
//! model rewrites only the partitions its new rows touch; a server restart mid-load is reported
//! and a rerun completes with nothing duplicated; the secret key never reaches logs or artifacts.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

use common::s3_server::{KEY_ID, S3Server, SECRET};
use ghforge::storage::{Location, ObjectInfo, Storage};

fn project(server: &S3Server, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp");
    common::write_files(
        dir.path(),
        &[
            (
                "ghforge_project.yml",
                "name: lake\nversion: \"1.0\"\nprofile: lake\n",
            ),
            ("profiles.yml", &server.profile("lake")),
        ],
    );
    common::write_files(dir.path(), files);
    dir
}

fn ghforge(project: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = common::ghforge(project)
        .env("TEST_S3_SECRET", SECRET)
        .args(args)
        .output()
        .expect("runs");
    (output.status.code(), common::transcript(&output, project))
}

fn generate(project: &Path, from: &str, to: &str, faults: &str) {
    common::gen_archive(
        project,
        from,
        to,
        &["--events-per-hour", "300", "--faults", faults],
    );
}

fn generate_sized(project: &Path, from: &str, to: &str, events: &str) {
    common::gen_archive(project, from, to, &["--events-per-hour", events]);
}

fn store(server: &S3Server, url: &str) -> Box<dyn Storage> {
    let config = serde_json::from_value(serde_json::json!({
        "endpoint": server.endpoint(),
        "region": "us-east-1",
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
    }))
    .expect("s3 config");
    Location::parse(url, Path::new("/"))
        .expect("location")
        .open(Some(&config))
        .expect("open store")
}

fn keys(objects: &[ObjectInfo]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

/// The secret key is in no output and no file the run left in the project.
fn assert_no_secret(project: &Path, transcripts: &[&str]) {
    for transcript in transcripts {
        assert!(
            !transcript.contains(SECRET),
            "secret in output:\n{transcript}"
        );
    }
    for entry in walkdir::WalkDir::new(project) {
        let entry = entry.expect("walk");
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && name != "profiles.yml" && !name.ends_with(".duckdb") {
            let bytes = std::fs::read(entry.path()).expect("read");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "secret in {}",
                entry.path().display()
            );
        }
    }
}

#[test]
fn hours_land_as_objects_and_reruns_skip_only_verified_ones() {
    let server = S3Server::start(None);
    server.create_bucket("lake");
    let dir = project(&server, &[]);
    generate(
        dir.path(),
        "2024-04-01T00",
        "2024-04-01T02",
        "dupes,malformed",
    );
    let load = |format: &str, prefix: &str| {
        ghforge(
            dir.path(),
            &[
                "load",
                "--from",
                "2024-04-01T00",
                "--to",
                "2024-04-01T03",
                "--source",
                "archive",
                "--destination",
                &format!("s3://lake/{prefix}"),
                "--format",
                format,
            ],
        )
    };
    let (code, first) = load("parquet", "bronze");
    assert_eq!(code, Some(0), "{first}");
    let bronze = store(&server, "s3://lake/bronze");
    let objects = bronze.list("").expect("list");
    let listed = keys(&objects);
    for hour in 0..3 {
        let folder = format!("year=2024/month=04/day=01/hour={hour}");
        assert!(
            listed.contains(&format!("{folder}/2024-04-01-{hour}.parquet").as_str()),
            "{listed:?}"
        );
        assert!(
            listed.contains(&format!("_quarantine/{folder}/2024-04-01-{hour}.parquet").as_str()),
            "{listed:?}"
        );
    }
    assert_eq!(objects.len(), 6, "{listed:?}");
    // The ledger names each object with its size and checksum; hour 3 is missing upstream.
    let ledger = common::query(
        dir.path(),
        "select strftime(hour, '%H'), status, object_key, bytes > 0, length(checksum) from bronze.object_ledger order by hour",
    );
    assert_eq!(
        ledger[0],
        [
            "00",
            "loaded",
            "year=2024/month=04/day=01/hour=0/2024-04-01-0.parquet",
            "true",
            "64"
        ]
    );
    assert_eq!(ledger[3][..2], ["03", "missing"]);
    let head = bronze
        .head("year=2024/month=04/day=01/hour=1/2024-04-01-1.parquet")
        .expect("head")
        .expect("object");
    assert_eq!(
        head.sha256.as_deref().map(str::len),
        Some(64),
        "the object carries its SHA-256"
    );

    // A rerun skips the verified hours; an hour whose object went missing is loaded again.
    bronze
        .delete(&["year=2024/month=04/day=01/hour=2/2024-04-01-2.parquet".to_owned()])
        .expect("delete");
    let (code, rerun) = load("parquet", "bronze");
    assert_eq!(code, Some(0), "{rerun}");
    assert!(rerun.contains("skipped 2024-04-01T00"), "{rerun}");
    assert!(rerun.contains("skipped 2024-04-01T01"), "{rerun}");
    assert!(rerun.contains("loaded 2024-04-01T02"), "{rerun}");
    assert_eq!(bronze.list("").expect("list").len(), 6);

    // Raw objects are the hour files byte for byte.
    let (code, raw) = load("raw", "raw");
    assert_eq!(code, Some(0), "{raw}");
    let mut body = store(&server, "s3://lake/raw")
        .get("year=2024/month=04/day=01/hour=0/2024-04-01-0.json.gz")
        .expect("get")
        .expect("object");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut body, &mut bytes).expect("read");
    assert_eq!(
        bytes,
        std::fs::read(dir.path().join("archive/2024-04-01-0.json.gz")).expect("read")
    );
    assert_no_secret(dir.path(), &[&first, &rerun, &raw]);
}

const SOURCES: &str = "version: 2
sources:
  - name: lake
    tables:
      - name: events
        config:
          external_location: \"read_parquet('s3://lake/bronze/year=*/*/*/*/*.parquet')\"
";

const DAILY: &str = "{{ config(
    materialized='external',
    location='s3://lake/gold/daily_counts',
    partition_by=['day'],
    incremental_strategy='insert_overwrite',
) }}
select strftime(created_at, '%Y-%m-%d') as day, type, count(distinct id) as events
from {{ source('lake', 'events') }}
{% if is_incremental() %}
where strftime(created_at, '%Y-%m-%d') >= (select cast(max(day) as varchar) from {{ this }})
{% endif %}
group by all
";

#[test]
fn models_read_bronze_on_s3_and_incremental_external_models_overwrite_only_touched_partitions() {
    let server = S3Server::start(None);
    server.create_bucket("lake");
    let dir = project(
        &server,
        &[
            ("models/sources.yml", SOURCES),
            ("models/daily_counts.sql", DAILY),
            (
                "models/total.sql",
                "{{ config(materialized='table') }}\nselect sum(events) as events from {{ ref('daily_counts') }}\n",
            ),
        ],
    );
    generate(dir.path(), "2024-04-01T22", "2024-04-02T01", "dupes");
    let load = |from: &str, to: &str| {
        let (code, transcript) = ghforge(
            dir.path(),
            &[
                "load",
                "--from",
                from,
                "--to",
                to,
                "--source",
                "archive",
                "--destination",
                "s3://lake/bronze",
            ],
        );
        assert_eq!(code, Some(0), "{transcript}");
        transcript
    };
    let first_load = load("2024-04-01T22", "2024-04-02T00");
    let (code, first_run) = ghforge(dir.path(), &["run"]);
    assert_eq!(code, Some(0), "{first_run}");
    let gold = store(&server, "s3://lake/gold/daily_counts");
    let before = gold.list("").expect("list");
    let folders: Vec<&str> = before
        .iter()
        .map(|o| o.key.rsplit_once('/').expect("folder").0)
        .collect();
    assert_eq!(folders, ["day=2024-04-01", "day=2024-04-02"], "{before:?}");
    // What `daily_counts` sums to: distinct (day, type, id) over the hours' files.
    let distinct = |hours: &str| {
        let mut seen = std::collections::BTreeSet::new();
        for hour in hours.split(',') {
            let path = dir.path().join(format!("archive/{hour}.json.gz"));
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("open")),
                &mut text,
            )
            .expect("gunzip");
            for line in text.lines() {
                let event: serde_json::Value = serde_json::from_str(line).expect("json");
                let day = event["created_at"].as_str().expect("created_at")[..10].to_owned();
                seen.insert((day, event["type"].to_string(), event["id"].to_string()));
            }
        }
        seen.len().to_string()
    };
    assert_eq!(
        common::query(dir.path(), "select events from main.total")[0][0],
        distinct("2024-04-01-22,2024-04-01-23,2024-04-02-0")
    );

    // One more hour of day 2: only day 2's files are rewritten.
    load("2024-04-02T01", "2024-04-02T01");
    let (code, second_run) = ghforge(dir.path(), &["run"]);
    assert_eq!(code, Some(0), "{second_run}");
    let after = gold.list("").expect("list");
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], before[0], "day 1 is left alone");
    assert_eq!(
        after[1].key.rsplit_once('/').expect("folder").0,
        "day=2024-04-02"
    );
    assert_ne!(after[1].key, before[1].key, "day 2 is rewritten");
    assert_eq!(
        common::query(dir.path(), "select events from main.total")[0][0],
        distinct("2024-04-01-22,2024-04-01-23,2024-04-02-0,2024-04-02-1")
    );
    // A full refresh rewrites everything.
    let (code, full) = ghforge(dir.path(), &["run", "--full-refresh"]);
    assert_eq!(code, Some(0), "{full}");
    let refreshed = gold.list("").expect("list");
    assert_eq!(refreshed.len(), 2);
    assert_ne!(refreshed[0].key, after[0].key);
    assert_no_secret(dir.path(), &[&first_load, &first_run, &second_run, &full]);
}

#[test]
fn a_server_restart_mid_load_is_reported_and_a_rerun_completes_without_duplicates() {
    let server = S3Server::start(None);
    server.create_bucket("lake");
    let dir = project(&server, &[]);
    generate_sized(dir.path(), "2024-04-03T00", "2024-04-03T11", "4000");
    let args = [
        "load",
        "--from",
        "2024-04-03T00",
        "--to",
        "2024-04-03T11",
        "--source",
        "archive",
        "--destination",
        "s3://lake/bronze",
        "--jobs",
        "1",
        "--retries",
        "1",
    ];
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ghforge"))
        .current_dir(dir.path())
        .env("HOME", dir.path().join(".no-home"))
        .env("NO_COLOR", "1")
        .env("TEST_S3_SECRET", SECRET)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Once a few hours have landed, restart the server (moto forgets its buckets).
    let bronze = store(&server, "s3://lake/bronze");
    let waited = std::time::Instant::now();
    while bronze.list("").map_or(0, |objects| objects.len()) < 2 {
        assert!(waited.elapsed().as_secs() < 120, "the load never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let port = server.stop();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let server = S3Server::start(Some(port));
    server.create_bucket("lake");
    let output = child.wait_with_output().expect("wait");
    let interrupted = common::transcript(&output, dir.path());
    assert_eq!(output.status.code(), Some(1), "{interrupted}");
    assert!(interrupted.contains("failed: "), "{interrupted}");
    assert!(
        interrupted.contains("S3 "),
        "the error names S3: {interrupted}"
    );

    // The rerun loads every hour whose object is not there, including those the restart lost.
    let (code, rerun) = ghforge(dir.path(), &args);
    assert_eq!(code, Some(0), "{rerun}");
    let objects = store(&server, "s3://lake/bronze").list("").expect("list");
    assert_eq!(
        objects.len(),
        12,
        "one object per hour: {:?}",
        keys(&objects)
    );
    assert_eq!(
        common::query(
            dir.path(),
            "select count(*), count(distinct hour) from bronze.object_ledger where status = 'loaded'"
        ),
        [["12", "12"]]
    );
    assert_no_secret(dir.path(), &[&interrupted, &rerun]);
}

#[test]
fn an_s3_mirror_is_a_load_source_and_big_objects_go_up_in_parts() {
    let server = S3Server::start(None);
    server.create_bucket("lake");
    let dir = project(&server, &[]);
    generate(dir.path(), "2024-04-05T00", "2024-04-05T01", "dupes");
    let mirror = store(&server, "s3://lake/mirror");
    for hour in 0..2 {
        let name = format!("2024-04-05-{hour}.json.gz");
        mirror
            .put_file(&name, &dir.path().join("archive").join(&name), "unchecked")
            .expect("upload");
    }
    let (code, transcript) = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-04-05T00",
            "--to",
            "2024-04-05T02",
            "--source",
            "s3://lake/mirror",
        ],
    );
    assert_eq!(code, Some(0), "{transcript}");
    assert_eq!(
        common::query(
            dir.path(),
            "select strftime(hour, '%H'), status, rows, source_file from bronze.load_ledger order by hour"
        ),
        [
            [
                "00".to_owned(),
                "loaded".to_owned(),
                common::line_count(&dir.path().join("archive/2024-04-05-0.json.gz")).to_string(),
                "s3://lake/mirror/2024-04-05-0.json.gz".to_owned()
            ],
            [
                "01".to_owned(),
                "loaded".to_owned(),
                common::line_count(&dir.path().join("archive/2024-04-05-1.json.gz")).to_string(),
                "s3://lake/mirror/2024-04-05-1.json.gz".to_owned()
            ],
            [
                "02".to_owned(),
                "missing".to_owned(),
                "0".to_owned(),
                "s3://lake/mirror/2024-04-05-2.json.gz".to_owned()
            ],
        ]
    );

    // 40 MiB goes up as a multipart upload (16 MiB parts) and comes back byte for byte.
    let big = dir.path().join("big.bin");
    let bytes: Vec<u8> = (0..40u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&big, &bytes).expect("write");
    mirror
        .put_file("big.bin", &big, "abc123")
        .expect("multipart upload");
    let head = mirror.head("big.bin").expect("head").expect("object");
    assert_eq!(
        (head.size, head.sha256.as_deref()),
        (40 << 20, Some("abc123"))
    );
    let mut back = Vec::new();
    std::io::Read::read_to_end(
        &mut mirror.get("big.bin").expect("get").expect("object"),
        &mut back,
    )
    .expect("read");
    assert!(back == bytes, "the object comes back whole");
}
