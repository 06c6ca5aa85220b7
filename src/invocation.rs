//! This process's invocation: the id dbt calls `invocation_id`, shared by every artifact and
//! every JSON log line of one command.

use std::sync::OnceLock;

static ID: OnceLock<String> = OnceLock::new();

/// The invocation id, a UUID-shaped hash of the start time and process id, made on first use.
pub fn id() -> &'static str {
    ID.get_or_init(|| {
        let started = crate::clock::now()
            .timestamp_nanos_opt()
            .unwrap_or_default();
        let seed = crate::checksum::md5(&format!("{started}-{}", std::process::id()));
        format!(
            "{}-{}-{}-{}-{}",
            &seed[..8],
            &seed[8..12],
            &seed[12..16],
            &seed[16..20],
            &seed[20..32]
        )
    })
}
