//! `ghforge clean`, as `dbt clean`: the project file's `clean-targets` (default: the target
//! path) are deleted; a target outside the project folder, or the folder itself, is refused.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

#[test]
fn clean_deletes_the_target_path_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    common::write_files(
        project,
        &[
            ("ghforge_project.yml", "name: tidy\nversion: \"1.0\"\n"),
            ("models/one.sql", "select 1 as x"),
        ],
    );
    let compiled = common::ghforge(project)
        .arg("compile")
        .output()
        .expect("runs");
    assert!(
        compiled.status.success(),
        "{}",
        common::transcript(&compiled, project)
    );
    assert!(project.join("target/manifest.json").is_file());
    let output = common::ghforge(project)
        .arg("clean")
        .output()
        .expect("runs");
    insta::assert_snapshot!(common::transcript(&output, project), @r"
    exit code: 0
    --- stdout
    00:00:00  Checking target/*
    00:00:00  Cleaned target/*
    00:00:00  Finished cleaning all paths.
    --- stderr
    ");
    assert!(!project.join("target").exists());
    assert!(project.join("models/one.sql").is_file());
}

#[test]
fn clean_targets_outside_the_project_or_the_project_itself_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let outside = dir.path().join("keep");
    std::fs::create_dir_all(&outside).expect("mkdir");
    common::write_files(&project, &[("target/keep.txt", "artifacts")]);
    for (targets, name) in [("[target, ../keep]", "outside"), ("[target, .]", "itself")] {
        common::write_files(
            &project,
            &[(
                "ghforge_project.yml",
                &format!("name: tidy\nversion: \"1.0\"\nclean-targets: {targets}\n"),
            )],
        );
        let output = common::ghforge(&project)
            .arg("clean")
            .output()
            .expect("runs");
        insta::assert_snapshot!(name, common::transcript(&output, &project));
        assert!(outside.is_dir() && project.join("ghforge_project.yml").is_file());
        assert!(project.join("target/keep.txt").is_file(), "nothing deleted");
    }
}
