//! Shell-word expansion exactly as BuildKit's `shell.Lex` does it: quotes,
//! escapes, `$v`, `${v}` and the `${v<op>word}` forms, and word splitting.
//!
//! Quirks kept on purpose (they are BuildKit's observable behaviour): a BOM at
//! the very start of a word is dropped; `<<` followed by blanks stays one word;
//! when splitting words, an expansion with an operator (`${v:-w}`, `${v/p/r}`)
//! discards the part of the current word before it (BuildKit shares one word
//! buffer between nested scans since dockerfile 1.9).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::pattern::{Pattern, PatternError};
use strata_go::strconv;
use strata_go::strings::is_space;
use strata_go::unicode::{is_digit, is_letter};

/// Variables visible to an expansion.
pub trait Environment {
    /// The value of `name`, or `None` when it is not set (empty counts as set).
    fn get(&self, name: &str) -> Option<&str>;

    /// The names that are set, in definition order (for did-you-mean hints).
    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Environment for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        BTreeMap::keys(self).map(String::as_str).collect()
    }
}

impl<S: std::hash::BuildHasher> Environment for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = HashMap::keys(self).map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }
}

impl<E: Environment + ?Sized> Environment for &E {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
    fn keys(&self) -> Vec<&str> {
        (**self).keys()
    }
}

/// An environment with no variable set.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyEnvironment;

impl Environment for EmptyEnvironment {
    fn get(&self, _name: &str) -> Option<&str> {
        None
    }
}

/// An ordered list of `KEY=value` variables, like BuildKit's `llb.EnvList` and
/// `shell.EnvsFromSlice`: setting a key again replaces its value in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvironmentList {
    entries: Vec<(String, String)>,
}

impl EnvironmentList {
    /// An empty list.
    pub fn new() -> EnvironmentList {
        EnvironmentList::default()
    }

    /// Parses `KEY=value` strings (a bare `KEY` means an empty value; the last
    /// entry for a key wins), as `shell.EnvsFromSlice` does.
    pub fn from_pairs<I, S>(pairs: I) -> EnvironmentList
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = EnvironmentList::new();
        for pair in pairs {
            let pair = pair.as_ref();
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            list.set(key, value);
        }
        list
    }

    /// Sets `key` (replacing an earlier value, keeping its place).
    pub fn set(&mut self, key: &str, value: &str) {
        match self
            .entries
            .iter_mut()
            .find(|(existing, _)| existing == key)
        {
            Some(entry) => entry.1 = value.to_string(),
            None => self.entries.push((key.to_string(), value.to_string())),
        }
    }

    /// Removes `key`; whether it was set.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(existing, _)| existing != key);
        before != self.entries.len()
    }

    /// The entries in order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The entries as `KEY=value` strings, in order.
    pub fn to_pairs(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect()
    }

    /// Whether no variable is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Environment for EnvironmentList {
    fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|(key, _)| key.as_str()).collect()
    }
}

/// An expansion that failed; its message is BuildKit's
/// (`failed to process "<word>": <reason>`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {}: {reason}", strconv::quote(.input))]
pub struct ExpandError {
    /// The word that was being expanded.
    pub input: String,
    /// Why it failed, e.g. `syntax error: missing '}'`.
    pub reason: String,
}

/// The result of expanding one word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The expanded word.
    pub value: String,
    /// Variables referred to that were set (empty counts as set), sorted.
    pub matched: BTreeSet<String>,
    /// Variables referred to that were not set, sorted.
    pub unmatched: BTreeSet<String>,
}

/// BuildKit's shell lexer (`shell.Lex`). The defaults are the frontend's:
/// quotes and escapes processed, unset variables expand to nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lexer {
    /// The escape character: `\` (default) or `` ` `` (from `# escape=`).
    pub escape: char,
    /// Keep quote characters in the result (default false).
    pub raw_quotes: bool,
    /// Keep escape characters in the result (default false).
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters (default false; true for heredoc bodies).
    pub skip_process_quotes: bool,
    /// Leave references to unset variables as written (default false).
    pub skip_unset_env: bool,
}

impl Default for Lexer {
    fn default() -> Lexer {
        Lexer::new('\\')
    }
}

impl Lexer {
    /// A lexer with the given escape character and default options.
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// Expands one word (`ProcessWordWithMatches`): spaces are kept, quotes
    /// and escapes removed, variables replaced.
    pub fn expand_word(
        &self,
        word: &str,
        environment: &dyn Environment,
    ) -> Result<Expansion, ExpandError> {
        let (result, expansion) = self.expand_word_tracking(word, environment);
        result.map(|value| Expansion { value, ..expansion })
    }

    /// [`Lexer::expand_word`], with the variables met returned even when the
    /// expansion fails (those before the failure: BuildKit reports them as
    /// undefined all the same). The returned expansion's value is empty.
    pub fn expand_word_tracking(
        &self,
        word: &str,
        environment: &dyn Environment,
    ) -> (Result<String, ExpandError>, Expansion) {
        let mut shell = ShellWord::new(self, word, environment, true);
        let result = shell.process(word).map(|(value, _)| value);
        let met = Expansion {
            value: String::new(),
            matched: std::mem::take(&mut shell.matches),
            unmatched: std::mem::take(&mut shell.unmatched),
        };
        (result, met)
    }

    /// Expands and splits into words (`ProcessWords`): unquoted blanks,
    /// including those that come from a variable's value, separate words.
    pub fn expand_words(
        &self,
        word: &str,
        environment: &dyn Environment,
    ) -> Result<Vec<String>, ExpandError> {
        let mut shell = ShellWord::new(self, word, environment, false);
        let (_, words) = shell.process(word)?;
        Ok(words)
    }
}

/// Characters of a word, like Go's `text/scanner` in character mode: a BOM at
/// the very start is skipped.
struct Scanner<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        let position = if text.starts_with('\u{FEFF}') {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        Scanner { text, position }
    }

    #[inline]
    fn peek(&self) -> Option<char> {
        let byte = *self.text.as_bytes().get(self.position)?;
        if byte < 0x80 {
            return Some(char::from(byte));
        }
        self.text[self.position..].chars().next()
    }

    #[inline]
    fn next(&mut self) -> Option<char> {
        let character = self.peek()?;
        self.position += character.len_utf8();
        Some(character)
    }
}

/// Go's `string(rune)` of a scanned character, where end of input is -1 and
/// prints as U+FFFD.
fn rune_string(character: Option<char>) -> String {
    character.unwrap_or('\u{FFFD}').to_string()
}

struct Words {
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn new() -> Words {
        Words {
            words: Vec::new(),
            in_word: false,
        }
    }

    fn add_char(&mut self, buffer: &mut String, character: char) {
        if is_space(character) && self.in_word {
            if !buffer.is_empty() {
                self.words.push(std::mem::take(buffer));
                self.in_word = false;
            }
        } else if !is_space(character) {
            self.add_raw_char(buffer, character);
        }
    }

    fn add_raw_char(&mut self, buffer: &mut String, character: char) {
        buffer.push(character);
        self.in_word = true;
    }

    fn add_string(&mut self, buffer: &mut String, text: &str) {
        for character in text.chars() {
            self.add_char(buffer, character);
        }
    }

    fn add_raw_string(&mut self, buffer: &mut String, text: &str) {
        buffer.push_str(text);
        self.in_word = true;
    }

    fn finish(mut self, buffer: &mut String) -> Vec<String> {
        if !buffer.is_empty() {
            self.words.push(std::mem::take(buffer));
            self.in_word = false;
        }
        self.words
    }
}

struct ShellWord<'a> {
    lexer: &'a Lexer,
    scanner: Scanner<'a>,
    environment: &'a dyn Environment,
    raw_escapes: bool,
    capture: bool,
    matches: BTreeSet<String>,
    unmatched: BTreeSet<String>,
    /// Shared by every nested scan, as in BuildKit.
    words_buffer: String,
    /// How many `${...}` are open (bounded, so no input exhausts the stack).
    depth: usize,
}

/// Deeper `${a:-${b:-...}}` nesting is refused (BuildKit, on Go's growable
/// stacks, has no limit; no real Dockerfile comes close).
const MAXIMUM_NESTING: usize = 200;

type Scan = Result<String, String>;

impl<'a> ShellWord<'a> {
    fn new(
        lexer: &'a Lexer,
        word: &'a str,
        environment: &'a dyn Environment,
        capture: bool,
    ) -> ShellWord<'a> {
        ShellWord {
            lexer,
            scanner: Scanner::new(word),
            environment,
            raw_escapes: lexer.raw_escapes,
            capture,
            matches: BTreeSet::new(),
            unmatched: BTreeSet::new(),
            words_buffer: String::new(),
            depth: 0,
        }
    }

    fn process(&mut self, source: &str) -> Result<(String, Vec<String>), ExpandError> {
        let raw_escapes = self.raw_escapes;
        self.process_stop_on(None, raw_escapes)
            .map_err(|reason| ExpandError {
                input: source.to_string(),
                reason,
            })
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        self.words_buffer.clear();
        let mut words = Words::new();
        let saved_raw_escapes = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let outcome = self.scan_until(stop, &mut result, &mut words);
        self.raw_escapes = saved_raw_escapes;
        outcome?;
        Ok((result, words.finish(&mut self.words_buffer)))
    }

    fn scan_until(
        &mut self,
        stop: Option<char>,
        result: &mut String,
        words: &mut Words,
    ) -> Result<(), String> {
        let escape = self.lexer.escape;
        let quotes = !self.lexer.skip_process_quotes;
        while let Some(character) = self.scanner.peek() {
            if stop == Some(character) {
                self.scanner.next();
                return Ok(());
            }
            let special = match character {
                '$' => Some(self.process_dollar()?),
                '<' => Some(self.process_possible_heredoc()),
                '\'' if quotes => Some(self.process_single_quote()?),
                '"' if quotes => Some(self.process_double_quote()?),
                _ => None,
            };
            if let Some(text) = special {
                result.push_str(&text);
                if character == '$' {
                    words.add_string(&mut self.words_buffer, &text);
                } else {
                    words.add_raw_string(&mut self.words_buffer, &text);
                }
                continue;
            }
            let Some(mut character) = self.scanner.next() else {
                break;
            };
            if character == escape {
                if self.raw_escapes {
                    words.add_raw_char(&mut self.words_buffer, character);
                    result.push(character);
                }
                match self.scanner.next() {
                    None => break,
                    Some(escaped) => character = escaped,
                }
                words.add_raw_char(&mut self.words_buffer, character);
            } else {
                words.add_char(&mut self.words_buffer, character);
            }
            result.push(character);
        }
        match stop {
            Some(stop) => Err(format!(
                "unexpected end of statement while looking for matching {}",
                stop
            )),
            None => Ok(()),
        }
    }

    fn process_single_quote(&mut self) -> Scan {
        let mut result = String::new();
        let opening = self.scanner.next();
        if self.lexer.raw_quotes {
            result.push_str(&rune_string(opening));
        }
        loop {
            match self.scanner.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_string(),
                    );
                }
                Some('\'') => {
                    if self.lexer.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(character) => result.push(character),
            }
        }
    }

    fn process_double_quote(&mut self) -> Scan {
        let mut result = String::new();
        let opening = self.scanner.next();
        if self.lexer.raw_quotes {
            result.push_str(&rune_string(opening));
        }
        let escape = self.lexer.escape;
        loop {
            match self.scanner.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_string(),
                    );
                }
                Some('"') => {
                    self.scanner.next();
                    if self.lexer.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                }
                Some(_) => {
                    let Some(mut character) = self.scanner.next() else {
                        continue;
                    };
                    if character == escape {
                        if self.raw_escapes {
                            result.push(character);
                        }
                        match self.scanner.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == escape => {
                                self.scanner.next();
                                character = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(character);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> Scan {
        if self.depth >= MAXIMUM_NESTING {
            return Err("substitutions nested too deeply".to_string());
        }
        self.depth += 1;
        let result = self.process_dollar_inner();
        self.depth -= 1;
        result
    }

    fn process_dollar_inner(&mut self) -> Scan {
        self.scanner.next();
        if self.scanner.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get_environment(&name) {
                Some(value) => value,
                None if self.lexer.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.scanner.next();
        match self.scanner.peek() {
            None => return Err("syntax error: missing '}'".to_string()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".to_string()),
            Some(_) => {}
        }
        let name = self.process_name();
        let mut character = self.scanner.next();
        let mut operator = rune_string(character);
        let mut null_is_unset = false;
        match character {
            Some('}') => {
                let value = self.get_environment(&name);
                if value.is_none() && self.lexer.skip_unset_env {
                    return Ok(format!("${{{name}}}"));
                }
                Ok(value.unwrap_or_default())
            }
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                if character == Some(':') {
                    null_is_unset = true;
                    character = self.scanner.next();
                    operator.push_str(&rune_string(character));
                }
                let raw_escapes = matches!(character, Some('#' | '%'));
                if null_is_unset && raw_escapes {
                    return Err(format!("unsupported modifier ({operator}) in substitution"));
                }
                let word = match self.process_stop_on(Some('}'), raw_escapes) {
                    Ok((word, _)) => word,
                    Err(error) => {
                        if self.scanner.peek().is_none() {
                            return Err("syntax error: missing '}'".to_string());
                        }
                        return Err(error);
                    }
                };
                let value = self.get_environment(&name);
                if self.lexer.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{operator}{word}}}"));
                }
                let empty = value.as_deref() == Some("");
                match character {
                    Some('-') => Ok(match value {
                        Some(value) if !(null_is_unset && empty) => value,
                        _ => word,
                    }),
                    Some('+') => Ok(match value {
                        Some(_) if !(null_is_unset && empty) => word,
                        _ => String::new(),
                    }),
                    Some('?') => match value {
                        None => Err(format!(
                            "{name}: {}",
                            if word.is_empty() {
                                "is not allowed to be unset"
                            } else {
                                &word
                            }
                        )),
                        Some(_) if null_is_unset && empty => Err(format!(
                            "{name}: {}",
                            if word.is_empty() {
                                "is not allowed to be empty"
                            } else {
                                &word
                            }
                        )),
                        Some(value) => Ok(value),
                    },
                    Some(operator_character @ ('%' | '#')) => {
                        let value = value.unwrap_or_default();
                        let (pattern, greedy) = match word.strip_prefix(operator_character) {
                            Some(rest) => (rest.to_string(), true),
                            None => (word, false),
                        };
                        if operator_character == '%' {
                            trim_suffix(&pattern, &value, greedy)
                        } else {
                            trim_prefix(&pattern, &value, greedy)
                        }
                    }
                    _ => Err(format!("unsupported modifier ({operator}) in substitution")),
                }
            }
            Some('/') => {
                let replace_all = self.scanner.peek() == Some('/');
                if replace_all {
                    self.scanner.next();
                }
                let pattern = match self.process_stop_on(Some('/'), true) {
                    Ok((pattern, _)) => pattern,
                    Err(error) => {
                        if self.scanner.peek().is_none() {
                            return Err("syntax error: missing '/' in ${}".to_string());
                        }
                        return Err(error);
                    }
                };
                let replacement = match self.process_stop_on(Some('}'), true) {
                    Ok((replacement, _)) => replacement,
                    Err(error) => {
                        if self.scanner.peek().is_none() {
                            return Err("syntax error: missing '}'".to_string());
                        }
                        return Err(error);
                    }
                };
                let value = self.get_environment(&name);
                if self.lexer.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                }
                let value = value.unwrap_or_default();
                let compiled = Pattern::compile(&pattern, true, false)
                    .map_err(|error| invalid_pattern(&pattern, &error))?;
                if replace_all {
                    Ok(compiled.replace_all(&value, &replacement))
                } else {
                    Ok(match compiled.find(&value) {
                        Some((start, end)) => {
                            format!("{}{}{}", &value[..start], replacement, &value[end..])
                        }
                        None => value,
                    })
                }
            }
            _ => Err(format!("unsupported modifier ({operator}) in substitution")),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(character) = self.scanner.peek() {
            if name.is_empty() && is_digit(character) {
                while let Some(digit) = self.scanner.peek() {
                    if !is_digit(digit) {
                        break;
                    }
                    self.scanner.next();
                    name.push(digit);
                }
                return name;
            }
            if name.is_empty() && is_special_parameter(character) {
                self.scanner.next();
                return character.to_string();
            }
            if !is_letter(character) && !is_digit(character) && character != '_' {
                break;
            }
            self.scanner.next();
            name.push(character);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.scanner.next();
        if self.scanner.peek() != Some('<') {
            return "<".to_string();
        }
        self.scanner.next();
        let mut result = "<<".to_string();
        while let Some(character @ ('\t' | '\r' | ' ')) = self.scanner.peek() {
            result.push(character);
            self.scanner.next();
        }
        result
    }

    fn get_environment(&mut self, name: &str) -> Option<String> {
        match self.environment.get(name) {
            Some(value) => {
                if self.capture {
                    self.matches.insert(name.to_string());
                }
                Some(value.to_string())
            }
            None => {
                if self.capture {
                    self.unmatched.insert(name.to_string());
                }
                None
            }
        }
    }
}

fn is_special_parameter(character: char) -> bool {
    matches!(character, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

fn invalid_pattern(pattern: &str, error: &PatternError) -> String {
    format!("invalid pattern ({pattern}) in substitution: {error}")
}

fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Scan {
    let compiled = Pattern::compile(pattern, greedy, true)
        .map_err(|error| invalid_pattern(pattern, &error))?;
    Ok(match compiled.find(value) {
        Some((_, end)) => value[end..].to_string(),
        None => value.to_string(),
    })
}

fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Scan {
    // Like BuildKit: reverse both (keeping `\x` escapes together) and trim a prefix.
    let reversed_pattern = reverse_pattern(pattern);
    let reversed_value: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reversed_pattern, &reversed_value, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

fn reverse_pattern(pattern: &str) -> String {
    let characters: Vec<char> = pattern.chars().collect();
    let mut out = vec!['\0'; characters.len()];
    let Some(last) = characters.len().checked_sub(1) else {
        return String::new();
    };
    let mut index = 0;
    while index <= last {
        let character = characters[index];
        let out_index = last - index;
        if character == '\\' && index != last {
            out[out_index - 1] = character;
            out[out_index] = characters[index + 1];
            index += 2;
        } else {
            out[out_index] = character;
            index += 1;
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn word(input: &str, pairs: &[(&str, &str)]) -> Result<String, String> {
        Lexer::new('\\')
            .expand_word(input, &environment(pairs))
            .map(|expansion| expansion.value)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn simple_forms() {
        let env = [("a", "x"), ("e", "")];
        assert_eq!(word("$a-${a}", &env).unwrap(), "x-x");
        assert_eq!(word("${e:-d}|${e-d}|${u-d}", &env).unwrap(), "d||d");
        assert_eq!(
            word("${a:+y}|${e:+y}|${e+y}|${u+y}", &env).unwrap(),
            "y||y|"
        );
        assert_eq!(word("'$a' \"$a\" \\$a", &env).unwrap(), "$a x $a");
    }

    #[test]
    fn errors_carry_buildkit_messages() {
        assert_eq!(
            word("${u?oops $a}", &[("a", "x")]).unwrap_err(),
            "failed to process \"${u?oops $a}\": u: oops x"
        );
        assert_eq!(
            word("${a", &[]).unwrap_err(),
            "failed to process \"${a\": unsupported modifier (\u{FFFD}) in substitution"
        );
        assert_eq!(
            word("${", &[]).unwrap_err(),
            "failed to process \"${\": syntax error: missing '}'"
        );
        assert_eq!(
            word("${:}", &[]).unwrap_err(),
            "failed to process \"${:}\": syntax error: bad substitution"
        );
    }

    #[test]
    fn prefix_suffix_and_replace() {
        let env = [("v", "abcabc")];
        assert_eq!(word("${v#*b}", &env).unwrap(), "cabc");
        assert_eq!(word("${v##*b}", &env).unwrap(), "c");
        assert_eq!(word("${v%b*}", &env).unwrap(), "abca");
        assert_eq!(word("${v%%b*}", &env).unwrap(), "a");
        assert_eq!(word("${v/b/X}", &env).unwrap(), "aXcabc");
        assert_eq!(word("${v//b/X}", &env).unwrap(), "aXcaXc");
    }

    #[test]
    fn matches_are_recorded() {
        let expansion = Lexer::new('\\')
            .expand_word("$a ${b:-$c}", &environment(&[("a", "1"), ("c", "")]))
            .unwrap();
        assert_eq!(expansion.value, "1 ");
        assert_eq!(
            expansion.matched.into_iter().collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(expansion.unmatched.into_iter().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn words_split_unquoted_expansions() {
        let env = environment(&[("space", "abc  def")]);
        let words = Lexer::new('\\')
            .expand_words("hello${space}bye x", &env)
            .unwrap();
        assert_eq!(words, ["helloabc", "defbye", "x"]);
        // The shared-buffer quirk: the word part before an operator expansion is lost.
        let words = Lexer::new('\\').expand_words("ab${x:-y}", &env).unwrap();
        assert_eq!(words, ["y"]);
    }

    #[test]
    fn heredoc_markers_keep_blanks() {
        let mut lexer = Lexer::new('\\');
        lexer.raw_quotes = true;
        lexer.raw_escapes = true;
        lexer.skip_unset_env = true;
        let words = lexer
            .expand_words("RUN <<  EOF > $out", &EmptyEnvironment)
            .unwrap();
        assert_eq!(words, ["RUN", "<<  EOF", ">", "$out"]);
    }

    #[test]
    fn bom_at_start_is_dropped() {
        assert_eq!(word("\u{FEFF}a\u{FEFF}", &[]).unwrap(), "a\u{FEFF}");
    }

    #[test]
    fn reverse_pattern_keeps_escapes() {
        assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
        assert_eq!(reverse_pattern(""), "");
    }
}
