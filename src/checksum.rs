//! Content checksums for nodes and macros (`checksum` in the manifest, `state:modified`).

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `text`.
pub fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex MD5 of `text` (dbt uses it for generic test names and ids).
pub fn md5(text: &str) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
