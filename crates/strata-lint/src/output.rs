//! Machine-readable reports: JSON (`{"diagnostics": [...]}`), SARIF 2.1.0
//! for code-scanning services, and Checkstyle XML. Text output, with the
//! source line and a caret, is the binary's (it shares the error renderer).

use serde::Serialize;
use serde_json::json;
use strata_dockerfile::Source;

use crate::diagnostic::Diagnostic;
use crate::severity::Severity;

#[derive(Serialize)]
struct JsonEdit {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    replacement: String,
}

#[derive(Serialize)]
struct JsonFix {
    description: String,
    edits: Vec<JsonEdit>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'static str,
    aliases: &'a [&'static str],
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    why: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'static str>,
    fix: Option<JsonFix>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// `{"diagnostics": [...]}`: per diagnostic its rule, aliases, severity,
/// message, file, 1-based line and column of the start and of the end
/// (exclusive), the why, the rule's URL, and the fix (edits with positions)
/// or `null`. Pretty-printed, with a final newline.
pub fn to_json(file: &str, source: &Source, diagnostics: &[Diagnostic]) -> String {
    let report = JsonReport {
        diagnostics: diagnostics
            .iter()
            .map(|diagnostic| JsonDiagnostic {
                rule: diagnostic.rule.name,
                aliases: &diagnostic.aliases,
                severity: diagnostic.severity,
                message: &diagnostic.message,
                file,
                line: diagnostic.start.line,
                column: diagnostic.start.column,
                end_line: diagnostic.end.line,
                end_column: diagnostic.end.column,
                why: diagnostic.rule.why,
                url: diagnostic.rule.url,
                fix: diagnostic.fix.as_ref().map(|fix| JsonFix {
                    description: fix.description.clone(),
                    edits: fix
                        .edits
                        .iter()
                        .map(|edit| {
                            let start = source.position(edit.span.start);
                            let end = source.position(edit.span.end);
                            JsonEdit {
                                line: start.line,
                                column: start.column,
                                end_line: end.line,
                                end_column: end.column,
                                replacement: edit.replacement.clone(),
                            }
                        })
                        .collect(),
                }),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// A SARIF 2.1.0 log with one run of the `strata` tool: the rules that
/// fired (id, description, help URI, hadolint aliases) and one result per
/// diagnostic, with its region and fix.
pub fn to_sarif(file: &str, source: &Source, diagnostics: &[Diagnostic]) -> String {
    let mut rules: Vec<&'static crate::Rule> = Vec::new();
    for diagnostic in diagnostics {
        if !rules.iter().any(|rule| rule.name == diagnostic.rule.name) {
            rules.push(diagnostic.rule);
        }
    }
    let rule_objects: Vec<serde_json::Value> = rules
        .iter()
        .map(|rule| {
            let mut object = json!({
                "id": rule.name,
                "shortDescription": {"text": rule.why},
                "defaultConfiguration": {"level": sarif_level(rule.severity)},
                "properties": {"aliases": rule.aliases},
            });
            if let Some(url) = rule.url {
                object["helpUri"] = json!(url);
            }
            object
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let rule_index = rules
                .iter()
                .position(|rule| rule.name == diagnostic.rule.name)
                .unwrap_or(0);
            let mut result = json!({
                "ruleId": diagnostic.rule.name,
                "ruleIndex": rule_index,
                "level": sarif_level(diagnostic.severity),
                "message": {"text": diagnostic.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file},
                        "region": {
                            "startLine": diagnostic.start.line,
                            "startColumn": diagnostic.start.column,
                            "endLine": diagnostic.end.line,
                            "endColumn": diagnostic.end.column,
                        }
                    }
                }],
            });
            if !diagnostic.aliases.is_empty() {
                result["properties"] = json!({"aliases": diagnostic.aliases});
            }
            if let Some(fix) = &diagnostic.fix {
                let replacements: Vec<serde_json::Value> = fix
                    .edits
                    .iter()
                    .map(|edit| {
                        let start = source.position(edit.span.start);
                        let end = source.position(edit.span.end);
                        json!({
                            "deletedRegion": {
                                "startLine": start.line,
                                "startColumn": start.column,
                                "endLine": end.line,
                                "endColumn": end.column,
                            },
                            "insertedContent": {"text": edit.replacement},
                        })
                    })
                    .collect();
                result["fixes"] = json!([{
                    "description": {"text": fix.description},
                    "artifactChanges": [{
                        "artifactLocation": {"uri": file},
                        "replacements": replacements,
                    }],
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "strata",
                "informationUri": "https://docs.docker.com/go/dockerfile/rule/",
                "rules": rule_objects,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Checkstyle 4.3 XML: one `<file>` with an `<error>` per diagnostic
/// (severity `error`, `warning` or `info`; `source` is the rule name).
pub fn to_checkstyle(file: &str, diagnostics: &[Diagnostic]) -> String {
    let mut text =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    text.push_str(&format!("  <file name=\"{}\">\n", xml_escape(file)));
    for diagnostic in diagnostics {
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Style => "info",
        };
        text.push_str(&format!(
            "    <error line=\"{}\" column=\"{}\" severity=\"{severity}\" message=\"{}\" source=\"{}\"/>\n",
            diagnostic.start.line,
            diagnostic.start.column,
            xml_escape(&diagnostic.message),
            xml_escape(diagnostic.rule.name),
        ));
    }
    text.push_str("  </file>\n</checkstyle>\n");
    text
}
