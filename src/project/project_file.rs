//! The project file (`ghforge_project.yml`, or `dbt_project.yml`): raw serde shape and its
//! resolution into [`ProjectFile`].

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::error::{Diagnostic, DiagnosticKind, io_error};
use crate::yaml;

/// File names a project directory may use, in the order they are looked for.
pub const PROJECT_FILE_NAMES: [&str; 2] = ["ghforge_project.yml", "dbt_project.yml"];

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    version: Option<yaml::Tree>,
    #[serde(rename = "config-version")]
    config_version: Option<yaml::Tree>,
    profile: Option<String>,
    #[serde(rename = "model-paths", alias = "source-paths")]
    model_paths: Option<Vec<String>>,
    #[serde(rename = "macro-paths")]
    macro_paths: Option<Vec<String>>,
    #[serde(rename = "seed-paths", alias = "data-paths")]
    seed_paths: Option<Vec<String>>,
    #[serde(rename = "test-paths")]
    test_paths: Option<Vec<String>>,
    #[serde(rename = "target-path")]
    target_path: Option<String>,
    vars: Option<yaml::Tree>,
    models: Option<yaml::Tree>,
    seeds: Option<yaml::Tree>,
    #[serde(alias = "data_tests")]
    tests: Option<yaml::Tree>,
    sources: Option<yaml::Tree>,
    #[serde(rename = "on-run-start")]
    on_run_start: Option<OneOrMany>,
    #[serde(rename = "on-run-end")]
    on_run_end: Option<OneOrMany>,
    // Accepted for compatibility with dbt projects; ghforge does not use them.
    #[serde(rename = "analysis-paths")]
    _analysis_paths: Option<yaml::Tree>,
    #[serde(rename = "snapshot-paths")]
    _snapshot_paths: Option<yaml::Tree>,
    #[serde(rename = "docs-paths")]
    _docs_paths: Option<yaml::Tree>,
    #[serde(rename = "asset-paths")]
    _asset_paths: Option<yaml::Tree>,
    #[serde(rename = "clean-targets")]
    clean_targets: Option<Vec<String>>,
    #[serde(rename = "log-path")]
    _log_path: Option<yaml::Tree>,
    #[serde(rename = "packages-install-path")]
    _packages_install_path: Option<yaml::Tree>,
    #[serde(rename = "require-dbt-version")]
    _require_dbt_version: Option<yaml::Tree>,
    #[serde(rename = "quoting")]
    _quoting: Option<yaml::Tree>,
    #[serde(rename = "query-comment")]
    _query_comment: Option<yaml::Tree>,
    #[serde(rename = "dispatch")]
    _dispatch: Option<yaml::Tree>,
    #[serde(rename = "flags")]
    _flags: Option<yaml::Tree>,
    #[serde(rename = "snapshots")]
    _snapshots: Option<yaml::Tree>,
    #[serde(rename = "analyses")]
    _analyses: Option<yaml::Tree>,
    #[serde(rename = "exposures")]
    _exposures: Option<yaml::Tree>,
    #[serde(rename = "metrics")]
    _metrics: Option<yaml::Tree>,
    #[serde(rename = "semantic-models")]
    _semantic_models: Option<yaml::Tree>,
    #[serde(rename = "saved-queries")]
    _saved_queries: Option<yaml::Tree>,
}

/// The resolved project file.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub root: PathBuf,
    /// Project file path relative to `root` (for messages).
    pub file_name: String,
    pub name: String,
    pub version: Option<String>,
    pub profile: Option<String>,
    pub model_paths: Vec<String>,
    pub macro_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub test_paths: Vec<String>,
    pub target_path: String,
    /// What `ghforge clean` removes (default: the target path).
    pub clean_targets: Vec<String>,
    pub vars: IndexMap<String, serde_json::Value>,
    pub models: serde_json::Value,
    pub seeds: serde_json::Value,
    pub tests: serde_json::Value,
    pub sources: serde_json::Value,
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    /// The text of the project file, for errors that point into it.
    pub text: String,
}

/// Find the project file in `root`.
pub fn find(root: &Path) -> Result<PathBuf, Diagnostic> {
    PROJECT_FILE_NAMES
        .iter()
        .map(|name| root.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            Diagnostic::new(
                DiagnosticKind::Project,
                format!("no project file found in `{}`", root.display()),
            )
            .hint("run ghforge inside a project (a folder with `ghforge_project.yml` or `dbt_project.yml`), or pass `--project-dir`")
        })
}

/// The project's `name` and `profile`, read before anything renders (they pick the profile).
pub fn peek(path: &Path) -> Result<(String, Option<String>), Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error(path, "read", &err))?;
    let raw = parse_raw(path, &text)?;
    Ok((raw.name, raw.profile))
}

/// The typed parse, which reports structural mistakes with their place.
fn parse_raw(path: &Path, text: &str) -> Result<RawProject, Diagnostic> {
    yaml::parse(path, text).map_err(|d| {
        if d.message.contains("unknown field") {
            d.hint("see https://docs.getdbt.com/reference/dbt_project.yml for the keys a project file takes")
        } else {
            d
        }
    })
}

/// Read and resolve the project file at `path`. `render` renders Jinja in string values
/// (`env_var`, `var`); hooks keep their raw text and render when they run.
pub fn load(
    path: &Path,
    render: &mut dyn FnMut(&str) -> Result<String, Diagnostic>,
) -> Result<ProjectFile, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error(path, "read", &err))?;
    // Parse once as the typed shape to report structural errors with their place.
    parse_raw(path, &text)?;
    let mut tree = yaml::parse_tree(path, &text)?;
    let skip = [
        "pre-hook",
        "post-hook",
        "pre_hook",
        "post_hook",
        "on-run-start",
        "on-run-end",
        "vars",
    ];
    yaml::render_strings(&mut tree, &skip, &mut |raw| {
        render(raw).map_err(|d| match yaml::line_of(&text, raw) {
            Some(line) if d.location.is_none() => d.at(path, line, None, Some(&text)),
            _ => d,
        })
    })?;
    let raw: RawProject = yaml::from_tree(path, tree)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let json =
        |tree: Option<yaml::Tree>| tree.as_ref().map_or(serde_json::Value::Null, yaml::to_json);
    let vars = match json(raw.vars) {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        serde_json::Value::Null => IndexMap::new(),
        _ => {
            return Err(
                Diagnostic::new(DiagnosticKind::Project, "`vars` must be a map").at(
                    path,
                    yaml::line_of(&text, "vars:").unwrap_or(0),
                    None,
                    Some(&text),
                ),
            );
        }
    };
    let _ = raw.config_version;
    Ok(ProjectFile {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        root,
        name: raw.name,
        version: raw.version.map(|v| match v {
            serde_yaml::Value::String(s) => s,
            other => yaml::to_json(&other).to_string(),
        }),
        profile: raw.profile,
        model_paths: raw.model_paths.unwrap_or_else(|| vec!["models".into()]),
        macro_paths: raw.macro_paths.unwrap_or_else(|| vec!["macros".into()]),
        seed_paths: raw.seed_paths.unwrap_or_else(|| vec!["seeds".into()]),
        test_paths: raw.test_paths.unwrap_or_else(|| vec!["tests".into()]),
        clean_targets: raw
            .clean_targets
            .unwrap_or_else(|| vec![raw.target_path.clone().unwrap_or_else(|| "target".into())]),
        target_path: raw.target_path.unwrap_or_else(|| "target".into()),
        vars,
        models: json(raw.models),
        seeds: json(raw.seeds),
        tests: json(raw.tests),
        sources: json(raw.sources),
        on_run_start: raw
            .on_run_start
            .map(OneOrMany::into_vec)
            .unwrap_or_default(),
        on_run_end: raw.on_run_end.map(OneOrMany::into_vec).unwrap_or_default(),
        text,
    })
}
