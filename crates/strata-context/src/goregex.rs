//! A small regular-expression engine for the expressions moby's
//! patternmatcher builds from `.dockerignore` patterns, with Go's RE2 syntax
//! and semantics (no nested classes, ASCII Perl classes, `.` not matching
//! `\n`, `^`/`$` at the ends of the text). A pattern's text can leak Go regex
//! syntax through (`^` as an anchor, a `*` inside `[...]` closing the class
//! early), and Docker's answer is whatever Go's engine then says; matching it
//! needs Go's grammar, not Rust's `regex` crate, which nests classes.
//!
//! Unicode classes (`\pL`) are the one piece of Go syntax not supported: they
//! are reported as a malformed expression.

use std::fmt;

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegexError(pub(crate) String);

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of code points as sorted inclusive ranges.
#[derive(Debug, Clone, Default)]
struct Class {
    ranges: Vec<(u32, u32)>,
}

impl Class {
    fn push(&mut self, low: u32, high: u32) {
        self.ranges.push((low, high));
    }

    fn contains(&self, rune: u32) -> bool {
        self.ranges.iter().any(|&(l, h)| l <= rune && rune <= h)
    }

    fn negated(&self) -> Class {
        let mut sorted = self.ranges.clone();
        sorted.sort_unstable();
        let mut out = Class::default();
        let mut next = 0u32;
        for (low, high) in sorted {
            if low > next {
                out.push(next, low - 1);
            }
            next = next.max(high.saturating_add(1));
        }
        if next <= 0x10FFFF {
            out.push(next, 0x10FFFF);
        }
        out
    }
}

#[derive(Debug, Clone, Copy)]
enum Assertion {
    BeginText,
    EndText,
    WordBoundary,
    NotWordBoundary,
}

#[derive(Debug, Clone)]
enum Node {
    Literal(u32),
    AnyNotNewline,
    Class(Class),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone)]
enum Instruction {
    Rune(u32),
    AnyNotNewline,
    Class(Class),
    Assert(Assertion),
    Split(usize, usize),
    Jump(usize),
    Match,
}

/// A compiled expression; [`Regex::is_match`] searches anywhere in the text,
/// as Go's `MatchString` does.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    program: Vec<Instruction>,
}

impl Regex {
    /// Parses `expression` with Go's syntax and Perl flags.
    pub(crate) fn new(expression: &[u32]) -> Result<Regex, RegexError> {
        let mut parser = Parser {
            text: expression,
            position: 0,
        };
        let node = parser.parse_alternation(0)?;
        if parser.position != expression.len() {
            return Err(RegexError("unexpected )".into()));
        }
        let mut program = Vec::new();
        compile(&node, &mut program);
        program.push(Instruction::Match);
        Ok(Regex { program })
    }

    /// Whether the expression matches somewhere in `text`.
    pub(crate) fn is_match(&self, text: &[u32]) -> bool {
        let size = self.program.len();
        let mut current = ThreadSet::new(size);
        let mut next = ThreadSet::new(size);
        for position in 0..=text.len() {
            // Unanchored search: a new thread may start at every position.
            if self.add(&mut current, 0, text, position) {
                return true;
            }
            let Some(&rune) = text.get(position) else {
                break;
            };
            next.clear();
            for index in 0..current.len() {
                let pc = current.dense[index];
                let advance = match &self.program[pc] {
                    Instruction::Rune(r) => *r == rune,
                    Instruction::AnyNotNewline => rune != u32::from(b'\n'),
                    Instruction::Class(class) => class.contains(rune),
                    _ => false,
                };
                if advance && self.add(&mut next, pc + 1, text, position + 1) {
                    return true;
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds `pc` and its epsilon closure; true when `Match` is reached.
    fn add(&self, set: &mut ThreadSet, pc: usize, text: &[u32], position: usize) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if !set.insert(pc) {
                continue;
            }
            match &self.program[pc] {
                Instruction::Match => return true,
                Instruction::Jump(target) => stack.push(*target),
                Instruction::Split(first, second) => {
                    stack.push(*second);
                    stack.push(*first);
                }
                Instruction::Assert(assertion) if assertion_holds(*assertion, text, position) => {
                    stack.push(pc + 1);
                }
                _ => {}
            }
        }
        false
    }
}

fn is_word(rune: Option<&u32>) -> bool {
    rune.and_then(|&r| char::from_u32(r))
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn assertion_holds(assertion: Assertion, text: &[u32], position: usize) -> bool {
    match assertion {
        Assertion::BeginText => position == 0,
        Assertion::EndText => position == text.len(),
        Assertion::WordBoundary | Assertion::NotWordBoundary => {
            let before = position.checked_sub(1).and_then(|p| text.get(p));
            let boundary = is_word(before) != is_word(text.get(position));
            boundary == matches!(assertion, Assertion::WordBoundary)
        }
    }
}

/// A sparse set of program counters, in insertion order.
struct ThreadSet {
    dense: Vec<usize>,
    sparse: Vec<usize>,
}

impl ThreadSet {
    fn new(size: usize) -> Self {
        Self {
            dense: Vec::with_capacity(size),
            sparse: vec![usize::MAX; size],
        }
    }

    fn len(&self) -> usize {
        self.dense.len()
    }

    fn clear(&mut self) {
        self.dense.clear();
    }

    fn insert(&mut self, pc: usize) -> bool {
        let slot = self.sparse[pc];
        if slot < self.dense.len() && self.dense[slot] == pc {
            return false;
        }
        self.sparse[pc] = self.dense.len();
        self.dense.push(pc);
        true
    }
}

fn compile(node: &Node, program: &mut Vec<Instruction>) {
    match node {
        Node::Literal(rune) => program.push(Instruction::Rune(*rune)),
        Node::AnyNotNewline => program.push(Instruction::AnyNotNewline),
        Node::Class(class) => program.push(Instruction::Class(class.clone())),
        Node::Assert(assertion) => program.push(Instruction::Assert(*assertion)),
        Node::Concat(nodes) => nodes.iter().for_each(|n| compile(n, program)),
        Node::Alternate(branches) => {
            // split L1, next; L1: branch; jump end; next: split ...
            let mut jumps = Vec::new();
            for (index, branch) in branches.iter().enumerate() {
                if index + 1 < branches.len() {
                    let split = program.len();
                    program.push(Instruction::Split(split + 1, 0));
                    compile(branch, program);
                    jumps.push(program.len());
                    program.push(Instruction::Jump(0));
                    let after = program.len();
                    program[split] = Instruction::Split(split + 1, after);
                } else {
                    compile(branch, program);
                }
            }
            let end = program.len();
            for jump in jumps {
                program[jump] = Instruction::Jump(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, program);
            }
            match max {
                None => {
                    let split = program.len();
                    program.push(Instruction::Split(split + 1, 0));
                    compile(node, program);
                    program.push(Instruction::Jump(split));
                    let after = program.len();
                    program[split] = Instruction::Split(split + 1, after);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(program.len());
                        program.push(Instruction::Split(0, 0));
                        compile(node, program);
                    }
                    let end = program.len();
                    for split in splits {
                        program[split] = Instruction::Split(split + 1, end);
                    }
                }
            }
        }
    }
}

struct Parser<'a> {
    text: &'a [u32],
    position: usize,
}

const fn ch(c: char) -> u32 {
    c as u32
}

fn error(message: &str) -> RegexError {
    RegexError(message.to_owned())
}

impl Parser<'_> {
    fn peek(&self) -> Option<u32> {
        self.text.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u32> {
        self.text.get(self.position + offset).copied()
    }

    fn parse_alternation(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut branches = vec![self.parse_concat(depth)?];
        while self.peek() == Some(ch('|')) {
            self.position += 1;
            branches.push(self.parse_concat(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alternate(branches)
        })
    }

    fn parse_concat(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut items: Vec<Node> = Vec::new();
        // Whether the last item was produced by a repetition operator.
        let mut last_repeat = false;
        while let Some(c) = self.peek() {
            match char::from_u32(c) {
                Some('|') => break,
                Some(')') => {
                    if depth == 0 {
                        return Err(error("unexpected )"));
                    }
                    break;
                }
                Some('*' | '+' | '?') => {
                    self.position += 1;
                    let (min, max) = match char::from_u32(c) {
                        Some('*') => (0, None),
                        Some('+') => (1, None),
                        _ => (0, Some(1)),
                    };
                    self.repeat(&mut items, &mut last_repeat, min, max)?;
                    continue;
                }
                Some('{') => {
                    if let Some((min, max, length)) = self.repeat_bounds() {
                        self.position += length;
                        self.repeat(&mut items, &mut last_repeat, min, max)?;
                        continue;
                    }
                    self.position += 1;
                    items.push(Node::Literal(c));
                }
                Some('(') => {
                    self.position += 1;
                    if self.peek() == Some(ch('?')) {
                        return Err(error("flags and named groups are not supported"));
                    }
                    let inner = self.parse_alternation(depth + 1)?;
                    if self.peek() != Some(ch(')')) {
                        return Err(error("missing closing )"));
                    }
                    self.position += 1;
                    items.push(inner);
                }
                Some('[') => {
                    self.position += 1;
                    items.push(Node::Class(self.parse_class()?));
                }
                Some('.') => {
                    self.position += 1;
                    items.push(Node::AnyNotNewline);
                }
                Some('^') => {
                    self.position += 1;
                    items.push(Node::Assert(Assertion::BeginText));
                }
                Some('$') => {
                    self.position += 1;
                    items.push(Node::Assert(Assertion::EndText));
                }
                Some('\\') => {
                    self.position += 1;
                    self.parse_top_escape(&mut items)?;
                }
                _ => {
                    self.position += 1;
                    items.push(Node::Literal(c));
                }
            }
            last_repeat = false;
        }
        Ok(Node::Concat(items))
    }

    fn repeat(
        &mut self,
        items: &mut [Node],
        last_repeat: &mut bool,
        min: u32,
        max: Option<u32>,
    ) -> Result<(), RegexError> {
        // A trailing `?` makes the operator non-greedy: same language.
        if self.peek() == Some(ch('?')) {
            self.position += 1;
        }
        if *last_repeat {
            return Err(error("invalid nested repetition operator"));
        }
        let Some(last) = items.last_mut() else {
            return Err(error("missing argument to repetition operator"));
        };
        let node = std::mem::replace(last, Node::Concat(Vec::new()));
        *last = Node::Repeat {
            node: Box::new(node),
            min,
            max,
        };
        *last_repeat = true;
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` at the current position: bounds and length.
    fn repeat_bounds(&self) -> Option<(u32, Option<u32>, usize)> {
        let rest = &self.text[self.position..];
        let close = rest.iter().position(|&c| c == ch('}'))?;
        let inner: String = rest[1..close]
            .iter()
            .map(|&c| char::from_u32(c))
            .collect::<Option<String>>()?;
        let number = |s: &str| -> Option<u32> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok().filter(|&n| n <= 1000)
        };
        let (min, max) = match inner.split_once(',') {
            None => {
                let n = number(&inner)?;
                (n, Some(n))
            }
            Some((low, "")) => (number(low)?, None),
            Some((low, high)) => {
                let (low, high) = (number(low)?, number(high)?);
                if high < low {
                    return None;
                }
                (low, Some(high))
            }
        };
        Some((min, max, close + 1))
    }

    fn parse_top_escape(&mut self, items: &mut Vec<Node>) -> Result<(), RegexError> {
        let Some(c) = self.peek() else {
            return Err(error("trailing backslash at end of expression"));
        };
        match char::from_u32(c) {
            Some('A') => {
                self.position += 1;
                items.push(Node::Assert(Assertion::BeginText));
            }
            Some('z') => {
                self.position += 1;
                items.push(Node::Assert(Assertion::EndText));
            }
            Some('b') => {
                self.position += 1;
                items.push(Node::Assert(Assertion::WordBoundary));
            }
            Some('B') => {
                self.position += 1;
                items.push(Node::Assert(Assertion::NotWordBoundary));
            }
            Some('Q') => {
                self.position += 1;
                while let Some(c) = self.peek() {
                    if c == ch('\\') && self.peek_at(1) == Some(ch('E')) {
                        self.position += 2;
                        break;
                    }
                    self.position += 1;
                    items.push(Node::Literal(c));
                }
            }
            _ => {
                if let Some(class) = self.perl_class() {
                    items.push(Node::Class(class));
                } else {
                    let rune = self.parse_escape()?;
                    items.push(Node::Literal(rune));
                }
            }
        }
        Ok(())
    }

    /// `\d`, `\s`, `\w` and their negations (ASCII), after the backslash.
    fn perl_class(&mut self) -> Option<Class> {
        let c = char::from_u32(self.peek()?)?;
        let mut class = Class::default();
        match c.to_ascii_lowercase() {
            'd' => class.push(ch('0'), ch('9')),
            's' => {
                for c in ['\t', '\n', '\x0c', '\r', ' '] {
                    class.push(ch(c), ch(c));
                }
            }
            'w' => {
                class.push(ch('0'), ch('9'));
                class.push(ch('A'), ch('Z'));
                class.push(ch('_'), ch('_'));
                class.push(ch('a'), ch('z'));
            }
            _ => return None,
        }
        self.position += 1;
        Some(if c.is_ascii_uppercase() {
            class.negated()
        } else {
            class
        })
    }

    /// One escaped character after the backslash (Go's `parseEscape`).
    fn parse_escape(&mut self) -> Result<u32, RegexError> {
        let Some(c) = self.peek() else {
            return Err(error("trailing backslash at end of expression"));
        };
        self.position += 1;
        let is_octal = |c: Option<u32>| c.is_some_and(|c| (ch('0')..=ch('7')).contains(&c));
        match char::from_u32(c) {
            Some(c) if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(u32::from(c)),
            Some('1'..='7') if !is_octal(self.peek()) => Err(error("invalid escape sequence")),
            Some('0'..='7') => {
                let mut rune = c - ch('0');
                for _ in 1..3 {
                    if !is_octal(self.peek()) {
                        break;
                    }
                    rune = rune * 8 + self.peek().unwrap_or(0) - ch('0');
                    self.position += 1;
                }
                Ok(rune)
            }
            Some('x') => self.parse_hex(),
            Some('a') => Ok(7),
            Some('f') => Ok(12),
            Some('n') => Ok(10),
            Some('r') => Ok(13),
            Some('t') => Ok(9),
            Some('v') => Ok(11),
            Some('p' | 'P') => Err(error("Unicode classes are not supported")),
            _ => Err(error("invalid escape sequence")),
        }
    }

    fn parse_hex(&mut self) -> Result<u32, RegexError> {
        let digit = |c: Option<u32>| c.and_then(char::from_u32).and_then(|c| c.to_digit(16));
        if self.peek() == Some(ch('{')) {
            self.position += 1;
            let mut value: u32 = 0;
            let mut digits = 0;
            loop {
                match self.peek() {
                    Some(c) if c == ch('}') => {
                        self.position += 1;
                        break;
                    }
                    c => {
                        let Some(d) = digit(c) else {
                            return Err(error("invalid escape sequence"));
                        };
                        value = value.saturating_mul(16).saturating_add(d);
                        digits += 1;
                        self.position += 1;
                        if value > 0x10FFFF {
                            return Err(error("invalid escape sequence"));
                        }
                    }
                }
            }
            if digits == 0 {
                return Err(error("invalid escape sequence"));
            }
            return Ok(value);
        }
        let (Some(high), Some(low)) = (digit(self.peek()), digit(self.peek_at(1))) else {
            return Err(error("invalid escape sequence"));
        };
        self.position += 2;
        Ok(high * 16 + low)
    }

    /// A class after its `[` (Go's `parseClass`: no nesting; `[:name:]`).
    fn parse_class(&mut self) -> Result<Class, RegexError> {
        let mut class = Class::default();
        let mut negated = false;
        if self.peek() == Some(ch('^')) {
            negated = true;
            self.position += 1;
        }
        let mut first = true;
        loop {
            match self.peek() {
                None => return Err(error("missing closing ]")),
                Some(c) if c == ch(']') && !first => {
                    self.position += 1;
                    break;
                }
                _ => {}
            }
            first = false;
            if self.peek() == Some(ch('['))
                && self.peek_at(1) == Some(ch(':'))
                && let Some(named) = self.named_class()?
            {
                class.ranges.extend(named.ranges);
                continue;
            }
            if self.peek() == Some(ch('\\')) {
                if matches!(self.peek_at(1).and_then(char::from_u32), Some('p' | 'P')) {
                    return Err(error("Unicode classes are not supported"));
                }
                self.position += 1;
                if let Some(perl) = self.perl_class() {
                    class.ranges.extend(perl.ranges);
                    continue;
                }
                self.position -= 1;
            }
            let low = self.class_char()?;
            let mut high = low;
            if self.peek() == Some(ch('-')) && self.peek_at(1).is_some_and(|c| c != ch(']')) {
                self.position += 1;
                high = self.class_char()?;
                if high < low {
                    return Err(error("invalid character class range"));
                }
            }
            class.push(low, high);
        }
        Ok(if negated { class.negated() } else { class })
    }

    fn class_char(&mut self) -> Result<u32, RegexError> {
        match self.peek() {
            None => Err(error("missing closing ]")),
            Some(c) if c == ch('\\') => {
                self.position += 1;
                self.parse_escape()
            }
            Some(c) => {
                self.position += 1;
                Ok(c)
            }
        }
    }

    /// `[:alpha:]`-style names; `None` when the text is not one.
    fn named_class(&mut self) -> Result<Option<Class>, RegexError> {
        let rest = &self.text[self.position + 2..];
        let Some(end) = rest
            .windows(2)
            .position(|w| w[0] == ch(':') && w[1] == ch(']'))
        else {
            return Ok(None);
        };
        let name: String = rest[..end]
            .iter()
            .filter_map(|&c| char::from_u32(c))
            .collect();
        let (negate, name) = match name.strip_prefix('^') {
            Some(n) => (true, n),
            None => (false, name.as_str()),
        };
        let mut class = Class::default();
        let mut add = |low: char, high: char| class.push(ch(low), ch(high));
        match name {
            "alnum" => {
                add('0', '9');
                add('A', 'Z');
                add('a', 'z');
            }
            "alpha" => {
                add('A', 'Z');
                add('a', 'z');
            }
            "ascii" => add('\0', '\x7f'),
            "blank" => {
                add('\t', '\t');
                add(' ', ' ');
            }
            "cntrl" => {
                add('\0', '\x1f');
                add('\x7f', '\x7f');
            }
            "digit" => add('0', '9'),
            "graph" => add('!', '~'),
            "lower" => add('a', 'z'),
            "print" => add(' ', '~'),
            "punct" => {
                add('!', '/');
                add(':', '@');
                add('[', '`');
                add('{', '~');
            }
            "space" => {
                add('\t', '\r');
                add(' ', ' ');
            }
            "upper" => add('A', 'Z'),
            "word" => {
                add('0', '9');
                add('A', 'Z');
                add('a', 'z');
                add('_', '_');
            }
            "xdigit" => {
                add('0', '9');
                add('A', 'F');
                add('a', 'f');
            }
            _ => return Err(error("invalid character class range")),
        }
        self.position += 2 + end + 2;
        Ok(Some(if negate { class.negated() } else { class }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_go::utf8::runes;

    fn is_match(expression: &str, text: &str) -> bool {
        Regex::new(&runes(expression.as_bytes()))
            .unwrap()
            .is_match(&runes(text.as_bytes()))
    }

    #[test]
    fn basic_expressions() {
        assert!(is_match("^a[^/]*$", "abc"));
        assert!(!is_match("^a[^/]*$", "a/c"));
        assert!(is_match("^(.*/)?foo$", "x/y/foo"));
        assert!(is_match("^(.*/)?foo$", "foo"));
        assert!(!is_match("^(.*/)?foo$", "xfoo"));
        assert!(is_match(r"^a\.b$", "a.b"));
        assert!(!is_match(r"^a\.b$", "axb"));
        assert!(!is_match("^a.b$", "a\nb"));
        assert!(is_match("^a[^/]b$", "a\nb"));
    }

    #[test]
    fn go_specific_syntax() {
        // No nested classes: `[[^/]` is the set {[, ^, /}.
        assert!(is_match("^[[^/]*]$", "[^]"));
        assert!(!is_match("^[[^/]*]$", "*"));
        // A `^` in the middle is an anchor.
        assert!(!is_match("^a^b$", "a^b"));
        assert!(is_match("^[[:alpha:]]$", "q"));
        assert!(is_match(r"^\d$", "7"));
        assert!(!is_match(r"^\d$", "٣"));
        assert!(is_match(r"^\12$", "\n"));
        assert!(is_match("^[]a]$", "]"));
        assert!(Regex::new(&runes(b"^[z-a]$")).is_err());
        assert!(Regex::new(&runes(b"^a**$")).is_err());
        assert!(Regex::new(&runes(b"^[[:foo:]]$")).is_err());
        assert!(Regex::new(&runes(br"^\q$")).is_err());
    }
}
