//! `ghforge docs generate`: compile the whole project, write `manifest.json`, `catalog.json`
//! from the warehouse (read-only), and a static copy of the docs site under
//! `<target-path>/docs/`.

use serde_json::{Value, json};

use crate::adapters::duckdb::Access;
use crate::artifacts::manifest;
use crate::cli::{DocsAction, DocsArgs, SelectionArgs};
use crate::compile::{compile, write_compiled};
use crate::error::{Diagnostic, DiagnosticKind, Error, Result, io_error};
use crate::settings::Settings;

use super::{found_summary, load_and_select};

pub fn run(settings: Settings, args: &DocsArgs) -> Result<i32> {
    let DocsAction::Generate(generate) = &args.action;
    let started = crate::clock::now();
    let loaded = load_and_select(settings, &SelectionArgs::default(), &[])?;
    let console = &loaded.console;
    console.info("FoundStats", &found_summary(&loaded.project), json!({}));
    let compiled = compile(&loaded.project, &loaded.dag, &loaded.selected)?;
    let target_dir = loaded.target_dir();
    write_compiled(&loaded.project, &target_dir, &compiled)?;
    let invocation = super::compile::invocation();
    let built = manifest::build(&loaded.project, &loaded.dag, &compiled, &invocation);
    manifest::write(&target_dir, &built)?;
    let manifest: Value = serde_json::to_value(&built).map_err(|err| {
        Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.to_string()))
    })?;
    let catalog = if generate.empty_catalog {
        crate::catalog::empty(&manifest, &invocation)
    } else {
        console.info("BuildingCatalog", "Building catalog", json!({}));
        let adapter = super::warehouse::open_adapter(&loaded.project.target, Access::ReadOnly)?;
        let mut session = adapter.session().map_err(|err| {
            Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.message))
        })?;
        let dialect = crate::plan::dialect::of(adapter.type_name());
        crate::catalog::build(session.as_mut(), dialect, &manifest, &invocation).map_err(|err| {
            Error::Execution(
                Diagnostic::new(
                    DiagnosticKind::Execution,
                    format!("cannot read the information schema: {}", err.message),
                )
                .hint("`ghforge debug` checks the connection; `--empty-catalog` writes the docs without the warehouse"),
            )
        })?
    };
    crate::catalog::write(&target_dir, &catalog).map_err(|err| {
        Error::Execution(io_error(&target_dir.join("catalog.json"), "write", &err))
    })?;
    let relations = catalog["nodes"].as_object().map_or(0, serde_json::Map::len)
        + catalog["sources"]
            .as_object()
            .map_or(0, serde_json::Map::len);
    console.info(
        "CatalogWritten",
        &format!(
            "Catalog written to {}/catalog.json ({relations} relations)",
            loaded.project.file.target_path
        ),
        json!({"relations": relations}),
    );
    if relations == 0 && !generate.empty_catalog {
        console.warn(
            "CatalogEmpty",
            "No relation of the project exists in the warehouse yet, so the docs show no column types.\n  hint: run `ghforge build` first, then `ghforge docs generate` again",
        );
    }
    let site = target_dir.join("docs");
    let pages = crate::serve::pages::docs::write_static(&site, &manifest, &catalog)
        .map_err(|err| Error::Execution(io_error(&site, "write the docs site into", &err)))?;
    let elapsed = crate::clock::since(started).as_secs_f64();
    console.info(
        "DocsWritten",
        &format!(
            "Docs site written to {}/docs/index.html ({pages} pages) in {elapsed:.2}s",
            loaded.project.file.target_path,
        ),
        json!({"pages": pages, "elapsed_s": elapsed}),
    );
    std::mem::forget(built);
    std::mem::forget(compiled);
    loaded.finish();
    Ok(0)
}
