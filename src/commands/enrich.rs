//! `ghforge enrich`: the repositories of a model, enriched from GitHub's REST API into
//! `bronze.repo_metadata`, a line per repository and a summary. Exit 1 when a request failed.

use serde_json::json;

use crate::adapters::duckdb::Access;
use crate::cli::{EnrichArgs, SelectionArgs};
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::load::enrich::{self, Outcome, Report};
use crate::load::github::Github;
use crate::project::nodes::ResourceType;
use crate::project::profiles::Warehouse;
use crate::settings::Settings;

use super::live::{api_options, parse_duration};

pub fn run(settings: Settings, args: &EnrichArgs) -> Result<i32> {
    let usage = |message: String, hint: String| {
        Error::Project(Diagnostic::new(DiagnosticKind::Project, message).hint(hint))
    };
    let execution =
        |message: String| Error::Execution(Diagnostic::new(DiagnosticKind::Execution, message));
    let max_age = parse_duration(&args.max_age).ok_or_else(|| {
        usage(
            format!("`--max-age {}` is not a duration", args.max_age),
            "give seconds, minutes or hours: `--max-age 30m`, `--max-age 24h`".to_owned(),
        )
    })?;
    let selection = SelectionArgs {
        select: vec![args.model.clone()],
        ..SelectionArgs::default()
    };
    let loaded = super::load_and_select(settings, &selection, &[ResourceType::Model])?;
    let console = loaded.console;
    let project = &loaded.project;
    let Some(node) = loaded
        .selected
        .iter()
        .map(|id| &project.nodes[id])
        .find(|node| node.name == args.model)
    else {
        return Err(usage(
            format!("`--from {}` is not a model of this project", args.model),
            "name a model with a `repo_name` column, such as `active_repos` (`ghforge ls` lists them)".to_owned(),
        ));
    };
    let target = &project.target;
    let Warehouse::DuckDb(duck) = &target.warehouse else {
        return Err(usage(
            format!(
                "`enrich` writes to a DuckDB target; `{}` is a Snowflake target",
                target.name
            ),
            "enrich into a DuckDB target".to_owned(),
        ));
    };
    let adapter = super::warehouse::open_duckdb(target, duck, Access::ReadWrite)?;
    let connection = adapter.connection().map_err(|err| execution(err.message))?;
    connection
        .execute_batch(enrich::SCHEMA_SQL)
        .map_err(|err| execution(format!("creating bronze.repo_metadata failed: {err}")))?;
    let relation = node.relation.quoted();
    let columns: Vec<String> = connection
        .prepare(&format!("select * from {relation} limit 0"))
        .and_then(|mut statement| {
            drop(statement.query([])?);
            Ok(statement.column_names())
        })
        .map_err(|err| {
            usage(
                format!("cannot read `{}` ({relation}): {err}", node.name),
                format!("build it first: `ghforge build --select +{}`", node.name),
            )
        })?;
    if !columns.iter().any(|c| c == "repo_name") {
        return Err(usage(
            format!(
                "`{}` has no `repo_name` column (it has: {})",
                node.name,
                columns.join(", ")
            ),
            "name a model with a `repo_name` column holding `owner/name`".to_owned(),
        ));
    }
    let order = if columns.iter().any(|c| c == "events") {
        "max(events) desc nulls last, repo_name"
    } else {
        "repo_name"
    };
    let repos: Vec<String> = connection
        .prepare(&format!(
            "select repo_name from {relation} where repo_name is not null group by repo_name order by {order} limit ?"
        ))
        .and_then(|mut statement| {
            statement
                .query_map([args.limit], |row| row.get(0))?
                .collect()
        })
        .map_err(|err| execution(format!("reading `{}` failed: {err}", node.name)))?;
    let api = Github::new(api_options(&args.api_url, args.timeout, args.retries))
        .map_err(|err| execution(format!("cannot start the HTTP client: {err}")))?;
    let total = repos.len();
    let mut done = 0;
    let mut line = |report: &Report| {
        done += 1;
        print_repo(&console, done, total, report);
    };
    let reports = enrich::enrich(
        &connection,
        &api,
        &repos,
        max_age,
        args.concurrency,
        &mut line,
    )
    .map_err(|err| execution(err.to_string()))?;
    let count = |f: fn(&Outcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    console.info(
        "EnrichSummary",
        &format!(
            "Done. {total} repositories: {} fetched, {} not modified, {} gone, {} fresh (not requested), {failed} failed.",
            count(|o| *o == Outcome::Fetched),
            count(|o| *o == Outcome::NotModified),
            count(|o| matches!(o, Outcome::Gone(_))),
            count(|o| *o == Outcome::Fresh),
        ),
        json!({"repositories": total, "failed": failed}),
    );
    loaded.finish();
    Ok(i32::from(failed > 0))
}

fn print_repo(console: &crate::console::Console, index: usize, total: usize, report: &Report) {
    let what = match &report.outcome {
        Outcome::Fetched => "fetched".to_owned(),
        Outcome::NotModified => "not modified (304)".to_owned(),
        Outcome::Gone(code) => format!("gone ({code})"),
        Outcome::Fresh => "fresh, not requested".to_owned(),
        Outcome::Failed(message) => {
            console.warn(
                "EnrichFailed",
                &format!("{index} of {total} {} failed: {message}", report.repo),
            );
            return;
        }
    };
    console.info(
        "EnrichRepo",
        &format!("{index} of {total} {} {what}", report.repo),
        json!({"repo": report.repo, "outcome": what}),
    );
}
