//! `strata lint` end to end: text, JSON, SARIF and Checkstyle output, exit
//! codes and thresholds, configuration, suppressions, context facts from a
//! real directory, `--fix` and `--diff`.

use std::path::Path;

use assert_cmd::Command;

fn strata() -> Command {
    let mut command = Command::cargo_bin("strata").expect("the strata binary");
    command.env("NO_COLOR", "1");
    command
}

struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(directory: &Path, arguments: &[&str]) -> Output {
    let output = strata()
        .current_dir(directory)
        .arg("lint")
        .args(arguments)
        .output()
        .expect("run strata");
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn context(dockerfile: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("Dockerfile"), dockerfile).expect("write");
    directory
}

const SAMPLE: &str = "\
FROM node:latest
MAINTAINER Jane <jane@example.com>
WORKDIR /app
COPY . .
RUN npm ci
RUN apt-get update
ENV API_TOKEN=abc
EXPOSE 3000
CMD node server.js
";

#[test]
fn text_report() {
    let directory = context(SAMPLE);
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 1, "{}", output.stderr);
    insta::assert_snapshot!(output.stdout);
    insta::assert_snapshot!("text_report_summary", output.stderr);
}

#[test]
fn json_report() {
    let directory = context(SAMPLE);
    let output = run(directory.path(), &["--format", "json"]);
    assert_eq!(output.status, 1);
    insta::assert_snapshot!(output.stdout);
    let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    let first = &value["diagnostics"][0];
    for key in [
        "rule",
        "aliases",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "fix",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn sarif_report() {
    let directory = context(SAMPLE);
    let output = run(directory.path(), &["--format", "sarif"]);
    let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("SARIF is JSON");
    assert_eq!(value["version"], "2.1.0");
    let results = value["runs"][0]["results"].as_array().expect("results");
    let rules = value["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    insta::assert_snapshot!(output.stdout);
}

#[test]
fn checkstyle_report() {
    let directory = context(SAMPLE);
    let output = run(directory.path(), &["--format", "checkstyle"]);
    insta::assert_snapshot!(output.stdout);
}

#[test]
fn clean_dockerfile_exits_zero() {
    let directory = context(
        "FROM node:20.14-alpine3.20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER 1000\nCMD [\"node\", \"server.js\"]\n",
    );
    std::fs::write(
        directory.path().join(".dockerignore"),
        "node_modules\n.git\n",
    )
    .unwrap();
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 0, "{}{}", output.stdout, output.stderr);
    assert_eq!(output.stdout, "");
    assert_eq!(output.stderr.trim(), "no problems found");
}

#[test]
fn failure_threshold() {
    // Only info-level findings (ConsecutiveRunInstructions) remain.
    let directory = context("FROM a:1\nRUN a\nRUN b\nUSER app\n");
    assert_eq!(run(directory.path(), &[]).status, 0);
    assert_eq!(
        run(directory.path(), &["--failure-threshold", "info"]).status,
        1
    );
    let directory = context(SAMPLE);
    assert_eq!(
        run(directory.path(), &["--failure-threshold", "error"]).status,
        0
    );
    assert_eq!(
        run(directory.path(), &["--failure-threshold", "none"]).status,
        0
    );
    assert_eq!(
        run(directory.path(), &["--failure-threshold", "warning"]).status,
        1
    );
}

#[test]
fn config_file_ignores_and_thresholds() {
    let directory = context("FROM node\nUSER app\n");
    assert_eq!(run(directory.path(), &[]).status, 1);
    std::fs::write(
        directory.path().join(".strata-lint.toml"),
        "ignored = [\"DL3006\"]\n",
    )
    .unwrap();
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 0, "{}", output.stdout);
    // --config names another file; a bad one is an error naming it.
    let elsewhere = directory.path().join("lint.toml");
    std::fs::write(&elsewhere, "failure-threshold = \"loud\"\n").unwrap();
    let output = run(directory.path(), &["--config", elsewhere.to_str().unwrap()]);
    assert_eq!(output.status, 1);
    assert!(output.stderr.contains("lint.toml"), "{}", output.stderr);
    assert!(
        output.stderr.contains("invalid severity"),
        "{}",
        output.stderr
    );
    std::fs::write(
        &elsewhere,
        "failure-threshold = \"error\"\n[severity]\nPinBaseImageVersion = \"error\"\n",
    )
    .unwrap();
    let output = run(directory.path(), &["--config", elsewhere.to_str().unwrap()]);
    assert_eq!(output.status, 1);
    assert!(
        output.stdout.contains("error[PinBaseImageVersion]"),
        "{}",
        output.stdout
    );
}

#[test]
fn suppressions() {
    let text = "\
# check=skip=JSONArgsRecommended
FROM node:20
# hadolint ignore=DL3059
RUN a
# strata:ignore=ConsecutiveRunInstructions
RUN b
USER 1000
CMD node app.js
";
    let directory = context(text);
    let output = run(
        directory.path(),
        &["--format", "json", "--failure-threshold", "style"],
    );
    let value: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(
        value["diagnostics"],
        serde_json::json!([]),
        "{}",
        output.stdout
    );
    assert_eq!(output.status, 0);
}

#[test]
fn check_error_true_fails_on_any_finding() {
    let directory = context("# check=error=true\nFROM a:1\nRUN a\nRUN b\nUSER app\n");
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 1, "{}", output.stdout);
    let directory = context("# check=skip=all;error=true\nFROM a:1\nUSER app\nHEALTHCHECK NONE\n");
    assert_eq!(run(directory.path(), &[]).status, 0);
}

#[test]
fn invalid_check_directive_is_an_error() {
    let directory = context("# check=skipp=x\nFROM a:1\n");
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 1);
    insta::assert_snapshot!(output.stderr);
}

#[test]
fn parse_errors_are_reported_like_strata_parse() {
    let directory = context("FROM a:1\nRUN [\"a\", 1]\n");
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 1);
    assert!(output.stderr.contains("Dockerfile:2:"), "{}", output.stderr);
}

#[test]
fn context_facts_from_a_real_directory() {
    let directory =
        context("FROM node:20\nWORKDIR /app\nCOPY . .\nCOPY secrets.txt /run/\nUSER node\n");
    let root = directory.path();
    std::fs::create_dir_all(root.join(".git/objects")).unwrap();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    std::fs::write(root.join(".env"), "TOKEN=1\n").unwrap();
    std::fs::write(root.join("secrets.txt"), "x\n").unwrap();
    let output = run(root, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let missing: Vec<&serde_json::Value> = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "MissingDockerignore")
        .collect();
    assert_eq!(missing.len(), 1, "{}", output.stdout);
    assert_eq!(missing[0]["line"], 3);
    let message = missing[0]["message"].as_str().unwrap();
    assert!(message.contains(".env, .git, node_modules"), "{message}");

    // With a .dockerignore the rule is quiet, and BuildKit's CopyIgnoredFile
    // fires for a file it excludes.
    std::fs::write(
        root.join(".dockerignore"),
        ".git\nnode_modules\n.env\nsecrets.txt\n",
    )
    .unwrap();
    let output = run(root, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let rules: Vec<&str> = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"MissingDockerignore"), "{rules:?}");
    assert!(rules.contains(&"CopyIgnoredFile"), "{rules:?}");

    // The context may be given as PATH from elsewhere, with -f.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = run(
        elsewhere.path(),
        &[
            "--format",
            "json",
            "-f",
            root.join("Dockerfile").to_str().unwrap(),
            root.to_str().unwrap(),
        ],
    );
    assert!(
        output.stdout.contains("CopyIgnoredFile"),
        "{}",
        output.stdout
    );
}

#[test]
fn fix_rewrites_in_place_and_diff_shows_it() {
    let original = "FROM node:20\n# keep me\nMAINTAINER Jane\nADD src /app/src\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl=7 && rm -rf /var/lib/apt/lists/*\nENV MODE production\nUSER node\nCMD node /app/src/server.js\n";
    let directory = context(original);
    let output = run(directory.path(), &["--diff"]);
    insta::assert_snapshot!(output.stdout);
    // --diff changes nothing on disk.
    let on_disk = std::fs::read_to_string(directory.path().join("Dockerfile")).unwrap();
    assert_eq!(on_disk, original);

    let output = run(directory.path(), &["--fix"]);
    assert!(
        output.stderr.contains("fixed Dockerfile"),
        "{}",
        output.stderr
    );
    let fixed = std::fs::read_to_string(directory.path().join("Dockerfile")).unwrap();
    insta::assert_snapshot!("fixed_dockerfile", fixed);
    // Fixed once, nothing left to fix.
    let output = run(directory.path(), &["--diff"]);
    assert_eq!(output.stdout, "");
}

#[test]
fn stdin() {
    let output = strata()
        .args(["lint", "--format", "json", "-f", "-"])
        .write_stdin("FROM node\nUSER app\n")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"file\": \"<stdin>\""), "{stdout}");
    assert!(stdout.contains("PinBaseImageVersion"), "{stdout}");
    let output = strata()
        .args(["lint", "--fix", "-f", "-"])
        .write_stdin("FROM node\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--fix needs a Dockerfile on disk"));
}

#[test]
fn missing_dockerfile_names_the_path() {
    let directory = tempfile::tempdir().unwrap();
    let output = run(directory.path(), &[]);
    assert_eq!(output.status, 1);
    assert!(output.stderr.contains("Dockerfile"), "{}", output.stderr);
}

#[test]
fn list_rules() {
    let directory = tempfile::tempdir().unwrap();
    let output = run(directory.path(), &["--list-rules"]);
    assert_eq!(output.status, 0);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert!(lines.len() > 70, "{}", output.stdout);
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("JSONArgsRecommended\tDL3025\twarning\tbuildkit\t")),
        "{}",
        output.stdout
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("CopyAllBeforeInstall\t-\twarning\tguide\t"))
    );
}
