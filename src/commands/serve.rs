//! `ghforge serve`: the gold layer as a JSON API, a dashboard, run monitoring and docs, read
//! from the newest serving snapshot (never the main database, so `load` and `run` keep
//! working). `ghforge publish`: write a snapshot now, as `run` and `build` do at their end.
//! A Snowflake target is served the same way: its snapshot is fetched from the warehouse at
//! publish time, so `serve` itself never logs in to Snowflake.

use serde_json::json;

use crate::adapters::Adapter;
use crate::adapters::duckdb::Access;
use crate::artifacts::manifest::Invocation;
use crate::cli::{PublishArgs, ServeArgs};
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::project::Project;
use crate::project::profiles::Warehouse;
use crate::serve::publish::duckdb::RunSession;
use crate::serve::publish::snowflake::Fetch;
use crate::serve::publish::{self, PublishError};
use crate::serve::server::{self, Listen, ServeError};
use crate::settings::Settings;

use super::compile::invocation;
use super::warehouse::{open_duckdb, open_snowflake};

pub fn run(settings: Settings, args: &ServeArgs) -> Result<i32> {
    let console = Console {
        format: settings.log_format,
    };
    let file = &settings.load.file;
    let target_dir = file.root.join(&file.target_path);
    let listen = Listen {
        host: args.host.clone(),
        port: args.port,
    };
    server::serve(&target_dir, &listen, console).map_err(|err| serve_error(&err, args))?;
    Ok(0)
}

fn serve_error(err: &ServeError, args: &ServeArgs) -> Error {
    let hint = match err {
        ServeError::NoSnapshot { .. } => {
            "run `ghforge build` first: every successful `run` or `build` publishes a snapshot (or run `ghforge publish`)".to_owned()
        }
        ServeError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
            format!(
                "another program listens on port {}; choose another with `--port`",
                args.port
            )
        }
        ServeError::Bind { .. } => "check `--host` and `--port`".to_owned(),
        ServeError::Snapshot(_) => {
            "publish a fresh snapshot with `ghforge publish` or `ghforge build`".to_owned()
        }
        ServeError::Io(_) => "see the message above".to_owned(),
    };
    Error::Project(Diagnostic::new(DiagnosticKind::Project, err.to_string()).hint(hint))
}

/// `ghforge publish`: a snapshot of the served relations as they are now.
pub fn publish_command(settings: Settings, _args: &PublishArgs) -> Result<i32> {
    let loaded = super::load_and_select(settings, &crate::cli::SelectionArgs::default(), &[])?;
    let project = &loaded.project;
    let adapter: Box<dyn Adapter> = match &project.target.warehouse {
        Warehouse::DuckDb(duck) => Box::new(open_duckdb(&project.target, duck, Access::ReadWrite)?),
        Warehouse::Snowflake(snowflake) => Box::new(open_snowflake(&project.target, snowflake)?),
    };
    let invocation = invocation();
    publish_snapshot(
        project,
        adapter.as_ref(),
        &loaded.target_dir(),
        &invocation,
        "publish",
        loaded.console,
    )?;
    loaded.finish();
    Ok(0)
}

/// Publish through `adapter` and say so; a failure is an execution error (exit 1). On DuckDB
/// the run's own session copies the served relations; on Snowflake they are read with selects
/// and written locally (see [`crate::serve::publish`]).
pub fn publish_snapshot(
    project: &Project,
    adapter: &dyn Adapter,
    target_dir: &std::path::Path,
    invocation: &Invocation,
    command: &str,
    console: Console,
) -> Result<()> {
    let failed = |err: PublishError| {
        Error::Execution(
            Diagnostic::new(
                DiagnosticKind::Execution,
                format!("publishing the serving snapshot failed: {err}"),
            )
            .hint(err.hint()),
        )
    };
    let started = std::time::Instant::now();
    let mut session = adapter
        .session()
        .map_err(|err| failed(PublishError::Warehouse(err)))?;
    let published = match &project.target.warehouse {
        Warehouse::DuckDb(_) => publish::publish(
            project,
            &mut RunSession::new(session.as_mut()),
            target_dir,
            invocation,
            command,
        ),
        Warehouse::Snowflake(_) => Fetch::new(session.as_mut()).and_then(|mut source| {
            publish::publish(project, &mut source, target_dir, invocation, command)
        }),
    }
    .map_err(failed)?;
    tracing::debug!(
        elapsed_ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "published the serving snapshot"
    );
    let relative = published
        .path
        .strip_prefix(&project.file.root)
        .unwrap_or(&published.path)
        .display()
        .to_string();
    let text = format!(
        "Published serving snapshot `{relative}` ({} relations)",
        published.relations.len()
    );
    // A project that serves nothing (no gold schema, no `serve: true`) keeps dbt's output: the
    // snapshot still carries the run for `/runs` and `/docs`, said in the debug log only.
    if published.relations.is_empty() {
        tracing::debug!("{text}");
    } else {
        console.info(
            "SnapshotPublished",
            &text,
            json!({"path": relative, "relations": published.relations.len(), "invocation_id": invocation.invocation_id}),
        );
    }
    Ok(())
}
