//! `--junit-xml PATH`: the data tests of a run as a JUnit XML report (GitLab and Jenkins test
//! reports): one `testcase` per test, classname the tested node, name the test's unique id;
//! failures carry the failing-row count and the compiled SQL's path, skipped tests are skipped
//! and errors are errors. Warnings pass, with their message as system-out.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::{Diagnostic, DiagnosticKind};
use crate::execute::{NodeResult, NodeStatus};
use crate::project::Project;
use crate::project::nodes::{NodeKind, ResourceType};

/// The report of the test results among `results`.
pub fn report(project: &Project, results: &[NodeResult]) -> Report {
    let mut suite = TestSuite::new(format!("ghforge.{}", project.name()));
    let mut tests: Vec<&NodeResult> = results
        .iter()
        .filter(|r| project.nodes[&r.unique_id].resource_type() == ResourceType::Test)
        .collect();
    tests.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    for result in tests {
        let node = &project.nodes[&result.unique_id];
        let status = match result.status {
            NodeStatus::Success | NodeStatus::Pass | NodeStatus::Warn => TestCaseStatus::success(),
            NodeStatus::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(result.message.as_str());
                status
            }
            NodeStatus::Fail | NodeStatus::Error => {
                let kind = if result.status == NodeStatus::Fail {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut status = TestCaseStatus::non_success(kind);
                let message = match result.failures {
                    Some(failures) if result.status == NodeStatus::Fail => {
                        format!("{failures} failing rows")
                    }
                    _ => result.message.lines().next().unwrap_or_default().to_owned(),
                };
                status.set_message(message);
                status.set_type(result.status.as_str());
                status.set_description(result.message.as_str());
                status
            }
        };
        let mut case = TestCase::new(result.unique_id.as_str(), status);
        let classname = match &node.kind {
            NodeKind::Test {
                attached_node: Some(attached),
                ..
            } => attached.as_str(),
            _ => node.original_file_path.as_str(),
        };
        case.set_classname(classname);
        case.set_time(result.execution_time);
        if result.status == NodeStatus::Warn {
            case.set_system_out(result.message.as_str());
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("ghforge");
    report.add_test_suite(suite);
    report
}

/// Write the report to `path` (its folder is created).
pub fn write(path: &Path, project: &Project, results: &[NodeResult]) -> Result<(), Diagnostic> {
    let failed = |what: &str, err: &dyn std::fmt::Display| {
        Diagnostic::new(
            DiagnosticKind::Io,
            format!("cannot {what} the JUnit report `{}`: {err}", path.display()),
        )
        .hint("check that the `--junit-xml` path is writable")
    };
    let xml = report(project, results)
        .to_string()
        .map_err(|err| failed("render", &err))?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|err| failed("create the folder of", &err))?;
    }
    let partial = path.with_extension("xml.partial");
    std::fs::write(&partial, xml).map_err(|err| failed("write", &err))?;
    std::fs::rename(&partial, path).map_err(|err| failed("write", &err))
}
