//! The simple commands of a RUN script, found the way hadolint finds them
//! through ShellCheck's parser: every simple command at any depth (lists,
//! pipelines, `if`/`for`/`case` bodies, subshells, `$(...)` and backticks),
//! each with its name and its arguments simplified to text (`$v` reads as
//! `${v}`, quotes removed). A tolerant reader: it never fails, and text it
//! cannot make sense of simply yields fewer commands.

/// One simple command: `apt-get install -y curl`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellCommand {
    /// The command name as written (`apt-get`, `/usr/bin/env`); for
    /// `command x`, `builtin x`, `exec x` and `busybox x`, the `x`.
    pub name: String,
    /// The words after the name (the first word's successors), simplified.
    pub arguments: Vec<String>,
    /// Flags found among the arguments: `-abc` gives `a`, `b`, `c`;
    /// `--name=value` gives `name`; each with the index of its argument.
    pub flags: Vec<(String, usize)>,
    /// The targets of its output and input redirections (`> /tmp/x`).
    pub redirects: Vec<String>,
}

impl ShellCommand {
    fn new(name: String, arguments: Vec<String>) -> ShellCommand {
        let mut flags = Vec::new();
        for (index, argument) in arguments.iter().enumerate() {
            if argument == "--" || argument == "-" {
                continue;
            }
            if let Some(long) = argument.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or(long);
                flags.push((name.to_string(), index));
            } else if let Some(short) = argument.strip_prefix('-') {
                for character in short.chars() {
                    flags.push((character.to_string(), index));
                }
            }
        }
        ShellCommand {
            name,
            arguments,
            flags,
            redirects: Vec::new(),
        }
    }

    /// Whether the command is `name` and has one of `arguments` among its
    /// arguments (hadolint's `cmdHasArgs`).
    pub fn has_arguments(&self, names: &[&str], arguments: &[&str]) -> bool {
        names.contains(&self.name.as_str())
            && self
                .arguments
                .iter()
                .any(|argument| arguments.contains(&argument.as_str()))
    }

    /// Whether the command is `name` with `argument` among its arguments.
    pub fn is(&self, name: &str, argument: &str) -> bool {
        self.has_arguments(&[name], &[argument])
    }

    /// Whether any argument equals `argument`.
    pub fn has_argument(&self, argument: &str) -> bool {
        self.arguments.iter().any(|candidate| candidate == argument)
    }

    /// Whether the flag `flag` (without dashes) is given.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|(name, _)| name == flag)
    }

    /// Whether any of `flags` is given.
    pub fn has_any_flag(&self, flags: &[&str]) -> bool {
        self.flags
            .iter()
            .any(|(name, _)| flags.contains(&name.as_str()))
    }

    /// How many times `flag` is given (`-qq` counts `q` twice).
    pub fn count_flag(&self, flag: &str) -> usize {
        self.flags.iter().filter(|(name, _)| name == flag).count()
    }

    fn is_flag_index(&self, index: usize) -> bool {
        self.flags.iter().any(|(_, position)| *position == index)
    }

    /// The arguments that are not flags (`--` itself stays, as in hadolint).
    pub fn arguments_without_flags(&self) -> Vec<&str> {
        self.arguments
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.is_flag_index(*index))
            .map(|(_, argument)| argument.as_str())
            .collect()
    }

    /// The command without the values of `flags` given as a separate word
    /// (`-t stable` drops `stable`; `--target=x` keeps nothing extra).
    pub fn without_flag_values(&self, flags: &[&str]) -> ShellCommand {
        let mut drop = Vec::new();
        for (name, index) in &self.flags {
            if !flags.contains(&name.as_str()) || self.arguments[*index].contains('=') {
                continue;
            }
            drop.push(index + 1);
        }
        let mut arguments = Vec::new();
        let mut mapping = Vec::new();
        for (index, argument) in self.arguments.iter().enumerate() {
            if drop.contains(&index) {
                continue;
            }
            mapping.push(index);
            arguments.push(argument.clone());
        }
        let flags = self
            .flags
            .iter()
            .filter_map(|(name, index)| {
                mapping
                    .iter()
                    .position(|old| old == index)
                    .map(|new| (name.clone(), new))
            })
            .collect();
        ShellCommand {
            name: self.name.clone(),
            arguments,
            flags,
            redirects: self.redirects.clone(),
        }
    }

    /// The words following each `flag` given without `=` (hadolint's
    /// `getFlagArg`): `useradd -u 12345` gives `12345` for `u`.
    pub fn flag_values(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(name, _)| name == flag)
            .filter_map(|(_, index)| self.arguments.get(index + 1))
            .map(String::as_str)
            .collect()
    }

    /// `pip install`, `pip3 install`, `python -m pip install` (hadolint's
    /// `isPipInstall`).
    pub fn is_pip_install(&self) -> bool {
        let standard = self.name.starts_with("pip")
            && !self.name.starts_with("pipenv")
            && self.has_argument("install");
        let module = self.name.starts_with("python")
            && contains_sequence(&self.arguments, &["-m", "pip", "install"]);
        standard || module
    }
}

/// Whether `words` contains `sequence` as consecutive items.
pub(crate) fn contains_sequence(words: &[String], sequence: &[&str]) -> bool {
    !sequence.is_empty()
        && words.windows(sequence.len()).any(|window| {
            window
                .iter()
                .zip(sequence)
                .all(|(word, expected)| word == expected)
        })
}

/// A script and the commands found in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// The script text.
    pub text: String,
    /// The simple commands, in the order they appear (an enclosing command
    /// before those in its `$(...)`).
    pub commands: Vec<ShellCommand>,
    /// Whether any pipeline (`a | b`) appears.
    pub has_pipes: bool,
}

impl Script {
    /// Reads `text` as a POSIX shell script.
    pub fn parse(text: &str) -> Script {
        let mut reader = Reader::new(text);
        let tokens = reader.tokens();
        let mut script = Script {
            text: text.to_string(),
            commands: Vec::new(),
            has_pipes: reader.pipes,
        };
        script.has_pipes |= Assembler::new(&tokens).run(&mut script.commands);
        script.has_pipes |= reader.nested_pipes;
        script
    }

    /// Whether any command satisfies `check`.
    pub fn any(&self, check: impl Fn(&ShellCommand) -> bool) -> bool {
        self.commands.iter().any(check)
    }

    /// The index of the first command satisfying `check`.
    pub fn position(&self, check: impl Fn(&ShellCommand) -> bool) -> Option<usize> {
        self.commands.iter().position(check)
    }

    /// Whether a command called `name` runs.
    pub fn uses(&self, name: &str) -> bool {
        self.commands.iter().any(|command| command.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A word: its simplified text, its literal text when it has no
    /// expansion, and the commands found in its substitutions.
    Word {
        text: String,
        literal: Option<String>,
        nested: Vec<ShellCommand>,
    },
    /// An operator: `&&`, `||`, `;`, `;;`, `&`, `|`, `|&`, `(`, `)`.
    Operator(&'static str),
    /// A redirection (`>`, `2>&1`, `<<EOF` ...); `target` tells whether the
    /// next word is its target.
    Redirection { target: bool },
    /// A line end.
    Newline,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    pipes: bool,
    nested_pipes: bool,
    pending_heredocs: Vec<(String, bool)>,
}

const RESERVED: [&str; 14] = [
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
    "function",
];

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            position: 0,
            pipes: false,
            nested_pipes: false,
            pending_heredocs: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.position + offset).copied()
    }

    fn tokens(&mut self) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut expect_heredoc_word: Option<bool> = None;
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\t' | b'\r' => self.position += 1,
                b'\\' if self.peek_at(1) == Some(b'\n') => self.position += 2,
                b'\n' => {
                    self.position += 1;
                    tokens.push(Token::Newline);
                    self.skip_heredoc_bodies();
                }
                b'#' => {
                    while let Some(next) = self.peek() {
                        if next == b'\n' {
                            break;
                        }
                        self.position += 1;
                    }
                }
                b'&' if self.peek_at(1) == Some(b'&') => {
                    self.position += 2;
                    tokens.push(Token::Operator("&&"));
                }
                b'&' if self.peek_at(1) == Some(b'>') => {
                    self.position += 2;
                    if self.peek() == Some(b'>') {
                        self.position += 1;
                    }
                    tokens.push(Token::Redirection { target: true });
                }
                b'&' => {
                    self.position += 1;
                    tokens.push(Token::Operator("&"));
                }
                b'|' if self.peek_at(1) == Some(b'|') => {
                    self.position += 2;
                    tokens.push(Token::Operator("||"));
                }
                b'|' => {
                    self.position += 1;
                    if self.peek() == Some(b'&') {
                        self.position += 1;
                    }
                    tokens.push(Token::Operator("|"));
                }
                b';' if self.peek_at(1) == Some(b';') => {
                    self.position += 2;
                    if self.peek() == Some(b'&') {
                        self.position += 1;
                    }
                    tokens.push(Token::Operator(";;"));
                }
                b';' => {
                    self.position += 1;
                    if self.peek() == Some(b'&') {
                        self.position += 1;
                    }
                    tokens.push(Token::Operator(";"));
                }
                b'(' if self.peek_at(1) == Some(b'(') && at_command_start(&tokens) => {
                    // Arithmetic command: skip to the matching `))`.
                    self.skip_balanced(b'(', b')');
                }
                b'(' => {
                    self.position += 1;
                    tokens.push(Token::Operator("("));
                }
                b')' => {
                    self.position += 1;
                    tokens.push(Token::Operator(")"));
                }
                b'<' | b'>' => {
                    if (byte == b'<' || byte == b'>') && self.peek_at(1) == Some(b'(') {
                        // Process substitution: a word.
                        let token = self.word();
                        tokens.push(token);
                        continue;
                    }
                    let heredoc = self.redirection();
                    if let Some(chomp) = heredoc {
                        expect_heredoc_word = Some(chomp);
                        tokens.push(Token::Redirection { target: false });
                    } else {
                        tokens.push(Token::Redirection { target: true });
                    }
                }
                b'0'..=b'9' if self.is_fd_redirection() => {
                    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        self.position += 1;
                    }
                }
                _ => {
                    let token = self.word();
                    if let Some(chomp) = expect_heredoc_word.take()
                        && let Token::Word { text, .. } = &token
                    {
                        self.pending_heredocs.push((unquote(text), chomp));
                        continue;
                    }
                    tokens.push(token);
                }
            }
        }
        tokens
    }

    fn is_fd_redirection(&self) -> bool {
        let mut index = self.position;
        while self.bytes.get(index).is_some_and(|b| b.is_ascii_digit()) {
            index += 1;
        }
        let previous_blank = self.position == 0
            || matches!(
                self.bytes.get(self.position - 1),
                Some(b' ' | b'\t' | b'\n' | b';' | b'&' | b'|')
            );
        previous_blank && matches!(self.bytes.get(index), Some(b'<' | b'>'))
    }

    /// Reads a redirection operator; `Some(chomp)` for a heredoc (`<<`, `<<-`).
    fn redirection(&mut self) -> Option<bool> {
        let first = self.bytes[self.position];
        self.position += 1;
        match (first, self.peek()) {
            (b'<', Some(b'<')) => {
                self.position += 1;
                if self.peek() == Some(b'<') {
                    self.position += 1;
                    return None;
                }
                let chomp = self.peek() == Some(b'-');
                if chomp {
                    self.position += 1;
                }
                Some(chomp)
            }
            (_, Some(b'&' | b'>' | b'|')) => {
                self.position += 1;
                None
            }
            _ => None,
        }
    }

    fn skip_heredoc_bodies(&mut self) {
        let pending = std::mem::take(&mut self.pending_heredocs);
        for (delimiter, chomp) in pending {
            loop {
                if self.position >= self.bytes.len() {
                    return;
                }
                let end = self.text[self.position..]
                    .find('\n')
                    .map_or(self.bytes.len(), |offset| self.position + offset);
                let line = &self.text[self.position..end];
                self.position = (end + 1).min(self.bytes.len());
                let line = if chomp {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if line.trim_end_matches('\r') == delimiter {
                    break;
                }
            }
        }
    }

    fn skip_balanced(&mut self, open: u8, close: u8) {
        let mut depth = 0usize;
        while let Some(byte) = self.peek() {
            self.position += 1;
            if byte == open {
                depth += 1;
            } else if byte == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if self.peek() == Some(close) {
                        self.position += 1;
                    }
                    return;
                }
            }
        }
    }

    /// Reads one word up to a blank or an operator.
    fn word(&mut self) -> Token {
        let mut text = String::new();
        let mut literal = true;
        let mut nested = Vec::new();
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b')' => break,
                b'(' if text.is_empty() => break,
                b'<' | b'>' if self.peek_at(1) != Some(b'(') => break,
                b'\\' => {
                    self.position += 1;
                    match self.next_char() {
                        Some('\n') | None => {}
                        Some(character) => text.push(character),
                    }
                }
                b'\'' => {
                    self.position += 1;
                    let start = self.position;
                    while self.peek().is_some_and(|b| b != b'\'') {
                        self.position += 1;
                    }
                    text.push_str(&self.text[start..self.position]);
                    self.position = (self.position + 1).min(self.bytes.len());
                }
                b'"' => {
                    self.position += 1;
                    self.double_quoted(&mut text, &mut literal, &mut nested);
                }
                b'`' => {
                    self.position += 1;
                    let start = self.position;
                    while let Some(next) = self.peek() {
                        if next == b'\\' {
                            self.position += 2;
                            continue;
                        }
                        if next == b'`' {
                            break;
                        }
                        self.position += 1;
                    }
                    let inner = &self.text[start..self.position.min(self.bytes.len())];
                    self.position = (self.position + 1).min(self.bytes.len());
                    self.nest(inner, &mut nested);
                    text.push_str("${VAR}");
                    literal = false;
                }
                b'$' => {
                    self.dollar(&mut text, &mut nested);
                    literal = false;
                }
                b'<' | b'>' => {
                    // Process substitution `<(...)`.
                    self.position += 1;
                    let inner = self.balanced_body();
                    self.nest(&inner, &mut nested);
                    text.push_str("${VAR}");
                    literal = false;
                }
                b'(' => {
                    // `a=(x y)` array, or `f()`: keep the parentheses' text.
                    let start = self.position;
                    self.position += 1;
                    let _ = self.balanced_body();
                    text.push_str(&self.text[start..self.position]);
                }
                _ => {
                    if let Some(character) = self.next_char() {
                        if matches!(character, '*' | '?' | '[') {
                            literal = false;
                        }
                        text.push(character);
                    }
                }
            }
        }
        Token::Word {
            literal: literal.then(|| text.clone()),
            text,
            nested,
        }
    }

    fn next_char(&mut self) -> Option<char> {
        let character = self.text[self.position..].chars().next()?;
        self.position += character.len_utf8();
        Some(character)
    }

    fn double_quoted(
        &mut self,
        text: &mut String,
        literal: &mut bool,
        nested: &mut Vec<ShellCommand>,
    ) {
        while let Some(byte) = self.peek() {
            match byte {
                b'"' => {
                    self.position += 1;
                    return;
                }
                b'\\' => {
                    self.position += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'$' | b'`') => {
                            if let Some(character) = self.next_char() {
                                text.push(character);
                            }
                        }
                        Some(b'\n') => self.position += 1,
                        _ => text.push('\\'),
                    }
                }
                b'$' => {
                    self.dollar(text, nested);
                    *literal = false;
                }
                b'`' => {
                    self.position += 1;
                    let start = self.position;
                    while self.peek().is_some_and(|b| b != b'`') {
                        self.position += 1;
                    }
                    let inner = self.text[start..self.position].to_string();
                    self.position = (self.position + 1).min(self.bytes.len());
                    self.nest(&inner, nested);
                    text.push_str("${VAR}");
                    *literal = false;
                }
                _ => {
                    if let Some(character) = self.next_char() {
                        text.push(character);
                    }
                }
            }
        }
    }

    /// Reads `$...` at the cursor.
    fn dollar(&mut self, text: &mut String, nested: &mut Vec<ShellCommand>) {
        self.position += 1;
        match self.peek() {
            Some(b'(') if self.peek_at(1) == Some(b'(') => {
                self.skip_balanced(b'(', b')');
                text.push_str("${VAR}");
            }
            Some(b'(') => {
                self.position += 1;
                let inner = self.balanced_body();
                let commands = self.nest(&inner, nested);
                let mut simplified = String::from("${");
                for command in &commands {
                    simplified.push_str(&command.name);
                    for argument in &command.arguments {
                        simplified.push_str(argument);
                    }
                }
                simplified.push('}');
                text.push_str(&simplified);
            }
            Some(b'{') => {
                self.position += 1;
                let start = self.position;
                let mut depth = 1usize;
                while let Some(byte) = self.peek() {
                    if byte == b'{' {
                        depth += 1;
                    } else if byte == b'}' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    self.position += 1;
                }
                let inner = &self.text[start..self.position];
                self.position = (self.position + 1).min(self.bytes.len());
                text.push_str("${");
                text.push_str(inner);
                text.push('}');
            }
            Some(b'\'') => {
                self.position += 1;
                let start = self.position;
                while let Some(byte) = self.peek() {
                    if byte == b'\\' {
                        self.position += 2;
                        continue;
                    }
                    if byte == b'\'' {
                        break;
                    }
                    self.position += 1;
                }
                let end = self.position.min(self.bytes.len());
                text.push_str(&self.text[start..end]);
                self.position = (self.position + 1).min(self.bytes.len());
            }
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => {
                let start = self.position;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.position += 1;
                }
                text.push_str("${");
                text.push_str(&self.text[start..self.position]);
                text.push('}');
            }
            Some(byte) if byte.is_ascii_digit() || b"@*#?$!-".contains(&byte) => {
                self.position += 1;
                text.push_str("${");
                text.push(byte as char);
                text.push('}');
            }
            _ => text.push('$'),
        }
    }

    /// The text up to the `)` closing an already opened `(`, quotes respected.
    fn balanced_body(&mut self) -> String {
        let start = self.position;
        let mut depth = 1usize;
        while let Some(byte) = self.peek() {
            match byte {
                b'\\' => {
                    self.position += 2;
                    continue;
                }
                b'\'' => {
                    self.position += 1;
                    while self.peek().is_some_and(|b| b != b'\'') {
                        self.position += 1;
                    }
                }
                b'"' => {
                    self.position += 1;
                    while let Some(inner) = self.peek() {
                        if inner == b'\\' {
                            self.position += 2;
                            continue;
                        }
                        if inner == b'"' {
                            break;
                        }
                        self.position += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = self.text[start..self.position].to_string();
                        self.position += 1;
                        return inner;
                    }
                }
                _ => {}
            }
            self.position += 1;
        }
        let end = self.position.min(self.bytes.len());
        self.position = end;
        self.text[start..end].to_string()
    }

    /// Parses a nested script, appends its commands to `nested`, returns them.
    fn nest(&mut self, inner: &str, nested: &mut Vec<ShellCommand>) -> Vec<ShellCommand> {
        let script = Script::parse(inner);
        self.nested_pipes |= script.has_pipes;
        nested.extend(script.commands.iter().cloned());
        script.commands
    }
}

fn at_command_start(tokens: &[Token]) -> bool {
    match tokens.last() {
        None | Some(Token::Newline | Token::Operator(_)) => true,
        Some(Token::Word { text, .. }) => RESERVED.contains(&text.as_str()),
        Some(Token::Redirection { .. }) => false,
    }
}

fn unquote(text: &str) -> String {
    text.trim_matches(|c| c == '\'' || c == '"').to_string()
}

fn is_assignment(word: &str) -> bool {
    let Some(equals) = word.find('=') else {
        return false;
    };
    let name = word[..equals].trim_end_matches('+');
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']')
}

/// Groups tokens into simple commands, skipping the grammar around them.
struct Assembler<'a> {
    tokens: &'a [Token],
    index: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Expecting a command word.
    Start,
    /// Inside a simple command.
    Command,
    /// `for x in ...` / `select`: skipping to `do`.
    Loop,
    /// `case x`: skipping to `in`.
    CaseWord,
    /// Reading a case pattern up to `)`.
    CasePattern,
    /// `[[ ... ]]`.
    Condition,
}

impl<'a> Assembler<'a> {
    fn new(tokens: &'a [Token]) -> Assembler<'a> {
        Assembler { tokens, index: 0 }
    }

    /// Appends the commands to `out`; whether a pipeline appears (a `|`
    /// outside case patterns).
    fn run(&mut self, out: &mut Vec<ShellCommand>) -> bool {
        let mut pipes = false;
        let mut mode = Mode::Start;
        let mut case_depth = 0usize;
        let mut current: Option<(String, Vec<String>)> = None;
        let mut redirects: Vec<String> = Vec::new();
        let mut pending_nested: Vec<ShellCommand> = Vec::new();
        let mut skip_target = false;
        while let Some(token) = self.tokens.get(self.index) {
            self.index += 1;
            match token {
                Token::Word {
                    text,
                    literal,
                    nested,
                } => {
                    if skip_target {
                        skip_target = false;
                        pending_nested.extend(nested.iter().cloned());
                        redirects.push(text.clone());
                        continue;
                    }
                    match mode {
                        Mode::Start => {
                            if text == "case" && literal.is_some() {
                                mode = Mode::CaseWord;
                                continue;
                            }
                            if (text == "for" || text == "select") && literal.is_some() {
                                mode = Mode::Loop;
                                continue;
                            }
                            if text == "[[" {
                                mode = Mode::Condition;
                                continue;
                            }
                            if text == "esac" && case_depth > 0 {
                                case_depth -= 1;
                                continue;
                            }
                            if literal.is_some() && RESERVED.contains(&text.as_str()) {
                                continue;
                            }
                            if is_assignment(text) {
                                pending_nested.extend(nested.iter().cloned());
                                // `a=(x y)` is read as one word by the reader.
                                continue;
                            }
                            // A function definition `name ()`.
                            if matches!(self.tokens.get(self.index), Some(Token::Operator("(")))
                                && matches!(
                                    self.tokens.get(self.index + 1),
                                    Some(Token::Operator(")"))
                                )
                            {
                                self.index += 2;
                                continue;
                            }
                            if text.ends_with("()") {
                                continue;
                            }
                            pending_nested.extend(nested.iter().cloned());
                            current = Some((literal.clone().unwrap_or_default(), Vec::new()));
                            if literal.is_none() {
                                // Not a literal name: ShellCheck finds no command name.
                                current = Some((String::new(), Vec::new()));
                            }
                            mode = Mode::Command;
                        }
                        Mode::Command => {
                            pending_nested.extend(nested.iter().cloned());
                            if let Some((_, arguments)) = current.as_mut() {
                                arguments.push(text.clone());
                            }
                        }
                        Mode::Loop => {
                            pending_nested.extend(nested.iter().cloned());
                            if text == "do" {
                                mode = Mode::Start;
                            }
                        }
                        Mode::CaseWord => {
                            pending_nested.extend(nested.iter().cloned());
                            if text == "in" {
                                mode = Mode::CasePattern;
                                case_depth += 1;
                            }
                        }
                        Mode::CasePattern => {
                            if text == "esac" {
                                case_depth = case_depth.saturating_sub(1);
                                mode = Mode::Start;
                            }
                        }
                        Mode::Condition => {
                            pending_nested.extend(nested.iter().cloned());
                            if text == "]]" {
                                mode = Mode::Command;
                                current = None;
                            }
                        }
                    }
                }
                Token::Redirection { target } => {
                    skip_target = *target;
                }
                Token::Operator(operator) => {
                    if *operator == "|" && mode != Mode::CasePattern {
                        pipes = true;
                    }
                    Self::finish(&mut current, &mut redirects, &mut pending_nested, out);
                    skip_target = false;
                    match (mode, *operator) {
                        (Mode::CasePattern, ")") => mode = Mode::Start,
                        (Mode::CasePattern, _) => {}
                        (Mode::Loop | Mode::CaseWord | Mode::Condition, _) => {}
                        (_, ";;") if case_depth > 0 => mode = Mode::CasePattern,
                        _ => mode = Mode::Start,
                    }
                }
                Token::Newline => {
                    Self::finish(&mut current, &mut redirects, &mut pending_nested, out);
                    skip_target = false;
                    match mode {
                        Mode::Loop | Mode::CaseWord | Mode::CasePattern | Mode::Condition => {}
                        _ => mode = Mode::Start,
                    }
                }
            }
        }
        Self::finish(&mut current, &mut redirects, &mut pending_nested, out);
        pipes
    }

    fn finish(
        current: &mut Option<(String, Vec<String>)>,
        redirects: &mut Vec<String>,
        pending: &mut Vec<ShellCommand>,
        out: &mut Vec<ShellCommand>,
    ) {
        let targets = std::mem::take(redirects);
        if let Some((name, arguments)) = current.take()
            && !name.is_empty()
        {
            let mut command = effective_command(name, arguments);
            command.redirects = targets;
            out.push(command);
        }
        out.append(pending);
    }
}

/// ShellCheck's `getCommandName`: `command x`, `builtin x`, `busybox x` and
/// `exec x` name `x` (the arguments stay those after the first word).
fn effective_command(name: String, arguments: Vec<String>) -> ShellCommand {
    let effective = match name.as_str() {
        "busybox" | "builtin" | "command" | "run" => arguments
            .first()
            .filter(|first| !first.starts_with('-'))
            .cloned(),
        "exec" => arguments
            .iter()
            .find(|argument| !argument.starts_with('-'))
            .cloned(),
        _ => None,
    };
    ShellCommand::new(effective.unwrap_or(name), arguments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        Script::parse(text)
            .commands
            .into_iter()
            .map(|command| command.name)
            .collect()
    }

    #[test]
    fn lists_and_pipelines() {
        assert_eq!(
            names("apt-get update && apt-get install -y x || true; echo a | grep b"),
            ["apt-get", "apt-get", "true", "echo", "grep"]
        );
        assert!(Script::parse("a | b").has_pipes);
        assert!(!Script::parse("a || b").has_pipes);
        assert!(!Script::parse("case $x in a | b) c ;; esac").has_pipes);
        assert!(Script::parse("echo $(a | b)").has_pipes);
    }

    #[test]
    fn compound_commands() {
        assert_eq!(
            names("if [ -f x ]; then cd /a; else rm -rf b; fi"),
            ["cd", "rm"]
        );
        assert_eq!(names("for f in $(ls /x); do echo $f; done"), ["ls", "echo"]);
        assert_eq!(
            names("case \"$a\" in x) foo ;; y|z) bar baz ;; esac; qux"),
            ["foo", "bar", "qux"]
        );
        assert_eq!(names("f() { a; }; (b) && { c; }"), ["a", "b", "c"]);
        assert_eq!(names("[[ -n $x ]] && y"), ["y"]);
        assert_eq!(names("while read l; do x; done < f"), ["read", "x"]);
    }

    #[test]
    fn substitutions_and_assignments() {
        let script = Script::parse("A=1 B=\"$(uname -r)\" make -j`nproc` install");
        assert_eq!(
            script
                .commands
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["make", "uname", "nproc"]
        );
        let make = &script.commands[0];
        assert_eq!(make.arguments, ["-j${VAR}", "install"]);
        let echo = &Script::parse("echo $HOME \"${A:-b}\" 'c d'").commands[0];
        assert_eq!(echo.arguments, ["${HOME}", "${A:-b}", "c d"]);
    }

    #[test]
    fn redirections_are_not_arguments() {
        let script = Script::parse(
            "curl -sL x > /tmp/y 2>&1 && cat <<EOF > f\nnot a command\nEOF\necho done",
        );
        let names: Vec<_> = script.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["curl", "cat", "echo"]);
        assert_eq!(script.commands[0].arguments, ["-sL", "x"]);
    }

    #[test]
    fn flags() {
        let command = &Script::parse("apt-get -qq install -t stable --no-install-recommends a=1 b")
            .commands[0];
        assert_eq!(command.count_flag("q"), 2);
        assert!(command.has_flag("no-install-recommends"));
        let packages: Vec<_> = command
            .without_flag_values(&["t"])
            .arguments_without_flags()
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(packages, ["install", "a=1", "b"]);
        assert_eq!(
            Script::parse("useradd -u 123456 x").commands[0].flag_values("u"),
            ["123456"]
        );
    }

    #[test]
    fn effective_names() {
        assert_eq!(
            names("command -v x; exec gosu a b; busybox wget y"),
            ["command", "gosu", "wget"]
        );
        assert_eq!(names("$CMD x; \"apt\" y"), ["apt"]);
    }

    #[test]
    fn comments_and_continuations() {
        assert_eq!(names("a \\\n  b # c; d\ne"), ["a", "e"]);
    }
}
