//! Shell patterns of `${v#p}`, `${v%p}` and `${v/p/r}`, matched the way
//! BuildKit matches them: it turns the pattern into a Go regular expression
//! (`*` to `.*` or `.*?`, `?` to `.`, everything else literal) and asks for the
//! leftmost-first match. This is a small Pike VM with the same semantics (`.`
//! does not match a newline), linear in time, so no input can make it blow up.

/// A pattern that BuildKit would refuse to compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid escape '\\{0}'")]
pub(crate) struct PatternError(pub(crate) char);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Instruction {
    Character(char),
    AnyButNewline,
    /// Try the first target, then the second.
    Split(usize, usize),
    Jump(usize),
    Match,
}

/// A compiled shell pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    program: Vec<Instruction>,
    anchored: bool,
}

impl Pattern {
    /// Compiles like BuildKit's `convertShellPatternToRegex(pattern, greedy, anchored)`.
    pub(crate) fn compile(
        pattern: &str,
        greedy: bool,
        anchored: bool,
    ) -> Result<Pattern, PatternError> {
        let mut program = Vec::with_capacity(pattern.len() + 1);
        // Go's text/scanner drops a BOM at the very start.
        let pattern = pattern.strip_prefix('\u{FEFF}').unwrap_or(pattern);
        let mut characters = pattern.chars().peekable();
        while let Some(character) = characters.next() {
            match character {
                '*' => {
                    let split = program.len();
                    let (first, second) = if greedy {
                        (split + 1, split + 3)
                    } else {
                        (split + 3, split + 1)
                    };
                    program.push(Instruction::Split(first, second));
                    program.push(Instruction::AnyButNewline);
                    program.push(Instruction::Jump(split));
                }
                '?' => program.push(Instruction::AnyButNewline),
                '\\' => {
                    if matches!(characters.peek(), Some('}' | '/')) {
                        continue;
                    }
                    match characters.next() {
                        Some(escaped @ ('*' | '?' | '\\')) => {
                            program.push(Instruction::Character(escaped));
                        }
                        Some(other) => return Err(PatternError(other)),
                        None => return Err(PatternError('\u{FFFD}')),
                    }
                }
                other => program.push(Instruction::Character(other)),
            }
        }
        program.push(Instruction::Match);
        Ok(Pattern { program, anchored })
    }

    /// The byte range of the leftmost-first match in `text`, as Go's
    /// `FindStringIndex`, searching from byte `from`.
    pub(crate) fn find_at(&self, text: &str, from: usize) -> Option<(usize, usize)> {
        let length = self.program.len();
        let mut current = ThreadList::new(length);
        let mut next = ThreadList::new(length);
        let mut stack = Vec::new();
        let mut found: Option<(usize, usize)> = None;
        let mut position = from;
        if self.anchored && from != 0 {
            return None;
        }
        loop {
            let character = text[position..].chars().next();
            if found.is_none() && (!self.anchored || position == from) {
                self.add_thread(&mut current, &mut stack, 0, position);
            }
            if current.is_empty() {
                break;
            }
            next.clear();
            for index in 0..current.threads.len() {
                let (program_counter, start) = current.threads[index];
                match self.program[program_counter] {
                    Instruction::Match => {
                        found = Some((start, position));
                        // Threads after this one have lower priority.
                        break;
                    }
                    Instruction::Character(expected) => {
                        if character == Some(expected) {
                            self.add_thread(&mut next, &mut stack, program_counter + 1, start);
                        }
                    }
                    Instruction::AnyButNewline => {
                        if matches!(character, Some(c) if c != '\n') {
                            self.add_thread(&mut next, &mut stack, program_counter + 1, start);
                        }
                    }
                    Instruction::Split(..) | Instruction::Jump(_) => {}
                }
            }
            std::mem::swap(&mut current, &mut next);
            match character {
                Some(c) => position += c.len_utf8(),
                None => break,
            }
        }
        // Threads left after the end of input may still reach Match.
        found
    }

    /// The leftmost-first match from the start.
    pub(crate) fn find(&self, text: &str) -> Option<(usize, usize)> {
        self.find_at(text, 0)
    }

    /// Go's `ReplaceAllString`: every non-overlapping match replaced by the
    /// template `replacement` (`$0` is the match, `$$` a dollar, other `$name`s empty).
    pub(crate) fn replace_all(&self, text: &str, replacement: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last_match_end = 0;
        let mut search = 0;
        while search <= text.len() {
            let Some((start, end)) = self.find_at(text, search) else {
                break;
            };
            out.push_str(&text[last_match_end..start]);
            if end > last_match_end || start == 0 {
                expand_template(&mut out, replacement, &text[start..end]);
            }
            last_match_end = end;
            let width = text[search..].chars().next().map_or(0, char::len_utf8);
            if search + width > end {
                search += width;
            } else if search + 1 > end {
                search += 1;
            } else {
                search = end;
            }
        }
        out.push_str(&text[last_match_end..]);
        out
    }

    fn add_thread(
        &self,
        list: &mut ThreadList,
        stack: &mut Vec<usize>,
        program_counter: usize,
        start: usize,
    ) {
        stack.clear();
        stack.push(program_counter);
        while let Some(program_counter) = stack.pop() {
            if !list.insert_visited(program_counter) {
                continue;
            }
            match self.program[program_counter] {
                Instruction::Split(first, second) => {
                    stack.push(second);
                    stack.push(first);
                }
                Instruction::Jump(target) => stack.push(target),
                _ => list.threads.push((program_counter, start)),
            }
        }
    }
}

struct ThreadList {
    threads: Vec<(usize, usize)>,
    visited: Vec<u32>,
    generation: u32,
}

impl ThreadList {
    fn new(length: usize) -> ThreadList {
        ThreadList {
            threads: Vec::new(),
            visited: vec![0; length],
            generation: 1,
        }
    }

    fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    fn clear(&mut self) {
        self.threads.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.visited.iter_mut().for_each(|mark| *mark = 0);
            self.generation = 1;
        }
    }

    fn insert_visited(&mut self, program_counter: usize) -> bool {
        if self.visited[program_counter] == self.generation {
            return false;
        }
        self.visited[program_counter] = self.generation;
        true
    }
}

/// Go's `regexp.Expand` for a pattern without groups.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some(index) = rest.find('$') {
        out.push_str(&rest[..index]);
        rest = &rest[index + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match extract_name(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.push_str(matched);
                }
                rest = after;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// Go's `regexp.extract`: a `name` or `{name}` at the start of `text`.
fn extract_name(text: &str) -> Option<(&str, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let length: usize = body
        .chars()
        .take_while(|c| {
            strata_go::unicode::is_letter(*c) || strata_go::unicode::is_digit(*c) || *c == '_'
        })
        .map(char::len_utf8)
        .sum();
    if length == 0 {
        return None;
    }
    let name = &body[..length];
    let mut after = &body[length..];
    if braced {
        after = after.strip_prefix('}')?;
    }
    Some((name, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(pattern: &str, greedy: bool, anchored: bool, text: &str) -> Option<(usize, usize)> {
        Pattern::compile(pattern, greedy, anchored)
            .unwrap()
            .find(text)
    }

    #[test]
    fn greedy_and_lazy_stars() {
        assert_eq!(find("a*c", true, true, "abcabc"), Some((0, 6)));
        assert_eq!(find("a*c", false, true, "abcabc"), Some((0, 3)));
        assert_eq!(find("b*", true, false, "abcabc"), Some((1, 6)));
        assert_eq!(find("x", true, false, "abc"), None);
        assert_eq!(find("?", true, true, "\nabc"), None);
        assert_eq!(find("", true, false, "abc"), Some((0, 0)));
    }

    #[test]
    fn escapes() {
        assert_eq!(find("\\*", true, false, "a*b"), Some((1, 2)));
        assert!(Pattern::compile("\\a", true, false).is_err());
        assert_eq!(find("a\\}", true, false, "xa}"), Some((1, 3)));
    }

    #[test]
    fn replace_all_like_go() {
        let pattern = Pattern::compile("b", true, false).unwrap();
        assert_eq!(pattern.replace_all("abcb", "X"), "aXcX");
        let empty = Pattern::compile("", true, false).unwrap();
        assert_eq!(empty.replace_all("ab", "-"), "-a-b-");
        assert_eq!(pattern.replace_all("abc", "[$0$$${0}$x]"), "a[b$b]c");
    }

    #[test]
    fn many_stars_stay_linear() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5000);
        assert_eq!(find(&pattern, true, false, &text), None);
    }
}
