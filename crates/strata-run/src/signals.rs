//! Signal names and numbers as Docker reads them (`SIGTERM`, `TERM`, `15`,
//! `SIGRTMIN+3`), for `--stop-signal`, STOPSIGNAL and `kill -s`.

use crate::{Error, Result};

const NAMES: &[(&str, i32)] = &[
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

const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The number of signal `text` (name with or without `SIG`, any case,
/// `RTMIN+n`/`RTMAX-n`, or a number); Docker's message otherwise.
pub fn parse_signal(text: &str) -> Result<i32> {
    let invalid = || Error::InvalidFlag {
        flag: "--signal",
        message: format!("Invalid signal: {text}"),
    };
    if let Ok(number) = text.parse::<i32>() {
        return if (1..=RTMAX).contains(&number) {
            Ok(number)
        } else {
            Err(invalid())
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, number)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(*number);
    }
    let realtime = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let offset: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let number = base + sign * offset;
        (RTMIN..=RTMAX).contains(&number).then_some(number)
    };
    let number = if let Some(rest) = name.strip_prefix("RTMIN") {
        rest.strip_prefix('+')
            .map_or_else(|| realtime(RTMIN, rest, 1), |r| realtime(RTMIN, r, 1))
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        rest.strip_prefix('-')
            .map_or_else(|| realtime(RTMAX, rest, -1), |r| realtime(RTMAX, r, -1))
    } else {
        None
    };
    number.ok_or_else(invalid)
}

/// `SIGTERM` for 15 (the name Docker prints), or the number.
pub fn signal_name(number: i32) -> String {
    NAMES
        .iter()
        .find(|(_, n)| *n == number)
        .map_or_else(|| number.to_string(), |(name, _)| format!("SIG{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_as_docker_reads_them() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("term").unwrap(), 15);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("SIGUSR1").unwrap(), 10);
        assert_eq!(parse_signal("RTMIN+3").unwrap(), 37);
        assert_eq!(parse_signal("SIGRTMAX-1").unwrap(), 63);
        assert_eq!(
            parse_signal("FOO").unwrap_err().to_string(),
            "Invalid signal: FOO"
        );
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("65").is_err());
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
