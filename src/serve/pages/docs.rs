//! `/docs`: the project's models, seeds, sources and tests from `manifest.json`. The index
//! (`?q=` filters by name) lists at most a page of each kind, so a 10,000-model project stays
//! quick; a node's page (`?node=<unique_id>`) shows its description, columns (types from the
//! `catalog.json` of `ghforge docs generate`, else from the snapshot where it serves the
//! relation; descriptions and tests from YAML), compiled SQL, and its lineage neighbourhood,
//! fetched from `/api/lineage/...` on demand. [`write_static`] renders the same pages as files
//! (lineage drawn in the page, two levels each way) for `ghforge docs generate`.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{escape, layout, url_escape};
use crate::serve::api::AppState;
use crate::serve::api::runs::neighbourhood;
use crate::serve::manifest;
use crate::serve::snapshot::Snapshot;

/// Where the pages are read: from `ghforge serve`, or as files of the static site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Served,
    Static,
}

impl Site {
    /// The link to a node's page.
    fn href(self, id: &str) -> String {
        match self {
            Site::Served => format!("/docs?node={}", url_escape(id)),
            Site::Static => static_file(id),
        }
    }

    fn layout(self, title: &str, body: &str, scripts: &str) -> axum::response::Html<String> {
        match self {
            Site::Served => layout(title, body, scripts),
            Site::Static => super::page(title, "<a href=\"index.html\">Docs</a>", body, scripts),
        }
    }
}

/// The static site's file of a node: its unique id with characters other than letters,
/// digits, `.`, `-` and `_` replaced; a long id (a test's, often) is cut and made unique by
/// the start of its hash, as file names end at 255 bytes.
fn static_file(id: &str) -> String {
    const LONGEST: usize = 120;
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.len() <= LONGEST {
        return format!("{name}.html");
    }
    let hash = crate::checksum::sha256(id);
    format!("{}_{}.html", &name[..LONGEST], &hash[..12])
}

/// Nodes of one kind the index lists.
const INDEX_PAGE: usize = 200;

const KINDS: [(&str, &str); 4] = [
    ("model", "Models"),
    ("seed", "Seeds"),
    ("source", "Sources"),
    ("test", "Data tests"),
];

pub async fn page(
    State(state): State<AppState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let snapshot = state.current.get();
    let cache = state.manifest.clone();
    let catalog = state.catalog.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let Some(manifest) = cache.get() else {
            let body = "<h1>Docs</h1><p>No <code>manifest.json</code> yet: run <code>ghforge build</code> first.</p>";
            return (StatusCode::NOT_FOUND, layout("Docs", body, ""));
        };
        match query.get("node") {
            Some(id) => match manifest::node(&manifest, id) {
                Some(node) => {
                    let types = match catalog.get() {
                        Some(catalog) => crate::catalog::column_types(&catalog, id),
                        None => snapshot_types(&snapshot, node),
                    };
                    (StatusCode::OK, node_page(&manifest, node, &types, Site::Served))
                }
                None => {
                    let body = format!("<h1>Docs</h1><p id=\"no-node\">No node <code>{}</code>.</p>", escape(id));
                    (StatusCode::NOT_FOUND, layout("Docs", &body, ""))
                }
            },
            None => (
                StatusCode::OK,
                index(&manifest, query.get("q").map_or("", String::as_str), Site::Served),
            ),
        }
    })
    .await;
    match rendered {
        Ok(page) => page.into_response(),
        Err(err) => crate::serve::problem::Problem::Internal(err.to_string()).into_response(),
    }
}

fn all_nodes(manifest: &Value) -> impl Iterator<Item = (&String, &Value)> {
    let nodes = manifest["nodes"].as_object().into_iter().flatten();
    let sources = manifest["sources"].as_object().into_iter().flatten();
    nodes.chain(sources)
}

fn text<'a>(node: &'a Value, key: &str) -> &'a str {
    node[key].as_str().unwrap_or_default()
}

fn index(manifest: &Value, filter: &str, site: Site) -> axum::response::Html<String> {
    let needle = filter.to_lowercase();
    let mut body = "<h1>Docs</h1>".to_owned();
    if site == Site::Served {
        let _ = write!(
            body,
            "<form action=\"/docs\"><input name=\"q\" value=\"{}\" placeholder=\"filter by name\"> <button>Filter</button></form>",
            escape(filter)
        );
    }
    // The static site lists every node: its index is a file, not a request.
    let listed = if site == Site::Served {
        INDEX_PAGE
    } else {
        usize::MAX
    };
    for (kind, title) in KINDS {
        let matching: Vec<(&String, &Value)> = all_nodes(manifest)
            .filter(|(_, n)| text(n, "resource_type") == kind)
            .filter(|(id, _)| needle.is_empty() || id.to_lowercase().contains(&needle))
            .collect();
        let _ = write!(
            body,
            "<section class=\"card\"><h2>{title} ({})</h2><table id=\"docs-{kind}\">",
            matching.len()
        );
        for (id, node) in matching.iter().take(listed) {
            let description: String = text(node, "description").chars().take(140).collect();
            let _ = write!(
                body,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td></tr>",
                escape(&site.href(id)),
                escape(id),
                escape(&description)
            );
        }
        if matching.len() > listed {
            let _ = write!(
                body,
                "<tr><td colspan=\"2\">… and {} more; filter to narrow</td></tr>",
                matching.len() - listed
            );
        }
        body.push_str("</table></section>");
    }
    site.layout("Docs", &body, "")
}

/// Column name → data type, from the snapshot when it serves the node's relation.
fn snapshot_types(snapshot: &Snapshot, node: &Value) -> BTreeMap<String, String> {
    let (schema, table) = (text(node, "schema"), text(node, "alias"));
    let table = if table.is_empty() {
        text(node, "name")
    } else {
        table
    };
    if !snapshot.has(&format!("{schema}.{table}")) {
        return BTreeMap::new();
    }
    snapshot
        .with_connection(|c| {
            let mut statement = c.prepare_cached(
                "select column_name, data_type from duckdb_columns() \
                 where database_name = current_database() and schema_name = ? and table_name = ?",
            )?;
            statement
                .query_map([schema, table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .unwrap_or_default()
}

/// Tests attached to `id`: column name (empty for model-level tests) → test names.
fn tests_of(manifest: &Value, id: &str) -> BTreeMap<String, Vec<String>> {
    let mut tests: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, node) in all_nodes(manifest) {
        if text(node, "resource_type") == "test" && text(node, "attached_node") == id {
            let name = node["test_metadata"]["name"]
                .as_str()
                .unwrap_or_else(|| text(node, "name"));
            tests
                .entry(text(node, "column_name").to_owned())
                .or_default()
                .push(name.to_owned());
        }
    }
    tests
}

fn node_page(
    manifest: &Value,
    node: &Value,
    types: &BTreeMap<String, String>,
    site: Site,
) -> axum::response::Html<String> {
    let id = text(node, "unique_id");
    let tests = tests_of(manifest, id);
    let mut body = format!(
        "<h1 id=\"node-name\">{}</h1><p><code>{}</code> · {} · <code>{}</code> · {}</p><p id=\"node-description\">{}</p>",
        escape(text(node, "name")),
        escape(id),
        escape(text(node, "resource_type")),
        escape(text(node, "relation_name")),
        escape(text(node, "original_file_path")),
        escape(text(node, "description")),
    );
    if let Some(model_tests) = tests.get("") {
        let _ = write!(body, "<p>Tests: {}</p>", escape(&model_tests.join(", ")));
    }
    body.push_str("<section class=\"card\"><h2>Columns</h2><table id=\"columns\"><tr><th>column</th><th>type</th><th>description</th><th>tests</th></tr>");
    let mut names: Vec<String> = node["columns"]
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    names.extend(
        types
            .keys()
            .filter(|k| !names.contains(k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for name in &names {
        let column = &node["columns"][name.as_str()];
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(
                types
                    .get(name)
                    .map_or_else(|| text(column, "data_type"), String::as_str)
            ),
            escape(text(column, "description")),
            escape(&tests.get(name).map(|t| t.join(", ")).unwrap_or_default()),
        );
    }
    body.push_str("</table></section>");
    let code = match node["compiled_code"].as_str() {
        Some(sql) => ("Compiled SQL", sql),
        None => ("SQL (not compiled yet)", text(node, "raw_code")),
    };
    if !code.1.is_empty() {
        let _ = write!(
            body,
            "<section class=\"card\"><h2>{}</h2><pre id=\"sql\">{}</pre></section>",
            code.0,
            escape(code.1)
        );
    }
    if site == Site::Static {
        let _ = write!(
            body,
            "<section class=\"card\"><h2>Lineage (2 levels)</h2>{}</section>",
            static_lineage(manifest, id)
        );
        return site.layout(text(node, "name"), &body, "");
    }
    let _ = write!(
        body,
        "<section class=\"card\"><h2>Lineage</h2><label>levels <select id=\"depth\">\
         <option>1</option><option selected>2</option><option>3</option><option>5</option></select></label>\
         <div class=\"lineage\" id=\"lineage\" data-node=\"{}\"></div></section>",
        escape(id)
    );
    layout(text(node, "name"), &body, LINEAGE_SCRIPT)
}

/// The neighbourhood as the lineage script draws it (a column per level, upstream left), in
/// the page itself.
fn static_lineage(manifest: &Value, id: &str) -> String {
    let Ok(lineage) = neighbourhood(manifest, id, 2) else {
        return String::new();
    };
    let mut levels: BTreeMap<i64, Vec<_>> = BTreeMap::new();
    for node in &lineage.nodes {
        levels.entry(node.level).or_default().push(node);
    }
    let mut html = format!(
        "<div class=\"lineage\" id=\"lineage\" data-edges=\"{}\">",
        lineage.edges.len()
    );
    for (level, nodes) in levels {
        let title = match level {
            l if l < 0 => format!("upstream {}", -l),
            0 => "this node".to_owned(),
            l => format!("downstream {l}"),
        };
        let _ = write!(html, "<div class=\"level\"><strong>{title}</strong>");
        for node in nodes {
            let _ = write!(
                html,
                "<a class=\"node{}\" style=\"display:block\" href=\"{}\" data-unique-id=\"{}\">{} ({})</a>",
                if level == 0 { " chosen" } else { "" },
                escape(&static_file(&node.unique_id)),
                escape(&node.unique_id),
                escape(&node.name),
                escape(&node.resource_type)
            );
        }
        html.push_str("</div>");
    }
    html.push_str("</div>");
    html
}

/// Write the docs site as files under `dir`: `index.html` and a page per node. Returns the
/// number of pages.
pub fn write_static(
    dir: &std::path::Path,
    manifest: &Value,
    catalog: &Value,
) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), index(manifest, "", Site::Static).0)?;
    let mut pages = 1;
    for (id, node) in all_nodes(manifest) {
        let types = crate::catalog::column_types(catalog, id);
        let html = node_page(manifest, node, &types, Site::Static).0;
        std::fs::write(dir.join(static_file(id)), html)?;
        pages += 1;
    }
    Ok(pages)
}

/// Draws the neighbourhood as one column per level, upstream left; each node links to its page.
const LINEAGE_SCRIPT: &str = r#"<script>
(function () {
  const box = document.getElementById('lineage');
  const id = box.dataset.node;
  const load = (depth) => fetch('/api/lineage/' + encodeURIComponent(id) + '?depth=' + depth)
    .then((r) => r.json())
    .then((d) => {
      const levels = new Map();
      d.nodes.forEach((n) => { if (!levels.has(n.level)) levels.set(n.level, []); levels.get(n.level).push(n); });
      box.replaceChildren();
      [...levels.keys()].sort((a, b) => a - b).forEach((level) => {
        const column = document.createElement('div');
        column.className = 'level';
        const title = document.createElement('strong');
        title.textContent = level < 0 ? 'upstream ' + (-level) : level > 0 ? 'downstream ' + level : 'this node';
        column.appendChild(title);
        levels.get(level).forEach((n) => {
          const link = document.createElement('a');
          link.href = '/docs?node=' + encodeURIComponent(n.unique_id);
          link.className = 'node' + (n.level === 0 ? ' chosen' : '');
          link.dataset.uniqueId = n.unique_id;
          link.textContent = n.name + ' (' + n.resource_type + ')';
          link.style.display = 'block';
          column.appendChild(link);
        });
        box.appendChild(column);
      });
      box.dataset.edges = String(d.edges.length);
      document.body.dataset.ready = 'true';
    });
  document.getElementById('depth').addEventListener('change', (e) => load(e.target.value));
  load(2);
})();
</script>"#;
