//! The JSON arrays of exec form, read the way BuildKit reads them with Go's
//! `json.Unmarshal` into `[]any`: text that is not valid JSON falls back to
//! shell form, while a valid array holding anything but strings is an error.

use crate::text::decode_rune;

/// One string element of an exec-form array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonString {
    pub(crate) value: String,
    /// The element's byte range, quotes included.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// How an argument text reads as a JSON array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonArray {
    /// A valid array of strings.
    Strings(Vec<JsonString>),
    /// A valid array with a non-string element: BuildKit rejects the instruction.
    NotStrings,
    /// Not an array, or not valid JSON (or a number Go cannot hold): shell form.
    Invalid,
}

const MAXIMUM_DEPTH: usize = 10_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Array,
    Object,
}

/// Parses `bytes[start..end]`, which BuildKit has already trimmed of leading
/// blanks and which must start with `[`.
pub(crate) fn parse_array(bytes: &[u8], start: usize, end: usize) -> JsonArray {
    let bytes = &bytes[..end];
    let mut parser = Parser {
        bytes,
        position: start,
        overflow: false,
    };
    match parser.run() {
        Some(_) if parser.overflow => JsonArray::Invalid,
        Some(elements) => {
            let mut strings = Vec::with_capacity(elements.len());
            for element in elements {
                match element {
                    Element::String(string) => strings.push(string),
                    Element::Other => return JsonArray::NotStrings,
                }
            }
            JsonArray::Strings(strings)
        }
        None => JsonArray::Invalid,
    }
}

enum Element {
    String(JsonString),
    Other,
}

struct Parser<'a> {
    bytes: &'a [u8],
    position: usize,
    overflow: bool,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.position) {
            self.position += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn run(&mut self) -> Option<Vec<Element>> {
        self.skip_whitespace();
        if self.peek() != Some(b'[') {
            return None;
        }
        self.position += 1;
        let mut stack = vec![Container::Array];
        let mut elements = Vec::new();
        // Whether the next token may close the innermost container (right after its opening).
        let mut may_close = true;
        loop {
            // A value is expected (or, when `may_close`, the container may close).
            self.skip_whitespace();
            let top_level = stack.len() == 1;
            let value_start = self.position;
            match self.peek()? {
                b']' if may_close && stack.last() == Some(&Container::Array) => {
                    self.position += 1;
                    stack.pop();
                }
                b'}' if may_close && stack.last() == Some(&Container::Object) => {
                    self.position += 1;
                    stack.pop();
                }
                b'[' => {
                    self.position += 1;
                    if top_level {
                        elements.push(Element::Other);
                    }
                    stack.push(Container::Array);
                    if stack.len() > MAXIMUM_DEPTH {
                        return None;
                    }
                    may_close = true;
                    continue;
                }
                b'{' => {
                    self.position += 1;
                    if top_level {
                        elements.push(Element::Other);
                    }
                    stack.push(Container::Object);
                    if stack.len() > MAXIMUM_DEPTH {
                        return None;
                    }
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.position += 1;
                        stack.pop();
                    } else {
                        self.object_key()?;
                        may_close = false;
                        continue;
                    }
                }
                b'"' => {
                    let value = self.string()?;
                    if top_level {
                        elements.push(Element::String(JsonString {
                            value,
                            start: value_start,
                            end: self.position,
                        }));
                    }
                }
                b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
                    match self.peek()? {
                        b't' => self.literal(b"true")?,
                        b'f' => self.literal(b"false")?,
                        b'n' => self.literal(b"null")?,
                        _ => self.number()?,
                    }
                    if top_level {
                        elements.push(Element::Other);
                    }
                }
                _ => return None,
            }
            // After a value (or a closed container): a separator or a close.
            loop {
                if stack.is_empty() {
                    self.skip_whitespace();
                    return if self.position == self.bytes.len() {
                        Some(elements)
                    } else {
                        None
                    };
                }
                self.skip_whitespace();
                match (self.peek()?, stack.last()) {
                    (b',', Some(Container::Array)) => {
                        self.position += 1;
                        may_close = false;
                        break;
                    }
                    (b',', Some(Container::Object)) => {
                        self.position += 1;
                        self.skip_whitespace();
                        self.object_key()?;
                        may_close = false;
                        break;
                    }
                    (b']', Some(Container::Array)) | (b'}', Some(Container::Object)) => {
                        self.position += 1;
                        stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A key string and its colon.
    fn object_key(&mut self) -> Option<()> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.string()?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return None;
        }
        self.position += 1;
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.position..self.position + word.len()) == Some(word) {
            self.position += word.len();
            Some(())
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.position;
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        match self.peek()? {
            b'0' => self.position += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.position += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.position += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        // Go decodes into float64 and fails on overflow.
        let text = std::str::from_utf8(&self.bytes[start..self.position]).ok()?;
        if text.parse::<f64>().map_or(true, f64::is_infinite) {
            self.overflow = true;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.position += 1;
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        let mut value = 0;
        for digit in digits {
            value = value * 16 + char::from(*digit).to_digit(16)?;
        }
        Some(value)
    }

    /// A string starting at the opening quote; its decoded value.
    fn string(&mut self) -> Option<String> {
        self.position += 1;
        let mut value = String::new();
        loop {
            let byte = self.peek()?;
            match byte {
                b'"' => {
                    self.position += 1;
                    return Some(value);
                }
                b'\\' => {
                    let escaped = *self.bytes.get(self.position + 1)?;
                    self.position += 2;
                    match escaped {
                        b'"' => value.push('"'),
                        b'\\' => value.push('\\'),
                        b'/' => value.push('/'),
                        b'b' => value.push('\u{08}'),
                        b'f' => value.push('\u{0C}'),
                        b'n' => value.push('\n'),
                        b'r' => value.push('\r'),
                        b't' => value.push('\t'),
                        b'u' => {
                            let first = self.hex4(self.position)?;
                            self.position += 4;
                            if (0xD800..0xE000).contains(&first) {
                                let second = if self.bytes.get(self.position..self.position + 2)
                                    == Some(b"\\u")
                                {
                                    self.hex4(self.position + 2)
                                } else {
                                    None
                                };
                                match second {
                                    Some(low @ 0xDC00..=0xDFFF) if first < 0xDC00 => {
                                        let combined =
                                            0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                                        value.push(char::from_u32(combined).unwrap_or('\u{FFFD}'));
                                        self.position += 6;
                                    }
                                    _ => value.push('\u{FFFD}'),
                                }
                            } else {
                                value.push(char::from_u32(first).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1F => return None,
                _ if byte < 0x80 => {
                    value.push(char::from(byte));
                    self.position += 1;
                }
                _ => {
                    let (character, width) = decode_rune(self.bytes, self.position);
                    value.push(character);
                    self.position += width.max(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> JsonArray {
        parse_array(text.as_bytes(), 0, text.len())
    }

    fn strings(text: &str) -> Vec<String> {
        match parse(text) {
            JsonArray::Strings(strings) => strings.into_iter().map(|s| s.value).collect(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn arrays_of_strings() {
        assert_eq!(strings("[]"), Vec::<String>::new());
        assert_eq!(
            strings(r#"[ "a" , "b\n\u00e9\ud83d\ude00" ]"#),
            ["a", "b\né😀"]
        );
        assert_eq!(strings(r#"["\ud800x"]"#), ["\u{FFFD}x"]);
    }

    #[test]
    fn non_strings_are_rejected() {
        assert_eq!(parse(r#"["a", 1]"#), JsonArray::NotStrings);
        assert_eq!(parse(r#"[["a"]]"#), JsonArray::NotStrings);
        assert_eq!(parse(r#"[{"a": [1, {}]}, null]"#), JsonArray::NotStrings);
    }

    #[test]
    fn invalid_json_falls_back() {
        for text in [
            "[",
            r#"["a""#,
            r#"["a",]"#,
            r#"['a']"#,
            r#"["a"] x"#,
            "[01]",
            r#"["\x"]"#,
            "[\"a\tb\"]",
            r#"["a", 1e999]"#,
            "[\u{0B}]",
            r#"[{"a" 1}]"#,
            "[tru]",
        ] {
            assert_eq!(parse(text), JsonArray::Invalid, "{text}");
        }
    }

    #[test]
    fn depth_limit() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(parse(&deep), JsonArray::NotStrings);
        let too_deep = "[".repeat(10_001) + &"]".repeat(10_001);
        assert_eq!(parse(&too_deep), JsonArray::Invalid);
    }

    #[test]
    fn spans_include_quotes() {
        let JsonArray::Strings(strings) = parse(r#"["ab", "c"]"#) else {
            panic!()
        };
        assert_eq!((strings[0].start, strings[0].end), (1, 5));
        assert_eq!((strings[1].start, strings[1].end), (7, 10));
    }
}
