//! A folder as object storage: keys are relative paths; writes go to a hidden temporary file
//! renamed into place, so a reader never sees half an object.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{ObjectInfo, Storage, StorageError};

pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

impl Storage for LocalStorage {
    fn url(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    fn put_file(&self, key: &str, from: &Path, _sha256: &str) -> Result<(), StorageError> {
        let to = self.path(key);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| StorageError::io("create", parent, err))?;
        }
        let partial = to.with_file_name(format!(
            ".{}.partial",
            to.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        std::fs::copy(from, &partial).map_err(|err| StorageError::io("write", &partial, err))?;
        std::fs::rename(&partial, &to).map_err(|err| StorageError::io("move into place", &to, err))
    }

    fn get(&self, key: &str) -> Result<Option<Box<dyn Read + Send>>, StorageError> {
        let path = self.path(key);
        match std::fs::File::open(&path) {
            Ok(file) => Ok(Some(Box::new(file))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StorageError::io("read", &path, err)),
        }
    }

    fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        let path = self.path(key);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(Some(ObjectInfo {
                key: key.to_owned(),
                size: meta.len(),
                sha256: None,
            })),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StorageError::io("read", &path, err)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let mut objects = Vec::new();
        for entry in walkdir::WalkDir::new(&self.root).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err)
                    if err.io_error().map(std::io::Error::kind)
                        == Some(std::io::ErrorKind::NotFound) =>
                {
                    continue;
                }
                Err(err) => {
                    let path = err.path().unwrap_or(&self.root).to_owned();
                    let source = err.into_io_error().unwrap_or_else(|| {
                        std::io::Error::other("a folder loop or an unreadable entry")
                    });
                    return Err(StorageError::io("list", &path, source));
                }
            };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if !entry.file_type().is_file() || hidden {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(&self.root) else {
                continue;
            };
            let key = relative.to_string_lossy().replace('\\', "/");
            if key.starts_with(prefix) {
                let size = entry.metadata().map_or(0, |m| m.len());
                objects.push(ObjectInfo {
                    key,
                    size,
                    sha256: None,
                });
            }
        }
        Ok(objects)
    }

    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        for key in keys {
            let path = self.path(key);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(StorageError::io("delete", &path, err)),
            }
        }
        Ok(())
    }
}
