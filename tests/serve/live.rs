//! The serve process's life: start-up errors with their hints, graceful shutdown on SIGTERM,
//! and answering a steady stream of requests while `load` and `build` write a new run, then
//! switching to the new run's snapshot within about a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;

#[test]
fn serve_without_a_snapshot_is_exit_2_with_the_hint_to_build() {
    let dir = common::copy_bundled_project();
    let output = common::ghforge(dir.path())
        .args(["serve", "--port", "0"])
        .output()
        .expect("runs");
    insta::assert_snapshot!(common::transcript(&output, dir.path()), @r"
    exit code: 2
    --- stdout
    --- stderr
    error[project]: no serving snapshot under `[PROJECT]/ghforge-target/serve`
    hint: run `ghforge build` first: every successful `run` or `build` publishes a snapshot (or run `ghforge publish`)
    ");
}

#[test]
fn a_taken_port_is_exit_2_naming_it() {
    let project = shared();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let output = common::ghforge(project)
        .args(["serve", "--port", &port.to_string()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on `127.0.0.1:{port}`")),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: another program listens on port"),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let server = Server::start(shared());
    assert_eq!(server.get("/api/snapshot").status(), 200);
    let (code, output) = server.stop();
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("Stopped serving."), "{output}");
}

/// Request a few endpoints in a loop until `stop`; counts answers and failures.
fn request_stream(
    url: String,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let client = server::client();
        let paths = [
            "/api/events/count?offset=60",
            "/api/repositories/active?limit=10",
            "/api/summary/hourly",
            "/api/events/types",
        ];
        let mut index = 0;
        while !stop.load(Ordering::Relaxed) {
            let path = paths[index % paths.len()];
            index += 1;
            match client.get(format!("{url}{path}")).send() {
                Ok(response) if response.status() == 200 => {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                Ok(response) => failures
                    .lock()
                    .expect("lock")
                    .push(format!("{path}: {}", response.status())),
                Err(err) => failures
                    .lock()
                    .expect("lock")
                    .push(format!("{path}: {err}")),
            }
        }
    })
}

#[test]
fn serving_continues_while_load_and_build_write_and_switches_to_the_new_run() {
    let dir = built_project(FIRST, "2024-05-01T02");
    let project = dir.path();
    let server = Server::start(project);
    let before = server.json("/api/snapshot")["invocation_id"].clone();
    assert_eq!(
        server.json("/api/summary/hourly")["hours"]
            .as_array()
            .expect("hours")
            .len(),
        3
    );

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stream = request_stream(
        server.url.clone(),
        stop.clone(),
        answered.clone(),
        failures.clone(),
    );
    load_and_build(project, "2024-05-01T03", LAST);
    let built = Instant::now();
    let after = loop {
        let info = server.json("/api/snapshot");
        if info["invocation_id"] != before {
            break info;
        }
        assert!(
            built.elapsed() < Duration::from_secs(5),
            "the server never switched"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let switched_in = built.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    stream.join().expect("stream");
    let failures = failures.lock().expect("lock").clone();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        answered.load(Ordering::Relaxed) > 20,
        "a steady stream was answered"
    );
    assert!(
        switched_in < Duration::from_millis(1500),
        "switched in {switched_in:?}"
    );
    eprintln!(
        "answered {} requests during load+build; switched {switched_in:?} after the build",
        answered.load(Ordering::Relaxed)
    );

    // The new run's numbers.
    assert_eq!(after["command"], "build");
    assert_eq!(
        server.json("/api/summary/hourly")["hours"]
            .as_array()
            .expect("hours")
            .len(),
        6
    );
    assert_eq!(server.json("/api/events/count")["as_of"], latest(project));

    // `ghforge publish` publishes on demand; the newest two snapshots stay.
    let transcript = ok(project, &["publish"]);
    assert!(
        transcript.contains("Published serving snapshot"),
        "{transcript}"
    );
    let published = Instant::now();
    while server.json("/api/snapshot")["command"] != "publish" {
        assert!(
            published.elapsed() < Duration::from_secs(5),
            "never switched to the published one"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let snapshots = std::fs::read_dir(project.join("ghforge-target/serve"))
        .expect("serve dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".duckdb"))
        .count();
    assert_eq!(snapshots, 2);
    let history = std::fs::read_dir(project.join("ghforge-target/history"))
        .expect("history")
        .count();
    assert_eq!(history, 2, "one history entry per run");
    assert_eq!(
        server.json("/api/runs")["runs"]
            .as_array()
            .expect("runs")
            .len(),
        2
    );
}

#[test]
fn serve_config_chooses_the_served_relations() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    for (file, config) in [
        ("models/gold/org_metrics.sql", "{{ config(serve=false) }}\n"),
        ("models/silver/repos.sql", "{{ config(serve=true) }}\n"),
    ] {
        let path = project.join(file);
        let text = std::fs::read_to_string(&path).expect("model");
        std::fs::write(&path, format!("{config}{text}")).expect("write");
    }
    common::gen_archive(project, FIRST, FIRST, &["--events-per-hour", "200"]);
    load_and_build(project, FIRST, FIRST);
    let snapshot = std::fs::read_dir(project.join("ghforge-target/serve"))
        .expect("serve dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "duckdb"))
        .expect("a snapshot");
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("config");
    let connection = duckdb::Connection::open_with_flags(&snapshot, config).expect("open");
    let mut statement = connection
        .prepare("select schema_name || '.' || table_name from duckdb_tables() order by 1")
        .expect("prepare");
    let tables: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(tables.contains(&"silver.repos".to_owned()), "{tables:?}");
    assert!(
        !tables.contains(&"gold.org_metrics".to_owned()),
        "{tables:?}"
    );
    assert!(!tables.contains(&"silver.events".to_owned()), "{tables:?}");
    for table in [
        "gold.hourly_summary",
        "_ghforge.snapshot",
        "_ghforge.events",
        "_ghforge.load_ledger",
        "_ghforge.served",
    ] {
        assert!(tables.contains(&table.to_owned()), "{table} in {tables:?}");
    }
}

#[test]
fn a_failed_build_is_kept_in_the_history_but_publishes_nothing() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    common::gen_archive(project, FIRST, FIRST, &["--events-per-hour", "200"]);
    load_and_build(project, FIRST, FIRST);
    common::write_files(
        project,
        &[(
            "models/gold/broken.sql",
            "select no_such_column from {{ ref('events') }}\n",
        )],
    );
    let output = common::ghforge(project)
        .arg("build")
        .output()
        .expect("runs");
    let transcript = common::transcript(&output, project);
    assert_eq!(output.status.code(), Some(1), "{transcript}");
    assert!(
        !transcript.contains("Published serving snapshot"),
        "{transcript}"
    );
    let count = |folder: &str, extension: &str| {
        std::fs::read_dir(project.join("ghforge-target").join(folder))
            .expect("folder")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(extension))
            .count()
    };
    assert_eq!(count("serve", ".duckdb"), 1);
    assert_eq!(count("history", ".json"), 2);
    let server = Server::start(project);
    let runs = server.json("/api/runs");
    assert_eq!(runs["runs"][0]["status"], "error");
    assert_eq!(runs["runs"][1]["status"], "success");
    assert_eq!(
        server.json("/api/snapshot")["invocation_id"],
        runs["runs"][1]["invocation_id"]
    );
    let metrics = server.get("/metrics").text().expect("metrics");
    assert!(
        metrics.contains("ghforge_last_run_success{command=\"build\""),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("ghforge_last_run_success") && l.ends_with(" 0")),
        "{metrics}"
    );
}
