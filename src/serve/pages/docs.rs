//! `/docs`: the project's models, seeds, sources and tests from `manifest.json`. The index
//! (`?q=` filters by name) lists at most a page of each kind, so a 10,000-model project stays
//! quick; a node's page (`?node=<unique_id>`) shows its description, columns (types from the
//! snapshot's catalog where it serves the relation, descriptions and tests from YAML), compiled
//! SQL, and its lineage neighbourhood, fetched from `/api/lineage/...` on demand.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{escape, layout, url_escape};
use crate::serve::api::AppState;
use crate::serve::manifest;
use crate::serve::snapshot::Snapshot;

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
    let rendered = tokio::task::spawn_blocking(move || {
        let Some(manifest) = cache.get() else {
            let body = "<h1>Docs</h1><p>No <code>manifest.json</code> yet: run <code>ghforge build</code> first.</p>";
            return (StatusCode::NOT_FOUND, layout("Docs", body, ""));
        };
        match query.get("node") {
            Some(id) => match manifest::node(&manifest, id) {
                Some(node) => (StatusCode::OK, node_page(&manifest, node, &snapshot)),
                None => {
                    let body = format!("<h1>Docs</h1><p id=\"no-node\">No node <code>{}</code>.</p>", escape(id));
                    (StatusCode::NOT_FOUND, layout("Docs", &body, ""))
                }
            },
            None => (
                StatusCode::OK,
                index(&manifest, query.get("q").map_or("", String::as_str)),
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

fn index(manifest: &Value, filter: &str) -> axum::response::Html<String> {
    let needle = filter.to_lowercase();
    let mut body = format!(
        "<h1>Docs</h1><form action=\"/docs\"><input name=\"q\" value=\"{}\" placeholder=\"filter by name\"> <button>Filter</button></form>",
        escape(filter)
    );
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
        for (id, node) in matching.iter().take(INDEX_PAGE) {
            let description: String = text(node, "description").chars().take(140).collect();
            let _ = write!(
                body,
                "<tr><td><a href=\"/docs?node={}\">{}</a></td><td>{}</td></tr>",
                url_escape(id),
                escape(id),
                escape(&description)
            );
        }
        if matching.len() > INDEX_PAGE {
            let _ = write!(
                body,
                "<tr><td colspan=\"2\">… and {} more; filter to narrow</td></tr>",
                matching.len() - INDEX_PAGE
            );
        }
        body.push_str("</table></section>");
    }
    layout("Docs", &body, "")
}

/// Column name → data type, from the snapshot's catalog when it serves the node's relation.
fn catalog_types(snapshot: &Snapshot, node: &Value) -> BTreeMap<String, String> {
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

fn node_page(manifest: &Value, node: &Value, snapshot: &Snapshot) -> axum::response::Html<String> {
    let id = text(node, "unique_id");
    let types = catalog_types(snapshot, node);
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
    let _ = write!(
        body,
        "<section class=\"card\"><h2>Lineage</h2><label>levels <select id=\"depth\">\
         <option>1</option><option selected>2</option><option>3</option><option>5</option></select></label>\
         <div class=\"lineage\" id=\"lineage\" data-node=\"{}\"></div></section>",
        escape(id)
    );
    layout(text(node, "name"), &body, LINEAGE_SCRIPT)
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
