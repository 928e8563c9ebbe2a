//! `strata top`: a container's processes as the host's `ps` shows them
//! (Docker's `ContainerTop`): every process in the PID namespace of the
//! container's PID 1, `ps` run with the user's options (default `-ef`)
//! and `-q` with their pids, and the rows kept whose PID column is one of
//! them (thread rows, `-`, follow their process).

use std::process::Command;

use crate::state::Status;
use crate::{Entry, Error, Result};

/// `ps` output cut into cells: its titles, and one row per process whose
/// last cell holds the rest of the line (commands have spaces).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessList {
    /// The header's column titles.
    pub titles: Vec<String>,
    /// The container's rows, as many cells as titles.
    pub processes: Vec<Vec<String>>,
}

/// The processes of `entry` as `ps ARGUMENTS` (the options joined by
/// spaces, as docker's CLI sends them; empty means `-ef`) lists them.
pub fn top(entry: &Entry, arguments: &str) -> Result<ProcessList> {
    let arguments = if arguments.is_empty() {
        "-ef"
    } else {
        arguments
    };
    validate_ps_arguments(arguments)?;
    let id = &entry.container.id;
    if !entry.state.running() {
        return Err(Error::NotRunning { id: id.clone() });
    }
    if entry.state.status == Status::Restarting || entry.state.pid <= 0 {
        return Err(Error::Restarting { id: id.clone() });
    }
    let pids =
        namespace_pids(entry.state.pid).ok_or_else(|| Error::NotRunning { id: id.clone() })?;
    let output = run_ps(arguments, &pids)?;
    parse_ps_output(&output, &pids)
}

/// The pids of every process in the PID namespace of `pid`, sorted;
/// `None` when `pid` is gone.
fn namespace_pids(pid: i32) -> Option<Vec<u32>> {
    let namespace = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let wanted = namespace(&pid.to_string())?;
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number: u32 = name.parse().ok()?;
            (namespace(&name)? == wanted).then_some(number)
        })
        .collect();
    pids.sort_unstable();
    Some(pids)
}

/// `ps ARGUMENTS -qPIDS`, or without `-q` when `ps` refuses the mix (some
/// options, such as `f`, do); the error is ps's first line of stderr.
fn run_ps(arguments: &str, pids: &[u32]) -> Result<String> {
    // Split on single spaces, as the daemon does (`strings.Split`).
    let arguments: Vec<&str> = arguments.split(' ').collect();
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let quick = format!("-q{}", list.join(","));
    let attempt = |with_pids: bool| {
        let mut command = Command::new("ps");
        command.args(&arguments);
        if with_pids {
            command.arg(&quick);
        }
        command.output()
    };
    let output = match attempt(true) {
        Ok(output) if output.status.success() => output,
        _ => attempt(false).map_err(|error| Error::Ps {
            message: match error.kind() {
                std::io::ErrorKind::NotFound => {
                    "exec: \"ps\": executable file not found in $PATH".to_owned()
                }
                _ => strata_go::syscall::error_text(&error),
            },
        })?,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.split('\n').next().unwrap_or_default();
        let message = if first.is_empty() {
            format!("exit status {}", output.status.code().unwrap_or(1))
        } else {
            first.to_owned()
        };
        return Err(Error::Ps { message });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Keeps the header and the rows of `pids` (Docker's `parsePSOutput`).
pub(crate) fn parse_ps_output(output: &str, pids: &[u32]) -> Result<ProcessList> {
    let mut lines = output.split('\n');
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    let pid_index = titles
        .iter()
        .position(|title| title == "PID")
        .ok_or(Error::NoPidColumn)?;
    let mut list = ProcessList {
        titles,
        processes: Vec::new(),
    };
    // A thread row (`-` as its PID) belongs with the process above it.
    let mut previous_kept = false;
    for line in lines.filter(|line| !line.is_empty()) {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(&pid) = fields.get(pid_index) else {
            continue;
        };
        if pid == "-" {
            if previous_kept {
                list.push(&fields);
            }
            continue;
        }
        let pid: i64 = pid.parse().map_err(|_| Error::UnexpectedPid {
            value: pid.to_owned(),
        })?;
        previous_kept = u32::try_from(pid).is_ok_and(|pid| pids.contains(&pid));
        if previous_kept {
            list.push(&fields);
        }
    }
    Ok(list)
}

impl ProcessList {
    /// A row of as many cells as titles: the overhanging fields joined
    /// into the last one.
    fn push(&mut self, fields: &[&str]) {
        let columns = self.titles.len();
        let mut row: Vec<String> = fields
            .iter()
            .take(columns - 1)
            .map(|f| (*f).to_owned())
            .collect();
        if fields.len() >= columns {
            row.push(fields[columns - 1..].join(" "));
        }
        self.processes.push(row);
    }
}

/// Refuses options that would title another column `PID` (`-o user=PID`):
/// the rows would be filtered on it (Docker's `validatePSArgs`).
pub(crate) fn validate_ps_arguments(arguments: &str) -> Result<()> {
    let bytes = arguments.as_bytes();
    let mut position = 0;
    while position < bytes.len() {
        // A match starts after whitespace.
        let Some(offset) = bytes[position..].iter().position(u8::is_ascii_whitespace) else {
            return Ok(());
        };
        let start = position + offset;
        let token_start = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        match renamed_to_pid(arguments, token_start) {
            Some((key, value, end)) => {
                if key != "pid" {
                    return Err(Error::PsArgument { key, value });
                }
                position = end;
            }
            None => position = token_start.max(start + 1),
        }
    }
    Ok(())
}

/// At `start`, `KEY=` then optional spaces then `PID...`: (key, value,
/// where the match ends). The key is the longest that works, as the
/// greedy `([^\s]*)=\s*(PID[^\s]*)` takes it.
fn renamed_to_pid(text: &str, start: usize) -> Option<(String, String, usize)> {
    let token_end = text[start..]
        .find(|c: char| c.is_ascii_whitespace())
        .map_or(text.len(), |end| start + end);
    let token = &text[start..token_end];
    for (equals, _) in token
        .match_indices('=')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let after = start + equals + 1;
        let value_start = after
            + text[after..]
                .find(|c: char| !c.is_ascii_whitespace())
                .unwrap_or(text.len() - after);
        let rest = &text[value_start..];
        if rest.starts_with("PID") {
            let value_end = rest
                .find(|c: char| c.is_ascii_whitespace())
                .map_or(text.len(), |end| value_start + end);
            let key = token[..equals].to_owned();
            return Some((key, text[value_start..value_end].to_owned(), value_end));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS_EF: &str = "UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 12:00 ?        00:00:01 /sbin/init
root       26254   26234  0 13:02 ?        00:00:00 sleep 1000
root       27113   26234 16 13:02 ?        00:00:00 sleep 500
";

    #[test]
    fn keeps_the_header_and_the_containers_rows() {
        let list = parse_ps_output(PS_EF, &[26254, 27113]).unwrap();
        assert_eq!(
            list.titles,
            ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        );
        assert_eq!(list.processes.len(), 2);
        assert_eq!(list.processes[0][1], "26254");
        // The command's spaces stay in the last cell.
        assert_eq!(list.processes[0][7], "sleep 1000");
        assert_eq!(list.processes[1][3], "16");
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let output = "USER PID TID CMD\nroot 10 - app\nroot - 11 -\nroot 12 - other\nroot - 13 -\n";
        let list = parse_ps_output(output, &[10]).unwrap();
        assert_eq!(
            list.processes,
            [vec!["root", "10", "-", "app"], vec!["root", "-", "11", "-"]]
        );
    }

    #[test]
    fn output_without_pid_or_with_a_bad_one_is_refused() {
        let error = parse_ps_output("USER COMMAND\nroot sleep\n", &[1]).unwrap_err();
        assert_eq!(error.to_string(), "Couldn't find PID field in ps output");
        let error = parse_ps_output("PID CMD\nabc sleep\n", &[1]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Unexpected pid 'abc': strconv.Atoi: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn only_pid_may_be_titled_pid() {
        assert!(validate_ps_arguments("-ef").is_ok());
        assert!(validate_ps_arguments("-o pid=PID,comm").is_ok());
        assert!(validate_ps_arguments("-o pid,comm,args").is_ok());
        let error = validate_ps_arguments("-o user=PID").unwrap_err();
        assert_eq!(error.to_string(), "specifying \"user=PID\" is not allowed");
        let error = validate_ps_arguments("-o user= PIDX").unwrap_err();
        assert_eq!(error.to_string(), "specifying \"user=PIDX\" is not allowed");
        // No whitespace before it: not a match, as in Docker.
        assert!(validate_ps_arguments("user=PID").is_ok());
    }
}
