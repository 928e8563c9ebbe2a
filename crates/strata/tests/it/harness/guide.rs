//! The guide's tests (../shared/guide): its text, the stand-in programs its
//! commands run, and the steps a build printed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The guide's text (../shared/guide/dockerfile-guide.txt), when present.
pub(crate) fn guide_text() -> Option<String> {
    let path = strata_test::shared_dir().join("guide/dockerfile-guide.txt");
    fs::read_to_string(path).ok()
}

/// Asserts that every line of `dockerfile` is a line of the guide (so the
/// tests build the guide's text, not a paraphrase). `added` lines are ones
/// the test had to add (a FROM before a fragment), exempt from the check.
/// Without the guide beside the workspace the check is skipped, loudly.
pub(crate) fn assert_from_guide(dockerfile: &str, added: &[&str]) {
    use std::io::Write;
    let Some(guide) = guide_text() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED checking Dockerfiles against the guide: ../shared/guide/dockerfile-guide.txt not found"
        );
        return;
    };
    let lines: Vec<&str> = guide.lines().map(str::trim_end).collect();
    for line in dockerfile.lines() {
        if line.trim().is_empty() || added.contains(&line) {
            continue;
        }
        assert!(
            lines.contains(&line.trim_end()),
            "not a line of the guide: {line:?}"
        );
    }
}

/// tests/guide/fixtures: the stand-in programs.
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guide/fixtures")
}

/// The steps of a build (`#N [...] NAME` lines, FROM excluded) and whether
/// the cache served them.
pub(crate) fn steps(progress: &str) -> Vec<(String, bool)> {
    let mut steps: Vec<(String, bool)> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for line in progress.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((number, text)) = rest.split_once(' ') else {
            continue;
        };
        let is_step =
            text.starts_with('[') && !text.starts_with("[internal]") && !text.contains("] FROM ");
        if is_step && !names.contains_key(number) {
            names.insert(number.to_owned(), text.to_owned());
            steps.push((text.to_owned(), false));
        } else if text == "CACHED"
            && let Some(name) = names.get(number)
            && let Some(step) = steps.iter_mut().find(|(n, _)| n == name)
        {
            step.1 = true;
        }
    }
    steps
}
