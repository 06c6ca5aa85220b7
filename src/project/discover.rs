//! Finding a project's files: SQL models, schema YAML, seeds, singular tests and macros, in a
//! stable (sorted) order.

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, io_error};

/// One file found under a resource folder.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// Absolute path.
    pub absolute: PathBuf,
    /// Path relative to the project root, with `/` separators (`models/staging/a.sql`).
    pub original_file_path: String,
    /// Path relative to the resource folder (`staging/a.sql`).
    pub path: String,
    pub text: String,
}

impl FoundFile {
    /// The file name without extension.
    pub fn stem(&self) -> String {
        Path::new(&self.path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Folders between the resource root and the file.
    pub fn folders(&self) -> Vec<String> {
        let mut parts: Vec<String> = self.path.split('/').map(str::to_owned).collect();
        parts.pop();
        parts
    }
}

/// Every file with one of `extensions` under `root/<folder>` for each folder, sorted by path.
/// Files are listed first, then read in parallel.
pub fn files(
    root: &Path,
    folders: &[String],
    extensions: &[&str],
    exclude_folder: Option<&str>,
) -> Result<Vec<FoundFile>, Diagnostic> {
    let mut listed: Vec<(PathBuf, String, String)> = Vec::new();
    for folder in folders {
        let base = root.join(folder);
        if !base.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let entry = entry.map_err(|err| {
                let path = err.path().unwrap_or(&base).to_path_buf();
                let io = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                io_error(&path, "list", &io)
            })?;
            let path = entry.path();
            let matches_extension = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e));
            if !entry.file_type().is_file() || !matches_extension {
                continue;
            }
            let relative = relative_slash(path, &base);
            if exclude_folder.is_some_and(|f| relative.starts_with(&format!("{f}/"))) {
                continue;
            }
            listed.push((path.to_path_buf(), relative_slash(path, root), relative));
        }
    }
    crate::parallel::map(&listed, |(absolute, original_file_path, path)| {
        let text =
            std::fs::read_to_string(absolute).map_err(|err| io_error(absolute, "read", &err))?;
        Ok(FoundFile {
            absolute: absolute.clone(),
            original_file_path: original_file_path.clone(),
            path: path.clone(),
            text,
        })
    })
    .into_iter()
    .collect()
}

fn relative_slash(path: &Path, base: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
