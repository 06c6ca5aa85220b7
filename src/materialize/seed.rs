//! Seeds: a CSV loaded with DuckDB's `read_csv` (a bulk COPY-speed read, not row inserts), with
//! `column_types` overriding detected types, swapped in like a table.

use std::path::Path;

use indexmap::IndexMap;

use crate::adapters::RelationType;
use crate::plan::{Dialect, Purpose, Sql};
use crate::project::nodes::Relation;

use super::table::swap_in;

/// A seed read by the warehouse itself from the local file (DuckDB's `read_csv`).
pub fn build(
    dialect: &dyn Dialect,
    relation: &Relation,
    csv: &Path,
    column_types: &IndexMap<String, String>,
    existing: Option<RelationType>,
) -> Vec<Sql> {
    let path = dialect.literal(&csv.to_string_lossy());
    let mut options = vec!["header = true".to_owned(), "auto_detect = true".to_owned()];
    if !column_types.is_empty() {
        let types: Vec<String> = column_types
            .iter()
            .map(|(column, ty)| format!("{}: {}", dialect.literal(column), dialect.literal(ty)))
            .collect();
        options.push(format!("types = {{{}}}", types.join(", ")));
    }
    swap_in(
        dialect,
        relation,
        &format!("as select * from read_csv({path}, {})", options.join(", ")),
        existing,
    )
}

/// Rows sent per `insert` statement of a Snowflake seed.
pub const SNOWFLAKE_BATCH_ROWS: usize = 500;

/// Why a seed file cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("the seed file is empty: it needs a header line")]
    NoHeader,
    #[error("line {line} has {found} fields, the header has {expected}")]
    Width {
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("a quoted field that starts on line {0} is never closed")]
    UnclosedQuote(usize),
}

/// A seed for a warehouse that cannot read a local file (Snowflake): the CSV's rows travel as
/// literals in batched `insert ... values` statements into a table whose column types come from
/// `column_types`, else from the values (integers, floats, booleans, dates, timestamps, text),
/// then the table is swapped in like any table. Empty fields are NULL.
pub fn build_from_rows(
    dialect: &dyn Dialect,
    relation: &Relation,
    csv_text: &str,
    column_types: &IndexMap<String, String>,
    existing: Option<RelationType>,
) -> Result<Vec<Sql>, SeedError> {
    let mut records = parse_csv(csv_text)?.into_iter();
    let header = records.next().ok_or(SeedError::NoHeader)?;
    let rows: Vec<Vec<String>> = records.collect();
    for (index, row) in rows.iter().enumerate() {
        if row.len() != header.len() {
            return Err(SeedError::Width {
                line: index + 2,
                found: row.len(),
                expected: header.len(),
            });
        }
    }
    let definitions: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let configured = column_types
                .iter()
                .find(|(column, _)| column.eq_ignore_ascii_case(name))
                .map(|(_, ty)| ty.clone());
            let ty = configured.unwrap_or_else(|| infer_type(rows.iter().map(|r| &r[index])));
            format!("{} {ty}", dialect.quote(name))
        })
        .collect();
    let temporary = dialect.relation(&super::with_suffix(relation, super::table::BUILD_SUFFIX));
    let columns = header
        .iter()
        .map(|c| dialect.quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let inserts = rows.chunks(SNOWFLAKE_BATCH_ROWS).map(|batch| {
        let values: Vec<String> = batch
            .iter()
            .map(|row| {
                let fields: Vec<String> = row
                    .iter()
                    .map(|field| {
                        if field.is_empty() {
                            "null".to_owned()
                        } else if field.contains('\\') && !field.contains("$$") {
                            // Snowflake reads `\` in '...' as an escape; `$$` strings have none.
                            format!("$${field}$$")
                        } else {
                            format!("'{}'", field.replace('\\', "\\\\").replace('\'', "''"))
                        }
                    })
                    .collect();
                format!("({})", fields.join(", "))
            })
            .collect();
        Sql::new(
            Purpose::Insert,
            format!(
                "insert into {temporary} ({columns}) values\n{}",
                values.join(",\n")
            ),
        )
    });
    let mut statements = swap_in(
        dialect,
        relation,
        &format!("({})", definitions.join(", ")),
        existing,
    );
    // After `drop` and `create` of the temporary table, before the swap.
    let tail = statements.split_off(2);
    statements.extend(inserts);
    statements.extend(tail);
    Ok(statements)
}

/// The narrowest type every non-empty value fits.
fn infer_type<'a>(values: impl Iterator<Item = &'a String> + Clone) -> String {
    let filled = || values.clone().filter(|v| !v.is_empty());
    let all = |test: fn(&str) -> bool| filled().all(|v| test(v));
    if filled().next().is_none() {
        "varchar"
    } else if all(|v| v.parse::<i64>().is_ok()) {
        "number(38,0)"
    } else if all(|v| v.parse::<f64>().is_ok()) {
        "float"
    } else if all(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")) {
        "boolean"
    } else if all(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
        "date"
    } else if all(|v| {
        chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f").is_ok()
            || chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
    }) {
        "timestamp_ntz"
    } else {
        "varchar"
    }
    .to_owned()
}

/// RFC 4180 records: `,` separated, `"` quoted with `""` inside, CRLF or LF line ends, blank
/// lines skipped.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, SeedError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut quoted_since = None;
    let mut touched = false;
    while let Some(c) = chars.next() {
        if quoted_since.is_some() {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted_since = None,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted_since = Some(line);
                touched = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                touched = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                if touched || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                touched = false;
            }
            _ => {
                field.push(c);
                touched = true;
            }
        }
    }
    if let Some(start) = quoted_since {
        return Err(SeedError::UnclosedQuote(start));
    }
    if touched || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::dialect::Snowflake;

    #[test]
    fn snowflake_seed_inserts_typed_rows_then_swaps() {
        let relation = Relation {
            database: "DB".into(),
            schema: "silver".into(),
            identifier: "bots".into(),
        };
        let mut types = IndexMap::new();
        types.insert("LOGIN".to_owned(), "varchar".to_owned());
        let csv = "login,id,score,active,since,note\r\n\"dependabot[bot]\",1,0.5,true,2024-01-01,\"it's, \"\"quoted\"\"\"\n007,2,1,false,2024-01-02,C:\\temp\n";
        let plan = build_from_rows(
            &Snowflake,
            &relation,
            csv,
            &types,
            Some(RelationType::Table),
        )
        .unwrap();
        let plan = crate::plan::texts(&plan).join(";\n");
        insta::assert_snapshot!(plan, @r#"
        drop table if exists "DB"."silver"."bots__ghforge_tmp";
        create table "DB"."silver"."bots__ghforge_tmp" ("login" varchar, "id" number(38,0), "score" float, "active" boolean, "since" date, "note" varchar);
        insert into "DB"."silver"."bots__ghforge_tmp" ("login", "id", "score", "active", "since", "note") values
        ('dependabot[bot]', '1', '0.5', 'true', '2024-01-01', 'it''s, "quoted"'),
        ('007', '2', '1', 'false', '2024-01-02', $$C:\temp$$);
        drop table if exists "DB"."silver"."bots";
        alter table "DB"."silver"."bots__ghforge_tmp" rename to "DB"."silver"."bots"
        "#);
    }

    #[test]
    fn ragged_and_unclosed_seed_files_are_errors() {
        let relation = Relation {
            database: "DB".into(),
            schema: "s".into(),
            identifier: "t".into(),
        };
        let none = IndexMap::new();
        assert_eq!(
            build_from_rows(&Snowflake, &relation, "a,b\n1\n", &none, None),
            Err(SeedError::Width {
                line: 2,
                found: 1,
                expected: 2
            })
        );
        assert_eq!(
            build_from_rows(&Snowflake, &relation, "a\n\"open\n", &none, None),
            Err(SeedError::UnclosedQuote(2))
        );
        assert_eq!(
            build_from_rows(&Snowflake, &relation, "", &none, None),
            Err(SeedError::NoHeader)
        );
    }
}
