//! The events of written hour files as GitHub Events API pages (`ghforge gen-archive
//! --api-pages`): for each hour, `<out>/events-api/<YYYY-MM-DDTHH>/page-<n>.json`, JSON arrays of
//! at most [`PER_PAGE`] events, newest first, each event once — what `GET /events` would have
//! listed at the end of the hour. Malformed and duplicated lines of the hour file are left out.
//! A test serves them to `load --live` and loads the same hour from the archive.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Events per page, as `per_page=100` asks.
pub const PER_PAGE: usize = 100;

/// Write the pages of the hour file at `hour_file` under `dir`; returns the page files.
pub fn write(hour_file: &Path, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(
        hour_file,
    )?));
    let mut seen = HashSet::new();
    let mut events: Vec<(String, String, Value)> = Vec::new();
    for line in reader.lines() {
        let Ok(event) = serde_json::from_str::<Value>(&line?) else {
            continue;
        };
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        let created_at = event["created_at"].as_str().unwrap_or_default().to_owned();
        if !id.is_empty() && seen.insert((id.clone(), created_at.clone())) {
            events.push((created_at, id, event));
        }
    }
    // Newest first; ids of one second by their number, as GitHub assigns them.
    events.sort_by(|a, b| {
        (b.0.as_str(), b.1.len(), b.1.as_str()).cmp(&(a.0.as_str(), a.1.len(), a.1.as_str()))
    });
    std::fs::create_dir_all(dir)?;
    let mut pages = Vec::new();
    for (index, chunk) in events.chunks(PER_PAGE).enumerate() {
        let path = dir.join(format!("page-{}.json", index + 1));
        let page: Vec<&Value> = chunk.iter().map(|(_, _, event)| event).collect();
        std::fs::write(&path, serde_json::to_vec(&page)?)?;
        pages.push(path);
    }
    Ok(pages)
}
