//! Archive hours: `2024-01-01T00` on the command line, `2024-01-01-0.json.gz` on disk (the
//! hour is not zero-padded, as on data.gharchive.org).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// One UTC hour of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(DateTime<Utc>);

impl Hour {
    /// Parse `YYYY-MM-DDTHH` (also `YYYY-MM-DD-H`, the file form).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (date, hour) = text
            .split_once('T')
            .or_else(|| text.rsplit_once('-').filter(|(d, _)| d.len() == 10))
            .ok_or_else(|| format!("`{text}` is not an hour; write it as `2024-01-01T00`"))?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` has no valid date; write it as `2024-01-01T00`"))?;
        let hour: u32 = hour
            .trim_end_matches(":00")
            .parse()
            .ok()
            .filter(|h| *h < 24)
            .ok_or_else(|| format!("`{text}` has no valid hour (0-23)"))?;
        let naive = date
            .and_hms_opt(hour, 0, 0)
            .ok_or_else(|| format!("`{text}` is not an hour"))?;
        Ok(Self(Utc.from_utc_datetime(&naive)))
    }

    pub fn start(self) -> DateTime<Utc> {
        self.0
    }

    pub fn next(self) -> Self {
        Self(self.0 + Duration::hours(1))
    }

    pub fn previous(self) -> Self {
        Self(self.0 - Duration::hours(1))
    }

    /// The hour that contains `at`.
    pub fn containing(at: DateTime<Utc>) -> Self {
        let naive = at.naive_utc();
        let start = naive
            .date()
            .and_hms_opt(naive.hour(), 0, 0)
            .unwrap_or(naive);
        Self(Utc.from_utc_datetime(&start))
    }

    /// The archive's file name: `2024-01-01-0.json.gz`.
    pub fn file_name(self) -> String {
        format!("{}-{}.json.gz", self.0.format("%Y-%m-%d"), self.0.hour())
    }

    /// Every hour from `from` to `to`, inclusive.
    pub fn range(from: Self, to: Self) -> Vec<Self> {
        let mut hours = Vec::new();
        let mut hour = from;
        while hour <= to {
            hours.push(hour);
            hour = hour.next();
        }
        hours
    }

    /// Whether GitHub's trimmed payloads apply (from 2025-10-07).
    pub fn is_trimmed_era(self) -> bool {
        self.0.naive_utc() >= trimmed_since()
    }
}

fn trimmed_since() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 10, 7)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

impl fmt::Display for Hour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_not_zero_padded() {
        let hour = Hour::parse("2015-01-01T09").unwrap();
        assert_eq!(hour.file_name(), "2015-01-01-9.json.gz");
        assert_eq!(Hour::parse("2015-01-01-9").unwrap(), hour);
        assert_eq!(hour.to_string(), "2015-01-01T09");
    }

    #[test]
    fn ranges_are_inclusive_and_cross_days() {
        let hours = Hour::range(
            Hour::parse("2024-01-01T22").unwrap(),
            Hour::parse("2024-01-02T01").unwrap(),
        );
        let names: Vec<String> = hours.iter().map(|h| h.file_name()).collect();
        assert_eq!(
            names,
            [
                "2024-01-01-22.json.gz",
                "2024-01-01-23.json.gz",
                "2024-01-02-0.json.gz",
                "2024-01-02-1.json.gz"
            ]
        );
    }

    #[test]
    fn bad_hours_are_explained() {
        assert_eq!(
            Hour::parse("2024-01-01T24").unwrap_err(),
            "`2024-01-01T24` has no valid hour (0-23)"
        );
        assert!(Hour::parse("yesterday").is_err());
    }

    #[test]
    fn eras() {
        assert!(!Hour::parse("2025-10-06T23").unwrap().is_trimmed_era());
        assert!(Hour::parse("2025-10-07T00").unwrap().is_trimmed_era());
    }
}
