//! Statement text as Snowflake needs it, kept pure so it is unit-tested without a warehouse:
//! a batch split into single statements (the SQL API runs one per request unless told the count
//! up front), and the one plan shape whose meaning differs from DuckDB's, an unqualified rename.

/// The statements of `sql`, split on `;` outside string literals, quoted identifiers, `$$`
/// strings and comments. Pieces holding nothing but whitespace and comments are dropped.
pub fn split(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let next = bytes.get(index + 1).copied();
        match byte {
            b'\'' => {
                has_code = true;
                index = skip_single_quoted(bytes, index + 1);
                continue;
            }
            b'"' => {
                has_code = true;
                index = skip_past(bytes, index + 1, b"\"");
                continue;
            }
            b'$' if next == Some(b'$') => {
                has_code = true;
                index = skip_past(bytes, index + 2, b"$$");
                continue;
            }
            b'-' if next == Some(b'-') => {
                index = skip_past(bytes, index + 2, b"\n");
                continue;
            }
            b'/' if next == Some(b'/') => {
                index = skip_past(bytes, index + 2, b"\n");
                continue;
            }
            b'/' if next == Some(b'*') => {
                index = skip_past(bytes, index + 2, b"*/");
                continue;
            }
            b';' => {
                if has_code {
                    pieces.push(sql[start..index].trim());
                }
                start = index + 1;
                has_code = false;
            }
            _ if !byte.is_ascii_whitespace() => has_code = true,
            _ => {}
        }
        index += 1;
    }
    if has_code {
        pieces.push(sql[start..].trim());
    }
    pieces
}

/// The index after a single-quoted literal whose body starts at `from` (`''` and `\'` escape).
fn skip_single_quoted(bytes: &[u8], mut from: usize) -> usize {
    while from < bytes.len() {
        match bytes[from] {
            b'\\' => from += 2,
            b'\'' if bytes.get(from + 1) == Some(&b'\'') => from += 2,
            b'\'' => return from + 1,
            _ => from += 1,
        }
    }
    bytes.len()
}

/// The index after the first `end` at or after `from` (a doubled `""` inside a quoted identifier
/// is found as two consecutive ends, which is the same thing for splitting).
fn skip_past(bytes: &[u8], from: usize, end: &[u8]) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.windows(end.len()).position(|w| w == end))
        .map_or(bytes.len(), |at| from + at + end.len())
}

/// Whether `statement` runs in a transaction of its own: DDL, which Snowflake always commits on
/// its own, and MERGE. A MERGE is atomic by itself and is the only DML of a merge plan, so
/// running it outside the plan's transaction loses nothing, while emulators that implement it
/// as several statements (fakesnow) cannot run it inside one.
pub fn runs_alone(statement: &str) -> bool {
    let keyword = strip_leading_comments(statement)
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        keyword.as_str(),
        "create" | "drop" | "alter" | "comment" | "grant" | "revoke" | "undrop" | "merge"
    )
}

/// `statement` without the whitespace and comments before its first keyword.
fn strip_leading_comments(mut statement: &str) -> &str {
    loop {
        statement = statement.trim_start();
        if let Some(rest) = statement
            .strip_prefix("--")
            .or_else(|| statement.strip_prefix("//"))
        {
            statement = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = statement.strip_prefix("/*") {
            statement = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return statement;
        }
    }
}

/// `alter table <db>.<schema>.<old> rename to <new>` with an unqualified `<new>`, qualified with
/// the old name's database and schema. DuckDB keeps a renamed table in its schema and rejects a
/// qualified new name; Snowflake moves a table renamed to an unqualified name into the session's
/// current schema. Any other statement gives `None`.
pub fn qualify_rename(statement: &str) -> Option<String> {
    let rest = strip_keywords(statement.trim(), &["alter", "table"])?;
    let (source, rest) = name_parts(rest)?;
    let rest = strip_keywords(rest, &["rename", "to"])?;
    let (target, rest) = name_parts(rest)?;
    if !rest.trim().is_empty() || target.len() != 1 || source.len() < 2 {
        return None;
    }
    let qualifier = &source[..source.len() - 1];
    Some(format!(
        "alter table {} rename to {}.{}",
        source.join("."),
        qualifier.join("."),
        target[0]
    ))
}

/// `text` after the given keywords (case-insensitive, each followed by whitespace).
fn strip_keywords<'a>(mut text: &'a str, keywords: &[&str]) -> Option<&'a str> {
    for keyword in keywords {
        let head = text.get(..keyword.len())?;
        let after = &text[keyword.len()..];
        if !head.eq_ignore_ascii_case(keyword) || !after.starts_with(char::is_whitespace) {
            return None;
        }
        text = after.trim_start();
    }
    Some(text)
}

/// A dotted name at the start of `text` (quoted or bare parts, as written), and what follows.
fn name_parts(text: &str) -> Option<(Vec<&str>, &str)> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let end = if rest.starts_with('"') {
            let bytes = rest.as_bytes();
            let mut at = 1;
            loop {
                match bytes.get(at)? {
                    b'"' if bytes.get(at + 1) == Some(&b'"') => at += 2,
                    b'"' => break at + 1,
                    _ => at += 1,
                }
            }
        } else {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rest.len())
        };
        if end == 0 {
            return None;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None => return Some((parts, rest.trim_start())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_semicolons_inside_literals_and_comments() {
        let sql = "insert into t values ('a;b', 'it''s;', 'x\\';y');\n-- done; really\ncreate table \"a;b\" as (select $$;$$ as s) /* ; */;\n  ;\n-- only a comment;";
        assert_eq!(
            split(sql),
            [
                "insert into t values ('a;b', 'it''s;', 'x\\';y')",
                "-- done; really\ncreate table \"a;b\" as (select $$;$$ as s) /* ; */",
            ]
        );
        assert_eq!(split("select 1"), ["select 1"]);
        assert!(split("  ;  -- nothing\n").is_empty());
    }

    #[test]
    fn ddl_and_merge_run_alone() {
        assert!(runs_alone(
            "-- build\n/* aside */ CREATE table t as (select 1)"
        ));
        assert!(runs_alone("drop view if exists v"));
        assert!(runs_alone("alter table a.b.c rename to a.b.d"));
        assert!(runs_alone(
            "merge into t using s on (t.a = s.a) when matched then delete"
        ));
        assert!(!runs_alone("insert into t select 1"));
        assert!(!runs_alone("delete from t"));
        assert!(!runs_alone("-- only a comment"));
    }

    #[test]
    fn unqualified_rename_is_qualified_with_the_source_schema() {
        assert_eq!(
            qualify_rename(
                "alter table \"DB\".\"gold\".\"counts__ghforge_tmp\" rename to \"counts\""
            )
            .as_deref(),
            Some(
                "alter table \"DB\".\"gold\".\"counts__ghforge_tmp\" rename to \"DB\".\"gold\".\"counts\""
            )
        );
        assert_eq!(
            qualify_rename("ALTER TABLE s.\"a\"\"b\" RENAME TO c").as_deref(),
            Some("alter table s.\"a\"\"b\" rename to s.c")
        );
        // Already qualified, unqualified source, or another statement: left alone.
        assert_eq!(qualify_rename("alter table a.b.c rename to a.b.d"), None);
        assert_eq!(qualify_rename("alter table c rename to d"), None);
        assert_eq!(qualify_rename("alter table a.b add column x int"), None);
        assert_eq!(qualify_rename("select 1"), None);
    }
}
