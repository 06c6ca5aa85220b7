//! The pages of `ghforge serve` in a real browser: Debian's headless chromium driven over
//! WebDriver (chromium-driver, fantoccini). The dashboard draws every chart with the series the
//! API answers (read back from Chart.js in the page), `/runs` lists the last build's nodes and
//! draws its timeline, `/docs` shows a model, its columns and its lineage, and no page asks
//! another host for anything. Screenshots go to `<target>/tmp/screenshots/` for people to look
//! at. `scripts/browser.sh --install` (run by `scripts/test.sh`) installs the browser.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser.sh");
    let output = Command::new(script)
        .arg("--driver")
        .output()
        .expect("scripts/browser.sh");
    assert!(
        output.status.success(),
        "chromium and chromium-driver are needed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, url }
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1400,1800",
                        // Any other host fails to resolve: a page that needs one shows it.
                        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Wait until the page says its scripts are done (`document.body.dataset.ready`).
async fn ready(client: &Client) {
    for _ in 0..200 {
        let state = client
            .execute(
                "return document.body && document.body.dataset.ready === 'true';",
                vec![],
            )
            .await
            .expect("script");
        if state == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never finished drawing");
}

/// Every resource the page loaded, which must all come from `base`.
async fn assert_same_host(client: &Client, base: &str) {
    let resources = client
        .execute(
            "return [location.href].concat(performance.getEntriesByType('resource').map((e) => e.name));",
            vec![],
        )
        .await
        .expect("script");
    for url in resources.as_array().expect("urls") {
        let url = url.as_str().expect("url");
        assert!(url.starts_with(base), "{url} is not on {base}");
    }
}

async fn chart(client: &Client, id: &str) -> Value {
    client
        .execute(
            "const c = Chart.getChart(arguments[0]); return {labels: c.data.labels, \
             datasets: c.data.datasets.map((d) => ({label: d.label, data: d.data})), \
             index_axis: c.options.indexAxis, x_max: c.scales.x.max, y_max: c.scales.y.max};",
            vec![json!(id)],
        )
        .await
        .expect("chart data")
}

async fn save(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(name), png).expect("write screenshot");
}

/// What the API answers, fetched before the browser starts (blocking HTTP).
struct Expected {
    active: Value,
    hourly: Value,
    latency: Value,
    scores: Value,
    run_nodes: usize,
}

fn expected(server: &server::Server, project: &Path) -> Expected {
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("ghforge-target/run_results.json"))
            .expect("run results"),
    )
    .expect("json");
    Expected {
        active: server.json("/api/repositories/active?limit=10"),
        hourly: server.json("/api/events/hourly"),
        latency: server.json("/api/pull_requests/merge_latency"),
        scores: server.json("/api/developers/scores?limit=10"),
        run_nodes: results["results"].as_array().expect("results").len(),
    }
}

#[test]
fn dashboard_runs_and_docs_in_a_real_browser() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    common::gen_archive(project, "2024-05-01T00", "2024-05-01T03", &[]);
    let source = project.join("archive");
    for args in [
        vec![
            "load",
            "--from",
            "2024-05-01T00",
            "--to",
            "2024-05-01T03",
            "--source",
            source.to_str().expect("utf-8"),
        ],
        vec!["build"],
    ] {
        let output = common::ghforge(project).args(&args).output().expect("runs");
        assert!(
            output.status.success(),
            "{}",
            common::transcript(&output, project)
        );
    }
    let server = server::Server::start(project);
    let expected = expected(&server, project);
    let driver = driver();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = browser(&driver).await;
        let result = pages(&client, &server.url, &expected).await;
        let _ = client.close().await;
        result
    });
}

async fn pages(client: &Client, base: &str, expected: &Expected) {
    // The dashboard: every chart drawn from the API's numbers.
    client.goto(&format!("{base}/")).await.expect("dashboard");
    ready(client).await;
    save(client, "dashboard.png").await;
    let failed = client
        .execute("return document.body.dataset.failed;", vec![])
        .await
        .expect("script");
    assert_eq!(failed, json!("0"), "a chart failed to load its data");
    let active = chart(client, "chart-active").await;
    let repositories = expected.active["repositories"]
        .as_array()
        .expect("repositories");
    let labels: Vec<&Value> = repositories.iter().map(|r| &r["repo"]).collect();
    let counts: Vec<&Value> = repositories.iter().map(|r| &r["events"]).collect();
    assert_eq!(
        active["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .collect::<Vec<_>>(),
        labels
    );
    assert_eq!(
        active["datasets"][0]["data"]
            .as_array()
            .expect("data")
            .iter()
            .collect::<Vec<_>>(),
        counts
    );
    // Regression: the charts once shared one options object, which Chart.js fills with the
    // first chart's scales, so the horizontal bars were drawn on a 0..1 category axis.
    assert_eq!(active["index_axis"], "y");
    assert!(
        active["x_max"].as_f64().expect("x max") >= counts[0].as_f64().expect("count"),
        "{active}"
    );
    let events = chart(client, "chart-events").await;
    assert_eq!(events["labels"], expected.hourly["hours"]);
    let series: Vec<&Value> = expected.hourly["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|s| &s["type"])
        .collect();
    let drawn: Vec<&Value> = events["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|d| &d["label"])
        .collect();
    assert_eq!(drawn, series);
    assert_eq!(
        events["datasets"][0]["data"],
        expected.hourly["series"][0]["events"]
    );
    let latency = chart(client, "chart-latency").await;
    let buckets: Vec<&Value> = expected.latency["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| &b["pull_requests"])
        .collect();
    assert_eq!(
        latency["datasets"][0]["data"]
            .as_array()
            .expect("data")
            .iter()
            .collect::<Vec<_>>(),
        buckets
    );
    let developers = chart(client, "chart-developers").await;
    let logins: Vec<&Value> = expected.scores["developers"]
        .as_array()
        .expect("developers")
        .iter()
        .map(|d| &d["login"])
        .collect();
    assert_eq!(
        developers["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .collect::<Vec<_>>(),
        logins
    );
    for id in ["chart-bots", "chart-trending"] {
        let drawn = chart(client, id).await;
        assert!(
            !drawn["labels"].as_array().expect("labels").is_empty(),
            "{id} is empty"
        );
    }
    let freshness = client
        .find(Locator::Id("latest-event"))
        .await
        .expect("freshness")
        .text()
        .await
        .expect("text");
    assert_eq!(json!(freshness), expected.active["as_of"]);
    assert_same_host(client, base).await;

    // /runs: the last build's nodes and their timeline.
    client.goto(&format!("{base}/runs")).await.expect("runs");
    ready(client).await;
    save(client, "runs.png").await;
    let rows = client
        .find_all(Locator::Css("#run-nodes tr"))
        .await
        .expect("rows");
    assert_eq!(
        rows.len(),
        expected.run_nodes + 1,
        "a header and one row per node"
    );
    let nodes = client
        .find(Locator::Id("run-nodes"))
        .await
        .expect("table")
        .text()
        .await
        .expect("text");
    assert!(nodes.contains("model.gharchive.hourly_summary"), "{nodes}");
    let timeline = chart(client, "chart-timeline").await;
    assert_eq!(
        timeline["labels"].as_array().expect("labels").len(),
        expected.run_nodes
    );
    let ledger = client
        .find(Locator::Id("ledger-summary"))
        .await
        .expect("ledger")
        .text()
        .await
        .expect("text");
    assert_eq!(ledger, "hours loaded: 4");
    assert_same_host(client, base).await;

    // /docs: a model, its columns and its lineage.
    client
        .goto(&format!("{base}/docs?node=model.gharchive.hourly_summary"))
        .await
        .expect("docs");
    ready(client).await;
    save(client, "docs.png").await;
    let name = client
        .find(Locator::Id("node-name"))
        .await
        .expect("name")
        .text()
        .await
        .expect("text");
    assert_eq!(name, "hourly_summary");
    let columns = client
        .find(Locator::Id("columns"))
        .await
        .expect("columns")
        .text()
        .await
        .expect("text");
    assert!(
        columns.contains("events BIGINT Distinct events. not_null"),
        "{columns}"
    );
    let upstream = client
        .find(Locator::Css(
            "#lineage a[data-unique-id='model.gharchive.events']",
        ))
        .await
        .expect("the events model upstream");
    upstream.click().await.expect("click");
    client
        .wait()
        .for_element(Locator::Id("node-name"))
        .await
        .expect("page");
    ready(client).await;
    let name = client
        .find(Locator::Id("node-name"))
        .await
        .expect("name")
        .text()
        .await
        .expect("text");
    assert_eq!(name, "events");
    let downstream = client
        .find_all(Locator::Css("#lineage a.node"))
        .await
        .expect("lineage");
    assert!(downstream.len() > 10, "events feeds most of the project");
    save(client, "docs-events.png").await;
    assert_same_host(client, base).await;
}
