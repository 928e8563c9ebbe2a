//! Signal names and numbers as Docker reads them (`SIGTERM`, `TERM`, `15`,
//! `SIGRTMIN+3`), for `--stop-signal`, STOPSIGNAL and `kill -s`.

use crate::{Error, Result};

/// The number of signal `text` as docker 20.10's daemon takes it for `kill
/// -s` and a stop: moby's `ParseSignal` ([`strata_go::signal`]), then
/// `ValidSignalForPlatform`; the daemon's messages otherwise.
pub fn parse_signal(text: &str) -> Result<i32> {
    let invalid = |message: String| Error::InvalidFlag {
        flag: "--signal",
        message,
    };
    let number =
        strata_go::signal::parse(text).ok_or_else(|| invalid(format!("Invalid signal: {text}")))?;
    match i32::try_from(number) {
        Ok(number) if strata_go::signal::is_known(i64::from(number)) => Ok(number),
        _ => Err(invalid(format!(
            "The linux daemon does not support signal {number}"
        ))),
    }
}

/// Whether `--stop-signal` takes `text`: moby's `ParseSignal` only, so a
/// number the platform lacks (`99`) is kept, as docker does.
pub(crate) fn is_stop_signal(text: &str) -> bool {
    strata_go::signal::parse(text).is_some()
}

/// `SIGTERM` for 15 (the name Docker prints), or the number.
pub fn signal_name(number: i32) -> String {
    strata_go::signal::name(i64::from(number))
        .map_or_else(|| number.to_string(), |name| format!("SIG{name}"))
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
        assert_eq!(
            parse_signal("0").unwrap_err().to_string(),
            "Invalid signal: 0"
        );
        assert_eq!(
            parse_signal("65").unwrap_err().to_string(),
            "The linux daemon does not support signal 65"
        );
        assert!(parse_signal("RTMIN+16").is_err());
        assert!(is_stop_signal("99") && !is_stop_signal("FOO") && !is_stop_signal("0"));
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
