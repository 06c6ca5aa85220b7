//! `ghforge run` / `test` / `build` on a Snowflake target, against the fakesnow emulator behind
//! `tests/support/snowflake_server.py` (started once per test binary by
//! `scripts/snowflake-emulator.sh`; each test works in a database of its own): password and
//! key-pair logins, every materialization with second runs, data tests passing and failing, a
//! bad model surfacing Snowflake's code and message, typed query results, secrets never
//! reaching the output or the artifacts, bronze landing, and the bundled GH Archive project built
//! on generated hours with every silver and gold table equal to the DuckDB build of the same
//! hours.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;
#[path = "common/snowflake_emulator.rs"]
mod emulator;

use std::path::{Path, PathBuf};

use emulator::port;
use ghforge::adapters::snowflake::SnowflakeAdapter;
use ghforge::project::profiles::{SnowflakeTarget, Target, Warehouse};
use serde_json::{Value, json};

const PASSWORD: &str = "sf-Pa55word-never-shown";
const PASSPHRASE: &str = "ghforge-test-passphrase";

/// How a test's profile logs in.
#[derive(Clone, Copy)]
enum Login {
    Password,
    /// The unencrypted PKCS#8 key.
    KeyPair,
    /// The encrypted key, its passphrase through `env_var('SF_KEY_PASSPHRASE')`.
    EncryptedKeyPair,
}

/// The database a test works in: its own, created by the emulator at login.
fn database(test: &str) -> String {
    format!("T_{}", test.to_ascii_uppercase())
}

/// A copy of the `snowflake` fixture with a profile for `test`'s database.
fn project(test: &str, login: Login) -> tempfile::TempDir {
    let dir = common::copy_fixture("snowflake");
    let auth = match login {
        Login::Password => format!("password: \"{PASSWORD}\""),
        Login::KeyPair => "private_key_path: keys/plain.p8".to_owned(),
        Login::EncryptedKeyPair => "private_key_path: keys/encrypted.p8\n      private_key_passphrase: \"{{ env_var('SF_KEY_PASSPHRASE') }}\"".to_owned(),
    };
    let profile = format!(
        "snowflake_people:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: ghforge-test\n      user: ghforge\n      {auth}\n      role: SYSADMIN\n      warehouse: WH\n      database: {}\n      schema: PUBLIC\n      threads: 2\n      query_tag: ghforge-tests\n      endpoint: http://127.0.0.1:{}\n",
        database(test),
        port()
    );
    std::fs::write(dir.path().join("profiles.yml"), profile).expect("write profiles");
    dir
}

fn run(project: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(project)
        .env("SF_KEY_PASSPHRASE", PASSPHRASE)
        .args(args)
        .output()
        .expect("runs")
}

fn assert_ok(output: &std::process::Output, project: &Path) {
    assert!(
        output.status.success(),
        "{}",
        common::transcript(output, project)
    );
}

/// `(name, status, failures)` of every result of the last command, sorted by name.
fn results(project: &Path) -> Vec<(String, String, Option<u64>)> {
    common::results_in(&project.join("target"))
}

/// A session on `database` through the library's adapter (password login).
fn session(database: &str) -> Box<dyn ghforge::adapters::Session> {
    emulator::session(database, PASSWORD)
}

/// Rows of `sql` in `database`, as JSON values.
fn query(database: &str, sql: &str) -> Vec<Vec<Value>> {
    session(database).query(sql).expect("query").rows
}

/// `"DB"."schema"."name"` of a model in a test's database.
fn relation(test: &str, schema: &str, name: &str) -> String {
    format!("\"{}\".\"{schema}\".\"{name}\"", database(test))
}

#[test]
fn every_materialization_builds_and_second_runs_apply_each_strategy() {
    let test = "materializations";
    let dir = project(test, Login::Password);
    let project = dir.path();
    let output = run(
        project,
        &[
            "run",
            "--vars",
            "{max_id: 3}",
            "--threads",
            "2",
            "--no-tests",
        ],
    );
    assert_ok(&output, project);
    assert!(
        results(project)
            .iter()
            .all(|(_, status, _)| status == "success"),
        "{:?}",
        results(project)
    );
    let marts = |name: &str| relation(test, "PUBLIC_marts", name);
    // Views and tables where the config says, nothing for the ephemeral model.
    let mut kinds = query(
        &database(test),
        "select table_schema || '.' || table_name, 'view' from information_schema.views where table_schema like 'PUBLIC%' union all select table_schema || '.' || table_name, 'table' from information_schema.tables where table_schema like 'PUBLIC%' and table_type <> 'VIEW' order by 1",
    );
    kinds.sort_by_key(|row| row[0].to_string());
    assert_eq!(
        kinds,
        [
            ["PUBLIC.people_source", "table"],
            ["PUBLIC.stg_people", "view"],
            ["PUBLIC_marts.after_breakable", "view"],
            ["PUBLIC_marts.breakable", "table"],
            ["PUBLIC_marts.people_append", "table"],
            ["PUBLIC_marts.people_delete_insert", "table"],
            ["PUBLIC_marts.people_merge", "table"],
            ["PUBLIC_marts.people_upper", "table"],
            ["PUBLIC_marts.teams", "table"],
        ]
        .map(|row| row.map(Value::from).to_vec())
    );
    assert_eq!(
        query(
            &database(test),
            &format!(
                "select id, name_upper, initial, first_lang from {} order by id",
                marts("people_upper")
            )
        ),
        [
            [json!(1), json!("ADA"), json!("A"), json!("ada")],
            [json!(2), json!("LINUS"), json!("L"), json!("c")],
            [json!(3), json!("GRACE"), json!("G"), json!("cobol")],
        ]
    );
    assert_eq!(
        query(
            &database(test),
            &format!(
                "select team, members, total_score from {} order by team",
                marts("teams")
            )
        ),
        [
            [json!("core"), json!(2), json!(5.0)],
            [json!("kernel"), json!(1), json!(2.5)],
        ]
    );

    // Second run: a new row, new names, a new column.
    let output = run(
        project,
        &[
            "run",
            "--vars",
            "{max_id: 4, suffix: '!', extra: true}",
            "--no-tests",
        ],
    );
    assert_ok(&output, project);
    let rows = |name: &str, columns: &str| {
        query(
            &database(test),
            &format!("select {columns} from {} order by id", marts(name)),
        )
    };
    // append: only the new row was added, old rows untouched.
    assert_eq!(
        rows("people_append", "id, name"),
        [
            [json!(1), json!("Ada")],
            [json!(2), json!("Linus")],
            [json!(3), json!("Grace")],
            [json!(4), json!("Ken")],
        ]
    );
    // delete+insert: every row replaced by its new version, no duplicates.
    assert_eq!(
        rows("people_delete_insert", "id, name"),
        [
            [json!(1), json!("Ada!")],
            [json!(2), json!("Linus!")],
            [json!(3), json!("Grace!")],
            [json!(4), json!("Ken!")],
        ]
    );
    // merge with append_new_columns: the new column was added and filled by the merge.
    assert_eq!(
        rows("people_merge", "id, name, team"),
        [
            [json!(1), json!("Ada!"), json!("core")],
            [json!(2), json!("Linus!"), json!("kernel")],
            [json!(3), json!("Grace!"), json!("core")],
            [json!(4), json!("Ken!"), json!("unix")],
        ]
    );
    let count = |name: &str| {
        query(
            &database(test),
            &format!("select count(*) from {}", marts(name)),
        )[0][0]
            .clone()
    };
    // A table rebuilt in place by its second run.
    assert_eq!(count("people_upper"), json!(4));

    // A full refresh rebuilds the incremental models from scratch.
    let output = run(
        project,
        &[
            "run",
            "--select",
            "stg_people",
            "people_append",
            "--full-refresh",
            "--vars",
            "{max_id: 2}",
            "--no-tests",
        ],
    );
    assert_ok(&output, project);
    assert_eq!(count("people_append"), json!(2));
}

#[test]
fn key_pair_logins_with_plain_and_encrypted_keys() {
    for (test, login) in [
        ("key_pair_plain", Login::KeyPair),
        ("key_pair_encrypted", Login::EncryptedKeyPair),
    ] {
        let dir = project(test, login);
        let project = dir.path();
        let output = run(project, &["run", "--exclude", "breakable+"]);
        assert_ok(&output, project);
        assert_eq!(
            query(
                &database(test),
                &format!(
                    "select count(*) from {}",
                    relation(test, "PUBLIC_marts", "people_upper")
                )
            ),
            [[json!(4)]]
        );
    }
}

#[test]
fn a_wrong_key_passphrase_fails_the_login_naming_the_key_file() {
    let dir = project("wrong_passphrase", Login::EncryptedKeyPair);
    let project = dir.path();
    let output = common::ghforge(project)
        .env("SF_KEY_PASSPHRASE", "not-the-passphrase")
        .args(["run"])
        .output()
        .expect("runs");
    let text = common::transcript(&output, project);
    assert_ne!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("Snowflake login failed"), "{text}");
    assert!(text.contains("private key error"), "{text}");
    assert!(text.contains("keys/encrypted.p8"), "{text}");
    assert!(!text.contains("not-the-passphrase"), "{text}");
}

#[test]
fn data_tests_pass_then_fail_with_their_counts() {
    let test = "data_tests";
    let dir = project(test, Login::Password);
    let project = dir.path();
    let output = run(project, &["build", "--exclude", "breakable+"]);
    assert_ok(&output, project);
    let passing: Vec<_> = results(project)
        .into_iter()
        .filter(|(_, status, _)| status != "success")
        .collect();
    assert_eq!(passing.len(), 7, "{passing:?}");
    assert!(
        passing
            .iter()
            .all(|(_, status, failures)| status == "pass" && *failures == Some(0)),
        "{passing:?}"
    );

    // Tests that fail: a null column, duplicates, a value not accepted, a missing parent.
    common::write_files(
        project,
        &[(
            "models/marts/failing.yml",
            "version: 2\n\nmodels:\n  - name: people_merge\n    columns:\n      - name: name\n        tests:\n          - accepted_values:\n              values: ['Ada', 'Linus']\n  - name: people_source\n    columns:\n      - name: joined\n        tests:\n          - accepted_values:\n              values: ['2024-01-01']\n  - name: people_delete_insert\n    columns:\n      - name: id\n        tests:\n          - relationships:\n              to: ref('teams')\n              field: members\n  - name: stg_people\n    columns:\n      - name: \"profile:missing\"\n        tests: [not_null]\n      - name: team\n        tests: [unique]\n",
        )],
    );
    let output = run(
        project,
        &[
            "test",
            "--select",
            "people_merge",
            "people_source",
            "people_delete_insert",
            "stg_people",
        ],
    );
    let text = common::transcript(&output, project);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let failed: Vec<(String, Option<u64>)> = results(project)
        .into_iter()
        .filter(|(_, status, _)| status == "fail")
        .map(|(name, _, failures)| (name, failures))
        .collect();
    // accepted_values counts failing values, not rows; the others count rows.
    let expected = [
        ("accepted_values_people_merge_name", 2),
        ("accepted_values_people_source_joined", 3),
        ("not_null_stg_people_profile", 4),
        ("relationships_people_delete_insert_id", 2),
        ("unique_stg_people_team", 1),
    ];
    assert_eq!(failed.len(), expected.len(), "{failed:?}\n{text}");
    for (prefix, count) in expected {
        assert!(
            failed
                .iter()
                .any(|(name, failures)| name.starts_with(prefix) && *failures == Some(count)),
            "no `{prefix}` failing with {count}: {failed:?}"
        );
    }
    assert!(text.contains("FAIL"), "{text}");
}

#[test]
fn a_bad_model_surfaces_snowflakes_code_and_message() {
    let test = "bad_model";
    let dir = project(test, Login::Password);
    let project = dir.path();
    let output = run(
        project,
        &[
            "run",
            "--vars",
            "{break: true}",
            "--select",
            "breakable+",
            "--no-tests",
        ],
    );
    let text = common::transcript(&output, project);
    assert_eq!(output.status.code(), Some(1), "{text}");
    // Snowflake's error code for a missing object, and the warehouse's message about it.
    assert!(text.contains("002003"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("no_such_table"),
        "{text}"
    );
    assert!(text.contains("does not exist"), "{text}");
    assert_eq!(
        results(project)
            .into_iter()
            .map(|(name, status, _)| (name, status))
            .collect::<Vec<_>>(),
        [
            ("after_breakable".to_owned(), "skipped".to_owned()),
            ("breakable".to_owned(), "error".to_owned()),
        ]
    );
}

#[test]
fn query_results_are_typed() {
    let rows = query(
        &database("typed"),
        "select 42 as n, 12.34::number(10,2) as d, 1.5::float as f, true as b, null as z, '2024-01-02'::date as day, '2024-01-02 03:04:05'::timestamp_ntz as ts, parse_json('{\"a\": [1, \"x\"]}') as v, 'text' as s",
    );
    assert_eq!(
        rows,
        [[
            json!(42),
            json!(12.34),
            json!(1.5),
            json!(true),
            Value::Null,
            json!("2024-01-02"),
            json!("2024-01-02 03:04:05"),
            json!({"a": [1, "x"]}),
            json!("text"),
        ]]
    );
}

/// Every file under `dir` (outputs, logs, artifacts), except the profile and the keys.
fn written_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let relative = p.strip_prefix(dir).unwrap_or(p);
            relative != Path::new("profiles.yml") && !relative.starts_with("keys")
        })
        .collect()
}

#[test]
fn passwords_and_private_keys_never_reach_output_or_artifacts() {
    let key_lines: Vec<String> = ["plain.p8", "encrypted.p8"]
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(common::fixture("snowflake").join("keys").join(file))
                .expect("key")
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let secrets: Vec<&str> = [PASSWORD, PASSPHRASE]
        .into_iter()
        .chain(key_lines.iter().map(String::as_str))
        .collect();
    for (test, login) in [
        ("secrets_password", Login::Password),
        ("secrets_key", Login::KeyPair),
        ("secrets_encrypted_key", Login::EncryptedKeyPair),
    ] {
        let dir = project(test, login);
        let project = dir.path();
        let mut outputs = vec![
            run(project, &["build", "--exclude", "breakable+"]),
            run(
                project,
                &["--log-format", "json", "run", "--vars", "{break: true}"],
            ),
            run(project, &["compile"]),
            run(project, &["ls", "-o", "json"]),
        ];
        // A login that cannot reach the server keeps the secrets to itself too.
        let profile = std::fs::read_to_string(project.join("profiles.yml")).expect("profile");
        std::fs::write(
            project.join("profiles.yml"),
            profile.replace(&format!("127.0.0.1:{}", port()), "127.0.0.1:9"),
        )
        .expect("write profile");
        let unreachable = run(project, &["run"]);
        assert_ne!(unreachable.status.code(), Some(0));
        outputs.push(unreachable);
        assert!(project.join("target/manifest.json").is_file());
        assert!(project.join("target/run_results.json").is_file());
        let mut texts: Vec<(String, String)> = outputs
            .iter()
            .map(|o| {
                (
                    "command output".to_owned(),
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    ),
                )
            })
            .collect();
        for file in written_files(project) {
            let bytes = std::fs::read(&file).expect("read");
            texts.push((
                file.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        for (place, text) in &texts {
            for secret in &secrets {
                assert!(
                    !text.contains(secret),
                    "a secret appears in {place} ({test})"
                );
            }
        }
    }
}

#[test]
fn a_bronze_hour_lands_with_its_ledger_row_and_reloads_idempotently() {
    use ghforge::load::snowflake as bronze;
    let database = database("bronze");
    let snowflake = SnowflakeTarget {
        account: "ghforge-test".to_owned(),
        user: "ghforge".to_owned(),
        password: Some(serde_json::from_value(json!(PASSWORD)).expect("secret")),
        private_key_path: None,
        private_key_passphrase: None,
        role: None,
        warehouse: None,
        query_tag: None,
        endpoint: Some(format!("http://127.0.0.1:{}", port())),
    };
    let target = Target {
        profile_name: "tests".to_owned(),
        name: "dev".to_owned(),
        database: database.clone(),
        schema: "PUBLIC".to_owned(),
        threads: 1,
        warehouse: Warehouse::Snowflake(snowflake.clone()),
        s3: None,
        profiles_path: None,
    };
    let adapter = SnowflakeAdapter::open(&target, &snowflake).expect("login");
    let mut session = adapter.snowflake_session().expect("session");
    for statement in bronze::SCHEMA_STATEMENTS {
        ghforge::adapters::Session::execute(&mut session, statement).expect("schema");
    }
    let lines = || {
        vec![
            br#"{"id":"1","type":"PushEvent","actor":{"id":7,"login":"ada"},"repo":{"id":9,"name":"o/r"},"payload":{"size":2,"ref":"main"},"public":true,"created_at":"2024-01-01T00:00:01Z"}"#.to_vec(),
            b"{not json".to_vec(),
            Vec::new(),
            br#"{"id":"2","type":"WatchEvent","actor":{"id":8,"login":"bob"},"repo":{"id":9,"name":"o/r"},"org":{"id":3,"login":"o"},"payload":{"action":"started"},"public":true,"created_at":"2024-01-01T00:59:59Z"}"#.to_vec(),
        ]
    };
    let hour = ghforge::archive::hours::Hour::parse("2024-01-01T00").expect("hour");
    for _ in 0..2 {
        let landed = bronze::land_hour(
            &mut session,
            hour,
            "2024-01-01-0.json.gz",
            lines(),
            bronze::Body {
                bytes: 123,
                checksum: "abc",
            },
        )
        .expect("land");
        assert_eq!(
            (landed.rows, landed.quarantined, landed.bytes),
            (1 + 1, 1, 123)
        );
    }
    assert_eq!(
        query(
            &database,
            "select id, type, payload:action::varchar, org:login::varchar, line_number, hour from \"bronze\".\"events\" order by id"
        ),
        [
            [
                json!("1"),
                json!("PushEvent"),
                Value::Null,
                Value::Null,
                json!(1),
                json!("2024-01-01 00:00:00")
            ],
            [
                json!("2"),
                json!("WatchEvent"),
                json!("started"),
                json!("o"),
                json!(4),
                json!("2024-01-01 00:00:00")
            ],
        ]
    );
    assert_eq!(
        query(
            &database,
            "select line_number, reason like 'invalid JSON%', to_varchar(raw, 'UTF-8') from \"bronze\".\"quarantine\""
        ),
        [[json!(2), json!(true), json!("{not json")]]
    );
    assert_eq!(
        query(
            &database,
            "select status, rows, quarantined, bytes, checksum from \"bronze\".\"load_ledger\""
        ),
        [[
            json!("loaded"),
            json!(2),
            json!(1),
            json!(123),
            json!("abc")
        ]]
    );
}

// Values of the compared tables become comparable text, whichever warehouse they came from:
// `NULL`, `true`/`false`, integers as written, other numbers to 6 significant digits (averages
// and ratios are DOUBLE on DuckDB, NUMBER on Snowflake), timestamps as `YYYY-MM-DD HH:MM:SS`,
// dates as `YYYY-MM-DD`, text as is.

/// A number as comparable text: integral values as integers, others to 6 significant digits.
fn canonical_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    // `{:.5e}` rounds to 6 significant digits; integral results print as integers.
    let rounded: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.5e}")
    }
}

/// Text as comparable text: a timestamp (`2024-03-01 10:00:00.000`, `2024-03-01T10:00:00`) to
/// the second, anything else as is.
fn canonical_text(text: &str) -> String {
    let is_timestamp = text.len() >= 19
        && text.as_bytes()[..19]
            .iter()
            .enumerate()
            .all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b' ' || *b == b'T',
                13 | 16 => *b == b':',
                _ => b.is_ascii_digit(),
            });
    match text.get(..19) {
        Some(prefix) if is_timestamp => prefix.replacen('T', " ", 1),
        _ => text.to_owned(),
    }
}

fn canonical_duckdb(value: duckdb::types::Value) -> String {
    use duckdb::types::{TimeUnit, Value as D};
    match value {
        D::Null => "NULL".to_owned(),
        D::Boolean(b) => b.to_string(),
        D::TinyInt(n) => n.to_string(),
        D::SmallInt(n) => n.to_string(),
        D::Int(n) => n.to_string(),
        D::BigInt(n) => n.to_string(),
        D::HugeInt(n) => n.to_string(),
        D::UTinyInt(n) => n.to_string(),
        D::USmallInt(n) => n.to_string(),
        D::UInt(n) => n.to_string(),
        D::UBigInt(n) => n.to_string(),
        D::Float(f) => canonical_number(f64::from(f)),
        D::Double(f) => canonical_number(f),
        D::Decimal(d) => canonical_number(d.to_string().parse().expect("decimal")),
        D::Text(s) => canonical_text(&s),
        D::Date32(days) => (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
            + chrono::Duration::days(i64::from(days)))
        .to_string(),
        D::Timestamp(unit, n) => {
            let micros = match unit {
                TimeUnit::Second => n * 1_000_000,
                TimeUnit::Millisecond => n * 1_000,
                TimeUnit::Microsecond => n,
                TimeUnit::Nanosecond => n / 1_000,
            };
            chrono::DateTime::from_timestamp_micros(micros)
                .expect("timestamp")
                .naive_utc()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        }
        other => panic!("a compared column of an unexpected DuckDB type: {other:?}"),
    }
}

fn canonical_snowflake(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| canonical_number(n.as_f64().expect("number"))),
        Value::String(s) => canonical_text(s),
        other => panic!("a compared column of an unexpected Snowflake type: {other}"),
    }
}

/// Column names (lower case) and sorted canonical rows of a query on the embedded DuckDB.
fn duckdb_table(project: &Path, sql: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let connection =
        duckdb::Connection::open(project.join("ghforge.duckdb")).expect("open database");
    let mut statement = connection
        .prepare(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = statement.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        out.push(
            (0..row.as_ref().column_count())
                .map(|i| canonical_duckdb(row.get(i).expect("value")))
                .collect::<Vec<_>>(),
        );
    }
    let columns = rows
        .as_ref()
        .expect("statement")
        .column_names()
        .into_iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    out.sort();
    (columns, out)
}

/// Column names (lower case) and sorted canonical rows of a query on the emulator.
fn snowflake_table(
    session: &mut dyn ghforge::adapters::Session,
    sql: &str,
) -> (Vec<String>, Vec<Vec<String>>) {
    let table = session.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(canonical_snowflake).collect())
        .collect();
    rows.sort();
    (
        table
            .column_names
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect(),
        rows,
    )
}

/// What differs between two sorted row lists: the rows only on each side (at most 15 each).
fn row_diff(duck: &[Vec<String>], snow: &[Vec<String>]) -> String {
    let mut only_duck = Vec::new();
    let mut only_snow = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < duck.len() || j < snow.len() {
        match (duck.get(i), snow.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                only_duck.push(a);
                i += 1;
            }
            (Some(a), None) => {
                only_duck.push(a);
                i += 1;
            }
            (_, Some(b)) => {
                only_snow.push(b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    let show = |rows: &[&Vec<String>]| {
        rows.iter()
            .take(15)
            .map(|r| format!("      {}\n", r.join(" | ")))
            .collect::<String>()
            + &if rows.len() > 15 {
                format!("      ... {} more\n", rows.len() - 15)
            } else {
                String::new()
            }
    };
    format!(
        "    only in DuckDB ({}):\n{}    only on Snowflake ({}):\n{}",
        only_duck.len(),
        show(&only_duck),
        only_snow.len(),
        show(&only_snow)
    )
}

/// Names of the models in a folder of the bundled project (`models/gold`), sorted.
fn model_names(folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(folder),
    )
    .expect("models folder")
    .filter_map(Result::ok)
    .map(|e| e.path())
    .filter(|p| p.extension().is_some_and(|x| x == "sql"))
    .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
    .collect();
    names.sort();
    names
}

/// Where the DuckDB and the Snowflake builds of the bundled project differ, as readable
/// messages (none when they agree), and the number of rows of each gold table. Every silver
/// table is compared row by row on its columns but bronze load times (`loaded_at`,
/// `last_loaded_at`: another load on each side) and JSON payloads (the same documents, printed
/// differently); every gold table is compared whole.
fn differences(
    project: &Path,
    session: &mut dyn ghforge::adapters::Session,
    test: &str,
) -> (Vec<String>, Vec<(String, usize)>) {
    let mut mismatches = Vec::new();
    let mut gold_rows = Vec::new();
    for (schema, names) in [
        ("silver", model_names("silver")),
        ("gold", model_names("gold")),
    ] {
        for name in names {
            let columns: Vec<String> = common::query(
                project,
                &format!(
                    "select column_name from information_schema.columns where table_schema = '{schema}' and table_name = '{name}' and column_name not like '%loaded_at' and data_type <> 'JSON' order by ordinal_position"
                ),
            )
            .into_iter()
            .map(|row| row[0].clone())
            .collect();
            assert!(!columns.is_empty(), "{schema}.{name} has no columns");
            let list = columns.join(", ");
            let (duck_columns, duck) =
                duckdb_table(project, &format!("select {list} from {schema}.{name}"));
            let (snow_columns, snow) = snowflake_table(
                session,
                &format!("select {list} from {}", relation(test, schema, &name)),
            );
            if schema == "gold" {
                gold_rows.push((name.clone(), duck.len()));
            }
            if duck_columns != snow_columns {
                mismatches.push(format!(
                    "{schema}.{name}: columns differ\n    DuckDB:    {duck_columns:?}\n    Snowflake: {snow_columns:?}"
                ));
            } else if duck != snow {
                mismatches.push(format!(
                    "{schema}.{name}: {} rows on DuckDB, {} on Snowflake (columns: {})\n{}",
                    duck.len(),
                    snow.len(),
                    duck_columns.join(" | "),
                    row_diff(&duck, &snow)
                ));
            }
        }
    }
    (mismatches, gold_rows)
}

/// `ghforge load` then `ghforge build` of the generated `hours` on a target of the bundled
/// project: both succeed, every model builds and every data test passes.
fn load_and_build(project: &Path, target: &str, hours: &str) {
    // Each load stamps its rows with the time it ran, and the incremental models pick up rows
    // stamped after their last run: loads one after another need a clock that moves on.
    let output = common::ghforge(project)
        .env_remove("GHFORGE_CLOCK")
        .args([
            "load", "--hours", hours, "--source", "archive", "--target", target,
        ])
        .output()
        .expect("runs");
    assert_ok(&output, project);
    let output = run(project, &["build", "--target", target]);
    assert_ok(&output, project);
    // The bundled project's `target-path`.
    let results = common::results_in(&project.join("ghforge-target"));
    assert!(results.len() > 150, "{target}: {results:?}");
    let bad: Vec<_> = results
        .iter()
        .filter(|(_, status, _)| status != "success" && status != "pass")
        .collect();
    assert!(
        bad.is_empty(),
        "{target}: {bad:?}\n{}",
        common::transcript(&output, project)
    );
}

#[test]
fn the_gharchive_project_builds_on_snowflake_with_gold_equal_to_duckdb() {
    let test = "gharchive_gold";
    let dir = common::copy_bundled_project();
    let project = dir.path();
    // The embedded DuckDB file and the emulator, as two targets of one profile.
    std::fs::write(
        project.join("profiles.yml"),
        format!(
            "gharchive:\n  target: duck\n  outputs:\n    duck:\n      type: duckdb\n      path: ghforge.duckdb\n      schema: main\n      threads: 4\n    snow:\n      type: snowflake\n      account: ghforge-test\n      user: ghforge\n      password: \"{PASSWORD}\"\n      role: SYSADMIN\n      warehouse: WH\n      database: {}\n      schema: PUBLIC\n      threads: 4\n      query_tag: ghforge-tests\n      endpoint: http://127.0.0.1:{}\n",
            database(test),
            port()
        ),
    )
    .expect("write profiles");
    // Full payloads over three hours, GitHub's trimmed ones over two, with duplicated and
    // malformed lines.
    for (from, to) in [
        ("2024-03-01T10", "2024-03-01T12"),
        ("2025-10-08T00", "2025-10-08T01"),
    ] {
        common::gen_archive(
            project,
            from,
            to,
            &["--events-per-hour", "300", "--faults", "dupes,malformed"],
        );
    }
    let mut session = session(&database(test));
    // A first build of four hours, then the last hour and an incremental build, on each target.
    for (stage, hours) in [
        (
            "first build",
            "2024-03-01T10,2024-03-01T11,2024-03-01T12,2025-10-08T00",
        ),
        ("incremental build", "2025-10-08T01"),
    ] {
        for target in ["duck", "snow"] {
            load_and_build(project, target, hours);
        }
        let (mismatches, gold_rows) = differences(project, session.as_mut(), test);
        assert!(
            mismatches.is_empty(),
            "after the {stage}, the Snowflake and DuckDB builds differ:\n{}",
            mismatches.join("\n")
        );
        assert_eq!(gold_rows.len(), 17, "{gold_rows:?}");
        // The comparison compared something: gold tables have rows, but for the one over
        // repository metadata, which stays empty without `ghforge enrich`.
        assert!(
            gold_rows
                .iter()
                .all(|(name, rows)| *rows > 0 || name == "language_activity"),
            "{stage}: gold tables without rows: {gold_rows:?}"
        );
        eprintln!("{stage}: gold rows equal: {gold_rows:?}");
    }
    // Every Snowflake plan of the shipped project, incremental ones included now that the
    // tables exist, is Snowflake SQL: nothing DuckDB-only reaches the warehouse.
    let output = run(project, &["build", "--dry-run", "--target", "snow"]);
    assert_ok(&output, project);
    let plans = String::from_utf8_lossy(&output.stdout);
    assert!(
        plans.contains("-- merge\n") || plans.contains("-- insert\n"),
        "{plans}"
    );
    for duckdb_only in [
        "temp.main",
        "\"temp\".\"main\"",
        "create temp table",
        "create or replace temp table",
        "read_csv(",
        "read_parquet(",
        "(format parquet",
        "struct_pack(",
        "json_extract_string(",
    ] {
        assert!(
            !plans.contains(duckdb_only),
            "a Snowflake plan holds DuckDB-only `{duckdb_only}`:\n{plans}"
        );
    }
    for line in plans.lines().filter(|l| l.contains(" rename to ")) {
        let new_name = line.rsplit(" rename to ").next().unwrap_or_default();
        assert_eq!(
            new_name.matches("\".\"").count(),
            2,
            "an unqualified rename would move the table on Snowflake: {line}"
        );
    }
    // Every event of the five hours once on both: 1,500 distinct events.
    assert_eq!(
        common::query(project, "select count(*) from silver.events"),
        [["1500"]]
    );
    assert_eq!(
        query(
            &database(test),
            &format!(
                "select count(*) from {}",
                relation(test, "silver", "events")
            )
        ),
        [[json!(1500)]]
    );
}
