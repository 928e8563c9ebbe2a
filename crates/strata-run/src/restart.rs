//! Restart policies (`--restart`) and Docker's back-off between restarts.

use std::time::Duration;

use crate::record::RestartPolicy;
use crate::{Error, Result};

/// The first delay before a restart; it doubles after each restart.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the delay.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// Parses `--restart` (`no`, `always`, `unless-stopped`, `on-failure[:N]`)
/// with today's Docker's messages.
pub fn parse_restart_policy(text: &str) -> Result<RestartPolicy> {
    let invalid = |message: String| Error::InvalidFlag {
        flag: "--restart",
        message,
    };
    let (name, count) = match text.split_once(':') {
        Some((name, count)) => (name, Some(count)),
        None => (text, None),
    };
    let name = if name.is_empty() { "no" } else { name };
    if !matches!(name, "no" | "always" | "unless-stopped" | "on-failure") {
        return Err(invalid(format!("invalid restart policy '{name}'")));
    }
    let maximum_retry_count = match count {
        None => 0,
        Some(count) => count.parse::<i64>().map_err(|_| {
            invalid(
                "invalid restart policy format: maximum retry count must be an integer".to_owned(),
            )
        })?,
    };
    if maximum_retry_count < 0 {
        return Err(invalid("maximum retry count cannot be negative".to_owned()));
    }
    if count.is_some() && name != "on-failure" {
        return Err(invalid(format!(
            "maximum retry count cannot be used with restart policy '{name}'"
        )));
    }
    Ok(RestartPolicy {
        name: name.to_owned(),
        maximum_retry_count,
    })
}

/// Whether a container that exited with `exit_code` restarts, after
/// `restarts` restarts so far; never after a manual stop.
pub(crate) fn should_restart(
    policy: &RestartPolicy,
    exit_code: i32,
    restarts: u32,
    manually_stopped: bool,
) -> bool {
    if manually_stopped {
        return false;
    }
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            exit_code != 0
                && (policy.maximum_retry_count == 0
                    || i64::from(restarts) < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// The delay before the next restart: 100 ms after a run of 10 s or more,
/// otherwise twice the last delay, at most a minute.
pub(crate) fn next_delay(last: Option<Duration>, ran_for: Duration) -> Duration {
    match last {
        Some(last) if ran_for < RESET_AFTER => (last * 2).min(MAX_DELAY),
        _ => FIRST_DELAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_with_dockers_messages() {
        assert_eq!(parse_restart_policy("always").unwrap().name, "always");
        let policy = parse_restart_policy("on-failure:3").unwrap();
        assert_eq!(
            (policy.name.as_str(), policy.maximum_retry_count),
            ("on-failure", 3)
        );
        assert_eq!(
            parse_restart_policy("foo").unwrap_err().to_string(),
            "invalid restart policy 'foo'"
        );
        assert_eq!(
            parse_restart_policy("always:3").unwrap_err().to_string(),
            "maximum retry count cannot be used with restart policy 'always'"
        );
        assert_eq!(
            parse_restart_policy("on-failure:-1")
                .unwrap_err()
                .to_string(),
            "maximum retry count cannot be negative"
        );
        assert!(parse_restart_policy("always:3").is_err());
        assert!(parse_restart_policy("on-failure:x").is_err());
    }

    #[test]
    fn restarts_follow_the_policy() {
        let on_failure = parse_restart_policy("on-failure:2").unwrap();
        assert!(should_restart(&on_failure, 1, 0, false));
        assert!(should_restart(&on_failure, 1, 1, false));
        assert!(!should_restart(&on_failure, 1, 2, false));
        assert!(!should_restart(&on_failure, 0, 0, false));
        let always = parse_restart_policy("always").unwrap();
        assert!(should_restart(&always, 0, 100, false));
        assert!(!should_restart(&always, 0, 0, true));
        assert!(!should_restart(
            &parse_restart_policy("no").unwrap(),
            1,
            0,
            false
        ));
    }

    #[test]
    fn the_delay_doubles_and_resets_after_a_long_run() {
        let short = Duration::from_secs(1);
        assert_eq!(next_delay(None, short), FIRST_DELAY);
        assert_eq!(
            next_delay(Some(FIRST_DELAY), short),
            Duration::from_millis(200)
        );
        assert_eq!(next_delay(Some(Duration::from_secs(50)), short), MAX_DELAY);
        assert_eq!(
            next_delay(Some(Duration::from_secs(8)), Duration::from_secs(11)),
            FIRST_DELAY
        );
    }
}
