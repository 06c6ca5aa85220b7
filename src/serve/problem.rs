//! API errors as RFC 9457 `application/problem+json`, and the query-parameter parsing that
//! produces the 400s: unknown names, non-numbers, values out of range. A database failure is a
//! 500 with a generic text (its details go to the log), never SQL or an engine message.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API error.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// A parameter of the request is wrong (400).
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The server failed (500); the text is logged, not sent.
    #[error("{0}")]
    Internal(String),
}

/// The body of a problem response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `about:blank`: the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// What was wrong, naming the parameter and the accepted values.
    pub detail: String,
}

impl Problem {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<super::snapshot::SnapshotError> for Problem {
    fn from(err: super::snapshot::SnapshotError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match self {
            Self::BadRequest(detail) | Self::NotFound(detail) => detail,
            Self::Internal(detail) => {
                tracing::error!("request failed: {detail}");
                "the server could not answer; see its log".to_owned()
            }
        };
        let body = ProblemBody {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
        };
        let text = serde_json::to_string(&body).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            text,
        )
            .into_response()
    }
}

/// The query parameters of one request, checked against the names an endpoint takes.
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Fails with a 400 naming the first parameter that `allowed` does not list.
    pub fn new(values: BTreeMap<String, String>, allowed: &[&str]) -> Result<Self, Problem> {
        if let Some(unknown) = values.keys().find(|k| !allowed.contains(&k.as_str())) {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            let accepted = if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            };
            return Err(Problem::BadRequest(format!(
                "unknown query parameter `{}`; this endpoint takes: {accepted}",
                printable(unknown)
            )));
        }
        Ok(Self { values })
    }

    /// A whole number in `min..=max`, or `default` when absent.
    pub fn integer<T>(&self, name: &str, default: T, min: T, max: T) -> Result<T, Problem>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(text) = self.values.get(name) else {
            return Ok(default);
        };
        let out_of = || {
            Problem::BadRequest(format!(
                "`{name}` must be a whole number from {min} to {max}, got `{}`",
                printable(text)
            ))
        };
        let value: T = text.trim().parse().map_err(|_| out_of())?;
        if value < min || value > max {
            return Err(out_of());
        }
        Ok(value)
    }

    /// A UTC time (`2024-05-01T23`, `2024-05-01T23:30`, `2024-05-01T23:30:00Z`,
    /// `2024-05-01`), as `YYYY-MM-DD HH:MM:SS`.
    pub fn timestamp(&self, name: &str) -> Result<Option<String>, Problem> {
        let Some(text) = self.values.get(name) else {
            return Ok(None);
        };
        parse_time(text).map(Some).ok_or_else(|| {
            Problem::BadRequest(format!(
                "`{name}` must be a UTC time such as `2024-05-01T23`, `2024-05-01T23:30:00Z` or `2024-05-01`, got `{}`",
                printable(text)
            ))
        })
    }
}

fn parse_time(text: &str) -> Option<String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let text = text.trim().trim_end_matches('Z');
    let formats = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"];
    let parsed = formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDateTime::parse_from_str(&format!("{text}:00"), "%Y-%m-%dT%H:%M").ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(parsed.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// A user's text as it may appear in a message: at most 80 characters, controls escaped.
pub fn printable(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().take(80) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)], allowed: &[&str]) -> Result<Params, Problem> {
        let values = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Params::new(values, allowed)
    }

    #[test]
    fn integers_outside_their_range_or_not_numbers_are_bad_requests() {
        let p = params(&[("offset", "-5"), ("limit", "abc")], &["offset", "limit"]).unwrap();
        assert!(matches!(
            p.integer("offset", 60, 1, 100),
            Err(Problem::BadRequest(_))
        ));
        assert!(matches!(
            p.integer("limit", 10, 1, 1000),
            Err(Problem::BadRequest(_))
        ));
        assert_eq!(p.integer("absent", 7, 1, 10).unwrap(), 7);
        assert!(params(&[("x", "1")], &["offset"]).is_err());
    }

    #[test]
    fn times_in_the_forms_users_type() {
        assert_eq!(parse_time("2024-05-01T23").unwrap(), "2024-05-01 23:00:00");
        assert_eq!(
            parse_time("2024-05-01T23:30:00Z").unwrap(),
            "2024-05-01 23:30:00"
        );
        assert_eq!(parse_time("2024-05-01").unwrap(), "2024-05-01 00:00:00");
        assert!(parse_time("yesterday").is_none());
        assert!(parse_time("2024-13-01").is_none());
    }
}
