//! One archive line, judged: a well-formed event (with the columns bronze keeps) or the reason it
//! goes to quarantine. Pure: bytes in, verdict out.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The columns of one bronze row, borrowed from the line where they can be.
#[derive(Debug, Clone, PartialEq)]
pub struct BronzeEvent<'a> {
    pub id: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    /// Raw JSON text of the nested objects, exactly as received.
    pub actor: &'a str,
    pub repo: &'a str,
    pub org: Option<&'a str>,
    pub payload: &'a str,
    pub public: Option<bool>,
    /// Microseconds since the epoch, UTC.
    pub created_at: i64,
}

/// Why a line was quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    NulBytes,
    InvalidUtf8,
    InvalidJson(String),
    MissingField(&'static str),
    InvalidTimestamp(String),
    /// The pre-2015 Timeline API shape (`repository`, actor as a string).
    TimelineFormat,
}

impl Rejection {
    pub fn reason(&self) -> String {
        match self {
            Self::NulBytes => "NUL bytes in the line".to_owned(),
            Self::InvalidUtf8 => "invalid UTF-8".to_owned(),
            Self::InvalidJson(detail) => format!("invalid JSON: {detail}"),
            Self::MissingField(field) => format!("missing required field `{field}`"),
            Self::InvalidTimestamp(value) => format!("`created_at` is not a timestamp: `{value}`"),
            Self::TimelineFormat => {
                "pre-2015 Timeline API event (`repository`, actor as text)".to_owned()
            }
        }
    }
}

/// The top level of an event; nested objects stay raw JSON text (no re-serialising).
#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    actor: Option<&'a RawValue>,
    #[serde(borrow)]
    repo: Option<&'a RawValue>,
    #[serde(borrow)]
    org: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
    public: Option<bool>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    repository: Option<&'a RawValue>,
}

/// Judge one line (without its newline).
pub fn parse(line: &[u8]) -> Result<BronzeEvent<'_>, Rejection> {
    if memchr::memchr(0, line).is_some() {
        return Err(Rejection::NulBytes);
    }
    let text = std::str::from_utf8(line).map_err(|_| Rejection::InvalidUtf8)?;
    let raw: RawEvent =
        serde_json::from_str(text).map_err(|err| Rejection::InvalidJson(err.to_string()))?;
    let actor_is_text = raw.actor.is_some_and(|a| a.get().starts_with('"'));
    if raw.repo.is_none() && (raw.repository.is_some() || actor_is_text) {
        return Err(Rejection::TimelineFormat);
    }
    let id = match raw.id.map(RawValue::get) {
        Some(text) if text.starts_with('"') => {
            serde_json::from_str::<Cow<str>>(text).map_err(|_| Rejection::MissingField("id"))?
        }
        Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => Cow::Borrowed(text),
        _ => return Err(Rejection::MissingField("id")),
    };
    let kind = raw.kind.ok_or(Rejection::MissingField("type"))?;
    let actor = raw.actor.ok_or(Rejection::MissingField("actor"))?;
    let repo = raw.repo.ok_or(Rejection::MissingField("repo"))?;
    let created_at = raw
        .created_at
        .ok_or(Rejection::MissingField("created_at"))?;
    let parsed = chrono::DateTime::parse_from_rfc3339(&created_at)
        .map_err(|_| Rejection::InvalidTimestamp(created_at.clone().into_owned()))?;
    Ok(BronzeEvent {
        id,
        kind,
        actor: actor.get(),
        repo: repo.get(),
        org: raw.org.map(RawValue::get).filter(|o| *o != "null"),
        payload: raw.payload.map_or("null", RawValue::get),
        public: raw.public,
        created_at: parsed.timestamp_micros(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"1","type":"PushEvent","actor":{"id":1,"login":"a"},"repo":{"id":2,"name":"a/b"},"payload":{},"public":true,"created_at":"2024-01-01T00:00:01Z"}"#;

    #[test]
    fn a_good_line_becomes_a_row() {
        let event = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(event.id, "1");
        assert_eq!(event.created_at, 1_704_067_201_000_000);
        assert_eq!(event.org, None);
    }

    #[test]
    fn each_kind_of_bad_line_has_its_reason() {
        let two = format!("{GOOD}{GOOD}");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{\"id\":\"1\",\0}".to_vec(), "NUL bytes in the line"),
            (b"{\"id\":\"\xff\"}".to_vec(), "invalid UTF-8"),
            (GOOD.as_bytes()[..40].to_vec(), "invalid JSON: EOF while parsing"),
            (two.into_bytes(), "invalid JSON: trailing characters"),
            (br#"{"id":"1","type":"PushEvent","actor":{},"repo":{}}"#.to_vec(), "missing required field `created_at`"),
            (br#"{"type":"PushEvent","actor":"bob","repository":{},"created_at":"2012-01-01T00:00:00-08:00"}"#.to_vec(), "pre-2015 Timeline API event"),
        ];
        for (line, reason) in cases {
            let got = parse(&line).unwrap_err().reason();
            assert!(
                got.starts_with(reason),
                "{got} does not start with {reason}"
            );
        }
    }
}
