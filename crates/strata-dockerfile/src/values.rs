//! Values inside instructions that BuildKit checks when it dispatches them:
//! `--chmod` modes (octal or symbolic), STOPSIGNAL signals, EXPOSE ports.

use strata_go::strconv::{self, parse_int, parse_uint};

/// A `--chmod` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chmod {
    /// An octal mode, at most `07777`.
    Octal(u32),
    /// A symbolic mode such as `u+rwx,g=rx,o-w`, applied to each file.
    Symbolic(SymbolicMode),
}

impl Chmod {
    /// Parses like BuildKit's COPY/ADD dispatch: octal first (at most 07777),
    /// else chmod(1)'s symbolic syntax. The error is BuildKit's message.
    pub fn parse(value: &str) -> Result<Chmod, String> {
        let non_octal = || {
            format!(
                "invalid chmod parameter: '{value}'. it should be octal string and between 0 and 07777"
            )
        };
        if let Ok(mode) = parse_uint(value, 8, 32) {
            return if mode > 0o7777 {
                Err(non_octal())
            } else {
                Ok(Chmod::Octal(mode as u32))
            };
        }
        if value.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            // BuildKit reports any numeric-looking value with the octal message.
            return Err(non_octal());
        }
        SymbolicMode::parse(value)
            .map(Chmod::Symbolic)
            .ok_or_else(|| "invalid syntax".to_string())
    }

    /// The mode a file with `mode` (permission bits, set-id and sticky bits)
    /// gets; `is_directory` matters for `X`.
    pub fn apply(&self, mode: u32, is_directory: bool) -> u32 {
        match self {
            Chmod::Octal(octal) => (mode & !0o7777) | octal,
            Chmod::Symbolic(symbolic) => symbolic.apply(mode, is_directory),
        }
    }
}

/// One clause action of a symbolic mode.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Action {
    /// Which bits the clause may touch (`u`, `g`, `o`, `a`; empty = all).
    who: u32,
    /// `+`, `-` or `=`.
    operator: char,
    /// Permission bits named (`rwxst`).
    permissions: u32,
    /// `X`: execute if a directory or already executable by someone.
    conditional_execute: bool,
    /// Copy from another class (`u`, `g`, `o`), if named.
    copy_from: Option<char>,
}

/// A symbolic mode as chmod(1) reads it (`[ugoa]*[+-=][rwxXstugo]*`, clauses
/// separated by commas, several operators per clause).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolicMode {
    actions: Vec<Action>,
}

const USER_BITS: u32 = 0o4700;
const GROUP_BITS: u32 = 0o2070;
const OTHER_BITS: u32 = 0o0007;
const ALL_BITS: u32 = 0o7777;

impl SymbolicMode {
    /// Parses a symbolic mode; `None` when chmod(1) would reject it.
    pub fn parse(text: &str) -> Option<SymbolicMode> {
        let mut actions = Vec::new();
        let bytes = text.as_bytes();
        let mut index = 0;
        if bytes.is_empty() {
            return None;
        }
        loop {
            // Who.
            let mut who = 0;
            loop {
                match bytes.get(index)? {
                    b'a' => who |= ALL_BITS & !0o1000,
                    b'u' => who |= USER_BITS,
                    b'g' => who |= GROUP_BITS,
                    b'o' => who |= OTHER_BITS,
                    _ => break,
                }
                index += 1;
            }
            // One or more operator + permissions groups.
            loop {
                let operator = match bytes.get(index)? {
                    b'+' => '+',
                    b'-' => '-',
                    b'=' => '=',
                    _ => return None,
                };
                index += 1;
                let mut action = Action {
                    who,
                    operator,
                    permissions: 0,
                    conditional_execute: false,
                    copy_from: None,
                };
                while let Some(&byte) = bytes.get(index) {
                    match byte {
                        b'r' => action.permissions |= 0o444,
                        b'w' => action.permissions |= 0o222,
                        b'x' => action.permissions |= 0o111,
                        b'X' => action.conditional_execute = true,
                        b's' => action.permissions |= 0o6000,
                        b't' => action.permissions |= 0o1000,
                        b'u' | b'g' | b'o' => action.copy_from = Some(char::from(byte)),
                        _ => break,
                    }
                    index += 1;
                }
                actions.push(action);
                match bytes.get(index) {
                    None => return Some(SymbolicMode { actions }),
                    Some(b',') => {
                        index += 1;
                        break;
                    }
                    Some(_) => continue,
                }
            }
        }
    }

    /// Applies the mode to `mode` (umask 0, as BuildKit does).
    pub fn apply(&self, mode: u32, is_directory: bool) -> u32 {
        let original = mode;
        let mut result = mode & ALL_BITS;
        for action in &self.actions {
            let who = if action.who == 0 {
                ALL_BITS
            } else {
                action.who
            };
            let mut bits = action.permissions;
            if let Some(class) = action.copy_from {
                let source = match class {
                    'u' => (result >> 6) & 0o7,
                    'g' => (result >> 3) & 0o7,
                    _ => result & 0o7,
                };
                bits |= source * 0o111;
            }
            if action.conditional_execute
                && (is_directory || original & 0o111 != 0)
                && action.operator != '-'
            {
                bits |= 0o111;
            }
            // Set-id bits only for u/g, sticky only when who is empty or includes more than other.
            let mut mask = who;
            if action.who != 0 && action.who & !OTHER_BITS == 0 {
                mask &= !0o7000;
            }
            if action.who == 0 || action.who & !OTHER_BITS != 0 {
                mask |= if action.permissions & 0o1000 != 0 {
                    0o1000
                } else {
                    0
                };
            }
            let bits = bits & mask;
            match action.operator {
                '+' => result |= bits,
                '-' => result &= !bits,
                _ => result = (result & !(who & 0o0777 | (who & 0o6000))) | bits,
            }
        }
        (mode & !ALL_BITS) | result
    }
}

/// STOPSIGNAL's value as moby's `signal.ParseSignal` reads it on Linux: a
/// number, or a name with or without `SIG`. The error is BuildKit's
/// (`moby/sys/signal` v0.7, lower-case).
pub fn parse_signal(value: &str) -> Result<i32, String> {
    strata_go::signal::parse(value)
        .and_then(|number| i32::try_from(number).ok())
        .ok_or_else(|| format!("invalid signal: {value}"))
}

/// One EXPOSE value as BuildKit reads it (`[ip:][hostPort:]port[-end][/proto]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    /// The ports it exposes, `port/proto` (proto lower-cased, `tcp` by default).
    pub ports: Vec<String>,
    /// The protocol as written (for the ExposeProtoCasing lint rule).
    pub protocol: String,
    /// Whether an IP or host port was given (the ExposeInvalidFormat lint rule).
    pub has_host_part: bool,
}

/// Parses one expanded EXPOSE word like BuildKit's `parsePort`.
pub fn parse_port(raw: &str) -> Result<PortSpec, String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (ip, host_port, container_port) = match parts.len() {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        count => (
            parts[..count - 2].join(":"),
            parts[count - 2],
            parts[count - 1],
        ),
    };
    let (port, protocol) = container_port
        .split_once('/')
        .unwrap_or((container_port, ""));
    if port.is_empty() {
        return Err(format!(
            "invalid port: {}: no port specified",
            strconv::quote(raw)
        ));
    }
    let protocol_lower = protocol.to_ascii_lowercase();
    let protocol = match protocol_lower.as_str() {
        "" => "tcp".to_string(),
        "tcp" | "udp" | "sctp" => protocol.to_string(),
        _ => {
            return Err(format!(
                "invalid port: {}: invalid proto: {protocol}",
                strconv::quote(raw)
            ));
        }
    };
    let mut ip = ip;
    if ip.starts_with('[') {
        match ip.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            Some(inner) => ip = inner.to_string(),
            None => return Err(format!("invalid IP address {ip}")),
        }
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    let (start, end) =
        parse_port_range(port).map_err(|_| format!("invalid containerPort: {port}"))?;
    if !host_port.is_empty() {
        let (host_start, host_end) =
            parse_port_range(host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?;
        if end - start != host_end - host_start && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {port} and {host_port}"
            ));
        }
    }
    let protocol_out = protocol.to_ascii_lowercase();
    Ok(PortSpec {
        ports: (start..=end)
            .map(|number| format!("{number}/{protocol_out}"))
            .collect(),
        protocol,
        has_host_part: !ip.is_empty() || !host_port.is_empty(),
    })
}

fn parse_port_range(text: &str) -> Result<(u32, u32), ()> {
    if text.is_empty() {
        return Err(());
    }
    let (start, end) = match text.split_once('-') {
        Some((start, end)) => (start, Some(end)),
        None => (text, None),
    };
    let number = |value: &str| -> Result<u32, ()> {
        let parsed = parse_int(value, 64).map_err(|_| ())?;
        u32::try_from(parsed)
            .ok()
            .filter(|port| *port <= 65535)
            .ok_or(())
    };
    let first = number(start)?;
    match end {
        None => Ok((first, first)),
        Some(end) if end == start => Ok((first, first)),
        Some(end) => {
            let last = number(end)?;
            if last < first {
                Err(())
            } else {
                Ok((first, last))
            }
        }
    }
}

/// `units.RAMInBytes` as vendored by BuildKit and buildx (`--shm-size 64m`,
/// a tmpfs `size=`): binary units, case-insensitive, optional `b`/`ib`;
/// the error is go-units' (or Go's `strconv.ParseFloat`) message.
pub fn parse_size(text: &str) -> Result<i64, String> {
    let invalid_size = || format!("invalid size: '{text}'");
    let separator = text
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(invalid_size)?;
    let (number, suffix) = if text.as_bytes()[separator] != b' ' {
        (&text[..=separator], &text[separator + 1..])
    } else {
        (&text[..separator], &text[separator + 1..])
    };
    let size: f64 = number
        .parse()
        .ok()
        .filter(|size: &f64| !size.is_nan())
        .ok_or_else(|| {
            format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                strconv::quote(number)
            )
        })?;
    if size < 0.0 {
        return Err(invalid_size());
    }
    if suffix.is_empty() {
        return Ok(size as i64);
    }
    let bad_suffix = |suffix: &str| format!("invalid suffix: '{suffix}'");
    if suffix.len() > 3 {
        return Err(bad_suffix(suffix));
    }
    let lower = suffix.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    if bytes[0] == b'b' {
        return if bytes.len() > 1 {
            Err(bad_suffix(&lower))
        } else {
            Ok(size as i64)
        };
    }
    let power = match bytes[0] {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return Err(bad_suffix(&lower)),
    };
    if (bytes.len() == 2 && bytes[1] != b'b') || (bytes.len() == 3 && &lower[1..] != "ib") {
        return Err(bad_suffix(&lower));
    }
    Ok((size * 1024f64.powi(power)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmod_values() {
        assert_eq!(Chmod::parse("755"), Ok(Chmod::Octal(0o755)));
        assert_eq!(Chmod::parse("0644"), Ok(Chmod::Octal(0o644)));
        assert!(
            Chmod::parse("10000")
                .unwrap_err()
                .starts_with("invalid chmod parameter")
        );
        assert!(
            Chmod::parse("8")
                .unwrap_err()
                .starts_with("invalid chmod parameter")
        );
        assert_eq!(Chmod::parse("u+").map(|_| ()), Ok(()));
        assert_eq!(Chmod::parse("-1"), Err("invalid syntax".into()));
        assert_eq!(Chmod::parse("u+x,"), Err("invalid syntax".into()));
        assert_eq!(Chmod::parse("q+x"), Err("invalid syntax".into()));
        let mode = Chmod::parse("u=rwx,go=rx").unwrap();
        assert_eq!(mode.apply(0o600, false), 0o755);
        let mode = Chmod::parse("go-w,+X").unwrap();
        assert_eq!(mode.apply(0o666, false), 0o644);
        assert_eq!(mode.apply(0o666, true), 0o755);
        assert_eq!(Chmod::parse("g=u").unwrap().apply(0o740, false), 0o770);
        assert_eq!(Chmod::parse("a+r").unwrap().apply(0o600, false), 0o644);
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("SIGKILL"), Ok(9));
        assert_eq!(parse_signal("term"), Ok(15));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(parse_signal("RTMAX-1"), Ok(63));
        assert_eq!(parse_signal("0"), Err("invalid signal: 0".into()));
        assert_eq!(parse_signal("SIGFOO"), Err("invalid signal: SIGFOO".into()));
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("80").unwrap().ports, ["80/tcp"]);
        assert_eq!(parse_port("53/UDP").unwrap().ports, ["53/udp"]);
        assert_eq!(
            parse_port("8000-8002/tcp").unwrap().ports,
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(parse_port("127.0.0.1:80:80").unwrap().has_host_part);
        assert!(parse_port("80/icmp").is_err());
        assert!(parse_port("70000").is_err());
        assert!(parse_port("9-8").is_err());
    }

    #[test]
    fn sizes_are_go_units_ram_in_bytes() {
        assert_eq!(parse_size("64m"), Ok(64 * 1024 * 1024));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("2 GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("10b"), Ok(10));
        assert_eq!(parse_size("x"), Err("invalid size: 'x'".into()));
        assert_eq!(parse_size("-1"), Err("invalid size: '-1'".into()));
        assert_eq!(parse_size("64x"), Err("invalid suffix: 'x'".into()));
        assert_eq!(parse_size("64MX"), Err("invalid suffix: 'mx'".into()));
        assert_eq!(parse_size("1kilo"), Err("invalid suffix: 'kilo'".into()));
        assert_eq!(
            parse_size("1.2.3m"),
            Err("strconv.ParseFloat: parsing \"1.2.3\": invalid syntax".into())
        );
    }
}
