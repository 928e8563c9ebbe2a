//! The dockerignore conformance data (../shared/conformance/dockerignore),
//! one test per row. Walk, copy and build rows build the row's context tree on
//! disk and check the real scan (and, for copy rows, a real copy).

use std::path::Path;

use anyhow::{Context as _, Result, bail, ensure};
use libtest_mimic::{Arguments, Failed, Trial};
use strata_context::{
    Context, CopySource, Filter, MatchInfo, PatternMatcher, ScanOptions, ignorefile::read_patterns,
};

fn main() {
    let arguments = Arguments::from_args();
    let Some(directory) = strata_test::conformance_dir() else {
        libtest_mimic::run(&arguments, Vec::new()).exit();
    };
    let directory = directory.join("dockerignore");
    let mut trials = Vec::new();
    for (file, builder) in [
        ("match-cases.tsv", match_trial as fn(&[&str]) -> Result<()>),
        ("exclusion-cases.tsv", exclusion_trial),
        ("include-cases.tsv", include_trial),
        ("ignorefile-cases.tsv", ignorefile_trial),
    ] {
        let text = std::fs::read_to_string(directory.join(file)).expect("conformance file");
        let mut lines = text.lines().enumerate();
        lines.next(); // header
        let mut count = 0;
        for (number, line) in lines {
            if line.is_empty() {
                continue;
            }
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            let label: String = fields
                .iter()
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join(" :: ");
            let name = format!(
                "{file}:{} {}",
                number + 1,
                label.chars().take(150).collect::<String>()
            );
            trials.push(Trial::test(name, move || {
                let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                builder(&fields).map_err(|e| Failed::from(format!("{e:#}")))
            }));
            count += 1;
        }
        assert!(count > 0, "{file} has no rows");
    }
    libtest_mimic::run(&arguments, trials).exit();
}

fn split_list(field: &str) -> Vec<String> {
    if field.is_empty() || field == "-" {
        return Vec::new();
    }
    field.split(" | ").map(str::to_owned).collect()
}

/// match-cases.tsv: one pattern against one path.
fn match_trial(fields: &[&str]) -> Result<()> {
    let [pattern, path, expected, api, ..] = fields else {
        bail!("bad row");
    };
    let outcome = (|| -> Result<bool, String> {
        let matcher = PatternMatcher::new([pattern]).map_err(|e| e.to_string())?;
        if *api == "legacy" {
            let cleaned = strata_go::path::clean(path.as_bytes());
            if cleaned == b"." {
                return Ok(false);
            }
            return matcher
                .matches_or_parent_matches(path.as_bytes())
                .map_err(|e| e.to_string());
        }
        let direct = matcher
            .matches_or_parent_matches(path.as_bytes())
            .map_err(|e| e.to_string())?;
        // Walking the parents one by one must agree (MatchesUsingParentResults).
        let mut info = MatchInfo::default();
        let mut walked = false;
        let bytes = path.as_bytes();
        let mut prefixes: Vec<&[u8]> = (1..bytes.len())
            .filter(|&i| bytes[i] == b'/')
            .map(|i| &bytes[..i])
            .collect();
        prefixes.push(bytes);
        for prefix in prefixes {
            let (matched, next_info) = matcher
                .matches_using_parent_results(prefix, &info)
                .map_err(|e| e.to_string())?;
            walked = matched;
            info = next_info;
        }
        if walked != direct {
            return Err(format!("walk says {walked}, single query says {direct}"));
        }
        Ok(direct)
    })();
    match (*expected, outcome) {
        ("error", Err(_)) => Ok(()),
        ("match", Ok(true)) | ("nomatch", Ok(false)) => Ok(()),
        (expected, outcome) => bail!("expected {expected}, got {outcome:?}"),
    }
}

/// Builds a context tree from "a,b/,b/c" (directories end in `/`).
fn build_tree(root: &Path, listing: &str) -> Result<()> {
    for item in listing.split(',').filter(|s| !s.is_empty()) {
        if let Some(directory) = item.strip_suffix('/') {
            std::fs::create_dir_all(root.join(directory))?;
        } else {
            let path = root.join(item);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, item.as_bytes())?;
        }
    }
    Ok(())
}

/// Whether `path` is in the scanned context, for walk and build rows.
fn walk_has(root: &Path, include: &[String], exclude: &[String], path: &str) -> Result<bool> {
    let mut options = ScanOptions::new().digests(false);
    if !include.is_empty() {
        options = options.include(PatternMatcher::new(include)?);
    }
    if !exclude.is_empty() {
        options = options.exclude(PatternMatcher::new(exclude)?);
    }
    let context = Context::scan(root, &options)?;
    Ok(context.get(path.as_bytes()).is_some())
}

/// Whether `path` exists after copying the context root with the patterns.
fn copy_has(root: &Path, include: &[String], exclude: &[String], path: &str) -> Result<bool> {
    let context = Context::scan(root, &ScanOptions::new())?;
    let selection = context.select(
        &CopySource::new("/")
            .with_include(include.iter().cloned())
            .with_exclude(exclude.iter().cloned()),
    )?;
    let destination = tempfile::tempdir()?;
    let target = destination.path().join("out");
    selection.copy_into(&context, &target)?;
    Ok(std::fs::symlink_metadata(target.join(path)).is_ok())
}

fn level_outcome(
    level: &str,
    include: &[String],
    exclude: &[String],
    path: &str,
    listing: &str,
) -> Result<bool> {
    match level {
        "matcher" | "docs" => {
            Ok(!PatternMatcher::new(exclude)?.matches_or_parent_matches(path.as_bytes())?)
        }
        "open" => {
            let filter = Filter::new(include, exclude)?;
            Ok(filter.opens(path.as_bytes())?)
        }
        "walk" | "build" | "copy" => {
            let directory = tempfile::tempdir()?;
            let root = directory.path().join("context");
            std::fs::create_dir(&root)?;
            build_tree(&root, listing)?;
            if level == "copy" {
                copy_has(&root, include, exclude, path)
            } else {
                walk_has(&root, include, exclude, path)
            }
        }
        other => bail!("unknown level {other}"),
    }
}

fn check(expected: &str, outcome: Result<bool>) -> Result<()> {
    match (expected, outcome) {
        ("error", Err(_)) => Ok(()),
        ("included", Ok(true)) | ("excluded", Ok(false)) => Ok(()),
        (expected, Ok(included)) => bail!(
            "expected {expected}, got {}",
            if included { "included" } else { "excluded" }
        ),
        (expected, Err(error)) => bail!("expected {expected}, got error: {error:#}"),
    }
}

/// exclusion-cases.tsv: ordered pattern lists with `!` exceptions.
fn exclusion_trial(fields: &[&str]) -> Result<()> {
    let [patterns, path, expected, level, listing, ..] = fields else {
        bail!("bad row");
    };
    let exclude = split_list(patterns);
    check(expected, level_outcome(level, &[], &exclude, path, listing))
}

/// include-cases.tsv: fsutil include patterns plus optional excludes.
fn include_trial(fields: &[&str]) -> Result<()> {
    let [include, exclude, path, expected, level, listing, ..] = fields else {
        bail!("bad row");
    };
    let include = split_list(include);
    let exclude = split_list(exclude);
    check(
        expected,
        level_outcome(level, &include, &exclude, path, listing),
    )
}

/// ignorefile-cases.tsv: reading ignore-file text, compiling lists.
fn ignorefile_trial(fields: &[&str]) -> Result<()> {
    let [input, expected, stage, ..] = fields else {
        bail!("bad row");
    };
    let input: serde_json::Value = serde_json::from_str(input).context("input JSON")?;
    let expected: serde_json::Value = serde_json::from_str(expected).context("expected JSON")?;
    match *stage {
        "read" => {
            let text = input.as_str().context("input is a string")?;
            let patterns = read_patterns(text.as_bytes())
                .map_err(|line| anyhow::anyhow!("line {line} too long"))?;
            let got: Vec<String> = patterns
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            let want: Vec<String> = serde_json::from_value(expected)?;
            ensure!(got == want, "read {got:?}, expected {want:?}");
        }
        "compile" => {
            let list: Vec<String> = serde_json::from_value(input)?;
            let compiled = PatternMatcher::new(&list);
            match (expected.as_str(), compiled) {
                (Some("error"), Err(_)) => {}
                (Some("error"), Ok(m)) => {
                    bail!("compiled to {:?}, expected an error", m.patterns())
                }
                (_, Err(error)) => bail!("compile failed: {error}"),
                (_, Ok(matcher)) => {
                    let got: Vec<String> =
                        matcher.patterns().iter().map(ToString::to_string).collect();
                    let want: Vec<String> = serde_json::from_value(expected)?;
                    ensure!(got == want, "compiled {got:?}, expected {want:?}");
                }
            }
        }
        other => bail!("unknown stage {other}"),
    }
    Ok(())
}
