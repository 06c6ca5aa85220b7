//! `ghforge debug`: what dbt users run first. Prints the ghforge version, the project and
//! profile in use, the target, and checks the connection by asking the warehouse its version
//! (for DuckDB, the embedded library's). Exit 1 when the connection fails.

use serde_json::json;

use crate::console::Console;
use crate::error::Result;
use crate::project::profiles::Warehouse;
use crate::settings::Settings;

pub fn run(settings: Settings) -> Result<i32> {
    let console = Console {
        format: settings.log_format,
    };
    let file = &settings.load.file;
    let target = &settings.load.target;
    let line = |item: &str, text: String| console.info("DebugCmdOut", &text, json!({"item": item}));
    line(
        "version",
        format!("ghforge version: {}", env!("CARGO_PKG_VERSION")),
    );
    line(
        "project",
        format!("project: {} ({})", file.name, file.root.display()),
    );
    line(
        "profiles",
        match &target.profiles_path {
            Some(path) => format!("profiles.yml: {}", path.display()),
            None => "profiles.yml: none (the embedded DuckDB default)".to_owned(),
        },
    );
    line(
        "target",
        format!(
            "profile: {}  target: {}  type: {}  threads: {}",
            target.profile_name,
            target.name,
            target.warehouse.type_name(),
            target.threads
        ),
    );
    match &target.warehouse {
        Warehouse::DuckDb(duck) => line(
            "database",
            format!(
                "database: {}  schema: {}",
                duck.path.display(),
                target.schema
            ),
        ),
        Warehouse::Snowflake(snowflake) => line(
            "database",
            format!(
                "account: {}  user: {}  database: {}  schema: {}",
                snowflake.account, snowflake.user, target.database, target.schema
            ),
        ),
    }
    let version_sql = match target.warehouse {
        Warehouse::DuckDb(_) => "select version()",
        Warehouse::Snowflake(_) => "select current_version()",
    };
    let checked =
        super::warehouse::open_adapter(target, crate::adapters::duckdb::Access::ReadWrite)
            .and_then(|adapter| {
                adapter
                    .session()
                    .and_then(|mut session| session.query(version_sql))
                    .map_err(|err| {
                        crate::error::Error::Execution(crate::error::Diagnostic::new(
                            crate::error::DiagnosticKind::Execution,
                            err.message,
                        ))
                    })
            });
    match checked {
        Ok(table) => {
            let version = table
                .rows
                .first()
                .and_then(|row| row.first())
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default();
            line(
                "connection",
                format!("{} version: {version}", target.warehouse.type_name()),
            );
            line("connection", "connection test: OK".to_owned());
            Ok(0)
        }
        Err(err) => {
            console.warn("DebugCmdResult", &format!("connection test: FAILED\n{err}"));
            Ok(1)
        }
    }
}
