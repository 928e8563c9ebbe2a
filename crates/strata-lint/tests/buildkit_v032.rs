//! BuildKit v0.32's build checks on small Dockerfiles, against what BuildKit
//! itself reported: each `tests/buildkit-v032/NAME.Dockerfile` has beside it
//! `NAME.dflint.json`, the output of `dflint NAME.Dockerfile` (BuildKit's
//! `DockerfileLint` with every base image an empty config; see
//! `../shared/peers/buildkit`). The lint runs BuildKit's rule set with the same
//! facts and must report the same (rule, line, message) findings.
//!
//! To add a case: write the Dockerfile, then
//! `dflint NAME.Dockerfile > NAME.dflint.json`.

use std::collections::BTreeMap;
use std::path::Path;

use strata_lint::{Config, EmptyBaseImages, NoFacts};

type Findings = BTreeMap<(String, usize, String), usize>;

fn buildkit_findings(path: &Path) -> Findings {
    let text = std::fs::read_to_string(path).expect("read the dflint output");
    let output: serde_json::Value = serde_json::from_str(&text).expect("dflint JSON");
    let mut findings = Findings::new();
    for warning in output["warnings"].as_array().expect("warnings") {
        let line = warning["ranges"][0]["start"]["line"].as_u64().unwrap_or(0);
        let key = (
            warning["rule"].as_str().expect("rule").to_string(),
            usize::try_from(line).expect("line"),
            warning["detail"].as_str().expect("detail").to_string(),
        );
        *findings.entry(key).or_default() += 1;
    }
    findings
}

fn strata_findings(path: &Path) -> Findings {
    let bytes = std::fs::read(path).expect("read the Dockerfile");
    let dockerfile = strata_dockerfile::parse(bytes).expect("parses");
    let report = strata_lint::lint(&dockerfile, &EmptyBaseImages(&NoFacts), &Config::buildkit())
        .expect("valid check directive");
    let mut findings = Findings::new();
    for diagnostic in report.diagnostics {
        let key = (
            diagnostic.rule.name.to_string(),
            diagnostic.start.line,
            diagnostic.message,
        );
        *findings.entry(key).or_default() += 1;
    }
    findings
}

#[test]
fn the_checks_agree_with_buildkit() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buildkit-v032");
    let mut cases: Vec<_> = std::fs::read_dir(&directory)
        .expect("the cases")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "cases in {}", directory.display());
    let mut failures = Vec::new();
    for case in cases {
        let expected = buildkit_findings(&case.with_extension("dflint.json"));
        let found = strata_findings(&case);
        if expected != found {
            failures.push(format!(
                "{}:\n  buildkit: {expected:?}\n  strata:   {found:?}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
