//! `ghforge clean`: delete the project file's `clean-targets` (default: the target path), as
//! `dbt clean` does. Every target is checked before any is deleted: the project folder itself
//! is refused, and so are paths outside it unless `--no-clean-project-files-only`.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::CleanArgs;
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result, io_error};
use crate::settings::Settings;

/// `path` with `..` and symlinks resolved; a path not there yet resolves through its parent.
fn resolve(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        let parent = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
        match (parent, path.file_name()) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => path.to_path_buf(),
        }
    })
}

pub fn run(settings: &Settings, args: &CleanArgs) -> Result<i32> {
    let console = Console {
        format: settings.log_format,
    };
    let file = &settings.load.file;
    let root = resolve(&file.root);
    let mut targets = Vec::new();
    for target in &file.clean_targets {
        let resolved = resolve(&root.join(target));
        let refused = if resolved == root || root.starts_with(&resolved) {
            Some("is the project folder or contains it")
        } else if !resolved.starts_with(&root) && !args.no_clean_project_files_only {
            Some("is outside the project folder")
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(Error::Project(
                Diagnostic::new(
                    DiagnosticKind::Project,
                    format!("clean-target `{target}` {why}; nothing was deleted"),
                )
                .in_file(&file.file_name)
                .hint("list only folders of artifacts inside the project under `clean-targets`; `--no-clean-project-files-only` allows ones outside it"),
            ));
        }
        targets.push((target, resolved));
    }
    for (target, path) in targets {
        console.info(
            "CheckCleanPath",
            &format!("Checking {target}/*"),
            json!({"path": target}),
        );
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(Error::Execution(io_error(&path, "delete", &err))),
        }
        console.info(
            "ConfirmCleanPath",
            &format!("Cleaned {target}/*"),
            json!({"path": target}),
        );
    }
    console.info(
        "FinishedCleanPaths",
        "Finished cleaning all paths.",
        json!({}),
    );
    Ok(0)
}
