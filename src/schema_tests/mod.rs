//! Data tests as SQL: a test's compiled query returns failing rows; this wraps it into dbt's
//! counting query (`failures`, `should_warn`, `should_error` from `warn_if`/`error_if`, with
//! `limit`) and turns the counts into a status by severity. Pure: no database here.

use crate::project::config::{NodeConfig, Severity};

/// The outcome of a data test, with dbt's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Pass,
    Warn,
    Fail,
}

/// dbt's `get_test_sql`: count the failing rows and compare with the thresholds.
pub fn counting_sql(test_sql: &str, config: &NodeConfig) -> String {
    let limit = config
        .limit
        .map(|n| format!("\nlimit {n}"))
        .unwrap_or_default();
    format!(
        "select\n    count(*) as failures,\n    count(*) {warn_if} as should_warn,\n    count(*) {error_if} as should_error\nfrom (\n{body}{limit}\n) dbt_internal_test",
        warn_if = condition(&config.warn_if),
        error_if = condition(&config.error_if),
        body = crate::types::body(test_sql),
    )
}

/// A threshold such as `>10` or `!= 0`, made safe to splice after `count(*)`.
fn condition(threshold: &str) -> String {
    let trimmed = threshold.trim();
    let valid = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '<' | '>' | '=' | '!' | ' '));
    if valid && !trimmed.is_empty() {
        trimmed.to_owned()
    } else {
        "!= 0".to_owned()
    }
}

/// The status of a test from its counts, by severity: with `error`, `should_error` fails it;
/// otherwise `should_warn` warns.
pub fn outcome(config: &NodeConfig, should_warn: bool, should_error: bool) -> TestOutcome {
    if config.severity == Severity::Error && should_error {
        TestOutcome::Fail
    } else if should_warn {
        TestOutcome::Warn
    } else {
        TestOutcome::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::Materialization;

    fn config(json: serde_json::Value) -> NodeConfig {
        crate::project::config::from_json(Materialization::Test, json)
    }

    #[test]
    fn counting_query_with_thresholds_and_limit() {
        let config = config(serde_json::json!({"warn_if": ">1", "error_if": ">10", "limit": 5}));
        insta::assert_snapshot!(counting_sql("select * from t where x is null;", &config), @r"
        select
            count(*) as failures,
            count(*) >1 as should_warn,
            count(*) >10 as should_error
        from (
        select * from t where x is null
        limit 5
        ) dbt_internal_test
        ");
    }

    #[test]
    fn severity_decides_between_warn_and_fail() {
        let error = config(serde_json::json!({}));
        let warn = config(serde_json::json!({"severity": "warn"}));
        assert_eq!(outcome(&error, true, true), TestOutcome::Fail);
        assert_eq!(outcome(&warn, true, true), TestOutcome::Warn);
        assert_eq!(outcome(&error, true, false), TestOutcome::Warn);
        assert_eq!(outcome(&error, false, false), TestOutcome::Pass);
    }

    #[test]
    fn unsafe_thresholds_fall_back_to_the_default() {
        assert_eq!(condition("> 10"), "> 10");
        assert_eq!(condition("; drop table x"), "!= 0");
    }
}
