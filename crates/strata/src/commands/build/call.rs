//! `strata build --call check|outline|targets`: what `docker buildx build
//! --call` asks BuildKit's Dockerfile frontend instead of a build (its
//! `frontend.lint`, `frontend.outline` and `frontend.targets` subrequests),
//! printed as buildx prints them: BuildKit's tables, or with `format=json`
//! the frontend's `result.json` as it is (Go's two-space indent).

use std::process::ExitCode;

use anyhow::bail;
use base64::Engine as _;
use serde::Serialize;
use strata_build::BuildOptions;
use strata_dockerfile::{Dockerfile, Location, Stages};

use crate::report::{Rendered, Severity, colour_stderr, render};

/// What `--call` asks for (buildx's `CallFunc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallFunc {
    name: Call,
    json: bool,
    ignore_status: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Lint,
    Outline,
    Targets,
}

impl CallFunc {
    /// Reads `--call` as buildx does (`NAME[,format=json][,ignorestatus=BOOL]`;
    /// `check` is `lint`; `build` is no call), with `--check` as `--call=check`
    /// and strata's `--format` as the `format=` field. `None`: build.
    pub(crate) fn parse(
        call: &str,
        check: bool,
        format: Option<&str>,
    ) -> anyhow::Result<Option<CallFunc>> {
        let call = if check { "check" } else { call };
        let mut name = None;
        let mut json = false;
        let mut ignore_status = false;
        for field in call.split(',').filter(|field| !field.is_empty()) {
            match field.split_once('=') {
                Some(("format", value)) => json = value == "json",
                Some(("ignorestatus", value)) => {
                    ignore_status = strata_go::strconv::parse_bool(value).ok_or_else(|| {
                        anyhow::anyhow!(
                            "invalid ignorestatus print value: {value}: strconv.ParseBool: parsing {value:?}: invalid syntax"
                        )
                    })?;
                }
                Some(_) => bail!("invalid print field: {field}"),
                None if name.is_some() => bail!("invalid print value: {call}"),
                None => name = Some(field),
            }
        }
        match format {
            Some("json") => json = true,
            Some("text") | None => {}
            Some(other) => bail!("--format: unknown format {other:?} (expected text or json)"),
        }
        let name = match name.unwrap_or("build") {
            "build" if format.is_some() => {
                bail!("--format applies to --call check, outline or targets")
            }
            "build" => return Ok(None),
            "check" | "lint" => Call::Lint,
            "outline" => Call::Outline,
            "targets" => Call::Targets,
            other => bail!("unsupported request frontend.{other}"),
        };
        Ok(Some(CallFunc {
            name,
            json,
            ignore_status,
        }))
    }

    /// Answers the call for the Dockerfile of `options` and prints it to
    /// stdout; exits 1 (unless `ignorestatus=true`) when the check found
    /// something, as buildx does with BuildKit's `result.statuscode`.
    pub(crate) fn run(
        &self,
        options: &BuildOptions,
        facts: &dyn strata_lint::Facts,
    ) -> anyhow::Result<ExitCode> {
        let parsed = strata_dockerfile::parse(options.dockerfile.clone());
        if self.name == Call::Lint {
            let status = lint(self.json, options, parsed, facts)?;
            return Ok(if status && !self.ignore_status {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        let dockerfile = parsed.map_err(|error| dockerfile_error(options, &error))?;
        let stages =
            Stages::parse(&dockerfile).map_err(|error| dockerfile_error(options, &error))?;
        let text = match self.name {
            Call::Targets => targets(&dockerfile, &stages, self.json)?,
            _ => outline(&dockerfile, &stages, options, self.json)?,
        };
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    }
}

fn dockerfile_error(options: &BuildOptions, error: &strata_dockerfile::Error) -> anyhow::Error {
    let source = strata_dockerfile::Source::new(options.dockerfile.clone());
    let text =
        crate::report::render_error(&options.dockerfile_name, &source, error, colour_stderr());
    Rendered(text).into()
}

/// BuildKit's `pb.Location` for an instruction: one range per line, no
/// columns (its parser's `toRanges`).
#[derive(Serialize)]
struct JsonLocation {
    ranges: Vec<JsonRange>,
}

#[derive(Serialize)]
struct JsonRange {
    start: JsonPosition,
    end: JsonPosition,
}

#[derive(Serialize)]
struct JsonPosition {
    #[serde(skip_serializing_if = "is_zero")]
    line: usize,
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}

fn lines(start: usize, end: usize) -> JsonLocation {
    let ranges = (start..=end.max(start)).map(|line| JsonRange {
        start: JsonPosition { line },
        end: JsonPosition { line },
    });
    JsonLocation {
        ranges: ranges.collect(),
    }
}

fn location(location: &Location) -> JsonLocation {
    lines(location.start_line, location.end_line)
}

fn go_json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    let bytes = strata_oci::to_go_json_indented(value, "  ")?;
    Ok(format!("{}\n", String::from_utf8_lossy(&bytes)))
}

fn sources(dockerfile: &Dockerfile) -> Vec<String> {
    vec![base64::engine::general_purpose::STANDARD.encode(dockerfile.source.bytes())]
}

#[derive(Serialize)]
struct TargetsJson {
    targets: Option<Vec<TargetJson>>,
    sources: Vec<String>,
}

#[derive(Serialize)]
struct TargetJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    default: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    base: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    platform: String,
    location: JsonLocation,
}

fn targets(dockerfile: &Dockerfile, stages: &Stages, json: bool) -> anyhow::Result<String> {
    let list = strata_dockerfile::targets(stages);
    if json {
        let targets = list.iter().map(|target| TargetJson {
            name: target.name.clone().unwrap_or_default(),
            default: target.default,
            description: target.description.clone(),
            base: target.base.clone(),
            platform: target.platform.clone().unwrap_or_default(),
            location: location(&target.location),
        });
        let targets: Vec<TargetJson> = targets.collect();
        return go_json(&TargetsJson {
            targets: (!targets.is_empty()).then_some(targets),
            sources: sources(dockerfile),
        });
    }
    let mut rows = vec![vec!["TARGET".to_string(), "DESCRIPTION".to_string()]];
    for target in &list {
        let name = match (target.name.as_deref(), target.default) {
            (None, true) => "(default)".to_string(),
            (Some(name), true) => format!("{name} (default)"),
            (name, false) => name.unwrap_or_default().to_string(),
        };
        rows.push(vec![name, target.description.clone()]);
    }
    Ok(tabwrite(&rows, 1))
}

#[derive(Serialize)]
struct OutlineJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<ArgJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<MountJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ssh: Vec<MountJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<String>,
}

#[derive(Serialize)]
struct ArgJson {
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    location: JsonLocation,
}

#[derive(Serialize)]
struct MountJson {
    name: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    required: bool,
    location: JsonLocation,
}

fn mounts(list: &[strata_dockerfile::OutlineMount]) -> Vec<MountJson> {
    list.iter()
        .map(|mount| MountJson {
            name: mount.name.clone(),
            required: mount.required,
            location: location(&mount.location),
        })
        .collect()
}

fn outline(
    dockerfile: &Dockerfile,
    stages: &Stages,
    options: &BuildOptions,
    json: bool,
) -> anyhow::Result<String> {
    let mut frontend = options.frontend.clone();
    if let Some(platform) = &options.platform {
        frontend.target_platform = platform.parse().ok();
    }
    let outline = strata_dockerfile::outline(dockerfile, stages, &frontend)
        .map_err(|error| dockerfile_error(options, &error))?;
    if json {
        let args = outline.args.iter().map(|arg| ArgJson {
            name: arg.name.clone(),
            description: arg.description.clone(),
            value: arg.value.clone(),
            location: location(&arg.location),
        });
        return go_json(&OutlineJson {
            name: outline.name.clone().unwrap_or_default(),
            description: outline.description.clone(),
            args: args.collect(),
            secrets: mounts(&outline.secrets),
            ssh: mounts(&outline.ssh),
            sources: sources(dockerfile),
        });
    }
    Ok(outline_text(&outline))
}

/// BuildKit's `PrintOutline`.
fn outline_text(outline: &strata_dockerfile::Outline) -> String {
    let mut out = String::new();
    if outline.name.is_some() || !outline.description.is_empty() {
        let name = outline.name.as_deref().unwrap_or("(default)");
        let mut rows = vec![vec!["TARGET:".to_string(), name.to_string()]];
        if !outline.description.is_empty() {
            rows.push(vec!["DESCRIPTION:".into(), outline.description.clone()]);
        }
        out.push_str(&tabwrite(&rows, 1));
        out.push('\n');
    }
    if !outline.args.is_empty() {
        let mut rows = vec![vec![
            "BUILD ARG".into(),
            "VALUE".into(),
            "DESCRIPTION".into(),
        ]];
        for arg in &outline.args {
            rows.push(vec![
                arg.name.clone(),
                arg.value.clone(),
                arg.description.clone(),
            ]);
        }
        out.push_str(&tabwrite(&rows, 3));
        out.push('\n');
    }
    for (title, list) in [("SECRET", &outline.secrets), ("SSH", &outline.ssh)] {
        if list.is_empty() {
            continue;
        }
        let mut rows = vec![vec![title.to_string(), "REQUIRED".to_string()]];
        for mount in list {
            let required = if mount.required { "true" } else { "" };
            rows.push(vec![mount.name.clone(), required.to_string()]);
        }
        out.push_str(&tabwrite(&rows, 3));
        out.push('\n');
    }
    out
}

/// Go's `text/tabwriter` (minwidth 0, padding `padding`, blanks, no flags)
/// over rows whose cells but the last end in a tab: every such column as
/// wide as its widest cell (in characters) plus the padding.
fn tabwrite(rows: &[Vec<String>], padding: usize) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (column, cell) in row.iter().take(row.len().saturating_sub(1)).enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(column) {
                Some(known) => *known = (*known).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if column + 1 < row.len() {
                let pad = widths[column] + padding - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct LintJson {
    warnings: Option<Vec<WarningJson>>,
    sources: [SourceJson; 1],
    #[serde(rename = "buildError", skip_serializing_if = "Option::is_none")]
    build_error: Option<BuildErrorJson>,
}

#[derive(Serialize)]
struct WarningJson {
    #[serde(rename = "ruleName")]
    rule_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
    location: JsonLocation,
}

/// BuildKit's `pb.SourceInfo`, without the LLB `definition` of the
/// Dockerfile's local source (session ids: nothing strata could match).
#[derive(Serialize)]
struct SourceJson {
    filename: String,
    data: String,
    language: &'static str,
}

#[derive(Serialize)]
struct BuildErrorJson {
    message: String,
    location: JsonLocation,
}

/// `--call check`: BuildKit's build checks. True when something was found
/// (BuildKit's `result.statuscode` 1).
fn lint(
    json: bool,
    options: &BuildOptions,
    parsed: Result<Dockerfile, strata_dockerfile::Error>,
    facts: &dyn strata_lint::Facts,
) -> anyhow::Result<bool> {
    let source = strata_dockerfile::Source::new(options.dockerfile.clone());
    let report = match &parsed {
        Ok(dockerfile) => strata_lint::lint(dockerfile, facts, &strata_lint::Config::buildkit())
            .map_err(|error| (error.to_string(), error.span)),
        Err(error) => Err((error.message.clone(), error.span)),
    };
    if !json {
        return lint_text(options, &source, report);
    }
    let mut result = LintJson {
        warnings: None,
        sources: [SourceJson {
            filename: options.dockerfile_name.clone(),
            data: base64::engine::general_purpose::STANDARD.encode(&options.dockerfile),
            language: "Dockerfile",
        }],
        build_error: None,
    };
    let found = match report {
        Ok(report) => {
            let warnings: Vec<WarningJson> = report
                .diagnostics
                .iter()
                .map(|diagnostic| warning(parsed.as_ref().ok(), diagnostic))
                .collect();
            let found = !warnings.is_empty();
            result.warnings = found.then_some(warnings);
            found
        }
        Err((message, span)) => {
            let start = source.position(span.start).line;
            let end = source.position(span.end.max(span.start + 1) - 1).line;
            result.build_error = Some(BuildErrorJson {
                message,
                location: lines(start, end.max(start)),
            });
            true
        }
    };
    print!("{}", go_json(&result)?);
    Ok(found)
}

/// A finding as BuildKit reports it: located at its instruction's lines.
fn warning(dockerfile: Option<&Dockerfile>, diagnostic: &strata_lint::Diagnostic) -> WarningJson {
    let instruction = dockerfile.and_then(|dockerfile| {
        dockerfile.instructions.iter().find(|instruction| {
            instruction.span.start <= diagnostic.span.start
                && diagnostic.span.start < instruction.span.end.max(instruction.span.start + 1)
        })
    });
    let (start, end) = match instruction {
        Some(instruction) => (instruction.start_line, instruction.end_line),
        None => (
            diagnostic.start.line,
            diagnostic.end.line.max(diagnostic.start.line),
        ),
    };
    WarningJson {
        rule_name: diagnostic.rule.name.to_string(),
        description: diagnostic.rule.description().to_string(),
        url: diagnostic.rule.url.unwrap_or_default().to_string(),
        detail: diagnostic.message.clone(),
        location: lines(start, end),
    }
}

/// `--check` in text: each finding with its source line, then the count.
fn lint_text(
    options: &BuildOptions,
    source: &strata_dockerfile::Source,
    report: Result<strata_lint::Report, (String, strata_dockerfile::Span)>,
) -> anyhow::Result<bool> {
    let file = &options.dockerfile_name;
    let report = report.map_err(|(message, span)| {
        let text = render(
            file,
            source,
            span,
            Severity::Error,
            &message,
            colour_stderr(),
        );
        anyhow::Error::new(Rendered(text))
    })?;
    let count = report.diagnostics.len();
    if count == 0 {
        eprintln!("Check complete, no warnings found.");
        return Ok(false);
    }
    let text = crate::report::render_lint(file, source, &report.diagnostics, colour_stderr());
    eprint!("{text}");
    let plural = if count == 1 {
        "warning has"
    } else {
        "warnings have"
    };
    eprintln!("Check complete, {count} {plural} been found!");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> anyhow::Result<Option<CallFunc>> {
        CallFunc::parse(text, false, None)
    }

    #[test]
    fn reads_call_values_as_buildx() {
        assert_eq!(call("build").unwrap(), None);
        let func = call("check,format=json,ignorestatus=true")
            .unwrap()
            .unwrap();
        assert_eq!(
            func,
            CallFunc {
                name: Call::Lint,
                json: true,
                ignore_status: true
            }
        );
        assert_eq!(
            call("outline,format=text").unwrap().unwrap().name,
            Call::Outline
        );
        let error = |text: &str| call(text).unwrap_err().to_string();
        assert_eq!(error("nope"), "unsupported request frontend.nope");
        assert_eq!(
            error("outline,targets"),
            "invalid print value: outline,targets"
        );
        assert_eq!(error("outline,x=1"), "invalid print field: x=1");
        assert_eq!(
            error("outline,ignorestatus=yes"),
            "invalid ignorestatus print value: yes: strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        let json = CallFunc::parse("build", true, Some("json"))
            .unwrap()
            .unwrap();
        assert!(json.json && json.name == Call::Lint);
        assert!(CallFunc::parse("build", false, Some("json")).is_err());
    }

    #[test]
    fn tabwriter_pads_every_column_but_the_last() {
        let rows = vec![
            vec!["SECRET".to_string(), "REQUIRED".to_string()],
            vec!["token".to_string(), "true".to_string()],
            vec!["a".to_string(), String::new()],
        ];
        assert_eq!(
            tabwrite(&rows, 3),
            "SECRET   REQUIRED\ntoken    true\na        \n"
        );
    }
}
