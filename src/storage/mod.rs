//! Object storage: where `ghforge load` lands hours outside the database, where it can read an
//! archive mirror from, and where external materializations write Parquet. Keys are relative to
//! a location's root (a folder, or `s3://bucket/prefix`); an object is visible only once whole.

pub mod local;
pub mod s3;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::project::profiles::S3Config;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Relative to the location's root.
    pub key: String,
    pub size: u64,
    /// SHA-256 recorded when the object was written, where the store keeps it.
    pub sha256: Option<String>,
}

/// A storage failure, with the store's own words.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A local file or folder could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// S3 refused a request or could not be reached; `message` holds the SDK's error chain.
    #[error("S3 {action} failed: {message}")]
    S3 {
        action: &'static str,
        message: String,
    },
    /// The S3 client's runtime could not start.
    #[error("cannot start the S3 client runtime: {0}")]
    Runtime(std::io::Error),
}

impl StorageError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

pub trait Storage: Send + Sync {
    /// Where `key` is, for messages, the ledger and SQL (`s3://bucket/prefix/key`, a path).
    fn url(&self, key: &str) -> String;
    /// Store the local file `from` as `key`, with its SHA-256; readers see the whole object or
    /// nothing (S3 multipart uploads appear on completion; local files are renamed into place).
    fn put_file(&self, key: &str, from: &Path, sha256: &str) -> Result<(), StorageError>;
    /// The object's bytes, or `None` when there is no such key.
    fn get(&self, key: &str) -> Result<Option<Box<dyn Read + Send>>, StorageError>;
    fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError>;
    /// Every object under `prefix`, in key order.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError>;
    fn delete(&self, keys: &[String]) -> Result<(), StorageError>;
}

/// A parsed location: a folder or `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Location {
    /// `s3://bucket[/prefix]`, `file://path` or a path (relative to `root`).
    pub fn parse(text: &str, root: &Path) -> Result<Self, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("`{text}` names no bucket"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        Ok(Self::Local(root.join(path)))
    }

    /// Open the store; S3 needs the target's `s3:` settings (or the standard AWS chain).
    pub fn open(&self, s3: Option<&S3Config>) -> Result<Box<dyn Storage>, StorageError> {
        match self {
            Self::Local(root) => Ok(Box::new(local::LocalStorage::new(root.clone()))),
            Self::S3 { bucket, prefix } => Ok(Box::new(s3::S3Storage::connect(
                bucket,
                prefix,
                &s3.cloned().unwrap_or_default(),
            )?)),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(path) => write!(f, "{}", path.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        let root = Path::new("/p");
        assert_eq!(
            Location::parse("s3://lake/bronze/", root),
            Ok(Location::S3 {
                bucket: "lake".to_owned(),
                prefix: "bronze".to_owned()
            })
        );
        assert_eq!(
            Location::parse("s3://lake", root).map(|l| l.to_string()),
            Ok("s3://lake".to_owned())
        );
        assert!(Location::parse("s3:///x", root).is_err());
        assert_eq!(
            Location::parse("out", root),
            Ok(Location::Local(PathBuf::from("/p/out")))
        );
    }
}
