//! `materialized='external'`: the model's rows written as Parquet to a folder or S3 (`location`,
//! optionally `partition_by` hive folders), with a view over the files so `ref` works downstream.
//!
//! Files are never overwritten in place: every build writes files named with a fresh token, and
//! only then are the files it replaces deleted, so a reader (or a crash) sees the old rows or the
//! new ones, never an empty location. With `incremental_strategy='insert_overwrite'` and
//! `partition_by`, a run writes only the partitions its new rows touch and leaves the others
//! alone (partition overwrite).

use crate::plan::FileReplacement;
use crate::project::nodes::Relation;

use super::{body, quote};

/// The staging table of an external build (a temporary table of the worker's connection).
pub const STAGED: &str = "__ghforge_external";

/// Where and how an external model is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// The location's URL as DuckDB reads it: `s3://bucket/prefix` or a path.
    pub url: String,
    pub partition_by: Vec<String>,
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl External {
    /// The file name prefix of one build's files.
    pub fn file_prefix(token: &str) -> String {
        format!("part_{token}")
    }

    /// Stage the model's rows in a temporary table of this connection.
    pub fn stage(sql: &str) -> String {
        format!(
            "create or replace temporary table {STAGED} as (\n{}\n)",
            body(sql)
        )
    }

    /// Write the staged rows under the location, in files named with `token`.
    pub fn write(&self, token: &str) -> String {
        let prefix = Self::file_prefix(token);
        if self.partition_by.is_empty() {
            let file = format!("{}/{prefix}.parquet", self.url.trim_end_matches('/'));
            return format!("copy {STAGED} to {} (format parquet)", literal(&file));
        }
        let columns: Vec<String> = self.partition_by.iter().map(|c| quote(c)).collect();
        format!(
            "copy {STAGED} to {} (format parquet, partition_by ({}), overwrite_or_ignore true, filename_pattern {})",
            literal(self.url.trim_end_matches('/')),
            columns.join(", "),
            literal(&format!("{prefix}_{{i}}"))
        )
    }

    /// The view downstream models read: every Parquet file under the location.
    pub fn view(&self, relation: &Relation) -> String {
        let glob = format!("{}/**/*.parquet", self.url.trim_end_matches('/'));
        format!(
            "create or replace view {} as select * from read_parquet({}, hive_partitioning = {}, union_by_name = true)",
            relation.quoted(),
            literal(&glob),
            !self.partition_by.is_empty()
        )
    }

    /// Which stored files (keys relative to the location) a build with `token` replaces.
    pub fn replaced(keys: &[String], token: &str, mode: FileReplacement) -> Vec<String> {
        let prefix = Self::file_prefix(token);
        let is_new = |key: &str| file_name(key).starts_with(&prefix);
        let touched: std::collections::BTreeSet<&str> = keys
            .iter()
            .filter(|k| is_new(k))
            .map(|k| folder(k))
            .collect();
        keys.iter()
            .filter(|key| key.ends_with(".parquet") && !is_new(key))
            .filter(|key| match mode {
                FileReplacement::All => true,
                FileReplacement::None => false,
                FileReplacement::TouchedPartitions => touched.contains(folder(key)),
            })
            .cloned()
            .collect()
    }
}

fn file_name(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(_, name)| name)
}

fn folder(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(folder, _)| folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(partition_by: &[&str]) -> External {
        External {
            url: "s3://lake/gold/counts/".to_owned(),
            partition_by: partition_by.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn plans_write_files_named_by_token_and_a_view() {
        let relation = Relation {
            database: "db".to_owned(),
            schema: "gold".to_owned(),
            identifier: "counts".to_owned(),
        };
        let partitioned = external(&["day"]);
        insta::assert_snapshot!(
            [
                External::stage("select 1 as n;"),
                partitioned.write("t1"),
                partitioned.view(&relation),
                external(&[]).write("t1"),
                external(&[]).view(&relation),
            ]
            .join(";\n"),
            @r#"
        create or replace temporary table __ghforge_external as (
        select 1 as n
        );
        copy __ghforge_external to 's3://lake/gold/counts' (format parquet, partition_by ("day"), overwrite_or_ignore true, filename_pattern 'part_t1_{i}');
        create or replace view "db"."gold"."counts" as select * from read_parquet('s3://lake/gold/counts/**/*.parquet', hive_partitioning = true, union_by_name = true);
        copy __ghforge_external to 's3://lake/gold/counts/part_t1.parquet' (format parquet);
        create or replace view "db"."gold"."counts" as select * from read_parquet('s3://lake/gold/counts/**/*.parquet', hive_partitioning = false, union_by_name = true)
        "#
        );
    }

    #[test]
    fn incremental_builds_replace_only_the_partitions_they_touch() {
        let keys: Vec<String> = [
            "day=1/part_old_0.parquet",
            "day=2/part_old_0.parquet",
            "day=2/part_new_0.parquet",
            "day=3/part_new_0.parquet",
            "day=3/notes.txt",
        ]
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
        assert_eq!(
            External::replaced(&keys, "new", FileReplacement::TouchedPartitions),
            ["day=2/part_old_0.parquet"]
        );
        assert_eq!(
            External::replaced(&keys, "new", FileReplacement::All),
            ["day=1/part_old_0.parquet", "day=2/part_old_0.parquet"]
        );
        assert!(External::replaced(&keys, "new", FileReplacement::None).is_empty());
    }
}
