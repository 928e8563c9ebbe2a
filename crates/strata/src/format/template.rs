//! The part of Go's text/template that `--format` users write: text with
//! actions of field paths (`{{.Config.StopSignal}}`, `{{.Id}}`), functions
//! (`json`, `index`, `join`, `upper`, `lower`, `title`, `truncate`, `println`)
//! and pipelines (`{{.Config.Env | json}}`), evaluated over JSON values.

pub(crate) use ordered::Value;

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Action(Vec<Command>),
}

/// One pipeline stage: a function with arguments, or a bare operand.
#[derive(Debug, Clone)]
struct Command {
    words: Vec<Word>,
}

#[derive(Debug, Clone)]
enum Word {
    /// `.A.B`, `.` (empty path)
    Field(Vec<String>),
    String(String),
    Number(i64),
    Identifier(String),
}

/// JSON values that keep object keys in document order, so that `{{json .Config}}`
/// prints fields in the order Docker's structs do.
pub(crate) mod ordered {
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

    /// A JSON value; objects are key-value lists in document order.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Value {
        Null,
        Bool(bool),
        Number(serde_json::Number),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// The value of a serialisable thing, keeping its field order.
        pub(crate) fn of<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
            let text = serde_json::to_vec(value)?;
            serde_json::from_slice(&text)
        }

        /// The member `key` of an object.
        pub(crate) fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        /// A number as u64.
        pub(crate) fn as_u64(&self) -> Option<u64> {
            match self {
                Value::Number(number) => number.as_u64(),
                _ => None,
            }
        }
    }

    impl From<i64> for Value {
        fn from(number: i64) -> Self {
            Value::Number(number.into())
        }
    }

    impl From<usize> for Value {
        fn from(number: usize) -> Self {
            Value::Number((number as u64).into())
        }
    }

    impl Serialize for Value {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Value::Null => serializer.serialize_unit(),
                Value::Bool(b) => serializer.serialize_bool(*b),
                Value::Number(n) => n.serialize(serializer),
                Value::String(s) => serializer.serialize_str(s),
                Value::Array(items) => {
                    let mut seq = serializer.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(item)?;
                    }
                    seq.end()
                }
                Value::Object(entries) => {
                    let mut map = serializer.serialize_map(Some(entries.len()))?;
                    for (key, value) in entries {
                        map.serialize_entry(key, value)?;
                    }
                    map.end()
                }
            }
        }
    }

    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct ValueVisitor;
            impl<'de> Visitor<'de> for ValueVisitor {
                type Value = Value;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_unit<E>(self) -> Result<Value, E> {
                    Ok(Value::Null)
                }
                fn visit_none<E>(self) -> Result<Value, E> {
                    Ok(Value::Null)
                }
                fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                    Ok(Value::Bool(v))
                }
                fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                    Ok(Value::Number(v.into()))
                }
                fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                    Ok(Value::Number(v.into()))
                }
                fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                    Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
                }
                fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                    Ok(Value::String(v.to_owned()))
                }
                fn visit_string<E>(self, v: String) -> Result<Value, E> {
                    Ok(Value::String(v))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                    let mut items = Vec::new();
                    while let Some(item) = seq.next_element()? {
                        items.push(item);
                    }
                    Ok(Value::Array(items))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                    let mut entries = Vec::new();
                    while let Some((key, value)) = map.next_entry::<String, Value>()? {
                        entries.push((key, value));
                    }
                    Ok(Value::Object(entries))
                }
            }
            deserializer.deserialize_any(ValueVisitor)
        }
    }
}

/// Why a template does not parse or run.
#[derive(Debug, thiserror::Error)]
#[error("template: {0}")]
pub(crate) struct TemplateError(String);

impl Template {
    /// Parses `text`; Go's escapes `\t` and `\n` in the text are what the shell passed literally.
    pub(crate) fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let mut literal = &rest[..start];
            let mut after = &rest[start + 2..];
            // `{{-` trims preceding whitespace, `-}}` following.
            if let Some(stripped) = after.strip_prefix("- ") {
                literal = literal.trim_end();
                after = stripped;
            }
            if !literal.is_empty() {
                parts.push(Part::Text(unescape(literal)));
            }
            let end = after
                .find("}}")
                .ok_or_else(|| TemplateError(format!("unclosed action in {text:?}")))?;
            let mut inner = &after[..end];
            let mut next = &after[end + 2..];
            if let Some(stripped) = inner.strip_suffix(" -") {
                inner = stripped;
                next = next.trim_start();
            }
            let inner = inner.trim();
            if inner.starts_with("/*") {
                rest = next;
                continue;
            }
            parts.push(Part::Action(parse_pipeline(inner)?));
            rest = next;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(unescape(rest)));
        }
        Ok(Self { parts })
    }

    /// Runs the template over `data`.
    pub(crate) fn render(&self, data: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Action(pipeline) => {
                    let mut value: Option<Value> = None;
                    for command in pipeline {
                        value = Some(run_command(command, data, value)?);
                    }
                    if let Some(value) = value {
                        out.push_str(&print(&value));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The docker CLI turns a literal `\t` and `\n` in a format into tab and newline.
fn unescape(text: &str) -> String {
    text.replace("\\t", "\t").replace("\\n", "\n")
}

fn parse_pipeline(text: &str) -> Result<Vec<Command>, TemplateError> {
    let words = tokenize(text)?;
    let mut commands = Vec::new();
    let mut current = Vec::new();
    for token in words {
        match token {
            Token::Pipe => {
                if current.is_empty() {
                    return Err(TemplateError(format!("missing command in {text:?}")));
                }
                commands.push(Command {
                    words: std::mem::take(&mut current),
                });
            }
            Token::Word(word) => current.push(word),
        }
    }
    if current.is_empty() {
        return Err(TemplateError(format!(
            "missing value for command in {{{{{text}}}}}"
        )));
    }
    commands.push(Command { words: current });
    Ok(commands)
}

enum Token {
    Pipe,
    Word(Word),
}

fn tokenize(text: &str) -> Result<Vec<Token>, TemplateError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '|' {
            chars.next();
            tokens.push(Token::Pipe);
        } else if c == '"' || c == '`' {
            chars.next();
            let mut value = String::new();
            let mut closed = false;
            while let Some(d) = chars.next() {
                if d == c {
                    closed = true;
                    break;
                }
                if d == '\\' && c == '"' {
                    match chars.next() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some(other) => value.push(other),
                        None => {}
                    }
                } else {
                    value.push(d);
                }
            }
            if !closed {
                return Err(TemplateError(format!(
                    "unterminated quoted string in {text:?}"
                )));
            }
            tokens.push(Token::Word(Word::String(value)));
        } else {
            let mut word = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || d == '|' {
                    break;
                }
                word.push(d);
                chars.next();
            }
            let parsed = if word == "." {
                Word::Field(Vec::new())
            } else if let Some(path) = word.strip_prefix('.') {
                Word::Field(path.split('.').map(str::to_owned).collect())
            } else if let Ok(number) = word.parse::<i64>() {
                Word::Number(number)
            } else if word.starts_with('$') {
                // `$` is the root in Go; treat `$.A` as `.A`.
                Word::Field(
                    word.trim_start_matches('$')
                        .trim_start_matches('.')
                        .split('.')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                )
            } else {
                Word::Identifier(word)
            };
            tokens.push(Token::Word(parsed));
        }
    }
    Ok(tokens)
}

fn operand(word: &Word, data: &Value) -> Result<Value, TemplateError> {
    match word {
        Word::Field(path) => Ok(lookup(data, path)),
        Word::String(text) => Ok(Value::String(text.clone())),
        Word::Number(number) => Ok(Value::from(*number)),
        Word::Identifier(name) => Err(TemplateError(format!("function {name:?} not defined"))),
    }
}

fn run_command(
    command: &Command,
    data: &Value,
    piped: Option<Value>,
) -> Result<Value, TemplateError> {
    let Some((first, rest)) = command.words.split_first() else {
        return Err(TemplateError("empty command".to_owned()));
    };
    let Word::Identifier(function) = first else {
        if !rest.is_empty() || piped.is_some() {
            return Err(TemplateError(
                "can't give argument to non-function".to_owned(),
            ));
        }
        return operand(first, data);
    };
    let mut arguments = rest
        .iter()
        .map(|word| operand(word, data))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(piped) = piped {
        arguments.push(piped);
    }
    let wrong = |count: usize| {
        TemplateError(format!(
            "wrong number of args for {function}: want {count} got {}",
            arguments.len()
        ))
    };
    match function.as_str() {
        "json" => {
            let [value] = arguments.as_slice() else {
                return Err(wrong(1));
            };
            let bytes = strata_oci::to_go_json(value).map_err(|e| TemplateError(e.to_string()))?;
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        "index" => {
            let Some((collection, keys)) = arguments.split_first() else {
                return Err(wrong(2));
            };
            let mut value = collection.clone();
            for key in keys {
                value = match (&value, key) {
                    (Value::Object(_), Value::String(key)) => value
                        .get(key)
                        .cloned()
                        .unwrap_or(Value::String(String::new())),
                    (Value::Array(items), Value::Number(number)) => {
                        let index = number.as_u64().unwrap_or(u64::MAX) as usize;
                        items.get(index).cloned().ok_or_else(|| {
                            TemplateError(format!(
                                "error calling index: index out of range: {index}"
                            ))
                        })?
                    }
                    (Value::Null, _) => Value::String(String::new()),
                    _ => {
                        return Err(TemplateError(
                            "error calling index: cannot index".to_owned(),
                        ));
                    }
                };
            }
            Ok(value)
        }
        "join" => {
            let [list, separator] = arguments.as_slice() else {
                return Err(wrong(2));
            };
            let separator = print(separator);
            let items: Vec<String> = match list {
                Value::Array(items) => items.iter().map(print).collect(),
                Value::Null => Vec::new(),
                other => vec![print(other)],
            };
            Ok(Value::String(items.join(&separator)))
        }
        "upper" | "lower" | "title" | "println" | "print" => {
            let text: Vec<String> = arguments.iter().map(print).collect();
            let text = text.join(" ");
            Ok(Value::String(match function.as_str() {
                "upper" => text.to_uppercase(),
                "lower" => text.to_lowercase(),
                "title" => title(&text),
                "println" => format!("{text}\n"),
                _ => text,
            }))
        }
        "truncate" => {
            let [text, length] = arguments.as_slice() else {
                return Err(wrong(2));
            };
            let length = length.as_u64().unwrap_or(0) as usize;
            Ok(Value::String(print(text).chars().take(length).collect()))
        }
        "len" => {
            let [value] = arguments.as_slice() else {
                return Err(wrong(1));
            };
            let length = match value {
                Value::Array(items) => items.len(),
                Value::Object(entries) => entries.len(),
                Value::String(text) => text.len(),
                _ => 0,
            };
            Ok(Value::from(length))
        }
        other => Err(TemplateError(format!("function {other:?} not defined"))),
    }
}

fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// Field lookup; a missing field is null (a field Docker's JSON leaves out
/// is a nil pointer, slice or map: it prints empty, and `json` prints
/// `null`), except in a map of labels where Go prints `<no value>`.
fn lookup(data: &Value, path: &[String]) -> Value {
    let mut value = data;
    for (depth, key) in path.iter().enumerate() {
        match value.get(key) {
            Some(next) => value = next,
            None => {
                let parent_is_map = depth > 0
                    && matches!(
                        path[depth - 1].as_str(),
                        "Labels" | "ExposedPorts" | "Volumes"
                    );
                return if parent_is_map {
                    Value::String("<no value>".to_owned())
                } else {
                    Value::Null
                };
            }
        }
    }
    value.clone()
}

/// Go's default formatting of a value: `[a b]` for slices, `map[k:v]` for maps.
pub(crate) fn print(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(print).collect::<Vec<_>>().join(" ")
            )
        }
        Value::Object(entries) => {
            let mut entries: Vec<&(String, Value)> = entries.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            format!(
                "map[{}]",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", print(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, data: &serde_json::Value) -> String {
        Template::parse(template)
            .unwrap()
            .render(&Value::of(data).unwrap())
            .unwrap()
    }

    #[test]
    fn forms_people_use() {
        let data = serde_json::json!({
            "Id": "sha256:abc",
            "Config": {"StopSignal": "SIGTERM", "Labels": {"k": "v", "a.b": "c"}, "Cmd": ["sh", "-c", "a && b"], "Env": ["A=1"]},
            "RepoTags": ["x:1", "x:2"],
        });
        assert_eq!(render("{{.Id}}", &data), "sha256:abc");
        assert_eq!(render("{{.Config.StopSignal}}", &data), "SIGTERM");
        assert_eq!(render("{{index .Config.Labels \"a.b\"}}", &data), "c");
        assert_eq!(render("{{index .Config.Labels \"missing\"}}", &data), "");
        assert_eq!(render("{{.Config.Labels.missing}}", &data), "<no value>");
        assert_eq!(
            render("{{json .Config.Cmd}}", &data),
            r#"["sh","-c","a \u0026\u0026 b"]"#
        );
        assert_eq!(render("{{.Config.Cmd}}", &data), "[sh -c a && b]");
        assert_eq!(render("{{.Config.Env | json}}", &data), r#"["A=1"]"#);
        assert_eq!(render("{{join .RepoTags \",\"}}", &data), "x:1,x:2");
        assert_eq!(render("{{.Config.User}}", &data), "");
        assert_eq!(render("{{.Config.Labels}}", &data), "map[a.b:c k:v]");
        assert_eq!(
            render("id={{ .Id }}\t{{index .RepoTags 1}}", &data),
            "id=sha256:abc\tx:2"
        );
        assert_eq!(render("{{upper .Config.StopSignal}}", &data), "SIGTERM");
        assert_eq!(render("{{len .RepoTags}}", &data), "2");
    }

    #[test]
    fn errors_are_clear() {
        assert!(Template::parse("{{.Id").is_err());
        let error = Template::parse("{{nosuch .Id}}")
            .unwrap()
            .render(&Value::Null)
            .unwrap_err();
        assert!(error.to_string().contains("nosuch"), "{error}");
    }
}
