//! OCI platforms as containerd's `platforms` package reads and normalises
//! them: BuildKit's platform checks compare and print platforms this way.

use strata_dockerfile::Platform;

/// The operating systems `platforms.Parse` recognises in a one-part platform.
const KNOWN_OS: [&str; 18] = [
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
    "wasip1",
];

/// `platforms.Parse`: `os`, `arch`, `os/arch` or `os/arch/variant`,
/// normalised (a lone OS takes the host's architecture, a lone
/// architecture the host's OS). `None` for what it refuses.
pub(crate) fn parse(text: &str) -> Option<Platform> {
    let parts: Vec<&str> = text.split('/').collect();
    let valid_part = |part: &&str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    if parts.len() > 3 || !parts.iter().all(valid_part) {
        return None;
    }
    let host = Platform::host();
    let mut platform = Platform::default();
    match parts.as_slice() {
        [single] => {
            let os = normalize_os(single);
            if KNOWN_OS.contains(&os.as_str()) {
                platform.os = os;
                platform.architecture = host.architecture;
                return Some(platform);
            }
            platform.os = host.os;
            (platform.architecture, platform.variant) = normalize_architecture(single, "");
            drop_default_arm_variant(&mut platform);
        }
        [os, architecture] => {
            platform.os = normalize_os(os);
            (platform.architecture, platform.variant) = normalize_architecture(architecture, "");
            drop_default_arm_variant(&mut platform);
        }
        [os, architecture, variant] => {
            platform.os = normalize_os(os);
            (platform.architecture, platform.variant) =
                normalize_architecture(architecture, variant);
            if platform.architecture == "arm64" && platform.variant.is_empty() {
                platform.variant = "v8".to_string();
            }
        }
        _ => return None,
    }
    Some(platform)
}

/// `platforms.Normalize`: lower case, `macos` as `darwin`, architecture
/// aliases and default variants resolved (`aarch64/v8` is `arm64`).
pub(crate) fn normalize(platform: &Platform) -> Platform {
    let (architecture, variant) = normalize_architecture(&platform.architecture, &platform.variant);
    Platform {
        os: normalize_os(&platform.os),
        architecture,
        variant,
        os_version: platform.os_version.clone(),
    }
}

fn normalize_os(os: &str) -> String {
    if os.is_empty() {
        return Platform::host().os;
    }
    match os.to_lowercase().as_str() {
        "macos" => "darwin".to_string(),
        other => other.to_string(),
    }
}

fn normalize_architecture(architecture: &str, variant: &str) -> (String, String) {
    let variant = variant.to_lowercase();
    let (architecture, variant) = match architecture.to_lowercase().as_str() {
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
                "9" | "9.0" | "v9.0" => "v9".to_string(),
                _ => variant,
            },
        ),
        "armhf" => ("arm", "v7".to_string()),
        "armel" => ("arm", "v6".to_string()),
        "arm" => (
            "arm",
            match variant.as_str() {
                "" | "7" => "v7".to_string(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            },
        ),
        other => return (other.to_string(), variant),
    };
    (architecture.to_string(), variant)
}

/// `Parse` leaves arm's default variant out unless it was written.
fn drop_default_arm_variant(platform: &mut Platform) {
    if platform.architecture == "arm" && platform.variant == "v7" {
        platform.variant.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<String> {
        parse(text).map(|platform| platform.format())
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
        assert_eq!(parsed("macos/arm64").as_deref(), Some("darwin/arm64"));
        assert_eq!(parsed("linux//x"), None);
        assert_eq!(parse("windows").map(|p| p.os).as_deref(), Some("windows"));
    }

    #[test]
    fn normalizes_like_containerd() {
        let platform = |os: &str, architecture: &str, variant: &str| Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.into(),
            os_version: String::new(),
        };
        assert_eq!(
            normalize(&platform("linux", "arm64", "v8")).format(),
            "linux/arm64"
        );
        assert_eq!(
            normalize(&platform("linux", "arm", "")).format(),
            "linux/arm/v7"
        );
        assert_eq!(
            normalize(&platform("Linux", "x86_64", "v1")).format(),
            "linux/amd64"
        );
        let mut windows = platform("windows", "amd64", "");
        windows.os_version = "10.0.20348.2340".into();
        assert_eq!(
            normalize(&windows).format_all(),
            "windows(10.0.20348.2340)/amd64"
        );
    }
}
