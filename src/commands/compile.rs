//! `ghforge compile`: render selected models and tests to SQL files and write the manifest.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::artifacts::manifest::{self, Invocation};
use crate::cli::CompileArgs;
use crate::compile::{compile, write_compiled};
use crate::error::Result;
use crate::project::nodes::ResourceType;
use crate::settings::Settings;

use super::{found_summary, load_and_select};

pub fn run(settings: Settings, args: &CompileArgs) -> Result<i32> {
    let started = Instant::now();
    let loaded = load_and_select(
        settings,
        &args.selection,
        &[ResourceType::Model, ResourceType::Test],
    )?;
    let console = loaded.console;
    console.info("found", &found_summary(&loaded.project), json!({}));
    let compiled = compile(&loaded.project, &loaded.dag, &loaded.selected)?;
    let target_dir = loaded.target_dir();
    write_compiled(&loaded.project, &target_dir, &compiled)?;
    let invocation = invocation();
    let manifest = manifest::build(&loaded.project, &loaded.dag, &compiled, &invocation);
    manifest::write(&target_dir, &manifest)?;
    console.info(
        "compiled",
        &format!(
            "Compiled {} nodes into {}/compiled in {:.2}s",
            compiled.len(),
            loaded.project.file.target_path,
            started.elapsed().as_secs_f64()
        ),
        json!({"nodes": compiled.len(), "elapsed_s": started.elapsed().as_secs_f64()}),
    );
    // The process exits next: skip freeing (see `Loaded::finish`).
    std::mem::forget(manifest);
    std::mem::forget(compiled);
    loaded.finish();
    Ok(0)
}

/// A fresh invocation id and timestamps for artifacts.
pub fn invocation() -> Invocation {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seed = crate::checksum::md5(&format!("{}-{}", now.as_nanos(), std::process::id()));
    let generated_at = chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    Invocation {
        invocation_id: format!(
            "{}-{}-{}-{}-{}",
            &seed[..8],
            &seed[8..12],
            &seed[12..16],
            &seed[16..20],
            &seed[20..32]
        ),
        generated_at,
        created_at: now.as_secs_f64(),
    }
}
