//! moby's `signal` package on Linux (BuildKit's `moby/sys/signal`, docker
//! 20.10's `pkg/signal`): the signal names Docker and BuildKit accept, and
//! `ParseSignal`.

use crate::{strconv, strings};

/// `SignalMap`'s fixed names (without `SIG`), in its source's order; the
/// real-time ones are [`by_name`]'s.
const NAMES: [(&str, i64); 34] = [
    ("ABRT", 6),
    ("ALRM", 14),
    ("BUS", 7),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("FPE", 8),
    ("HUP", 1),
    ("ILL", 4),
    ("INT", 2),
    ("IO", 29),
    ("IOT", 6),
    ("KILL", 9),
    ("PIPE", 13),
    ("POLL", 29),
    ("PROF", 27),
    ("PWR", 30),
    ("QUIT", 3),
    ("SEGV", 11),
    ("STKFLT", 16),
    ("STOP", 19),
    ("SYS", 31),
    ("TERM", 15),
    ("TRAP", 5),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("USR1", 10),
    ("USR2", 12),
    ("VTALRM", 26),
    ("WINCH", 28),
    ("XCPU", 24),
    ("XFSZ", 25),
];

const RTMIN: i64 = 34;
const RTMAX: i64 = 64;

/// moby's `ParseSignal`: a non-zero number (`strconv.Atoi`, any value), or a
/// name in `SignalMap`, any case, with or without `SIG`.
pub fn parse(text: &str) -> Option<i64> {
    if let Ok(number) = strconv::parse_int(text, 64) {
        return (number != 0).then_some(number);
    }
    let upper = strings::to_upper(text);
    by_name(upper.strip_prefix("SIG").unwrap_or(&upper))
}

/// moby's `ValidSignalForPlatform`: whether `number` is in `SignalMap`.
pub fn is_known(number: i64) -> bool {
    NAMES.iter().any(|(_, known)| *known == number) || (RTMIN..=RTMAX).contains(&number)
}

/// The first fixed name of `number` (`TERM` for 15); none for real-time ones.
pub fn name(number: i64) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(_, known)| *known == number)
        .map(|(name, _)| *name)
}

/// A `SignalMap` key: a fixed name, `RTMIN`, `RTMIN+1` to `RTMIN+15`,
/// `RTMAX-14` to `RTMAX-1` or `RTMAX`, written exactly so.
fn by_name(name: &str) -> Option<i64> {
    if let Some((_, number)) = NAMES.iter().find(|(known, _)| *known == name) {
        return Some(*number);
    }
    let offset = |text: &str, most: i64| (1..=most).find(|offset| offset.to_string() == text);
    match name {
        "RTMIN" => Some(RTMIN),
        "RTMAX" => Some(RTMAX),
        _ => match (name.strip_prefix("RTMIN+"), name.strip_prefix("RTMAX-")) {
            (Some(text), _) => offset(text, 15).map(|offset| RTMIN + offset),
            (_, Some(text)) => offset(text, 14).map(|offset| RTMAX - offset),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_as_moby_reads_them() {
        let table: &[(&str, Option<i64>)] = &[
            ("SIGTERM", Some(15)),
            ("term", Some(15)),
            ("sigkill", Some(9)),
            ("9", Some(9)),
            ("+9", Some(9)),
            ("99", Some(99)),
            ("-1", Some(-1)),
            ("0", None),
            ("SIGRTMIN", Some(34)),
            ("RTMIN+3", Some(37)),
            ("RTMIN+15", Some(49)),
            ("RTMAX-14", Some(50)),
            ("SIGRTMAX-1", Some(63)),
            ("RTMAX", Some(64)),
            ("RTMIN+16", None),
            ("RTMIN+0", None),
            ("RTMIN+03", None),
            ("RTMIN3", None),
            ("RTMAX-15", None),
            ("FOO", None),
            ("SIG", None),
            ("", None),
        ];
        for (text, number) in table {
            assert_eq!(parse(text), *number, "{text}");
        }
    }

    #[test]
    fn known_numbers_and_names() {
        assert!(is_known(15) && is_known(34) && is_known(64) && is_known(31));
        assert!(!is_known(0) && !is_known(32) && !is_known(33) && !is_known(65));
        assert_eq!(name(6), Some("ABRT"));
        assert_eq!(name(17), Some("CHLD"));
        assert_eq!(name(40), None);
    }
}
