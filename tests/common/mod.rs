//! Helpers shared by the integration tests: fixture projects, a sandboxed `ghforge` command
//! and output filters for snapshots.

#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod archive_server;
pub mod github_server;
pub mod s3_server;

use std::path::{Path, PathBuf};

/// The folder of a fixture project under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of a fixture project in a fresh temporary folder (tests that write files use it).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixture(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let relative = entry.path().strip_prefix(from).expect("inside fixture");
        let destination = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&destination).expect("create dir");
        } else {
            std::fs::copy(entry.path(), &destination).expect("copy file");
        }
    }
}

/// A copy of the GH Archive project that ships in this repository, in a temporary folder.
pub fn copy_bundled_project() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    for folder in ["models", "macros", "seeds", "tests/project"] {
        copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    for file in ["ghforge_project.yml", "profiles.yml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).expect("copy");
    }
    dir
}

/// Write `files` (path, contents) under `root`, creating folders.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, contents) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(path, contents).expect("write file");
    }
}

/// The instant every `ghforge` a test starts reads as "now" (see `ghforge::clock`): log lines
/// start with `00:00:00` and node timings print as `0.00s`, with nothing to scrub.
pub const CLOCK: &str = "2026-01-01T00:00:00Z";

/// `ghforge` with a clean environment: no user profiles, no colour, fixed project folder, and
/// the clock fixed at [`CLOCK`].
pub fn ghforge(project: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("ghforge").expect("binary built");
    command
        .current_dir(project)
        .env_remove("GHFORGE_PROFILES_DIR")
        .env_remove("GHFORGE_PROJECT_DIR")
        .env_remove("DBT_PROFILES_DIR")
        .env("HOME", project.join(".no-home"))
        .env("NO_COLOR", "1")
        .env("GHFORGE_CLOCK", CLOCK);
    command
}

/// Output of a finished command as one text: exit code, stdout and stderr, with the project
/// folder replaced by `[PROJECT]` and timings by `[TIME]` (the loader's throughput is measured
/// on a monotonic clock, not the fixed one).
pub fn transcript(output: &std::process::Output, project: &Path) -> String {
    let text = format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    scrub(&text, project)
}

pub fn scrub(text: &str, project: &Path) -> String {
    let canonical = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    let mut text = text.replace(&canonical.display().to_string(), "[PROJECT]");
    text = text.replace(&project.display().to_string(), "[PROJECT]");
    let mut out = String::with_capacity(text.len());
    // Seconds such as `in 0.02s` become `in [TIME]`; dot leaders vary with them, so they are
    // cut to three.
    let mut rest = text.as_str();
    while let Some(index) = rest.find(" in ") {
        out.push_str(&rest[..index + 4]);
        rest = &rest[index + 4..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if end > 0 && rest[end..].starts_with('s') {
            out.push_str("[TIME]");
            rest = &rest[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Rows of `sql` on the project's embedded database, every value as DuckDB's text form
/// (`NULL` for null).
pub fn query(project: &Path, sql: &str) -> Vec<Vec<String>> {
    let connection =
        duckdb::Connection::open(project.join("ghforge.duckdb")).expect("open database");
    let mut statement = connection
        .prepare(&format!("select columns(*)::varchar from ({sql})"))
        .expect("prepare");
    let mut rows = statement.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        let columns = row.as_ref().column_count();
        out.push(
            (0..columns)
                .map(|i| {
                    row.get::<_, Option<String>>(i)
                        .expect("text")
                        .unwrap_or_else(|| "NULL".to_owned())
                })
                .collect(),
        );
    }
    out
}

/// Write `lines` as a gzipped hour file.
pub fn gz_lines(path: &Path, lines: &[&[u8]]) {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("create"),
        flate2::Compression::fast(),
    );
    for line in lines {
        encoder.write_all(line).expect("write");
        encoder.write_all(b"\n").expect("write");
    }
    encoder.finish().expect("finish");
}

/// Lines of a gzipped hour file, as `zcat | wc -l` counts them.
pub fn line_count(path: &Path) -> usize {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("open")),
        &mut bytes,
    )
    .expect("gunzip");
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
}

/// `(name, status, failures)` of every result in `<target folder>/run_results.json`, sorted.
pub fn results_in(target: &Path) -> Vec<(String, String, Option<u64>)> {
    let text = std::fs::read_to_string(target.join("run_results.json")).expect("run results");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut rows: Vec<_> = json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let id = r["unique_id"].as_str().unwrap_or_default();
            let name = id.split('.').nth(2).unwrap_or(id).to_owned();
            (
                name,
                r["status"].as_str().unwrap_or_default().to_owned(),
                r["failures"].as_u64(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `ghforge gen-archive --from <from> --to <to> --out archive <extra>` in `project`, which must
/// succeed: realistic hour files under `<project>/archive`.
pub fn gen_archive(project: &Path, from: &str, to: &str, extra: &[&str]) {
    let output = ghforge(project)
        .args([
            "gen-archive",
            "--from",
            from,
            "--to",
            to,
            "--out",
            "archive",
        ])
        .args(extra)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", transcript(&output, project));
}
