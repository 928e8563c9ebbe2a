//! BuildKit's `BFlags`: the flags an instruction defines, parsed from the
//! instruction's raw flags with BuildKit's errors.

use super::typing::Context;
use crate::error::{Error, ErrorKind};
use strata_go::strings;
use strata_go::suggest::with_suggestion;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FlagType {
    Bool,
    String,
    Strings,
}

pub(super) struct FlagValue {
    name: &'static str,
    kind: FlagType,
    value: Option<String>,
    values: Vec<String>,
    used: bool,
}

/// BuildKit's `BFlags`: defined flags, then `Parse` over the raw flags.
pub(super) struct Flags<'a> {
    context: &'a Context<'a>,
    definitions: Vec<FlagValue>,
}

impl<'a> Flags<'a> {
    pub(super) fn new(context: &'a Context<'a>) -> Flags<'a> {
        Flags {
            context,
            definitions: Vec::new(),
        }
    }

    pub(super) fn define(mut self, name: &'static str, kind: FlagType) -> Flags<'a> {
        self.definitions.push(FlagValue {
            name,
            kind,
            value: None,
            values: Vec::new(),
            used: false,
        });
        self
    }

    pub(super) fn parse(mut self) -> Result<Flags<'a>, Error> {
        for flag in &self.context.instruction.flags {
            let text = flag.text.as_str();
            let error =
                |message: String| self.context.error_at(ErrorKind::Flag, message, flag.span);
            if text == "--" {
                break;
            }
            let Some(body) = text.strip_prefix("--") else {
                return Err(error(format!("arg should start with -- : {text}")));
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            let flag_name = format!("--{name}");
            let Some(definition) = self.definitions.iter_mut().find(|d| d.name == name) else {
                // BuildKit ranges over a map of the flags: sorted here.
                let mut names: Vec<&str> = self.definitions.iter().map(|d| d.name).collect();
                names.sort_unstable();
                return Err(error(with_suggestion(
                    format!("unknown flag: {flag_name}"),
                    name,
                    &names,
                    true,
                )));
            };
            if definition.used && definition.kind != FlagType::Strings {
                return Err(error(format!("duplicate flag specified: {flag_name}")));
            }
            definition.used = true;
            match definition.kind {
                FlagType::Bool => {
                    if value == Some("") {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    }
                    let lower = strings::to_lower(value.unwrap_or(""));
                    definition.value = Some(match lower.as_str() {
                        "true" | "" => "true".to_string(),
                        "false" => "false".to_string(),
                        _ => {
                            return Err(error(format!(
                                "expecting boolean value for flag {flag_name}, not: {}",
                                value.unwrap_or("")
                            )));
                        }
                    });
                }
                FlagType::String => {
                    let Some(value) = value else {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    };
                    definition.value = Some(value.to_string());
                }
                FlagType::Strings => {
                    let Some(value) = value else {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    };
                    definition.values.push(value.to_string());
                }
            }
        }
        Ok(self)
    }

    fn get(&self, name: &str) -> Option<&FlagValue> {
        self.definitions.iter().find(|d| d.name == name)
    }

    pub(super) fn string(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|flag| flag.value.clone())
    }

    pub(super) fn boolean(&self, name: &str) -> bool {
        self.get(name).and_then(|flag| flag.value.as_deref()) == Some("true")
    }

    pub(super) fn optional_boolean(&self, name: &str) -> Option<bool> {
        self.get(name)
            .filter(|flag| flag.used)
            .map(|_| self.boolean(name))
    }

    /// The names of the flags that were given, in definition order.
    pub(super) fn used_names(&self) -> Vec<String> {
        self.definitions
            .iter()
            .filter(|d| d.used)
            .map(|d| d.name.to_string())
            .collect()
    }

    pub(super) fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|flag| flag.values.clone())
            .unwrap_or_default()
    }
}
