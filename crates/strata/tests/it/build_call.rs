//! `strata build --call check|outline|targets` and `# syntax=`: the outputs
//! compared byte for byte with what BuildKit answered (tests/call/), and
//! buildx's messages for bad values. Nothing here builds: no root needed.

use std::path::{Path, PathBuf};

use crate::harness;

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/call")
}

fn strata(args: &[&str], directory: &Path) -> std::process::Output {
    let env = harness::Env::new();
    env.command().args(args).arg(directory).output().unwrap()
}

fn stdout_of(args: &[&str], directory: &Path) -> String {
    let output = strata(args, directory);
    assert!(
        output.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn outline_and_targets_match_buildkit() {
    for case in ["args", "comments", "multi", "secrets", "unnamed"] {
        let directory = cases().join(case);
        for call in ["outline", "targets"] {
            for (format, extension) in [("", "txt"), (",format=json", "json")] {
                let expected =
                    std::fs::read_to_string(directory.join(format!("{call}.{extension}"))).unwrap();
                let args = ["build", "--call", &format!("{call}{format}")];
                assert_eq!(stdout_of(&args, &directory), expected, "{case}: {args:?}");
            }
        }
    }
}

#[test]
fn outline_follows_target_and_build_args() {
    let expected = std::fs::read_to_string(cases().join("multi/outline-build.json")).unwrap();
    let args = [
        "build",
        "--call=outline",
        "--format=json",
        "--target",
        "build",
        "--build-arg",
        "VERSION=9",
        "--build-arg",
        "JOBS=8",
    ];
    assert_eq!(stdout_of(&args, &cases().join("multi")), expected);
    let expected = std::fs::read_to_string(cases().join("secrets/outline-tools.json")).unwrap();
    let args = [
        "build",
        "--call",
        "outline,format=json",
        "--target",
        "tools",
    ];
    assert_eq!(stdout_of(&args, &cases().join("secrets")), expected);
}

#[test]
fn bad_call_values_fail_as_buildx() {
    let directory = cases().join("args");
    for (value, message) in [
        ("nope", "unsupported request frontend.nope"),
        ("outline,targets", "invalid print value: outline,targets"),
        ("outline,color=red", "invalid print field: color=red"),
    ] {
        let output = strata(&["build", "--call", value], &directory);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{value}: {stderr}");
    }
}

#[test]
fn check_json_reports_warnings_and_fails() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("Dockerfile"),
        "FROM scratch\nCMD echo <hi>\n",
    )
    .unwrap();
    let output = strata(&["build", "--check", "--format", "json"], directory.path());
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let warning = &json["warnings"][0];
    assert_eq!(warning["ruleName"], "JSONArgsRecommended");
    // BuildKit v0.32's own description and detail.
    assert_eq!(
        warning["description"],
        "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"
    );
    assert_eq!(
        warning["detail"],
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals"
    );
    assert_eq!(
        warning["url"],
        "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"
    );
    assert_eq!(
        warning["location"],
        serde_json::json!({"ranges": [{"start": {"line": 2}, "end": {"line": 2}}]})
    );
    assert_eq!(json["sources"][0]["filename"], "Dockerfile");
    assert_eq!(json["sources"][0]["language"], "Dockerfile");
    // ignorestatus: the same answer, exit 0.
    let output = strata(
        &["build", "--call", "check,format=json,ignorestatus=true"],
        directory.path(),
    );
    assert!(output.status.success());

    std::fs::write(
        directory.path().join("Dockerfile"),
        "FROM scratch\nCMD [\"x\"]\n",
    )
    .unwrap();
    let text = stdout_of(&["build", "--call=check,format=json"], directory.path());
    assert!(text.contains("\"warnings\": null,\n"), "{text}");
}

#[test]
fn syntax_directives_name_the_frontend() {
    let directory = tempfile::tempdir().unwrap();
    let write = |text: &str| std::fs::write(directory.path().join("Dockerfile"), text).unwrap();
    for syntax in [
        "docker/dockerfile:1",
        "docker.io/docker/dockerfile:1.7-labs",
        "docker/dockerfile:labs",
        "docker/dockerfile@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
    ] {
        write(&format!("# syntax={syntax}\nFROM scratch AS one\n"));
        let text = stdout_of(&["build", "--call", "targets"], directory.path());
        assert_eq!(
            text, "TARGET        DESCRIPTION\none (default) \n",
            "{syntax}"
        );
    }
    write("# syntax=example.com/my/frontend:2\nFROM scratch\n");
    let output = strata(&["build", "--call", "targets"], directory.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Dockerfile:1"), "{stderr}");
    assert!(
        stderr.contains("example.com/my/frontend:2: strata implements the docker/dockerfile frontend built in and cannot run another frontend image"),
        "{stderr}"
    );
    // BUILDKIT_SYNTAX wins over the directive, as in BuildKit.
    let args = [
        "build",
        "--call",
        "targets",
        "--build-arg",
        "BUILDKIT_SYNTAX=docker/dockerfile:1",
    ];
    stdout_of(&args, directory.path());
    write("FROM scratch\n");
    let args = [
        "build",
        "--call",
        "targets",
        "--build-arg",
        "BUILDKIT_SYNTAX=other/frontend",
    ];
    let output = strata(&args, directory.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("BUILDKIT_SYNTAX=other/frontend"),
        "{stderr}"
    );
}
