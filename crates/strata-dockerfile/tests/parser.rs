//! The parser's own constructs (beyond BuildKit's test data): spans, lines,
//! directives, continuations, comments, BOM and CRLF, the scanner's line limit,
//! non-UTF-8 input, and inputs built to exhaust a naive parser.

use strata_dockerfile::{ErrorKind, Kind, Lexer, Stages, compat_commands, dump, parse};

fn source_of(dockerfile: &strata_dockerfile::Dockerfile, span: strata_dockerfile::Span) -> String {
    dockerfile.source.slice(span).into_owned()
}

#[test]
fn spans_of_keyword_flags_and_arguments() {
    let text = "FROM a\n  copy --from=build \\\n    src dst\n";
    let dockerfile = parse(text).unwrap();
    let copy = &dockerfile.instructions[1];
    assert_eq!(copy.kind, Some(Kind::Copy));
    assert_eq!(source_of(&dockerfile, copy.keyword.span), "copy");
    assert_eq!(source_of(&dockerfile, copy.flags[0].span), "--from=build");
    assert_eq!(copy.flags[0].name(), "from");
    assert_eq!(copy.flags[0].value(), Some("build"));
    assert_eq!(source_of(&dockerfile, copy.arguments[0].span), "src");
    assert_eq!(source_of(&dockerfile, copy.arguments[1].span), "dst");
    assert_eq!((copy.start_line, copy.end_line), (2, 3));
    assert_eq!(
        source_of(&dockerfile, copy.span),
        "copy --from=build \\\n    src dst"
    );
    let position = dockerfile.source.position(copy.arguments[1].span.start);
    assert_eq!((position.line, position.column), (3, 9));
    assert_eq!(copy.original, "copy --from=build     src dst");
}

#[test]
fn env_and_label_triples_with_spans() {
    let dockerfile = parse("FROM a\nENV a=1 b=\"x y\"\nENV legacy the rest\n").unwrap();
    let pairs = dockerfile.instructions[1].key_values();
    assert_eq!(pairs.len(), 2);
    assert_eq!(
        (pairs[1].key.text.as_str(), pairs[1].value.text.as_str()),
        ("b", "\"x y\"")
    );
    assert_eq!(source_of(&dockerfile, pairs[1].value.span), "\"x y\"");
    assert!(!pairs[1].legacy);
    let legacy = dockerfile.instructions[2].key_values();
    assert!(legacy[0].legacy);
    assert_eq!(legacy[0].value.text, "the rest");
    assert_eq!(
        dockerfile.instructions[2].argument_texts(),
        ["legacy", "the rest", ""]
    );
}

#[test]
fn directives_only_at_the_top() {
    let dockerfile =
        parse("\u{feff}# syntax=docker/dockerfile:1\n#check=skip=all;error=true\n# escape=`\n# comment\nFROM a\nRUN a `\n  b\n").unwrap();
    let names: Vec<(&str, &str)> = dockerfile
        .directives
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("syntax", "docker/dockerfile:1"),
            ("check", "skip=all;error=true"),
            ("escape", "`")
        ]
    );
    assert_eq!(dockerfile.escape, '`');
    assert_eq!(dockerfile.directive("check").map(|d| d.line), Some(2));
    assert_eq!(
        source_of(&dockerfile, dockerfile.directives[1].value_span),
        "skip=all;error=true"
    );
    assert_eq!(dockerfile.instructions[1].argument_texts(), ["a   b"]);
    // A comment ends the directives; an empty line too.
    let dockerfile = parse("# hello\n# escape=`\nFROM a\n").unwrap();
    assert!(dockerfile.directives.is_empty());
    let dockerfile = parse("\n# escape=`\nFROM a\n").unwrap();
    assert!(dockerfile.directives.is_empty());
    let failure = parse("# escape=`\n# escape=\\\nFROM a\n").unwrap_err();
    assert_eq!(
        failure.message,
        "only one escape parser directive can be used"
    );
    assert_eq!((failure.kind, failure.line), (ErrorKind::Directive, 2));
}

#[test]
fn comments_and_prev_comments() {
    let text = "# about a\n#\n# really about a\nFROM a\nRUN x \\\n  # inside\n  y\n  # hadolint ignore=DL3008\nRUN z\n";
    let dockerfile = parse(text).unwrap();
    let comments: Vec<(usize, &str, bool)> = dockerfile
        .comments
        .iter()
        .map(|c| (c.line, c.text.as_str(), c.in_continuation))
        .collect();
    assert_eq!(
        comments,
        [
            (1, "about a", false),
            (2, "", false),
            (3, "really about a", false),
            (6, "inside", true),
            (8, "hadolint ignore=DL3008", false)
        ]
    );
    // BuildKit's PrevComment: reset by an empty `#`; indented comments keep their `#`.
    assert_eq!(dockerfile.instructions[0].comments, ["really about a"]);
    assert_eq!(
        dockerfile.instructions[2].comments,
        ["# hadolint ignore=DL3008"]
    );
    assert_eq!(dockerfile.instructions[1].argument_texts(), ["x   y"]);
}

#[test]
fn empty_continuation_lines_warn() {
    let dockerfile = parse("FROM a\nRUN a \\\n\n   \n  b\n").unwrap();
    assert_eq!(dockerfile.warnings.len(), 1);
    let warning = &dockerfile.warnings[0];
    assert_eq!(
        warning.message,
        "Empty continuation line found in: RUN a   b"
    );
    assert_eq!(warning.empty_lines, [3, 4]);
    assert_eq!(warning.line, 5);
    assert_eq!(
        warning.url,
        "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"
    );
}

#[test]
fn crlf_and_bom() {
    let dockerfile = parse("\u{feff}FROM a\r\nRUN b \\\r\n  c\r\n").unwrap();
    assert_eq!(dump(&dockerfile), "(from \"a\")\n(run \"b   c\")\n");
    assert_eq!(dockerfile.instructions[1].original, "RUN b   c");
}

#[test]
fn exec_form_falls_back_like_buildkit() {
    let dockerfile =
        parse("FROM a\nCMD [\"a\"] trailing\nCMD [\"a\",\nCMD ['a']\nCMD [\"a\"]\n").unwrap();
    let forms: Vec<bool> = dockerfile.instructions[1..]
        .iter()
        .map(|i| i.json)
        .collect();
    assert_eq!(forms, [false, false, false, true]);
    assert_eq!(
        dockerfile.instructions[1].argument_texts(),
        ["[\"a\"] trailing"]
    );
    assert_eq!(
        parse("FROM a\nRUN [\"a\", {}]\n").unwrap_err().kind,
        ErrorKind::Json
    );
}

#[test]
fn heredoc_bodies_and_spans() {
    let text = "FROM a\nRUN <<EOF python3\nprint(1)\nEOF\nCOPY <<A <<'B' /dst\na\nA\nb $x\nB\nONBUILD RUN <<EOF\nx\nEOF\n";
    let dockerfile = parse(text).unwrap();
    let run = &dockerfile.instructions[1];
    assert_eq!(run.argument_texts(), ["<<EOF python3"]);
    assert_eq!(run.heredocs[0].content, "print(1)\n");
    assert_eq!(
        source_of(&dockerfile, run.heredocs[0].content_span),
        "print(1)\n"
    );
    assert_eq!(
        source_of(&dockerfile, run.heredocs[0].terminator_span),
        "EOF"
    );
    assert_eq!((run.start_line, run.end_line), (2, 4));
    assert_eq!(
        source_of(&dockerfile, run.span),
        "RUN <<EOF python3\nprint(1)\nEOF"
    );
    let copy = &dockerfile.instructions[2];
    let names: Vec<(&str, bool)> = copy
        .heredocs
        .iter()
        .map(|h| (h.name.as_str(), h.expand))
        .collect();
    assert_eq!(names, [("A", true), ("B", false)]);
    let onbuild = &dockerfile.instructions[3];
    assert_eq!(onbuild.heredocs.len(), 1);
    let compat = compat_commands(&dockerfile);
    // Like the PyPI package: ONBUILD's heredocs are not reported.
    assert!(compat[3].heredocs.is_empty());
    assert_eq!(compat[3].original, "ONBUILD RUN <<EOF");
    assert_eq!(compat[1].original, "RUN <<EOF python3\nprint(1)\nEOF\n");
    assert_eq!(
        parse("FROM a\nRUN <<EOF\nno end\n").unwrap_err().kind,
        ErrorKind::UnterminatedHeredoc
    );
}

#[test]
fn compat_commands_keep_the_case_as_written() {
    // BuildKit's Node.Value keeps the keyword's case (dfparse and the PyPI
    // package: from / OnBuild + run / Copy).
    let dockerfile = parse("from alpine\nOnBuild run echo hi\nCopy a b\n").unwrap();
    let names: Vec<(String, Option<String>)> = compat_commands(&dockerfile)
        .into_iter()
        .map(|command| (command.cmd, command.sub_cmd))
        .collect();
    assert_eq!(
        names,
        [
            ("from".to_string(), None),
            ("OnBuild".to_string(), Some("run".to_string())),
            ("Copy".to_string(), None)
        ]
    );
}

#[test]
fn unknown_instructions_parse_with_an_empty_argument() {
    let dockerfile = parse("FROM a\nFOO --x bar\n").unwrap();
    let foo = &dockerfile.instructions[1];
    assert_eq!(foo.kind, None);
    assert_eq!(foo.argument_texts(), [""]);
    assert_eq!(foo.flags[0].text, "--x");
    assert_eq!(dump(&dockerfile), "(from \"a\")\n(foo [\"--x\"] \"\")\n");
}

#[test]
fn flags_read_bytes_like_go() {
    // BuildKit reads flag bytes as Latin-1 runes.
    let dockerfile = parse("FROM a\nCOPY --chown=josé a b\n").unwrap();
    assert_eq!(
        dockerfile.instructions[1].flags[0].text,
        "--chown=jos\u{c3}\u{a9}"
    );
    let dockerfile = parse("FROM a\nCOPY --from=\"a b\" --link -- --not-a-flag c\n").unwrap();
    let flags: Vec<&str> = dockerfile.instructions[1]
        .flags
        .iter()
        .map(|f| f.text.as_str())
        .collect();
    assert_eq!(flags, ["--from=a b", "--link"]);
    assert_eq!(
        dockerfile.instructions[1].argument_texts(),
        ["--not-a-flag", "c"]
    );
}

#[test]
fn the_scanner_line_limit() {
    let line = |length: usize| format!("FROM a\nRUN {}\n", "x".repeat(length - 4));
    // A line of 65535 bytes plus its newline fits BuildKit's 64 KiB buffer.
    assert!(parse(line(65535)).is_ok());
    let failure = parse(line(65536)).unwrap_err();
    assert_eq!(
        failure.message,
        "dockerfile line greater than max allowed size of 65535"
    );
    assert_eq!((failure.kind, failure.line), (ErrorKind::LineTooLong, 2));
    // Without a final newline, 65536 bytes is already too many.
    let last = format!("FROM a\nRUN {}", "x".repeat(65531));
    assert!(parse(last).is_ok());
    let last = format!("FROM a\nRUN {}", "x".repeat(65532));
    assert!(parse(last).is_err());
}

#[test]
fn invalid_utf8_is_kept_in_spans_and_replaced_in_text() {
    let mut bytes = b"FROM a\nLABEL k=\xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"RUN echo \xe2\x82\n");
    let dockerfile = parse(bytes.clone()).unwrap();
    assert!(!dockerfile.source.is_utf8());
    let label = &dockerfile.instructions[1];
    assert_eq!(label.key_values()[0].value.text, "\u{fffd}\u{fffd}");
    let span = label.key_values()[0].value.span;
    assert_eq!(&bytes[span.range()], b"\xff\xfe");
    assert_eq!(
        dockerfile.instructions[2].argument_texts(),
        ["echo \u{fffd}\u{fffd}"]
    );
}

#[test]
fn empty_and_comment_only_files_fail() {
    assert_eq!(parse("").unwrap_err().kind, ErrorKind::Empty);
    assert_eq!(
        parse("# x\n\n").unwrap_err().message,
        "file with no instructions"
    );
}

#[test]
fn deep_nesting_does_not_exhaust_the_stack() {
    // ONBUILD chains through continuation lines.
    let text = format!("FROM a\n{}RUN x\n", "ONBUILD \\\n".repeat(100_000));
    let dockerfile = parse(text).unwrap();
    assert_eq!(dockerfile.instructions.len(), 2);
    assert!(Stages::parse(&dockerfile).is_err());
    let _ = dump(&dockerfile);
    drop(dockerfile);
    // Nested substitutions.
    let word = "${a:-".repeat(100_000);
    assert!(
        Lexer::new('\\')
            .expand_word(&word, &std::collections::BTreeMap::new())
            .is_err()
    );
    // A line the heredoc scan cannot lex has no heredoc (as in BuildKit).
    let text = format!("FROM a\nRUN {} <<EOF\n", "${a:-".repeat(10_000));
    assert!(parse(text).is_ok());
    // Nested JSON arrays.
    let text = format!("FROM a\nCMD {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    assert!(parse(text).is_ok());
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic sweep (the fuzz target goes much further).
    let pieces: [&[u8]; 24] = [
        b"FROM a",
        b"RUN ",
        b"\\\n",
        b"`\n",
        b"<<EOF",
        b"<<-'E'",
        b"\nEOF\n",
        b"\tE\n",
        b"[\"a\"",
        b"]",
        b"${a:-",
        b"}",
        b"\"",
        b"'",
        b"--from=",
        b"ONBUILD ",
        b"# escape=`\n",
        b"\r\n",
        b"\xff",
        b"\xc3",
        b"ENV a",
        b"=b ",
        b"HEALTHCHECK CMD",
        b"\n",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..(state % 12) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
        }
        if let Ok(dockerfile) = parse(input) {
            let _ = dump(&dockerfile);
            let _ = compat_commands(&dockerfile);
            let _ = Stages::parse(&dockerfile);
        }
    }
}
