//! `Settings::resolve`: command-line flags, the project file, `profiles.yml` and the environment,
//! resolved once into what commands use. Commands never read flags or the environment again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::cli::{GlobalArgs, LogFormat};
use crate::error::{Diagnostic, DiagnosticKind};
use crate::jinja::render_config_string;
use crate::project::{EnvLookup, LoadInputs, profiles, project_file};
use crate::yaml;

/// Everything a command needs to know before loading the project's nodes.
pub struct Settings {
    pub load: LoadInputs,
    pub log_format: LogFormat,
}

impl Settings {
    /// Resolve flags, files and environment. `env` reads environment variables; `home` is the
    /// user's home folder (for `~/.ghforge/profiles.yml`).
    pub fn resolve(
        args: &GlobalArgs,
        env: EnvLookup,
        home: Option<PathBuf>,
    ) -> Result<Self, Diagnostic> {
        let cli_vars = parse_vars(args.vars.as_deref())?;
        let project_dir = match &args.project_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|err| {
                Diagnostic::new(
                    DiagnosticKind::Io,
                    format!("cannot read the current folder: {err}"),
                )
            })?,
        };
        let project_dir = std::fs::canonicalize(&project_dir).map_err(|err| {
            Diagnostic::new(
                DiagnosticKind::Project,
                format!(
                    "project folder `{}` cannot be opened: {err}",
                    project_dir.display()
                ),
            )
            .hint("pass an existing folder with `--project-dir`")
        })?;
        let path = project_file::find(&project_dir)?;
        // The profile first (its name is a plain key of the project file), so `target` is
        // known when the project file's strings render.
        let (project_name, profile) =
            project_file::peek(&path).map_err(|d| d.relative_to(&project_dir))?;
        let profile_name = profile.clone().unwrap_or(project_name);
        let no_target = IndexMap::new();
        let mut render = |raw: &str| render_config_string(raw, &cli_vars, &env, &no_target);
        let ghforge_env = env("GHFORGE_PROFILES_DIR").map(PathBuf::from);
        let dbt_env = env("DBT_PROFILES_DIR").map(PathBuf::from);
        let search = profiles::Search {
            flag: args.profiles_dir.as_deref(),
            ghforge_env: ghforge_env.as_deref(),
            dbt_env: dbt_env.as_deref(),
            project_root: &project_dir,
            home: home.as_deref(),
        };
        let target = match search.find()? {
            Some(profiles_path) => profiles::load(
                &profiles_path,
                &project_dir,
                &profile_name,
                args.target.as_deref(),
                &mut render,
            )
            .map_err(|d| d.relative_to(&project_dir))?,
            None => {
                let searched: Vec<String> = search
                    .folders()
                    .iter()
                    .map(|dir| format!("`{}`", dir.join("profiles.yml").display()))
                    .collect();
                if let Some(name) = &profile {
                    // A project that names its profile means a warehouse: never build into a
                    // local file in its place.
                    return Err(Diagnostic::new(
                        DiagnosticKind::Profile,
                        format!(
                            "the project's profile `{name}` is in no profiles.yml; searched {}",
                            searched.join(", ")
                        ),
                    )
                    .in_file(&path)
                    .relative_to(&project_dir)
                    .hint(format!(
                        "create profiles.yml in the project folder with a profile named `{name}` (see profiles.example.yml) or point `--profiles-dir` at yours; remove `profile:` from the project file to build into the embedded `ghforge.duckdb`"
                    )));
                }
                if let Some(name) = &args.target {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Profile,
                        format!(
                            "`--target {name}` was given but no profiles.yml was found; searched {}",
                            searched.join(", ")
                        ),
                    )
                    .hint("create profiles.yml in the project folder, or pass `--profiles-dir`"));
                }
                profiles::embedded_default(&project_dir, &profile_name)
            }
        };
        let target_values = crate::project::target_json(&target);
        let mut render = |raw: &str| render_config_string(raw, &cli_vars, &env, &target_values);
        let file =
            project_file::load(&path, &mut render).map_err(|d| d.relative_to(&project_dir))?;
        Ok(Self {
            load: LoadInputs {
                file,
                target,
                cli_vars,
                env,
            },
            log_format: args.log_format,
        })
    }
}

/// The process environment as an [`EnvLookup`].
pub fn process_env() -> EnvLookup {
    Arc::new(|name: &str| std::env::var(name).ok())
}

fn parse_vars(raw: Option<&str>) -> Result<IndexMap<String, serde_json::Value>, Diagnostic> {
    let Some(raw) = raw else {
        return Ok(IndexMap::new());
    };
    let tree: yaml::Tree = yaml::parse(Path::new("--vars"), raw).map_err(|d| {
        Diagnostic::new(
            DiagnosticKind::Vars,
            format!("`--vars` is not valid YAML: {}", d.message),
        )
        .hint("pass a map, e.g. `--vars '{since: 2024-01-01, limit: 10}'`")
    })?;
    match yaml::to_json(&tree) {
        serde_json::Value::Object(map) => Ok(map.into_iter().collect()),
        serde_json::Value::Null => Ok(IndexMap::new()),
        other => Err(Diagnostic::new(
            DiagnosticKind::Vars,
            format!("`--vars` must be a map of names to values, got `{other}`"),
        )
        .hint("pass a map, e.g. `--vars '{since: 2024-01-01, limit: 10}'`")),
    }
}
