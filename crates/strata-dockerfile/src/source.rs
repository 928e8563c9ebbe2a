//! The source text of a Dockerfile, byte spans into it, and line/column lookup.

use std::borrow::Cow;
use std::ops::Range;

use strata_go::utf8::lossy;

/// A half-open byte range `start..end` into [`Source::bytes`]; `start <= end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (swapped if given backwards).
    pub fn new(start: usize, end: usize) -> Span {
        if start <= end {
            Span { start, end }
        } else {
            Span {
                start: end,
                end: start,
            }
        }
    }

    /// An empty span at `offset`.
    pub fn empty(offset: usize) -> Span {
        Span {
            start: offset,
            end: offset,
        }
    }

    /// The number of bytes covered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn cover(&self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The span as a range, for slicing.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// A point in the source: 1-based line and 1-based column counted in
/// characters (Unicode scalar values; an invalid byte counts as one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

/// The bytes of a Dockerfile with an index of its line starts. Lines end at
/// `\n` (a `\r` before it belongs to the line, as in BuildKit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    bytes: Vec<u8>,
    line_starts: Vec<usize>,
}

impl Source {
    /// Indexes `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Source {
        let bytes = bytes.into();
        let mut line_starts = Vec::with_capacity(bytes.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', &bytes).map(|index| index + 1));
        Source { bytes, line_starts }
    }

    /// The raw bytes, exactly as read.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the source is valid UTF-8 (when not, strings taken from it have
    /// U+FFFD in place of each invalid byte, and spans still index the bytes).
    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.bytes).is_ok()
    }

    /// The text of a span, each invalid byte as U+FFFD; empty when out of range.
    pub fn slice(&self, span: Span) -> Cow<'_, str> {
        match self.bytes.get(span.range()) {
            Some(bytes) => lossy(bytes),
            None => Cow::Borrowed(""),
        }
    }

    /// The number of lines (a final line without `\n` counts; an empty source has one).
    pub fn line_count(&self) -> usize {
        if self.bytes.last() == Some(&b'\n') {
            self.line_starts.len() - 1
        } else {
            self.line_starts.len()
        }
    }

    /// The byte span of a 1-based line, without its `\n` and a `\r` before it.
    pub fn line_span(&self, line: usize) -> Option<Span> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        if start > self.bytes.len() || (start == self.bytes.len() && line > 1) {
            return None;
        }
        let mut end = self
            .line_starts
            .get(line)
            .map_or(self.bytes.len(), |next| next - 1);
        if end > start && self.bytes[end - 1] == b'\r' {
            end -= 1;
        }
        Some(Span { start, end })
    }

    /// The text of a 1-based line (see [`Source::line_span`]).
    pub fn line_text(&self, line: usize) -> Cow<'_, str> {
        self.line_span(line)
            .map_or(Cow::Borrowed(""), |span| self.slice(span))
    }

    /// The line and column of a byte offset (clamped to the source).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.bytes.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index - 1,
        };
        let line_start = self.line_starts[line_index];
        let column = lossy(&self.bytes[line_start..offset]).chars().count() + 1;
        Position {
            line: line_index + 1,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let source = Source::new("FROM a\nRUN é x\r\nCMD y");
        assert_eq!(source.position(0), Position { line: 1, column: 1 });
        assert_eq!(source.position(7), Position { line: 2, column: 1 });
        // "RUN é " is 7 bytes, 6 characters.
        assert_eq!(source.position(7 + 7), Position { line: 2, column: 7 });
        assert_eq!(source.line_text(2), "RUN é x");
        assert_eq!(source.line_text(3), "CMD y");
        assert_eq!(source.line_count(), 3);
        assert_eq!(source.line_span(4), None);
    }

    #[test]
    fn trailing_newline_does_not_add_a_line() {
        let source = Source::new("a\n");
        assert_eq!(source.line_count(), 1);
        assert_eq!(source.line_text(1), "a");
    }
}
