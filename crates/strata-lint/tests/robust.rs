//! No input makes the linter, the shell reader or the fixes panic, and a
//! fixed Dockerfile always parses again.

use proptest::prelude::*;
use strata_lint::{Config, NoFacts, Script};

/// Dockerfile-ish text: instruction words, shell syntax, quotes, escapes,
/// continuations, non-ASCII.
fn dockerfile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "FROM ",
        "RUN ",
        "CMD ",
        "ENV ",
        "ARG ",
        "COPY ",
        "ADD ",
        "WORKDIR ",
        "USER ",
        "EXPOSE ",
        "LABEL ",
        "MAINTAINER ",
        "ONBUILD ",
        "HEALTHCHECK ",
        "SHELL ",
        "ENTRYPOINT ",
        "alpine",
        ":3",
        " AS build",
        "\n",
        " ",
        "\\\n",
        "&&",
        "||",
        "|",
        ";",
        "$(",
        ")",
        "`",
        "\"",
        "'",
        "${",
        "}",
        "$A",
        "=",
        "apt-get install ",
        "-y",
        "pip install ",
        "npm ci",
        "rm -rf ",
        "/var/lib/apt/lists/*",
        "cd /x",
        "é",
        "€",
        "\\",
        "#",
        "<<EOF\n",
        "EOF\n",
        "case ",
        " in ",
        "esac",
        "[\"a\", \"b\"]",
        "--mount=type=cache,target=/c ",
        "--platform=$TARGETPLATFORM ",
        "\r\n",
        "\t",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn shell_reader_never_panics(text in any::<String>()) {
        let _ = Script::parse(&text);
    }

    #[test]
    fn shell_reader_on_shellish_text(text in dockerfile_text()) {
        let _ = Script::parse(&text);
    }

    #[test]
    fn lint_and_fix_never_panic(text in dockerfile_text()) {
        let Ok(dockerfile) = strata_dockerfile::parse(text.as_bytes().to_vec()) else {
            return Ok(());
        };
        let Ok(report) = strata_lint::lint(&dockerfile, &NoFacts, &Config::default()) else {
            return Ok(());
        };
        let fixed = strata_lint::apply_fixes(text.as_bytes(), &report.diagnostics);
        if fixed != text.as_bytes() {
            prop_assert!(
                strata_dockerfile::parse(fixed.clone()).is_ok(),
                "a fix broke the Dockerfile:\n{}\n---\n{}",
                text,
                String::from_utf8_lossy(&fixed)
            );
        }
    }
}

/// Every Dockerfile of BuildKit's parser conformance suite lints without a
/// panic, and applying its fixes leaves a Dockerfile that parses and no
/// longer has the findings fixed.
#[test]
fn conformance_dockerfiles() {
    let Some(root) = strata_test::conformance_dir() else {
        return;
    };
    let mut linted = 0;
    for suite in [
        "buildkit-parser",
        "buildkit-parser-heredoc",
        "buildkit-parser-warnings",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(suite)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path().join("Dockerfile");
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(dockerfile) = strata_dockerfile::parse(bytes.clone()) else {
                continue;
            };
            let Ok(report) = strata_lint::lint(&dockerfile, &NoFacts, &Config::default()) else {
                continue;
            };
            linted += 1;
            let fixed = strata_lint::apply_fixes(&bytes, &report.diagnostics);
            let reparsed = strata_dockerfile::parse(fixed)
                .unwrap_or_else(|error| panic!("{}: fix broke it: {error}", path.display()));
            let again = strata_lint::lint(&reparsed, &NoFacts, &Config::default()).unwrap();
            for diagnostic in report.diagnostics.iter().filter(|d| d.fix.is_some()) {
                let same = again
                    .diagnostics
                    .iter()
                    .filter(|d| d.rule == diagnostic.rule)
                    .count();
                let before = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.rule == diagnostic.rule)
                    .count();
                assert!(
                    same < before,
                    "{}: {} not fixed",
                    path.display(),
                    diagnostic.rule.name
                );
            }
        }
    }
    assert!(linted > 20, "only {linted} conformance Dockerfiles linted");
}
