//! The project's `manifest.json` (and `catalog.json`, from `ghforge docs generate`) as the docs
//! pages and the lineage endpoint read them: loaded once and again only when the file changes
//! (its modification time and size), shared by every request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde_json::Value;

/// A loaded manifest with the file's modification time and size when it was read.
struct Loaded {
    modified: Option<SystemTime>,
    len: u64,
    value: Arc<Value>,
}

/// A parsed JSON artifact, reloaded when the file changes.
pub struct ManifestCache {
    path: PathBuf,
    loaded: Mutex<Option<Loaded>>,
}

impl ManifestCache {
    /// `<target_dir>/manifest.json`.
    pub fn new(target_dir: &std::path::Path) -> Self {
        Self::of(target_dir.join("manifest.json"))
    }

    /// `<target_dir>/catalog.json`.
    pub fn catalog(target_dir: &std::path::Path) -> Self {
        Self::of(target_dir.join("catalog.json"))
    }

    fn of(path: PathBuf) -> Self {
        Self {
            path,
            loaded: Mutex::new(None),
        }
    }

    /// The artifact, or `None` when there is none (or it cannot be read).
    pub fn get(&self) -> Option<Arc<Value>> {
        let metadata = std::fs::metadata(&self.path).ok()?;
        let (modified, len) = (metadata.modified().ok(), metadata.len());
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = loaded.as_ref()
            && current.modified == modified
            && current.len == len
        {
            return Some(current.value.clone());
        }
        let text = std::fs::read(&self.path).ok()?;
        let value: Arc<Value> = Arc::new(serde_json::from_slice(&text).ok()?);
        *loaded = Some(Loaded {
            modified,
            len,
            value: value.clone(),
        });
        Some(value)
    }
}

/// A node or source of the manifest by unique id.
pub fn node<'a>(manifest: &'a Value, unique_id: &str) -> Option<&'a Value> {
    manifest["nodes"]
        .get(unique_id)
        .or_else(|| manifest["sources"].get(unique_id))
}

/// The ids of `map` (`parent_map` or `child_map`) next to `unique_id`.
pub fn neighbours<'a>(manifest: &'a Value, map: &str, unique_id: &str) -> Vec<&'a str> {
    manifest[map][unique_id]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
