//! Text to [`Dockerfile`]: BuildKit's `parser.Parse`, line for line.

use crate::ast::{Comment, Dockerfile, Flag, Heredoc, Instruction, Kind, Warning, Word};
use crate::directive::{Directive, DirectiveLine, DirectiveParser};
use crate::error::{Error, ErrorKind};
use crate::heredoc::heredocs_from_line;
use crate::json::{JsonArray, parse_array};
use crate::source::{Source, Span};
use crate::text::{
    decode_rune, is_regex_whitespace, is_space_byte, trim_left_space, trim_space_range,
};
use strata_go::strconv;
use strata_go::strings::is_space;
use strata_go::utf8::lossy;

/// BuildKit reads lines with Go's `bufio.Scanner`, whose buffer holds 64 KiB.
const MAXIMUM_LINE: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// `ONBUILD ONBUILD ...` deeper than this is not nested further (each level
/// keeps its own copy of the rest of the line).
const MAXIMUM_ONBUILD_NESTING: usize = 64;
const EMPTY_CONTINUATION_URL: &str =
    "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/";

/// Parses a Dockerfile exactly as BuildKit's parser does. Never panics.
pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Dockerfile, Error> {
    Parser::new(Source::new(bytes)).run()
}

/// A physical line: `start..content_end` without the trailing `\r`s and `\n`,
/// `start..end` with them.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    content_end: usize,
    end: usize,
}

struct Lines<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Set when a line too long for BuildKit's scanner stopped the reading.
    too_long: Option<usize>,
    /// The lines read so far: the number of the last one (from 1).
    number: usize,
}

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        if self.position >= self.bytes.len() || self.too_long.is_some() {
            return None;
        }
        let start = self.position;
        let end = match memchr::memchr(b'\n', &self.bytes[start..]) {
            Some(index) => start + index + 1,
            None => self.bytes.len(),
        };
        let newline = self.bytes[end - 1] == b'\n';
        if (newline && end - start > MAXIMUM_LINE) || (!newline && end - start >= MAXIMUM_LINE) {
            self.too_long = Some(start);
            return None;
        }
        let mut content_end = end;
        while content_end > start && matches!(self.bytes[content_end - 1], b'\r' | b'\n') {
            content_end -= 1;
        }
        self.position = end;
        self.number += 1;
        Some(Line {
            start,
            content_end,
            end,
        })
    }
}

/// A logical line (continuations joined) with the source offset of each piece.
struct Logical {
    text: Vec<u8>,
    /// `(logical offset, source offset)` where each piece starts.
    pieces: Vec<(usize, usize)>,
    /// Where the instruction starts, for spans of an empty logical line.
    base: usize,
}

impl Logical {
    fn push(&mut self, bytes: &[u8], start: usize, end: usize) {
        if start < end {
            self.pieces.push((self.text.len(), start));
            self.text.extend_from_slice(&bytes[start..end]);
        }
    }

    /// The source offset of logical offset `offset` (as a start).
    fn source_start(&self, offset: usize) -> usize {
        let index = match self
            .pieces
            .binary_search_by(|(logical, _)| logical.cmp(&offset))
        {
            Ok(index) => index,
            Err(0) => return self.pieces.first().map_or(self.base, |(_, source)| *source),
            Err(index) => index - 1,
        };
        let (logical, source) = self.pieces[index];
        source + (offset - logical)
    }

    /// The source offset of logical offset `offset` (as an end).
    fn source_end(&self, offset: usize) -> usize {
        if offset == 0 {
            return self.source_start(0);
        }
        self.source_start(offset - 1) + 1
    }

    fn span(&self, start: usize, end: usize) -> Span {
        if start >= end {
            let at = self.source_start(start);
            return Span::new(at, at);
        }
        Span::new(self.source_start(start), self.source_end(end))
    }
}

struct Parser {
    source: Source,
    escape: u8,
    directives: DirectiveParser,
}

/// What a line parser made of an instruction's arguments.
#[derive(Default)]
struct Parsed {
    arguments: Vec<(String, usize, usize)>,
    json: bool,
    /// The ONBUILD trigger's logical range.
    trigger: Option<(usize, usize)>,
}

/// An instruction's parts before spans are mapped to the source.
struct Node {
    keyword: (usize, usize),
    kind: Option<Kind>,
    flags: Vec<(String, usize, usize)>,
    parsed: Parsed,
    original: (usize, usize),
}

type LineError = (ErrorKind, String, usize, usize);

/// What the parse collects line by line, in source order.
#[derive(Default)]
struct Collected {
    instructions: Vec<Instruction>,
    comments: Vec<Comment>,
    directives: Vec<Directive>,
    warnings: Vec<Warning>,
    /// The comment lines right above the next instruction.
    prev_comments: Vec<String>,
}

impl Parser {
    fn new(source: Source) -> Parser {
        Parser {
            source,
            escape: b'\\',
            directives: DirectiveParser::default(),
        }
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>, span: Span) -> Error {
        Error::new(kind, message, &self.source, span)
    }

    fn run(mut self) -> Result<Dockerfile, Error> {
        let source = std::mem::take(&mut self.source);
        let bytes = source.bytes();
        self.source = source.clone();
        let mut lines = Lines {
            bytes,
            position: 0,
            too_long: None,
            number: 0,
        };
        let mut collected = Collected::default();
        let mut logical = Logical {
            text: Vec::new(),
            pieces: Vec::new(),
            base: 0,
        };
        while let Some(line) = lines.next() {
            let (token_start, is_comment) =
                self.first_line(bytes, line, lines.number, &mut collected)?;
            let start_line = lines.number;
            let token_end = if is_comment {
                token_start
            } else {
                line.content_end
            };
            let (piece_end, end_of_line) = self.trim_continuation(bytes, token_start, token_end);
            if end_of_line && piece_end == token_start {
                continue;
            }
            // One buffer for every logical line.
            logical.text.clear();
            logical.pieces.clear();
            logical.base = token_start;
            logical.push(bytes, token_start, piece_end);
            let (instruction_end, empty_lines) = self.continuation_lines(
                &mut lines,
                &mut logical,
                &mut collected.comments,
                end_of_line,
                line.content_end,
            );
            let instruction_span = Span::new(token_start, instruction_end.max(token_start));
            if !empty_lines.is_empty() {
                collected.warnings.push(Warning {
                    message: format!("Empty continuation line found in: {}", lossy(&logical.text)),
                    detail: "Empty continuation lines will become errors in a future release"
                        .to_string(),
                    url: EMPTY_CONTINUATION_URL.to_string(),
                    line: lines.number,
                    empty_lines,
                    span: instruction_span,
                });
            }
            let mut instruction = self
                .instruction_from_line(
                    &logical,
                    0,
                    logical.text.len(),
                    std::mem::take(&mut collected.prev_comments),
                )
                .map_err(|(kind, message, start, end)| {
                    let span = if start < end {
                        logical.span(start, end)
                    } else {
                        instruction_span
                    };
                    self.error(kind, message, span)
                })?;
            instruction.start_line = start_line;
            if can_contain_heredoc(&instruction)
                && memchr::memmem::find(&logical.text, b"<<").is_some()
            {
                self.read_heredocs(&mut lines, &logical, &mut instruction, instruction_span)?;
            }
            instruction.end_line = lines.number;
            instruction.span.end = instruction.span.end.max(instruction_span.end);
            collected.instructions.push(instruction);
        }
        self.finish(bytes, lines.too_long, collected)
    }

    /// The first physical line of what may be an instruction: a comment or a
    /// parser directive is recorded. Returns where its text starts and whether
    /// it is a comment.
    fn first_line(
        &mut self,
        bytes: &[u8],
        line: Line,
        number: usize,
        collected: &mut Collected,
    ) -> Result<(usize, bool), Error> {
        let mut start = line.start;
        if number == 1 && bytes[start..line.end].starts_with(BOM) {
            start += BOM.len();
        }
        let left = trim_left_space(bytes, start, line.end);
        let is_comment = left < line.end && bytes[left] == b'#';
        if is_comment {
            let (text_start, text_end) = trim_space_range(bytes, start + 1, line.end);
            if text_start == text_end {
                collected.prev_comments.clear();
            } else {
                collected
                    .prev_comments
                    .push(lossy(&bytes[text_start..text_end]).into_owned());
            }
        }
        let token_start = trim_left_space(bytes, start, line.content_end);
        match self
            .directives
            .parse_line(bytes, token_start, line.content_end, number)
        {
            DirectiveLine::None => {
                if is_comment {
                    collected
                        .comments
                        .push(self.comment(bytes, line, false, number));
                }
            }
            DirectiveLine::Directive(directive) => {
                collected.prev_comments.pop();
                if directive.name == "escape" {
                    self.escape = directive.value.as_bytes().first().copied().unwrap_or(b'\\');
                }
                collected.directives.push(directive);
            }
            DirectiveLine::Error(message, span) => {
                return Err(self.error(ErrorKind::Directive, message, span));
            }
        }
        Ok((token_start, is_comment))
    }

    /// Joins the lines a continuation carries on to `logical` (comments among
    /// them recorded, empty ones skipped). Returns where the instruction ends
    /// and the numbers of the empty lines.
    fn continuation_lines(
        &self,
        lines: &mut Lines<'_>,
        logical: &mut Logical,
        comments: &mut Vec<Comment>,
        mut end_of_line: bool,
        mut instruction_end: usize,
    ) -> (usize, Vec<usize>) {
        let bytes = lines.bytes;
        let mut empty_lines = Vec::new();
        while !end_of_line {
            let Some(next) = lines.next() else { break };
            instruction_end = next.content_end;
            let left = trim_left_space(bytes, next.start, next.end);
            if left < next.end && bytes[left] == b'#' {
                comments.push(self.comment(bytes, next, true, lines.number));
                continue;
            }
            if trim_left_space(bytes, next.start, next.content_end) == next.content_end {
                empty_lines.push(lines.number);
                continue;
            }
            let (piece_end, end) = self.trim_continuation(bytes, next.start, next.content_end);
            end_of_line = end;
            logical.push(bytes, next.start, piece_end);
        }
        (instruction_end, empty_lines)
    }

    /// Reads the bodies of the heredocs `logical` opens, each up to its
    /// terminator line, into `instruction`.
    fn read_heredocs(
        &self,
        lines: &mut Lines<'_>,
        logical: &Logical,
        instruction: &mut Instruction,
        instruction_span: Span,
    ) -> Result<(), Error> {
        let bytes = lines.bytes;
        let markers = heredocs_from_line(&lossy(&logical.text))
            .map_err(|error| self.error(ErrorKind::Syntax, error.to_string(), instruction_span))?;
        for marker in markers {
            let content_start = lines.position.min(bytes.len());
            let mut terminator = None;
            for next in lines.by_ref() {
                let mut candidate = next.start;
                if marker.chomp {
                    while candidate < next.content_end && bytes[candidate] == b'\t' {
                        candidate += 1;
                    }
                }
                if &bytes[candidate..next.content_end] == marker.name.as_bytes() {
                    terminator = Some(next);
                    break;
                }
            }
            let Some(terminator) = terminator else {
                let end = bytes.len();
                return Err(self
                    .error(
                        ErrorKind::UnterminatedHeredoc,
                        "unterminated heredoc",
                        Span::new(instruction_span.start, end),
                    )
                    .with_lines(instruction.start_line, lines.number));
            };
            instruction.heredocs.push(Heredoc {
                name: marker.name,
                file_descriptor: marker.file_descriptor,
                expand: marker.expand,
                chomp: marker.chomp,
                content: lossy(&bytes[content_start..terminator.start]).into_owned(),
                content_span: Span::new(content_start, terminator.start),
                terminator_span: Span::new(terminator.start, terminator.content_end),
            });
            instruction.span.end = terminator.content_end;
        }
        Ok(())
    }

    /// The Dockerfile, or BuildKit's errors for a file without instructions
    /// and for a line too long to read.
    fn finish(
        self,
        bytes: &[u8],
        too_long: Option<usize>,
        collected: Collected,
    ) -> Result<Dockerfile, Error> {
        if collected.instructions.is_empty() {
            // Point at the last line (BuildKit reports the line count).
            let last = self.source.line_count().max(1);
            let span = self.source.line_span(last).unwrap_or_default();
            return Err(self.error(ErrorKind::Empty, "file with no instructions", span));
        }
        if let Some(start) = too_long {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            return Err(self.error(
                ErrorKind::LineTooLong,
                format!(
                    "dockerfile line greater than max allowed size of {}",
                    MAXIMUM_LINE - 1
                ),
                Span::new(start, end),
            ));
        }
        let escape = char::from(self.escape);
        Ok(Dockerfile {
            source: self.source,
            escape,
            directives: collected.directives,
            instructions: collected.instructions,
            comments: collected.comments,
            warnings: collected.warnings,
        })
    }

    fn comment(&self, bytes: &[u8], line: Line, in_continuation: bool, number: usize) -> Comment {
        let hash = trim_left_space(bytes, line.start, line.content_end);
        let (start, end) = trim_space_range(bytes, hash + 1, line.content_end);
        Comment {
            text: lossy(&bytes[start..end]).into_owned(),
            line: number,
            span: Span::new(hash, line.content_end),
            in_continuation,
        }
    }

    /// BuildKit's line-continuation regex: the escape character, then only
    /// blanks, at the end, not itself escaped. Returns the piece's end and
    /// whether the logical line ends here.
    fn trim_continuation(&self, bytes: &[u8], start: usize, end: usize) -> (usize, bool) {
        let mut last = end;
        while last > start && matches!(bytes[last - 1], b' ' | b'\t') {
            last -= 1;
        }
        if last > start && bytes[last - 1] == self.escape {
            let escape = last - 1;
            if escape == start || bytes[escape - 1] != self.escape {
                return (escape, false);
            }
        }
        (end, true)
    }

    /// BuildKit's `newNodeFromLine` over `logical.text[start..end]`, then spans.
    fn instruction_from_line(
        &self,
        logical: &Logical,
        start: usize,
        end: usize,
        comments: Vec<String>,
    ) -> Result<Instruction, LineError> {
        // ONBUILD nests; parse the chain iteratively.
        let mut nodes = Vec::new();
        let mut range = (start, end);
        loop {
            let mut node = self.node_from_line(&logical.text, range.0, range.1)?;
            if nodes.len() + 1 >= MAXIMUM_ONBUILD_NESTING {
                // BuildKit nests without bound (and rejects ONBUILD ONBUILD
                // later); past this depth the rest stays unparsed.
                node.parsed.trigger = None;
            }
            let trigger = node.parsed.trigger;
            nodes.push(node);
            match trigger {
                Some(inner) => range = inner,
                None => break,
            }
        }
        let mut inner: Option<Box<Instruction>> = None;
        while let Some(node) = nodes.pop() {
            let text = &logical.text;
            let keyword_text = lossy(&text[node.keyword.0..node.keyword.1]).into_owned();
            let kind = node.kind;
            let mut instruction = Instruction {
                keyword: Word {
                    text: keyword_text,
                    span: logical.span(node.keyword.0, node.keyword.1),
                },
                kind,
                flags: node
                    .flags
                    .into_iter()
                    .map(|(text, start, end)| Flag {
                        text,
                        span: logical.span(start, end),
                    })
                    .collect(),
                arguments: node
                    .parsed
                    .arguments
                    .into_iter()
                    .map(|(text, start, end)| Word {
                        text,
                        span: logical.span(start, end),
                    })
                    .collect(),
                json: node.parsed.json,
                heredocs: Vec::new(),
                original: lossy(&text[node.original.0..node.original.1]).into_owned(),
                start_line: 0,
                end_line: 0,
                span: logical.span(node.original.0, node.original.1),
                comments: Vec::new(),
                trigger: inner.take(),
            };
            if nodes.is_empty() {
                instruction.comments = comments;
                instruction.span = logical.span(start, end);
                let keyword_start = instruction.keyword.span.start;
                instruction.span.start = keyword_start.min(instruction.span.start);
                return Ok(instruction);
            }
            inner = Some(Box::new(instruction));
        }
        Err((
            ErrorKind::Syntax,
            "empty instruction".to_string(),
            start,
            end,
        ))
    }

    /// `newNodeFromLine` without recursion: split command, flags, arguments.
    fn node_from_line(&self, text: &[u8], start: usize, end: usize) -> Result<Node, LineError> {
        let (trimmed_start, trimmed_end) = trim_space_range(text, start, end);
        let mut keyword_end = trimmed_start;
        while keyword_end < trimmed_end && !is_regex_whitespace(text[keyword_end]) {
            keyword_end += 1;
        }
        let mut flags = Vec::new();
        let mut arguments = (trimmed_end, trimmed_end);
        if keyword_end < trimmed_end {
            let mut rest = keyword_end;
            while rest < trimmed_end && is_regex_whitespace(text[rest]) {
                rest += 1;
            }
            let (remaining, extracted) = self.extract_builder_flags(text, rest, trimmed_end);
            flags = extracted;
            arguments = trim_space_range(text, remaining, trimmed_end);
        }
        let keyword = lossy(&text[trimmed_start..keyword_end]);
        let kind = Kind::from_name(&keyword);
        let (a, b) = arguments;
        let parsed = match kind {
            Some(Kind::Add | Kind::Copy | Kind::Volume) => maybe_json_to_list(text, a, b)?,
            Some(Kind::Arg) => Parsed {
                arguments: parse_words(text, a, b, self.escape),
                ..Parsed::default()
            },
            Some(Kind::Cmd | Kind::Entrypoint | Kind::Run | Kind::Shell) => maybe_json(text, a, b)?,
            Some(Kind::Env) => name_value(text, a, b, self.escape, "ENV")?,
            Some(Kind::Label) => name_value(text, a, b, self.escape, "LABEL")?,
            Some(Kind::Expose | Kind::From) => whitespace_delimited(text, a, b),
            Some(Kind::Healthcheck) => health_config(text, a, b)?,
            Some(Kind::Maintainer | Kind::Stopsignal | Kind::User | Kind::Workdir) => {
                if a == b {
                    Parsed::default()
                } else {
                    Parsed {
                        arguments: vec![(lossy(&text[a..b]).into_owned(), a, b)],
                        ..Parsed::default()
                    }
                }
            }
            Some(Kind::Onbuild) => Parsed {
                trigger: (a < b).then_some((a, b)),
                ..Parsed::default()
            },
            None => Parsed {
                arguments: vec![(String::new(), b, b)],
                ..Parsed::default()
            },
        };
        Ok(Node {
            keyword: (trimmed_start, keyword_end),
            kind,
            flags,
            parsed,
            original: (start, end),
        })
    }

    /// BuildKit's `extractBuilderFlags`, which reads bytes (a non-ASCII byte
    /// becomes the Latin-1 character of the same value, as in Go).
    fn extract_builder_flags(
        &self,
        text: &[u8],
        start: usize,
        end: usize,
    ) -> (usize, Vec<(String, usize, usize)>) {
        #[derive(PartialEq)]
        enum Phase {
            Spaces,
            Word,
            Quote,
        }
        let mut words = Vec::new();
        let mut phase = Phase::Spaces;
        let mut word = String::new();
        let mut word_start = start;
        let mut quote = 0u8;
        let mut blank_ok = false;
        let mut position = start;
        while position <= end {
            let at_end = position == end;
            let mut byte = if at_end { 0 } else { text[position] };
            if phase == Phase::Spaces {
                if at_end {
                    break;
                }
                if is_space_byte(byte) {
                    position += 1;
                    continue;
                }
                if byte != b'-' || position + 1 == end || text[position + 1] != b'-' {
                    return (position, words);
                }
                phase = Phase::Word;
                word_start = position;
            }
            if at_end {
                if word != "--" && (blank_ok || !word.is_empty()) {
                    words.push((std::mem::take(&mut word), word_start, end));
                }
                break;
            }
            if phase == Phase::Word {
                if is_space_byte(byte) {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (position, words);
                    }
                    if blank_ok || !word.is_empty() {
                        words.push((std::mem::take(&mut word), word_start, position));
                    }
                    word.clear();
                    blank_ok = false;
                    position += 1;
                    continue;
                }
                if byte == b'\'' || byte == b'"' {
                    quote = byte;
                    blank_ok = true;
                    phase = Phase::Quote;
                    position += 1;
                    continue;
                }
                if byte == self.escape {
                    if position + 1 == end {
                        position += 1;
                        continue;
                    }
                    position += 1;
                    byte = text[position];
                }
                word.push(char::from(byte));
                position += 1;
                continue;
            }
            // In quotes.
            if byte == quote {
                phase = Phase::Word;
                position += 1;
                continue;
            }
            if byte == self.escape {
                if position + 1 == end {
                    phase = Phase::Word;
                    position += 1;
                    continue;
                }
                position += 1;
                byte = text[position];
            }
            word.push(char::from(byte));
            position += 1;
        }
        (end, words)
    }
}

impl Error {
    fn with_lines(mut self, start: usize, end: usize) -> Error {
        self.line = start.max(1);
        self.end_line = end.max(self.line);
        self
    }
}

fn can_contain_heredoc(instruction: &Instruction) -> bool {
    let node = match (instruction.kind, &instruction.trigger) {
        (Some(Kind::Onbuild), Some(trigger)) => trigger.as_ref(),
        _ => instruction,
    };
    matches!(node.kind, Some(Kind::Add | Kind::Copy | Kind::Run)) && !node.json
}

/// BuildKit's `parseWords`: words split on blanks, quotes and escapes kept.
pub(crate) fn parse_words(
    text: &[u8],
    start: usize,
    end: usize,
    escape: u8,
) -> Vec<(String, usize, usize)> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let escape = char::from(escape);
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut word_start = start;
    let mut position = start;
    let mut character = '\0';
    let mut width = 0;
    loop {
        if position > end {
            break;
        }
        if position != end {
            (character, width) = decode_rune(&text[..end], position);
        }
        if phase == Phase::Spaces {
            if position == end {
                break;
            }
            if is_space(character) {
                position += width;
                continue;
            }
            phase = Phase::Word;
            word_start = position;
        }
        if position == end {
            if blank_ok || !word.is_empty() {
                words.push((std::mem::take(&mut word), word_start, end));
            }
            break;
        }
        if phase == Phase::Word {
            if is_space(character) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push((std::mem::take(&mut word), word_start, position));
                }
                word.clear();
                blank_ok = false;
                position += width;
                continue;
            }
            if character == '\'' || character == '"' {
                quote = character;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if character == escape {
                if position + width == end {
                    position += width;
                    continue;
                }
                word.push(character);
                position += width;
                (character, width) = decode_rune(&text[..end], position);
            }
            word.push(character);
            position += width;
            continue;
        }
        // In quotes.
        if character == quote {
            phase = Phase::Word;
        }
        if character == escape && quote != '\'' {
            if position + width == end {
                phase = Phase::Word;
                position += width;
                continue;
            }
            position += width;
            word.push(character);
            (character, width) = decode_rune(&text[..end], position);
        }
        word.push(character);
        position += width;
    }
    words
}

/// `parseStringsWhitespaceDelimited`: split on runs of `[\t\v\f\r ]`.
fn whitespace_delimited(text: &[u8], start: usize, end: usize) -> Parsed {
    let mut arguments = Vec::new();
    if start == end {
        return Parsed::default();
    }
    let mut position = start;
    let mut part_start = start;
    while position < end {
        if is_regex_whitespace(text[position]) {
            arguments.push((
                lossy(&text[part_start..position]).into_owned(),
                part_start,
                position,
            ));
            while position < end && is_regex_whitespace(text[position]) {
                position += 1;
            }
            part_start = position;
        } else {
            position += 1;
        }
    }
    arguments.push((lossy(&text[part_start..end]).into_owned(), part_start, end));
    Parsed {
        arguments,
        ..Parsed::default()
    }
}

fn json_error() -> String {
    "when using JSON array syntax, arrays must be comprised of strings only".to_string()
}

/// `parseJSON`: `Ok(Some)` for an array of strings, `Ok(None)` when not JSON.
fn parse_json(text: &[u8], start: usize, end: usize) -> Result<Option<Parsed>, LineError> {
    let start = trim_left_space(text, start, end);
    if text.get(start) != Some(&b'[') || start >= end {
        return Ok(None);
    }
    match parse_array(text, start, end) {
        JsonArray::Strings(strings) => Ok(Some(Parsed {
            arguments: strings
                .into_iter()
                .map(|s| (s.value, s.start, s.end))
                .collect(),
            json: true,
            trigger: None,
        })),
        JsonArray::NotStrings => Err((ErrorKind::Json, json_error(), start, end)),
        JsonArray::Invalid => Ok(None),
    }
}

/// `parseMaybeJSON`: JSON, or the whole text as one argument.
fn maybe_json(text: &[u8], start: usize, end: usize) -> Result<Parsed, LineError> {
    if start >= end {
        return Ok(Parsed::default());
    }
    if let Some(parsed) = parse_json(text, start, end)? {
        return Ok(parsed);
    }
    Ok(Parsed {
        arguments: vec![(lossy(&text[start..end]).into_owned(), start, end)],
        ..Parsed::default()
    })
}

/// `parseMaybeJSONToList`: JSON, or words split on blanks.
fn maybe_json_to_list(text: &[u8], start: usize, end: usize) -> Result<Parsed, LineError> {
    if let Some(parsed) = parse_json(text, start, end)? {
        return Ok(parsed);
    }
    Ok(whitespace_delimited(text, start, end))
}

/// `parseHealthConfig`: the type word (found byte by byte), then `parseMaybeJSON`.
fn health_config(text: &[u8], start: usize, end: usize) -> Result<Parsed, LineError> {
    let mut separator = start;
    while separator < end && !is_space_byte(text[separator]) {
        separator += 1;
    }
    let mut next = separator;
    while next < end && is_space_byte(text[next]) {
        next += 1;
    }
    if separator == start {
        return Ok(Parsed::default());
    }
    let mut parsed = maybe_json(text, next, end)?;
    parsed.arguments.insert(
        0,
        (
            lossy(&text[start..separator]).into_owned(),
            start,
            separator,
        ),
    );
    Ok(parsed)
}

/// `parseNameVal` for ENV and LABEL: name, value, separator triples.
fn name_value(
    text: &[u8],
    start: usize,
    end: usize,
    escape: u8,
    command: &str,
) -> Result<Parsed, LineError> {
    let words = parse_words(text, start, end, escape);
    let Some(first) = words.first() else {
        return Ok(Parsed::default());
    };
    let mut arguments = Vec::new();
    if !first.0.contains('=') {
        // Legacy form: the name, then the rest of the line.
        let mut split = start;
        while split < end && !is_regex_whitespace(text[split]) {
            split += 1;
        }
        if split == end {
            return Err((
                ErrorKind::Syntax,
                format!("{command} must have two arguments"),
                start,
                end,
            ));
        }
        let mut value_start = split;
        while value_start < end && is_regex_whitespace(text[value_start]) {
            value_start += 1;
        }
        arguments.push((lossy(&text[start..split]).into_owned(), start, split));
        arguments.push((
            lossy(&text[value_start..end]).into_owned(),
            value_start,
            end,
        ));
        arguments.push((String::new(), value_start, value_start));
        return Ok(Parsed {
            arguments,
            ..Parsed::default()
        });
    }
    for (word, word_start, word_end) in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err((
                ErrorKind::Syntax,
                format!(
                    "Syntax error - can't find = in {}. Must be of the form: name=value",
                    strconv::quote(&word)
                ),
                word_start,
                word_end,
            ));
        };
        let equals = memchr::memchr(b'=', &text[word_start..word_end])
            .map_or(word_start, |i| word_start + i);
        arguments.push((key.to_string(), word_start, equals));
        arguments.push((value.to_string(), equals + 1, word_end.max(equals + 1)));
        arguments.push(("=".to_string(), equals, equals + 1));
    }
    Ok(Parsed {
        arguments,
        ..Parsed::default()
    })
}

/// Splits `text` into words the way BuildKit's parser splits ARG, ENV and
/// LABEL arguments (`parseWords`): on blanks, keeping quotes and escapes.
pub fn split_words(text: &str, escape: char) -> Vec<String> {
    let escape = u8::try_from(escape).unwrap_or(b'\\');
    parse_words(text.as_bytes(), 0, text.len(), escape)
        .into_iter()
        .map(|(word, _, _)| word)
        .collect()
}
