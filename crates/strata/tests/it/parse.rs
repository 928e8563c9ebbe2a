//! `strata parse` end to end: listings, JSON, and compiler-style errors.

use assert_cmd::Command;

fn strata() -> Command {
    let mut command = Command::cargo_bin("strata").expect("the strata binary");
    command.env("NO_COLOR", "1");
    command
}

/// Runs `strata parse` over `text` given on stdin; (status, stdout, stderr).
fn parse_stdin(arguments: &[&str], text: &str) -> (i32, String, String) {
    let output = strata()
        .arg("parse")
        .args(arguments)
        .args(["-f", "-"])
        .write_stdin(text)
        .output()
        .expect("run strata");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn failure(text: &str) -> String {
    let (status, stdout, stderr) = parse_stdin(&[], text);
    assert_eq!(status, 1, "stdout: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}

#[test]
fn listing_of_the_example() {
    let example = strata_test::workspace_root().join("examples/Dockerfile");
    let output = strata()
        .arg("parse")
        .arg("-f")
        .arg(&example)
        .output()
        .expect("run strata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

#[test]
fn json_shape() {
    let text = "FROM a AS b\nRUN <<EOF cat\nhi\nEOF\nONBUILD COPY --from=b x y\nENV k=v\nENV legacy value\nHEALTHCHECK --retries=3 CMD [\"true\"]\n";
    let (status, stdout, stderr) = parse_stdin(&["--json"], text);
    assert_eq!(status, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let first = &value["commands"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "cmd",
            "end_line",
            "flags",
            "heredocs",
            "json",
            "original",
            "start_line",
            "sub_cmd",
            "value"
        ]
    );
}

#[test]
fn json_does_not_type_instructions() {
    // Like the PyPI package, --json shows what the parser sees, even an unknown instruction.
    let (status, stdout, _) = parse_stdin(&["--json"], "FROM a\nRUNN x\n");
    assert_eq!(status, 0);
    assert!(stdout.contains("\"cmd\": \"RUNN\""), "{stdout}");
}

#[test]
fn reads_a_file_and_names_it_when_missing() {
    let output = strata()
        .args(["parse", "-f", "/nonexistent/Dockerfile"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/Dockerfile"), "{stderr}");
}

#[test]
fn error_unknown_instruction() {
    insta::assert_snapshot!(failure("FROM alpine\nRUNN echo hi\n"));
}

#[test]
fn error_unknown_flag() {
    insta::assert_snapshot!(failure("FROM alpine\nCOPY --frm=build /a /b\n"));
}

#[test]
fn error_shell_not_json() {
    insta::assert_snapshot!(failure("FROM alpine\nSHELL /bin/bash -c\n"));
}

#[test]
fn error_onbuild_onbuild() {
    insta::assert_snapshot!(failure("FROM alpine\nONBUILD ONBUILD RUN true\n"));
}

#[test]
fn error_env_without_value() {
    insta::assert_snapshot!(failure("FROM alpine\nENV PATH\n"));
}

#[test]
fn error_json_with_non_strings() {
    insta::assert_snapshot!(failure("FROM alpine\nCMD [\"echo\", 1]\n"));
}

#[test]
fn error_unterminated_heredoc() {
    insta::assert_snapshot!(failure(
        "FROM alpine\nRUN <<EOF\necho hi\necho there\necho again\n"
    ));
}

#[test]
fn error_invalid_escape_directive() {
    insta::assert_snapshot!(failure("# escape=x\nFROM alpine\n"));
}

#[test]
fn error_empty_file() {
    insta::assert_snapshot!(failure("# only a comment\n"));
}

#[test]
fn error_missing_arguments() {
    insta::assert_snapshot!(failure("FROM alpine\nCOPY \\\n  onlyone\n"));
}

#[test]
fn error_bad_stage_name() {
    insta::assert_snapshot!(failure("FROM alpine AS 1st\n"));
}

#[test]
fn error_instruction_before_from() {
    insta::assert_snapshot!(failure("RUN true\nFROM alpine\n"));
}

#[test]
fn error_columns_count_characters() {
    insta::assert_snapshot!(failure("FROM alpine\nLABEL café=1 x\n"));
}

#[test]
fn warnings_are_reported_and_the_listing_printed() {
    let (status, stdout, stderr) =
        parse_stdin(&[], "FROM a AS x\nFROM b AS x\nRUN one \\\n\n  two\n");
    assert_eq!(status, 0);
    assert!(stdout.contains("RUN \"one   two\""), "{stdout}");
    insta::assert_snapshot!(stderr);
}
