//! Licences as declared, read as SPDX licence expressions (SPDX 2.3 annex D)
//! against the SPDX licence list, where they are ones.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The SPDX licence list's version, as the data files' headers say.
pub(crate) const LIST_VERSION: &str = "3.28";

const LICENSES: &str = include_str!("spdx-licenses.txt");
const EXCEPTIONS: &str = include_str!("spdx-exceptions.txt");

/// Listed identifiers by their lower-case spelling (matching is case-insensitive).
struct List {
    licenses: HashMap<String, &'static str>,
    exceptions: HashMap<String, &'static str>,
}

static LIST: LazyLock<List> = LazyLock::new(|| List {
    licenses: ids(LICENSES),
    exceptions: ids(EXCEPTIONS),
});

fn ids(file: &'static str) -> HashMap<String, &'static str> {
    file.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|id| (id.to_ascii_lowercase(), id))
        .collect()
}

/// A parsed licence expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A listed licence id (with its `+` when listed so, `GPL-2.0+`), or a `LicenseRef-`.
    Id(String),
    /// `LICENSE WITH EXCEPTION`.
    With(String, &'static str),
    /// `A AND B`.
    And(Box<Expr>, Box<Expr>),
    /// `A OR B`.
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// `parts` joined with AND; `None` when there are none.
    pub(crate) fn all(parts: Vec<Expr>) -> Option<Expr> {
        parts
            .into_iter()
            .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
    }

    /// The listed licence id, when the expression is just one.
    pub(crate) fn listed_id(&self) -> Option<&str> {
        match self {
            Expr::Id(id) if !id.starts_with("LicenseRef-") => Some(id),
            _ => None,
        }
    }

    /// The `LicenseRef-` ids it uses.
    pub(crate) fn refs(&self) -> Vec<&str> {
        match self {
            Expr::Id(id) | Expr::With(id, _) if id.starts_with("LicenseRef-") => vec![id],
            Expr::Id(_) | Expr::With(..) => Vec::new(),
            Expr::And(a, b) | Expr::Or(a, b) => [a.refs(), b.refs()].concat(),
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Id(id) => f.write_str(id),
            Expr::With(id, exception) => write!(f, "{id} WITH {exception}"),
            // AND binds tighter than OR: only an OR inside an AND needs parentheses.
            Expr::And(a, b) => {
                for (i, side) in [a, b].into_iter().enumerate() {
                    if i == 1 {
                        f.write_str(" AND ")?;
                    }
                    match side.as_ref() {
                        Expr::Or(..) => write!(f, "({side})")?,
                        _ => write!(f, "{side}")?,
                    }
                }
                Ok(())
            }
            Expr::Or(a, b) => write!(f, "{a} OR {b}"),
        }
    }
}

/// `text` as a licence expression with the list's spellings, or `None`
/// when it is not one (free text, unlisted ids, Debian's `GPL-2+`).
pub(crate) fn parse(text: &str) -> Option<Expr> {
    let tokens = tokens(text);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
    };
    let expr = parser.or()?;
    (parser.at == tokens.len()).then_some(expr)
}

fn tokens(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let single = c == '(' || c == ')';
        if c.is_whitespace() || single {
            if let Some(s) = start.take() {
                tokens.push(&text[s..i]);
            }
            if single {
                tokens.push(&text[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        tokens.push(&text[s..]);
    }
    tokens
}

/// A recursive-descent parser: `or := and (OR and)*`, `and := with (AND with)*`,
/// `with := simple [WITH exception] | "(" or ")"`.
struct Parser<'a> {
    tokens: &'a [&'a str],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).copied()
    }

    /// Takes the next token when it is the operator `op` (any case).
    fn eat(&mut self, op: &str) -> bool {
        let matched = self.peek().is_some_and(|t| t.eq_ignore_ascii_case(op));
        self.at += usize::from(matched);
        matched
    }

    fn or(&mut self) -> Option<Expr> {
        let mut expr = self.and()?;
        while self.eat("OR") {
            expr = Expr::Or(Box::new(expr), Box::new(self.and()?));
        }
        Some(expr)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut expr = self.with()?;
        while self.eat("AND") {
            expr = Expr::And(Box::new(expr), Box::new(self.with()?));
        }
        Some(expr)
    }

    fn with(&mut self) -> Option<Expr> {
        if self.eat("(") {
            let inner = self.or()?;
            return self.eat(")").then_some(inner);
        }
        let id = simple(self.peek()?)?;
        self.at += 1;
        if self.eat("WITH") {
            let exception = LIST.exceptions.get(&self.peek()?.to_ascii_lowercase())?;
            self.at += 1;
            return Some(Expr::With(id, exception));
        }
        Some(Expr::Id(id))
    }
}

/// A licence id as listed, or a `LicenseRef-`. The grammar allows `+` after
/// any id, but the reference validators only know the listed `+` forms
/// (`GPL-2.0+`), so only those are taken.
fn simple(token: &str) -> Option<String> {
    if let Some(rest) = strip_prefix_ignore_case(token, "LicenseRef-") {
        return is_idstring(rest).then(|| format!("LicenseRef-{rest}"));
    }
    LIST.licenses
        .get(&token.to_ascii_lowercase())
        .map(|id| id.to_string())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// SPDX's `idstring`: letters, digits, `.` and `-`.
pub(crate) fn is_idstring(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// `text` with every run of characters an `idstring` may not hold made one `-`.
pub(crate) fn idstring(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Option<String> {
        parse(text).map(|e| e.to_string())
    }

    #[test]
    fn data_files_name_the_list_version() {
        for file in [LICENSES, EXCEPTIONS] {
            let header = file.lines().next().unwrap_or_default();
            assert!(header.contains(&format!("SPDX License List {LIST_VERSION}.")));
        }
        assert!(LIST.licenses.len() > 700, "{}", LIST.licenses.len());
        assert!(LIST.exceptions.len() > 80, "{}", LIST.exceptions.len());
        assert!(
            LIST.licenses
                .keys()
                .all(|k| !LIST.exceptions.contains_key(k))
        );
    }

    #[test]
    fn ids_match_case_insensitively_and_keep_the_list_spelling() {
        assert_eq!(canonical("mit").as_deref(), Some("MIT"));
        assert_eq!(canonical("apache-2.0").as_deref(), Some("Apache-2.0"));
        assert_eq!(canonical("gpl-2.0+").as_deref(), Some("GPL-2.0+"));
        assert_eq!(
            parse("GPL-2.0+")
                .and_then(|e| e.listed_id().map(str::to_string))
                .as_deref(),
            Some("GPL-2.0+")
        );
    }

    #[test]
    fn compound_expressions_keep_their_meaning() {
        assert_eq!(
            canonical("MIT or Apache-2.0").as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            canonical("(MIT OR Apache-2.0) AND BSD-3-Clause").as_deref(),
            Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            canonical("MIT AND (BSD-2-Clause AND Zlib)").as_deref(),
            Some("MIT AND BSD-2-Clause AND Zlib")
        );
        assert_eq!(
            canonical("MIT OR (BSD-2-Clause AND Zlib)").as_deref(),
            Some("MIT OR BSD-2-Clause AND Zlib")
        );
        assert_eq!(
            canonical("Apache-2.0 with llvm-exception OR MIT").as_deref(),
            Some("Apache-2.0 WITH LLVM-exception OR MIT")
        );
        assert_eq!(
            canonical("((LicenseRef-Custom.1))").as_deref(),
            Some("LicenseRef-Custom.1")
        );
    }

    #[test]
    fn not_expressions_are_refused() {
        for text in [
            "GPL-2+",
            "BSD-like",
            "public domain",
            "MIT+",
            "MIT AND",
            "(MIT",
            "MIT)",
            "MIT WITH Apache-2.0",
            "LLVM-exception",
            "LicenseRef-",
            "LicenseRef-a_b",
            "DocumentRef-x:LicenseRef-y",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn refs_and_combination() {
        let parts = vec![
            parse("MIT OR LicenseRef-a").unwrap(),
            parse("LicenseRef-b WITH LLVM-exception").unwrap(),
        ];
        let all = Expr::all(parts).unwrap();
        assert_eq!(
            all.to_string(),
            "(MIT OR LicenseRef-a) AND LicenseRef-b WITH LLVM-exception"
        );
        assert_eq!(all.refs(), ["LicenseRef-a", "LicenseRef-b"]);
        assert_eq!(all.listed_id(), None);
    }

    #[test]
    fn idstring_replaces_runs() {
        assert_eq!(
            idstring("GPL-2+ with OpenSSL exception"),
            "GPL-2-with-OpenSSL-exception"
        );
        assert_eq!(idstring("  (c) "), "c");
        assert!(is_idstring("BSD-like"));
        assert!(!is_idstring("GPL-2+"));
    }

    /// Licence strings as packages declare them, real and broken.
    const CORPUS: &[&str] = &[
        "MIT",
        "mit",
        "Apache-2.0",
        "Apache 2.0",
        "GPL-2+",
        "GPL-2.0+",
        "gpl-2.0+",
        "GPL-2.0-or-later",
        "LGPL-2.1+",
        "BSD-3-Clause",
        "BSD",
        "BSD-like",
        "public-domain",
        "Artistic-2.0 OR GPL-1.0-or-later",
        "MIT OR Apache-2.0",
        "MIT/Apache-2.0",
        "Apache-2.0 WITH LLVM-exception",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "(MIT OR Apache-2.0) AND Unicode-DFS-2016",
        "Zlib AND (MIT OR Apache-2.0)",
        "MIT or Apache-2.0",
        "MIT OR (BSD-2-Clause AND Zlib)",
        "ISC",
        "0BSD",
        "Unlicense",
        "CC0-1.0",
        "MPL-2.0",
        "BSL-1.0",
        "MIT AND",
        "(MIT",
        "MIT)",
        "MIT WITH Apache-2.0",
        "LLVM-exception",
        "Python-2.0",
        "PSF-2.0",
        "GPL-3.0-only WITH GCC-exception-3.1",
        "LGPL-2.1-or-later AND GPL-2.0-or-later",
        "OpenSSL",
        "curl",
        "X11",
        "ASL 2.0",
        "GPLv2+",
        "Expat",
        "Public Domain",
        "Apache-2.0 with LLVM-exception",
        "((MIT))",
        "MIT AND AND Zlib",
        "MIT Zlib",
        "GPL-2.0 WITH Autoconf-exception-2.0 OR MIT",
        "(GPL-2.0-only OR MIT) AND (Zlib OR ISC) WITH LLVM-exception",
    ];

    /// license-expression (what pyspdxtools validates with) accepts the same
    /// strings, and reads our spelling of each as equivalent to the original.
    #[test]
    fn agrees_with_license_expression() {
        let Some(python) = strata_test::test_tool("venv/bin/python") else {
            return;
        };
        let cases: Vec<_> = CORPUS
            .iter()
            .map(|text| serde_json::json!([text, canonical(text)]))
            .collect();
        let script = r#"
import json, sys
from license_expression import get_spdx_licensing
spdx = get_spdx_licensing()
out = []
for text, ours in json.loads(sys.argv[1]):
    try:
        info = spdx.validate(text, strict=True)
        accepted = not info.errors and not info.invalid_symbols and info.normalized_expression is not None
    except Exception:
        accepted = False
    out.append([accepted, bool(accepted and ours and spdx.is_equivalent(text, ours))])
print(json.dumps(out))
"#;
        let output = std::process::Command::new(python)
            .args(["-c", script, &serde_json::Value::from(cases).to_string()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let verdicts: Vec<(bool, bool)> = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(verdicts.len(), CORPUS.len());
        for (text, (accepted, equivalent)) in CORPUS.iter().zip(verdicts) {
            let ours = canonical(text);
            assert_eq!(ours.is_some(), accepted, "{text:?}: ours {ours:?}");
            assert_eq!(ours.is_some(), equivalent, "{text:?}: ours {ours:?}");
        }
    }
}
