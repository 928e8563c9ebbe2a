//! `strata lint`: BuildKit's build checks, the guide's mistakes and
//! hadolint's rules over a Dockerfile and facts about its context; `--fix`
//! rewrites the mechanical ones in place.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use strata_dockerfile::{Dockerfile, Source};
use strata_lint::{Config, Diagnostic, Facts, Report, Severity};

use super::Global;
use crate::report::{Rendered, colour_stderr, colour_stdout, render, render_error, render_lint};

/// Arguments of `strata lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The build context whose .dockerignore and contents the rules consider
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The Dockerfile, or `-` for standard input [default: <PATH>/Dockerfile]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit non-zero when a finding is at least this severe [default: the
    /// config's, else warning]
    #[arg(long, value_enum, value_name = "SEVERITY")]
    failure_threshold: Option<Threshold>,
    /// The configuration file [default: .strata-lint.toml in PATH, else beside
    /// the Dockerfile]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore a rule (name or hadolint id); repeatable
    #[arg(long = "ignore", value_name = "RULE")]
    ignore: Vec<String>,
    /// Trust a registry for FROM images (UntrustedRegistry); repeatable
    #[arg(long = "trusted-registry", value_name = "REGISTRY")]
    trusted_registries: Vec<String>,
    /// Rewrite the Dockerfile in place with the mechanical fixes
    #[arg(long, conflicts_with = "diff")]
    fix: bool,
    /// Print the fixes as a unified diff instead of applying them
    #[arg(long)]
    diff: bool,
    /// Only BuildKit's build checks, as `strata build --check` reports them
    #[arg(long)]
    buildkit: bool,
    /// Assume every base image has an empty config (no ENV but the default
    /// PATH), as BuildKit's checks see images its resolver knows nothing of
    #[arg(long)]
    empty_base_images: bool,
    /// List the rules (name, hadolint ids, severity, origin, why) and exit
    #[arg(long, exclusive = true)]
    list_rules: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `file:line:col severity[rule]: message`, the source line, a caret, why
    Text,
    /// `{"diagnostics": [...]}`
    Json,
    /// SARIF 2.1.0
    Sarif,
    /// Checkstyle XML
    Checkstyle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Threshold {
    Error,
    Warning,
    Info,
    Style,
    /// Never fail
    None,
}

/// The facts the rules need about `context` (its ignore file, notable paths).
pub(crate) fn gather_facts(
    context: &Path,
    dockerfile: Option<&Path>,
) -> anyhow::Result<Option<strata_context::ContextFacts>> {
    if !context.is_dir() {
        if context == Path::new(".") {
            return Ok(None);
        }
        bail!("the build context {} is not a directory", context.display());
    }
    let ignore = strata_context::IgnoreFile::for_build(context, dockerfile)
        .with_context(|| format!("read the ignore file of {}", context.display()))?;
    let facts = strata_context::ContextFacts::gather(context, &ignore, None)
        .with_context(|| format!("read the ignore file of {}", context.display()))?;
    Ok(Some(facts))
}

fn load_config(args: &Args, dockerfile: Option<&Path>) -> anyhow::Result<Config> {
    let candidates: Vec<PathBuf> = match &args.config {
        Some(path) => vec![path.clone()],
        None => {
            let mut candidates = vec![args.path.join(strata_lint::CONFIG_FILE)];
            if let Some(directory) = dockerfile.and_then(Path::parent) {
                candidates.push(directory.join(strata_lint::CONFIG_FILE));
            }
            candidates
        }
    };
    let mut config = Config::default();
    for candidate in candidates {
        let text = match std::fs::read_to_string(&candidate) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && args.config.is_none() => {
                continue;
            }
            Err(error) => {
                return Err(strata_fs::Error::new("read", &candidate, error).into());
            }
        };
        config = Config::from_toml(&text)
            .with_context(|| format!("invalid configuration {}", candidate.display()))?;
        break;
    }
    if args.buildkit {
        config.rule_set = strata_lint::RuleSet::BuildKit;
    }
    config.ignored.extend(args.ignore.iter().cloned());
    config
        .trusted_registries
        .extend(args.trusted_registries.iter().cloned());
    Ok(config)
}

fn parse(name: &str, bytes: Vec<u8>) -> anyhow::Result<Dockerfile> {
    let source = Source::new(bytes.clone());
    strata_dockerfile::parse(bytes)
        .map_err(|error| Rendered(render_error(name, &source, &error, colour_stderr())).into())
}

fn run_lint(
    name: &str,
    dockerfile: &Dockerfile,
    facts: &dyn Facts,
    config: &Config,
) -> anyhow::Result<Report> {
    strata_lint::lint(dockerfile, facts, config).map_err(|error| {
        Rendered(render(
            name,
            &dockerfile.source,
            error.span,
            crate::report::Severity::Error,
            &error.to_string(),
            colour_stderr(),
        ))
        .into()
    })
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        let mut out = String::new();
        for rule in strata_lint::RULES {
            let origin = match rule.origin {
                strata_lint::Origin::BuildKit => "buildkit",
                strata_lint::Origin::Guide => "guide",
                strata_lint::Origin::Hadolint => "hadolint",
                strata_lint::Origin::Build => "build",
            };
            let aliases = if rule.aliases.is_empty() {
                "-".to_string()
            } else {
                rule.aliases.join(",")
            };
            let experimental = if rule.experimental {
                " (experimental)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{}\t{aliases}\t{}\t{origin}{experimental}\t{}",
                rule.name, rule.severity, rule.why
            );
        }
        std::io::stdout()
            .write_all(out.as_bytes())
            .context("write standard output")?;
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = args.file.as_deref() == Some(Path::new("-"));
    let file = match &args.file {
        Some(file) => file.clone(),
        None if args.path == Path::new(".") => PathBuf::from("Dockerfile"),
        None => args.path.join("Dockerfile"),
    };
    let (name, bytes) = if stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("read standard input")?;
        ("<stdin>".to_string(), bytes)
    } else {
        (file.display().to_string(), strata_fs::read(&file)?)
    };
    if stdin && args.fix {
        bail!("--fix needs a Dockerfile on disk: use --diff with standard input");
    }
    let dockerfile_path = (!stdin).then_some(file.as_path());
    let config = load_config(&args, dockerfile_path)?;
    let facts = gather_facts(&args.path, dockerfile_path)?;
    let facts: &dyn Facts = match &facts {
        Some(facts) => facts,
        None => &strata_lint::NoFacts,
    };
    let empty_base_images = strata_lint::EmptyBaseImages(facts);
    let facts: &dyn Facts = if args.empty_base_images {
        &empty_base_images
    } else {
        facts
    };
    let mut dockerfile = parse(&name, bytes.clone())?;
    let mut report = run_lint(&name, &dockerfile, facts, &config)?;

    if args.fix || args.diff {
        let mut current = bytes.clone();
        for _ in 0..10 {
            let fixed = strata_lint::apply_fixes(&current, &report.diagnostics);
            if fixed == current {
                break;
            }
            // A fix must leave a Dockerfile BuildKit still reads.
            let reparsed = strata_dockerfile::parse(fixed.clone()).map_err(|error| {
                anyhow::anyhow!(
                    "a fix produced a Dockerfile that does not parse ({error}); nothing was written"
                )
            })?;
            report = run_lint(&name, &reparsed, facts, &config)?;
            dockerfile = reparsed;
            current = fixed;
        }
        if args.diff {
            let diff = unified_diff(&name, &bytes, &current);
            std::io::stdout()
                .write_all(diff.as_bytes())
                .context("write standard output")?;
        } else if current != bytes {
            strata_fs::write_atomic(&file, &current)?;
            eprintln!("fixed {name}");
        }
    }

    let threshold = match args.failure_threshold {
        Some(Threshold::None) => None,
        Some(Threshold::Error) => Some(Severity::Error),
        Some(Threshold::Warning) => Some(Severity::Warning),
        Some(Threshold::Info) => Some(Severity::Info),
        Some(Threshold::Style) => Some(Severity::Style),
        None => Some(config.failure_threshold),
    };
    let output = match args.format {
        Format::Json => {
            strata_lint::output::to_json(&name, &dockerfile.source, &report.diagnostics)
        }
        Format::Sarif => {
            strata_lint::output::to_sarif(&name, &dockerfile.source, &report.diagnostics)
        }
        Format::Checkstyle => strata_lint::output::to_checkstyle(&name, &report.diagnostics),
        Format::Text => {
            let colour = if args.diff {
                colour_stderr()
            } else {
                colour_stdout()
            };
            render_lint(&name, &dockerfile.source, &report.diagnostics, colour)
        }
    };
    if args.diff && args.format == Format::Text {
        std::io::stderr().write_all(output.as_bytes()).ok();
    } else {
        std::io::stdout()
            .write_all(output.as_bytes())
            .context("write standard output")?;
    }
    if args.format == Format::Text {
        eprintln!("{}", summary(&report.diagnostics));
    }
    let fails = match threshold {
        Some(threshold) => report.fails(threshold),
        None => false,
    };
    Ok(if fails {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    if diagnostics.is_empty() {
        return "no problems found".to_string();
    }
    let mut parts = Vec::new();
    for level in Severity::ALL {
        let count = diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == level)
            .count();
        if count > 0 {
            let plural = if count == 1 { "" } else { "s" };
            let name = match level {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
                Severity::Style => "style note",
            };
            parts.push(format!("{count} {name}{plural}"));
        }
    }
    let fixable = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.fix.is_some())
        .count();
    let mut text = parts.join(", ");
    if fixable > 0 {
        let _ = write!(text, " ({fixable} fixable with --fix)");
    }
    text
}

/// A unified diff of two texts, line by line (empty when they are equal).
fn unified_diff(name: &str, before: &[u8], after: &[u8]) -> String {
    if before == after {
        return String::new();
    }
    let old: Vec<&[u8]> = split_lines(before);
    let new: Vec<&[u8]> = split_lines(after);
    // Longest common subsequence table (Dockerfiles are small).
    let mut table = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            table[i][j] = if old[i] == new[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    // Edit script: (tag, old index, new index).
    let mut script = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            script.push((' ', i, j));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || table[i + 1][j] >= table[i][j + 1]) {
            script.push(('-', i, j));
            i += 1;
        } else {
            script.push(('+', i, j));
            j += 1;
        }
    }
    let mut out = format!("--- {name}\n+++ {name} (fixed)\n");
    let context = 3;
    let changes: Vec<usize> = (0..script.len())
        .filter(|&index| script[index].0 != ' ')
        .collect();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &change in &changes {
        match groups.last_mut() {
            Some((_, last)) if change - *last <= 2 * context => *last = change,
            _ => groups.push((change, change)),
        }
    }
    for (first, last) in groups {
        let hunk = &script[first.saturating_sub(context)..(last + 1 + context).min(script.len())];
        let old_start = hunk.first().map_or(0, |entry| entry.1);
        let new_start = hunk.first().map_or(0, |entry| entry.2);
        let old_count = hunk.iter().filter(|entry| entry.0 != '+').count();
        let new_count = hunk.iter().filter(|entry| entry.0 != '-').count();
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            old_start + 1,
            old_count,
            new_start + 1,
            new_count
        );
        for (tag, old_index, new_index) in hunk {
            let line = match tag {
                '+' => new[*new_index],
                _ => old[*old_index],
            };
            out.push(*tag);
            out.push_str(&String::from_utf8_lossy(line));
            if !line.ends_with(b"\n") {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'\n' {
            lines.push(&bytes[start..=index]);
            start = index + 1;
        }
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_one_changed_line() {
        let diff = unified_diff("D", b"a\nb\nc\n", b"a\nB\nc\n");
        assert_eq!(
            diff,
            "--- D\n+++ D (fixed)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        assert_eq!(unified_diff("D", b"x\n", b"x\n"), "");
    }
}
