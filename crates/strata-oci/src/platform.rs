//! Platforms (`linux/arm64/v8`) as containerd's `platforms` package reads,
//! normalises and formats them; the host's; matching for index selection.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An OS, CPU architecture and optional variant, with the OCI JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's names (`amd64`, `arm64`, `arm`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// OS version (Windows only in practice).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// Why a string is not a platform.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid platform {text:?}: expected os/architecture[/variant], like linux/amd64")]
pub struct PlatformError {
    /// The text given.
    pub text: String,
}

/// The operating systems containerd's `platforms.Parse` knows in a one-part
/// platform (`isKnownOS`).
const KNOWN_OS: [&str; 17] = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

/// The architectures containerd knows in a one-part platform (`isKnownArch`).
const KNOWN_ARCHITECTURES: [&str; 24] = [
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// Go's `runtime.GOARCH` for the target this program was built for (Rust's
/// architecture names differ, and leave the byte order out).
fn go_architecture() -> &'static str {
    let little_endian = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "loongarch64" => "loong64",
        "powerpc64" if little_endian => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "mips" if little_endian => "mipsle",
        "mips64" if little_endian => "mips64le",
        "wasm32" => "wasm",
        other => other,
    }
}

/// containerd's `normalizeOS`: lower case, `macos` as `darwin`, the host's
/// when empty.
fn normalize_os(os: &str) -> String {
    if os.is_empty() {
        return Platform::host().os;
    }
    match os.to_ascii_lowercase().as_str() {
        "macos" => "darwin".to_owned(),
        other => other.to_owned(),
    }
}

/// containerd's `normalizeArch`: Go's name for the architecture and the
/// variant spelled canonically, the default variant left out (but arm's `v7`).
fn normalize_architecture(architecture: &str, variant: &str) -> (String, String) {
    let variant = variant.to_ascii_lowercase();
    let (architecture, variant) = match architecture.to_ascii_lowercase().as_str() {
        "i386" => ("386", String::new()),
        "x86_64" | "x86-64" | "amd64" => (
            "amd64",
            if variant == "v1" {
                String::new()
            } else {
                variant
            },
        ),
        "aarch64" | "arm64" => (
            "arm64",
            match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".to_owned(),
                _ => variant,
            },
        ),
        "armhf" => ("arm", "v7".to_owned()),
        "armel" => ("arm", "v6".to_owned()),
        "arm" => (
            "arm",
            match variant.as_str() {
                "" | "7" => "v7".to_owned(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            },
        ),
        other => return (other.to_owned(), variant),
    };
    (architecture.to_owned(), variant)
}

/// Whether `part` matches containerd's `specifierRe` (`^[A-Za-z0-9_.-]+$`).
fn is_specifier(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// containerd's `osRe` over the first part, `os[(version[+feature]*)]`:
/// the OS, the version and the features, decoded (`decodeOSOption`).
fn parse_os_part(part: &str) -> Option<(String, String, Vec<String>)> {
    let is_name = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    };
    let is_option = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'%' | b'-'))
    };
    let Some((os, rest)) = part.split_once('(') else {
        return is_name(part).then(|| (part.to_owned(), String::new(), Vec::new()));
    };
    let options = rest.strip_suffix(')')?;
    if !is_name(os) {
        return None;
    }
    let mut pieces = options.split('+');
    let version = pieces.next().unwrap_or_default();
    if !is_option(version) {
        return None;
    }
    let mut features = Vec::new();
    for feature in pieces {
        if feature.is_empty() || !is_option(feature) {
            return None;
        }
        let decoded = percent_decode(feature)?;
        if !decoded.is_empty() {
            features.push(decoded);
        }
    }
    Some((os.to_owned(), percent_decode(version)?, features))
}

/// Go's `url.PathUnescape` of an OS option: `%XX` escapes; `None` for a
/// malformed one.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// containerd's `encodeOSOption`.
fn encode_os_option(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '%' => out.push_str("%25"),
            '+' => out.push_str("%2B"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '/' => out.push_str("%2F"),
            other => out.push(other),
        }
    }
    out
}

impl Platform {
    /// A platform from its parts, normalised.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Self {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            os_version: None,
            os_features: Vec::new(),
            variant: variant.map(str::to_owned),
        }
        .normalized()
    }

    /// The platform this program runs on, as BuildKit's workers report it:
    /// containerd's `Normalize(DefaultSpec())`, with Go's `GOOS`/`GOARCH`
    /// names (`linux/amd64`, `linux/arm64`, `linux/arm/v7`, `linux/ppc64le`).
    pub fn host() -> Self {
        Self::new(std::env::consts::OS, go_architecture(), None)
    }

    /// containerd's `platforms.Parse`: `os[(version[+feature]*)]`, `arch`,
    /// `os/arch` or `os/arch/variant`, each part `[A-Za-z0-9_.-]+`; OS and
    /// architecture normalised, a lone OS takes the host's architecture and a
    /// lone known architecture the host's OS. Unlike [`Platform::normalized`]
    /// it keeps a written `arm64/v8` and leaves an unwritten arm `v7` out.
    pub fn parse(text: &str) -> Result<Self, PlatformError> {
        let fail = || PlatformError {
            text: text.to_owned(),
        };
        if text.contains('*') {
            return Err(fail());
        }
        let parts: Vec<&str> = text.splitn(4, '/').collect();
        let (os, os_version, os_features) = parse_os_part(parts[0]).ok_or_else(fail)?;
        if !parts[1..].iter().all(|part| is_specifier(part)) {
            return Err(fail());
        }
        let mut platform = Self {
            os: normalize_os(&os),
            os_version: (!os_version.is_empty()).then_some(os_version),
            os_features,
            ..Self::default()
        };
        let (architecture, variant) = match parts.as_slice() {
            [_] if KNOWN_OS.contains(&platform.os.as_str()) => {
                (Self::host().architecture, String::new())
            }
            [single] => {
                let (architecture, variant) = normalize_architecture(single, "");
                if !KNOWN_ARCHITECTURES.contains(&architecture.as_str()) {
                    return Err(fail());
                }
                platform.os = Self::host().os;
                platform.os_version = None;
                platform.os_features = Vec::new();
                (architecture, variant)
            }
            [_, architecture] => normalize_architecture(architecture, ""),
            [_, architecture, variant] => {
                let (architecture, variant) = normalize_architecture(architecture, variant);
                if architecture == "arm64" && variant.is_empty() {
                    (architecture, "v8".to_owned())
                } else {
                    (architecture, variant)
                }
            }
            _ => return Err(fail()),
        };
        let drop_v7 = parts.len() < 3 && architecture == "arm" && variant == "v7";
        platform.architecture = architecture;
        platform.variant = (!variant.is_empty() && !drop_v7).then_some(variant);
        Ok(platform)
    }

    /// containerd's `platforms.Normalize`: lower case, `macos` as `darwin`,
    /// Go's architecture names (`x86_64` is `amd64`, `aarch64` is `arm64`),
    /// default variants dropped (`arm64/v8`, `amd64/v1`) but for arm's `v7`,
    /// which an arm platform without variant gains; OS features sorted.
    pub fn normalized(mut self) -> Self {
        self.os = normalize_os(&self.os);
        let (architecture, variant) =
            normalize_architecture(&self.architecture, self.variant.as_deref().unwrap_or(""));
        self.architecture = architecture;
        self.variant = (!variant.is_empty()).then_some(variant);
        self.os_features.sort();
        self.os_features.dedup();
        self
    }

    /// containerd's `FormatAll`: [`Display`](fmt::Display)'s
    /// `os/arch[/variant]` with the OS version and features,
    /// `os(version+feature)/arch`.
    pub fn format_all(&self) -> String {
        if self.os_version.as_deref().unwrap_or("").is_empty() && self.os_features.is_empty() {
            return self.to_string();
        }
        let version = encode_os_option(self.os_version.as_deref().unwrap_or(""));
        let mut features: Vec<&str> = self.os_features.iter().map(String::as_str).collect();
        features.sort_unstable();
        features.dedup();
        let features: Vec<String> = features
            .into_iter()
            .filter(|feature| !feature.is_empty())
            .map(encode_os_option)
            .collect();
        let mut os = self.os.clone();
        if !version.is_empty() || !features.is_empty() {
            os.push('(');
            os.push_str(&version);
            if !features.is_empty() {
                os.push('+');
                os.push_str(&features.join("+"));
            }
            os.push(')');
        }
        Self {
            os,
            os_version: None,
            os_features: Vec::new(),
            ..self.clone()
        }
        .to_string()
    }

    /// Whether an index entry for `candidate` serves a request for `self`:
    /// same OS and architecture, and the same variant once both are normalised.
    pub fn matches(&self, candidate: &Platform) -> bool {
        let wanted = self.clone().normalized();
        let offered = candidate.clone().normalized();
        wanted.os == offered.os
            && wanted.architecture == offered.architecture
            && (wanted.variant == offered.variant
                || (self.variant.is_none() && wanted.architecture != "arm"))
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    /// A `--platform` value as docker and buildx read it: containerd's
    /// `Normalize(Parse(text))`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).map(Self::normalized)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(
            "linux/amd64".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            "linux/aarch64/v8".parse::<Platform>().unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            "linux/arm".parse::<Platform>().unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!("linux//v7".parse::<Platform>().is_err());
        assert!("linux/amd64/v1/x".parse::<Platform>().is_err());
        // containerd completes a lone OS or architecture with the host's.
        assert_eq!("linux".parse::<Platform>().unwrap().os, "linux");
        assert_eq!("arm64".parse::<Platform>().unwrap().os, Platform::host().os);
        assert!("nonsense".parse::<Platform>().is_err());
    }

    fn parsed(text: &str) -> Option<String> {
        Platform::parse(text)
            .ok()
            .map(|platform| platform.to_string())
    }

    #[test]
    fn parses_like_containerd() {
        assert_eq!(parsed("linux/amd64").as_deref(), Some("linux/amd64"));
        assert_eq!(parsed("Linux/x86_64").as_deref(), Some("linux/amd64"));
        assert_eq!(
            parsed("linux/aarch64/v8").as_deref(),
            Some("linux/arm64/v8")
        );
        assert_eq!(parsed("linux/arm64/").as_deref(), None);
        assert_eq!(parsed("linux/armhf").as_deref(), Some("linux/arm"));
        assert_eq!(parsed("linux/arm/6").as_deref(), Some("linux/arm/v6"));
        assert_eq!(parsed("linux/arm/7").as_deref(), Some("linux/arm/v7"));
        assert_eq!(parsed("macos/arm64").as_deref(), Some("darwin/arm64"));
        assert_eq!(parsed("linux//x"), None);
        assert_eq!(parsed("linux/*"), None);
        assert_eq!(parsed("linux/amd 64"), None);
        assert_eq!(
            Platform::parse("windows").map(|p| p.os).as_deref(),
            Ok("windows")
        );
        let windows = Platform::parse("windows(10.0.20348+win32k+a%2Bb)/amd64").unwrap();
        assert_eq!(windows.os_version.as_deref(), Some("10.0.20348"));
        assert_eq!(windows.os_features, ["win32k", "a+b"]);
        assert_eq!(
            windows.normalized().format_all(),
            "windows(10.0.20348+a%2Bb+win32k)/amd64"
        );
    }

    #[test]
    fn normalizes_like_containerd() {
        let platform = |os: &str, architecture: &str, variant: Option<&str>| Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.map(str::to_owned),
            ..Platform::default()
        };
        let normalized = |p: Platform| p.normalized().to_string();
        assert_eq!(
            normalized(platform("linux", "arm64", Some("v8"))),
            "linux/arm64"
        );
        assert_eq!(
            normalized(platform("linux", "arm64", Some("9.0"))),
            "linux/arm64/v9"
        );
        assert_eq!(normalized(platform("linux", "arm", None)), "linux/arm/v7");
        assert_eq!(normalized(platform("linux", "armel", None)), "linux/arm/v6");
        assert_eq!(normalized(platform("linux", "i386", None)), "linux/386");
        assert_eq!(
            normalized(platform("Linux", "x86_64", Some("v1"))),
            "linux/amd64"
        );
        let mut windows = platform("windows", "amd64", None);
        windows.os_version = Some("10.0.20348.2340".into());
        assert_eq!(
            windows.normalized().format_all(),
            "windows(10.0.20348.2340)/amd64"
        );
    }

    #[test]
    fn the_host_has_go_names() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert!(
            KNOWN_ARCHITECTURES.contains(&host.architecture.as_str()),
            "{host}"
        );
        assert_eq!(host.clone().normalized(), host);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(host.to_string(), "linux/amd64");
    }

    #[test]
    fn matching() {
        let arm64: Platform = "linux/arm64".parse().unwrap();
        let arm64_v8 = Platform::new("linux", "arm64", Some("v8"));
        assert!(arm64.matches(&arm64_v8));
        let arm_v6: Platform = "linux/arm/v6".parse().unwrap();
        let arm_v7: Platform = "linux/arm/v7".parse().unwrap();
        assert!(!arm_v7.matches(&arm_v6));
        assert!(!arm64.matches(&"linux/amd64".parse().unwrap()));
        assert!(Platform::host().matches(&Platform::host()));
    }

    #[test]
    fn json_shape() {
        let platform = Platform::new("linux", "arm", Some("v7"));
        assert_eq!(
            serde_json::to_string(&platform).unwrap(),
            r#"{"architecture":"arm","os":"linux","variant":"v7"}"#
        );
    }
}
