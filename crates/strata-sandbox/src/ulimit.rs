//! Resource limits by docker's names (`--ulimit nofile=1024:2048`), parsed
//! as docker's go-units does, with its error texts.

use rustix::process::{Resource, Rlimit};
use serde::{Deserialize, Serialize};
use strata_go::strconv::parse_int;

use crate::error::{Error, Result};

/// Docker's ulimit names (go-units' table; `as` is disabled there too).
const NAMES: [(&str, Resource); 15] = [
    ("core", Resource::Core),
    ("cpu", Resource::Cpu),
    ("data", Resource::Data),
    ("fsize", Resource::Fsize),
    ("locks", Resource::Locks),
    ("memlock", Resource::Memlock),
    ("msgqueue", Resource::Msgqueue),
    ("nice", Resource::Nice),
    ("nofile", Resource::Nofile),
    ("nproc", Resource::Nproc),
    ("rss", Resource::Rss),
    ("rtprio", Resource::Rtprio),
    ("rttime", Resource::Rttime),
    ("sigpending", Resource::Sigpending),
    ("stack", Resource::Stack),
];

/// One resource limit: docker's name, soft and hard limits (-1: unlimited).
/// Only values [`Ulimit::parse`] accepts are meaningful.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// Docker's name (`nofile`, `nproc`, `core`, ...).
    pub name: String,
    /// The soft limit.
    pub soft: i64,
    /// The hard limit (the soft one when not given).
    pub hard: i64,
}

impl Ulimit {
    /// Parses `NAME=SOFT[:HARD]` as docker's CLI (go-units `ParseUlimit`).
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |message: String| Error::InvalidUlimit { message };
        let Some((name, values)) = text.split_once('=') else {
            return Err(invalid(format!("invalid ulimit argument: {text}")));
        };
        if resource_of(name).is_none() {
            return Err(invalid(format!("invalid ulimit type: {name}")));
        }
        let parts: Vec<&str> = values.split(':').collect();
        let (soft, hard) = match parts.as_slice() {
            [soft] => {
                let soft = parse_int(soft, 64).map_err(invalid)?;
                (soft, soft)
            }
            [soft, hard] => {
                // Go parses the hard limit first: its error wins.
                let hard = parse_int(hard, 64).map_err(invalid)?;
                (parse_int(soft, 64).map_err(invalid)?, hard)
            }
            _ => {
                return Err(invalid(format!(
                    "too many limit value arguments - {values}, can only have up to two, `soft[:hard]`"
                )));
            }
        };
        if hard != -1 && soft == -1 {
            return Err(invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {hard}"
            )));
        }
        if hard != -1 && soft > hard {
            return Err(invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            soft,
            hard,
        })
    }

    /// The kernel's resource and limits (-1 and other negatives: infinity,
    /// as Go's `uint64(-1)` is); `None` for a name docker does not know.
    pub(crate) fn rlimit(&self) -> Option<(Resource, Rlimit)> {
        let limit = |value: i64| u64::try_from(value).ok();
        Some((
            resource_of(&self.name)?,
            Rlimit {
                current: limit(self.soft),
                maximum: limit(self.hard),
            },
        ))
    }
}

/// The resource a docker ulimit name stands for.
pub(crate) fn resource_of(name: &str) -> Option<Resource> {
    NAMES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, resource)| *resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, i64, i64) {
        let ulimit = Ulimit::parse(text).unwrap();
        (ulimit.name, ulimit.soft, ulimit.hard)
    }

    fn error(text: &str) -> String {
        Ulimit::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn soft_alone_is_also_the_hard_limit() {
        assert_eq!(parsed("nofile=1024"), ("nofile".into(), 1024, 1024));
        assert_eq!(parsed("nofile=512:2048"), ("nofile".into(), 512, 2048));
        assert_eq!(parsed("core=-1"), ("core".into(), -1, -1));
        assert_eq!(parsed("nproc=10:-1"), ("nproc".into(), 10, -1));
    }

    #[test]
    fn bad_values_are_go_units_errors() {
        assert_eq!(error("nofile"), "invalid ulimit argument: nofile");
        assert_eq!(error("as=1"), "invalid ulimit type: as");
        assert_eq!(
            error("nofile=x"),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            error("nofile=1:y"),
            "strconv.ParseInt: parsing \"y\": invalid syntax"
        );
        assert_eq!(
            error("nofile=99999999999999999999"),
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(
            error("nofile=1:2:3"),
            "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"
        );
        assert_eq!(
            error("nofile=2048:1024"),
            "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"
        );
        assert_eq!(
            error("nofile=-1:1024"),
            "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024"
        );
    }

    #[test]
    fn unlimited_is_infinity() {
        let (resource, limit) = Ulimit::parse("core=-1").unwrap().rlimit().unwrap();
        assert_eq!(resource, Resource::Core);
        assert_eq!(limit.current, None);
        assert_eq!(limit.maximum, None);
    }
}
