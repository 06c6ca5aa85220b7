//! The one clock ghforge reads: log lines, node timings, artifacts' `generated_at`, ledger stamps,
//! the hours `load --last` counts back from, and external models' file tokens.
//!
//! It is the system clock unless the process is started with `GHFORGE_CLOCK` set to an RFC 3339
//! instant (`2026-01-01T00:00:00Z`): then time starts there and advances one microsecond per
//! reading, so transcripts are reproducible (every duration prints as `0.00s`) while readings
//! stay ordered and distinct. `main` installs it once, before anything reads it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

/// Where time comes from.
#[derive(Debug)]
pub enum Clock {
    System,
    /// Starts at an instant and ticks one microsecond per reading.
    Fixed {
        micros: AtomicI64,
    },
}

impl Clock {
    /// `GHFORGE_CLOCK`'s value, if set: a fixed clock starting there.
    pub fn from_env(value: Option<&str>) -> Result<Self, String> {
        let Some(text) = value.filter(|v| !v.is_empty()) else {
            return Ok(Self::System);
        };
        let start = DateTime::parse_from_rfc3339(text).map_err(|err| {
            format!("GHFORGE_CLOCK `{text}` is not an RFC 3339 instant such as 2026-01-01T00:00:00Z: {err}")
        })?;
        Ok(Self::Fixed {
            micros: AtomicI64::new(start.timestamp_micros()),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed { micros } => {
                let reading = micros.fetch_add(1, Ordering::Relaxed);
                DateTime::from_timestamp_micros(reading).unwrap_or_default()
            }
        }
    }
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// Install the process's clock. The first call wins; before any call the system clock is used.
pub fn install(clock: Clock) {
    let _ = CLOCK.set(clock);
}

/// The current instant.
pub fn now() -> DateTime<Utc> {
    CLOCK.get_or_init(|| Clock::System).now()
}

/// The current instant as a [`SystemTime`].
pub fn system_now() -> SystemTime {
    now().into()
}

/// Time passed since `started` (zero if the clock went back).
pub fn since(started: DateTime<Utc>) -> Duration {
    (now() - started).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_starts_at_its_instant_and_ticks_a_microsecond_per_reading() {
        let clock = Clock::from_env(Some("2026-01-01T00:00:00Z")).expect("valid instant");
        let first = clock.now();
        let second = clock.now();
        assert_eq!(first.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!((second - first).num_microseconds(), Some(1));
    }

    #[test]
    fn an_unset_clock_is_the_system_clock_and_a_bad_one_is_an_error() {
        assert!(matches!(Clock::from_env(None), Ok(Clock::System)));
        assert!(matches!(Clock::from_env(Some("")), Ok(Clock::System)));
        let err = Clock::from_env(Some("yesterday")).expect_err("not an instant");
        assert!(err.contains("GHFORGE_CLOCK `yesterday`"), "{err}");
    }
}
