//! Fixes: the rewritten Dockerfile, byte for byte, then re-parsed and
//! re-linted clean for the rule fixed.

use strata_dockerfile::{EmptyEnvironment, Lexer};
use strata_lint::{Config, Diagnostic, NoFacts};

fn lint(text: &str) -> Vec<Diagnostic> {
    let dockerfile = strata_dockerfile::parse(text.as_bytes().to_vec()).expect("parses");
    strata_lint::lint(&dockerfile, &NoFacts, &Config::default())
        .expect("lints")
        .diagnostics
}

/// Applies the fixes of `rule` only; checks the result re-parses and no
/// longer has the finding; returns it.
fn fix_rule(text: &str, rule: &str) -> String {
    let diagnostics: Vec<Diagnostic> = lint(text)
        .into_iter()
        .filter(|diagnostic| diagnostic.rule.name == rule)
        .collect();
    assert!(!diagnostics.is_empty(), "{rule} does not fire on:\n{text}");
    assert!(
        diagnostics
            .iter()
            .all(|diagnostic| diagnostic.fix.is_some()),
        "{rule} has no fix on:\n{text}"
    );
    let fixed =
        String::from_utf8(strata_lint::apply_fixes(text.as_bytes(), &diagnostics)).expect("UTF-8");
    let again = lint(&fixed);
    assert!(
        again.iter().all(|diagnostic| diagnostic.rule.name != rule),
        "{rule} still fires after the fix:\n{fixed}"
    );
    fixed
}

fn has_fix(text: &str, rule: &str) -> bool {
    lint(text)
        .iter()
        .any(|diagnostic| diagnostic.rule.name == rule && diagnostic.fix.is_some())
}

#[test]
fn shell_form_to_exec_form() {
    assert_eq!(
        fix_rule(
            "FROM a:1\nCMD node server.js --title 'my app'\n",
            "JSONArgsRecommended"
        ),
        "FROM a:1\nCMD [\"node\", \"server.js\", \"--title\", \"my app\"]\n"
    );
    assert_eq!(
        fix_rule(
            "FROM a:1\nENTRYPOINT   /usr/bin/tini  --   \n",
            "JSONArgsRecommended"
        ),
        "FROM a:1\nENTRYPOINT   [\"/usr/bin/tini\", \"--\"]   \n"
    );
    // Not exact: variables, operators, globs.
    for text in [
        "FROM a:1\nCMD node $APP\n",
        "FROM a:1\nCMD ./start.sh && tail -f /dev/null\n",
        "FROM a:1\nCMD ls *.log\n",
    ] {
        assert!(!has_fix(text, "JSONArgsRecommended"), "{text}");
    }
}

#[test]
fn add_to_copy() {
    assert_eq!(
        fix_rule(
            "FROM a:1\nADD --chown=app src/ /app/src/\n",
            "AddInsteadOfCopy"
        ),
        "FROM a:1\nCOPY --chown=app src/ /app/src/\n"
    );
    assert_eq!(
        fix_rule("from a:1\nadd src /src\n", "AddInsteadOfCopy"),
        "from a:1\ncopy src /src\n"
    );
    // A local archive would be extracted by ADD: no fix.
    assert!(!has_fix(
        "FROM a:1\nADD src app.tar.gz /x/\n",
        "AddInsteadOfCopy"
    ));
}

#[test]
fn maintainer_to_label() {
    let fixed = fix_rule(
        "FROM a:1\nMAINTAINER Jane \"JD\" Doe <jane@example.com> $5\n",
        "MaintainerDeprecated",
    );
    assert_eq!(
        fixed,
        "FROM a:1\nLABEL org.opencontainers.image.authors=\"Jane \\\"JD\\\" Doe <jane@example.com> \\$5\"\n"
    );
    // The label's value is exactly the old MAINTAINER text.
    let dockerfile = strata_dockerfile::parse(fixed.into_bytes()).unwrap();
    let value = &dockerfile.instructions[1].key_values()[0].value.text;
    let expanded = Lexer::new('\\')
        .expand_word(value, &EmptyEnvironment)
        .unwrap()
        .value;
    assert_eq!(expanded, "Jane \"JD\" Doe <jane@example.com> $5");
}

#[test]
fn maintainer_with_backtick_escape() {
    let fixed = fix_rule(
        "# escape=`\nFROM a:1\nMAINTAINER a \"b\"\n",
        "MaintainerDeprecated",
    );
    assert_eq!(
        fixed,
        "# escape=`\nFROM a:1\nLABEL org.opencontainers.image.authors=\"a `\"b`\"\"\n"
    );
}

#[test]
fn apt_get_update_joined_with_the_install() {
    assert_eq!(
        fix_rule(
            "FROM debian:12\nRUN apt-get update\n\nRUN apt-get install -y curl \\\n    git\n",
            "AptGetUpdateAlone"
        ),
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl \\\n    git\n"
    );
    // A comment in between would be lost: no fix.
    assert!(!has_fix(
        "FROM debian:12\nRUN apt-get update\n# why\nRUN apt-get install -y curl\n",
        "AptGetUpdateAlone"
    ));
}

#[test]
fn legacy_key_value() {
    assert_eq!(
        fix_rule(
            "FROM a:1\nENV PATH /opt/bin:$PATH\nLABEL description This is it\n",
            "LegacyKeyValueFormat"
        ),
        "FROM a:1\nENV PATH=/opt/bin:$PATH\nLABEL description=\"This is it\"\n"
    );
    assert_eq!(
        fix_rule(
            "FROM a:1\nENV GREETING \"hello world\"\n",
            "LegacyKeyValueFormat"
        ),
        "FROM a:1\nENV GREETING=\"hello world\"\n"
    );
    // Quotes inside a value with blanks cannot be wrapped exactly.
    assert!(!has_fix(
        "FROM a:1\nENV A it's \"so\"\n",
        "LegacyKeyValueFormat"
    ));
}

#[test]
fn casing() {
    assert_eq!(
        fix_rule(
            "FROM a:1 as Build\nrun make\nRUN test\n",
            "ConsistentInstructionCasing"
        ),
        "FROM a:1 as Build\nRUN make\nRUN test\n"
    );
    assert_eq!(
        fix_rule("FROM a:1 as build\n", "FromAsCasing"),
        "FROM a:1 AS build\n"
    );
    assert_eq!(
        fix_rule("FROM a:1 AS Build\nFROM Build\n", "StageNameCasing"),
        "FROM a:1 AS build\nFROM Build\n"
    );
    assert_eq!(
        fix_rule("FROM a:1\nEXPOSE 80/TCP 53/Udp\n", "ExposeProtoCasing"),
        "FROM a:1\nEXPOSE 80/tcp 53/udp\n"
    );
}

#[test]
fn redundant_target_platform() {
    assert_eq!(
        fix_rule(
            "FROM --platform=$TARGETPLATFORM  alpine:3 AS x\n",
            "RedundantTargetPlatform"
        ),
        "FROM alpine:3 AS x\n"
    );
}

/// Every byte outside the fixed spans stays: comments, blank lines, CRLF
/// endings, odd spacing, continuation lines.
#[test]
fn bytes_outside_fixes_are_kept() {
    let text = "# syntax=docker/dockerfile:1\r\n# a comment   \r\nFROM  node:20   AS   build\r\n\r\nRUN echo 'keep  me' \\\r\n  && true\r\nMAINTAINER x\r\nCMD   node   server.js\r\n";
    let diagnostics = lint(text);
    let fixed = String::from_utf8(strata_lint::apply_fixes(text.as_bytes(), &diagnostics)).unwrap();
    assert_eq!(
        fixed,
        "# syntax=docker/dockerfile:1\r\n# a comment   \r\nFROM  node:20   AS   build\r\n\r\nRUN echo 'keep  me' \\\r\n  && true\r\nLABEL org.opencontainers.image.authors=\"x\"\r\nCMD   [\"node\", \"server.js\"]\r\n"
    );
    assert!(strata_dockerfile::parse(fixed.into_bytes()).is_ok());
}

#[test]
fn overlapping_fixes_are_applied_one_at_a_time() {
    // The casing fix and the ADD fix both rewrite `add`: one per pass.
    let text = "FROM a:1\nadd src /src\nRUN x\n";
    let first = strata_lint::apply_fixes(text.as_bytes(), &lint(text));
    let first = String::from_utf8(first).unwrap();
    let second = strata_lint::apply_fixes(first.as_bytes(), &lint(&first));
    let second = String::from_utf8(second).unwrap();
    assert_eq!(second, "FROM a:1\nCOPY src /src\nRUN x\n");
}

#[test]
fn buildkit_short_form_and_rule_set() {
    let text = "FROM a:1\nRUN a\nRUN b\nCMD node app.js\n";
    let dockerfile = strata_dockerfile::parse(text.as_bytes().to_vec()).unwrap();
    let report = strata_lint::lint(&dockerfile, &NoFacts, &Config::buildkit()).unwrap();
    let short: Vec<String> = report.diagnostics.iter().map(Diagnostic::short).collect();
    // Only what BuildKit's build reports: no ConsecutiveRunInstructions, no RunsAsRoot.
    assert_eq!(
        short,
        [
            "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 4)"
        ]
    );
    assert!(report.fails(strata_lint::Severity::Warning));
    assert!(!report.fails(strata_lint::Severity::Error));
}
