//! Server-rendered pages: the dashboard (`/`), run monitoring (`/runs`) and the docs site
//! (`/docs`), plus the vendored chart library they load from this server (Chart.js, embedded
//! with its licence; no CDN, no request leaves the host).

pub mod dashboard;
pub mod docs;
pub mod runs;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::api::AppState;

/// Chart.js 4, from the npm registry (`scripts/vendor-chartjs.sh`).
const CHART_JS: &[u8] = include_bytes!("../../../assets/vendor/chart.umd.min.js");
const CHART_JS_LICENSE: &str = include_str!("../../../assets/vendor/chart.js.LICENSE.md");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/runs", get(runs::page))
        .route("/docs", get(docs::page))
        .route("/assets/chart.umd.min.js", get(chart_js))
        .route("/assets/chart.js.LICENSE.md", get(chart_js_license))
}

async fn chart_js() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CHART_JS,
    )
        .into_response()
}

async fn chart_js_license() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        CHART_JS_LICENSE,
    )
        .into_response()
}

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a query-string value in a link.
pub fn url_escape(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none}header strong{margin-right:1rem}
main{padding:1rem 1.2rem;max-width:1400px}
.freshness{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8rem}
.card h2{font-size:1rem;margin:0 0 .5rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;overflow:auto;font-size:.8rem}
.status-success,.status-pass{color:#1a7f37}.status-error,.status-fail{color:#cf222e}.status-warn,.status-skipped{color:#9a6700}
.lineage{display:flex;gap:1rem;overflow-x:auto}.lineage .level{min-width:180px}
.lineage .node{background:#ddf4ff;border:1px solid #54aeff;border-radius:4px;padding:.2rem .4rem;margin:.2rem 0;font-size:.8rem}
.lineage .node.chosen{background:#fff8c5;border-color:#d4a72c}
";

/// The header links of the served pages.
const NAV: &str = "<a href=\"/\">Dashboard</a><a href=\"/runs\">Runs</a><a href=\"/docs\">Docs</a>\
                   <a href=\"/api/openapi.json\">API</a><a href=\"/metrics\">Metrics</a>";

/// A whole served page around `body`; `scripts` go at the end of the body.
pub fn layout(title: &str, body: &str, scripts: &str) -> Html<String> {
    page(title, NAV, body, scripts)
}

/// A whole page with the header links `nav` (the static docs site has its own).
pub fn page(title: &str, nav: &str, body: &str, scripts: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · ghforge</title><style>{STYLE}</style></head><body>\
         <header><strong>ghforge</strong>{nav}</header>\
         <main>{body}</main>{scripts}</body></html>",
        title = escape(title),
    ))
}

/// The freshness line every page shows at the top.
pub fn freshness(info: &super::snapshot::SnapshotInfo) -> String {
    let or_none = |value: &Option<String>| escape(value.as_deref().unwrap_or("none"));
    format!(
        "<div class=\"freshness\" id=\"freshness\">Latest event <strong id=\"latest-event\">{}</strong> · \
         latest loaded hour <strong id=\"latest-hour\">{}</strong> · snapshot of <code>{}</code> \
         (invocation <code id=\"invocation\">{}</code>, published {})</div>",
        or_none(&info.latest_created_at),
        or_none(&info.latest_loaded_hour),
        escape(&info.command),
        escape(&info.invocation_id),
        escape(&info.published_at),
    )
}
