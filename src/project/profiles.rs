//! `profiles.yml`: where it is found, its raw shape, and the resolved [`Target`] a run uses.
//! Without any profiles file the target is an embedded DuckDB file in the project folder.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::error::{Diagnostic, DiagnosticKind, io_error};
use crate::yaml;

/// A value that must never be printed (passwords, private key passphrases).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

#[derive(Debug, Deserialize)]
struct RawProfile {
    outputs: IndexMap<String, RawOutput>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum RawOutput {
    Duckdb {
        path: Option<String>,
        schema: Option<String>,
        database: Option<String>,
        threads: Option<usize>,
        #[serde(default)]
        settings: IndexMap<String, yaml::Tree>,
        #[serde(default)]
        extensions: Vec<String>,
        s3: Option<S3Config>,
    },
    Snowflake {
        account: String,
        user: String,
        password: Option<Secret>,
        private_key_path: Option<String>,
        private_key_passphrase: Option<Secret>,
        role: Option<String>,
        warehouse: Option<String>,
        database: String,
        schema: String,
        threads: Option<usize>,
        query_tag: Option<String>,
        endpoint: Option<String>,
        s3: Option<S3Config>,
    },
}

/// The `s3:` block of a target: how ghforge (loads, external models) and DuckDB (`s3://` reads
/// and writes) reach object storage. Without keys, the standard AWS credential chain is used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub region: Option<String>,
    /// `http://127.0.0.1:9000` for a self-hosted or test server.
    pub endpoint: Option<String>,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// `path` (`endpoint/bucket/key`, what most self-hosted servers need) or `vhost`; the
    /// default is `path` with a custom endpoint, `vhost` without.
    pub url_style: Option<UrlStyle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlStyle {
    Path,
    Vhost,
}

impl S3Config {
    pub fn path_style(&self) -> bool {
        self.url_style
            .map_or(self.endpoint.is_some(), |style| style == UrlStyle::Path)
    }
}

/// DuckDB connection settings of a target.
#[derive(Debug, Clone, PartialEq)]
pub struct DuckDbTarget {
    /// The database file; `:memory:` for an in-memory database.
    pub path: PathBuf,
    pub settings: IndexMap<String, String>,
    pub extensions: Vec<String>,
}

/// Snowflake connection settings of a target.
#[derive(Debug, Clone, PartialEq)]
pub struct SnowflakeTarget {
    pub account: String,
    pub user: String,
    pub password: Option<Secret>,
    pub private_key_path: Option<PathBuf>,
    pub private_key_passphrase: Option<Secret>,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub query_tag: Option<String>,
    pub endpoint: Option<String>,
}

/// The warehouse kinds a target can point at.
#[derive(Debug, Clone, PartialEq)]
pub enum Warehouse {
    DuckDb(DuckDbTarget),
    Snowflake(SnowflakeTarget),
}

impl Warehouse {
    /// The adapter type name, as `target.type` shows it and dispatch prefixes use it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::DuckDb(_) => "duckdb",
            Self::Snowflake(_) => "snowflake",
        }
    }
}

/// The resolved target of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub profile_name: String,
    pub name: String,
    pub database: String,
    pub schema: String,
    pub threads: usize,
    pub warehouse: Warehouse,
    /// Object storage settings (`s3:` in the output).
    pub s3: Option<S3Config>,
    /// The `profiles.yml` it comes from (`None`: the embedded default).
    pub profiles_path: Option<PathBuf>,
}

/// The default when no profiles file exists: `<project>/ghforge.duckdb`, schema `main`.
pub fn embedded_default(project_root: &Path, profile_name: &str) -> Target {
    Target {
        profile_name: profile_name.to_owned(),
        name: "dev".to_owned(),
        database: "ghforge".to_owned(),
        schema: "main".to_owned(),
        threads: default_threads(),
        warehouse: Warehouse::DuckDb(DuckDbTarget {
            path: project_root.join("ghforge.duckdb"),
            settings: IndexMap::new(),
            extensions: Vec::new(),
        }),
        s3: None,
        profiles_path: None,
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Where profiles are looked for, in order, as dbt looks (with ghforge's own places first):
/// `--profiles-dir`, `GHFORGE_PROFILES_DIR`, `DBT_PROFILES_DIR`, the project folder,
/// `~/.ghforge/`, then `~/.dbt/`.
pub struct Search<'a> {
    pub flag: Option<&'a Path>,
    pub ghforge_env: Option<&'a Path>,
    pub dbt_env: Option<&'a Path>,
    pub project_root: &'a Path,
    pub home: Option<&'a Path>,
}

impl Search<'_> {
    /// The folders searched after `--profiles-dir`, in order.
    pub fn folders(&self) -> Vec<PathBuf> {
        let home = |sub: &str| self.home.map(|h| h.join(sub));
        [
            self.ghforge_env.map(Path::to_path_buf),
            self.dbt_env.map(Path::to_path_buf),
            Some(self.project_root.to_path_buf()),
            home(".ghforge"),
            home(".dbt"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The first `profiles.yml` that exists, or `None`.
    pub fn find(&self) -> Result<Option<PathBuf>, Diagnostic> {
        if let Some(dir) = self.flag {
            let path = dir.join("profiles.yml");
            return if path.is_file() {
                Ok(Some(path))
            } else {
                Err(Diagnostic::new(
                    DiagnosticKind::Profile,
                    format!(
                        "no `profiles.yml` in `{}` given by `--profiles-dir`",
                        dir.display()
                    ),
                )
                .hint("check the path, or leave `--profiles-dir` out to search the usual places"))
            };
        }
        Ok(self
            .folders()
            .into_iter()
            .map(|dir| dir.join("profiles.yml"))
            .find(|path| path.is_file()))
    }
}

/// Read `path` and resolve the profile `profile_name`, target `target_name` (or the profile's
/// default). `render` renders `env_var(...)` and friends in string values.
pub fn load(
    path: &Path,
    project_root: &Path,
    profile_name: &str,
    target_name: Option<&str>,
    render: &mut dyn FnMut(&str) -> Result<String, Diagnostic>,
) -> Result<Target, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error(path, "read", &err))?;
    let mut tree = yaml::parse_tree(path, &text)?;
    let Some(profile_tree) = tree.get_mut(profile_name) else {
        let known: Vec<String> = tree
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str())
                    .filter(|k| *k != "config")
                    .map(|k| format!("`{k}`"))
                    .collect()
            })
            .unwrap_or_default();
        return Err(Diagnostic::new(
            DiagnosticKind::Profile,
            format!("profile `{profile_name}` is not in `{}`", path.display()),
        )
        .hint(if known.is_empty() {
            "add the profile, or set `profile:` in the project file to one that exists".to_owned()
        } else {
            format!("profiles in this file: {}", known.join(", "))
        }));
    };
    let outputs: Vec<String> = profile_tree
        .get("outputs")
        .and_then(serde_yaml::Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let target_name = match target_name {
        Some(name) => name.to_owned(),
        None => match profile_tree
            .get("target")
            .and_then(serde_yaml::Value::as_str)
        {
            Some(raw) => render(raw).map_err(|d| d.in_file(path))?,
            None => "dev".to_owned(),
        },
    };
    let mut profile_tree = only_target(profile_tree, &target_name);
    yaml::render_strings(&mut profile_tree, &[], &mut |raw| {
        render(raw).map_err(|d| match yaml::line_of(&text, raw) {
            Some(line) => d.at(path, line, None, Some(&text)),
            None => d.in_file(path),
        })
    })?;
    let profile: RawProfile = yaml::from_tree(path, profile_tree).map_err(|d| {
        d.hint("a DuckDB output takes `type: duckdb`, `path`, `schema`, `threads`, `settings`; a Snowflake output takes `type: snowflake`, `account`, `user`, `password` or `private_key_path`, `database`, `schema`, ...")
    })?;
    let Some(output) = profile.outputs.get(&target_name) else {
        let known: Vec<_> = outputs.iter().map(|k| format!("`{k}`")).collect();
        return Err(Diagnostic::new(
            DiagnosticKind::Profile,
            format!("target `{target_name}` is not an output of profile `{profile_name}`"),
        )
        .in_file(path)
        .hint(format!("targets of this profile: {}", known.join(", "))));
    };
    Ok(Target {
        profiles_path: Some(path.to_path_buf()),
        ..resolve_output(output, project_root, profile_name, &target_name)
    })
}

/// The profile with only the output `target_name` under `outputs`, so the other targets'
/// `env_var(...)` are never rendered, as in dbt.
fn only_target(profile: &yaml::Tree, target_name: &str) -> yaml::Tree {
    let mut profile = profile.clone();
    if let Some(outputs) = profile
        .get_mut("outputs")
        .and_then(serde_yaml::Value::as_mapping_mut)
    {
        outputs.retain(|name, _| name.as_str() == Some(target_name));
    }
    profile
}

fn resolve_output(output: &RawOutput, project_root: &Path, profile: &str, name: &str) -> Target {
    match output {
        RawOutput::Duckdb {
            path,
            schema,
            database,
            threads,
            settings,
            extensions,
            s3,
        } => {
            let path = match path.as_deref() {
                Some(":memory:") => PathBuf::from(":memory:"),
                Some(p) => project_root.join(p),
                None => project_root.join("ghforge.duckdb"),
            };
            let database = database.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .filter(|s| s != ":memory:")
                    .unwrap_or_else(|| "memory".to_owned())
            });
            Target {
                profile_name: profile.to_owned(),
                name: name.to_owned(),
                database,
                schema: schema.clone().unwrap_or_else(|| "main".to_owned()),
                threads: threads.unwrap_or_else(default_threads),
                warehouse: Warehouse::DuckDb(DuckDbTarget {
                    path,
                    settings: settings
                        .iter()
                        .map(|(k, v)| {
                            let value = match v {
                                serde_yaml::Value::String(s) => s.clone(),
                                other => yaml::to_json(other).to_string(),
                            };
                            (k.clone(), value)
                        })
                        .collect(),
                    extensions: extensions.clone(),
                }),
                s3: s3.clone(),
                profiles_path: None,
            }
        }
        RawOutput::Snowflake {
            account,
            user,
            password,
            private_key_path,
            private_key_passphrase,
            role,
            warehouse,
            database,
            schema,
            threads,
            query_tag,
            endpoint,
            s3,
        } => Target {
            profile_name: profile.to_owned(),
            name: name.to_owned(),
            database: database.clone(),
            schema: schema.clone(),
            threads: threads.unwrap_or(4),
            warehouse: Warehouse::Snowflake(SnowflakeTarget {
                account: account.clone(),
                user: user.clone(),
                password: password.clone(),
                private_key_path: private_key_path.as_ref().map(|p| project_root.join(p)),
                private_key_passphrase: private_key_passphrase.clone(),
                role: role.clone(),
                warehouse: warehouse.clone(),
                query_tag: query_tag.clone(),
                endpoint: endpoint.clone(),
            }),
            s3: s3.clone(),
            profiles_path: None,
        },
    }
}
