//! A batch split into single statements, as the SQL API needs them (it runs one per request
//! unless told the count up front); pure, so it is unit-tested without a warehouse.

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
}
