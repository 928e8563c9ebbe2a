//! Deterministic JSON the way Go's `encoding/json` writes it, so that digests
//! of what we serialise match those of Docker and BuildKit byte for byte.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Compact JSON with Go's escaping: `<`, `>`, `&`, U+2028 and U+2029 become
/// `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`. Field order is the
/// struct's; maps must be sorted (`BTreeMap`) for the output to be deterministic.
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// Indented JSON as Go's `json.MarshalIndent(v, "", "    ")` writes it (what
/// `docker inspect` prints), with Go's escaping.
pub fn to_go_json_pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    to_go_json_indented(value, "    ")
}

/// Indented JSON as Go's `json.MarshalIndent(v, "", indent)` writes it
/// (BuildKit's subrequest results use two spaces), with Go's escaping.
pub fn to_go_json_indented<T: Serialize + ?Sized>(
    value: &T,
    indent: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    let formatter = GoPrettyFormatter(serde_json::ser::PrettyFormatter::with_indent(
        indent.as_bytes(),
    ));
    let mut serializer = Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// serde_json's pretty formatter with Go's escaping.
struct GoPrettyFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl Formatter for GoPrettyFormatter<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        GoFormatter.write_string_fragment(writer, fragment)
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// serde_json's compact formatter with Go's HTML-safe string escaping (Go 1.22+
/// writes `\b` and `\f` short, as serde_json does).
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, character) in fragment.char_indices() {
            let escape = match character {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escape.as_bytes())?;
            start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_like_marshal_indent() {
        let value = serde_json::json!({"a": [1, 2], "b": {}, "c": [], "d": "<x>"});
        let text = String::from_utf8(to_go_json_pretty(&value).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {},\n    \"c\": [],\n    \"d\": \"\\u003cx\\u003e\"\n}"
        );
    }

    #[test]
    fn escapes_like_go() {
        let text = "a && b <c> \u{2028} \"q\" \\ \n \u{8}";
        let json = to_go_json(&text).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#""a \u0026\u0026 b \u003cc\u003e \u2028 \"q\" \\ \n \b""#
        );
    }
}
