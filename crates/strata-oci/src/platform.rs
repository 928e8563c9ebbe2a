//! Platforms (`linux/arm64/v8`): parsing, the host's, and matching for index selection.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An OS, CPU architecture and optional variant, with the OCI JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// The platform this program runs on.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Self::new(std::env::consts::OS, architecture, None)
    }

    /// Canonical names: `aarch64` is `arm64`, `x86_64` is `amd64`, arm64's
    /// default variant `v8` is dropped, `arm` without variant is `v7`.
    pub fn normalized(mut self) -> Self {
        self.os = self.os.to_ascii_lowercase();
        self.architecture = match self.architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_owned(),
            "aarch64" => "arm64".to_owned(),
            "i386" | "i686" => "386".to_owned(),
            "armhf" => "arm".to_owned(),
            other => other.to_owned(),
        };
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", Some("v8" | "8")) => self.variant = None,
            ("arm", None) => self.variant = Some("v7".to_owned()),
            ("amd64", Some("v1")) => self.variant = None,
            _ => {}
        }
        self
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
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        let fail = || PlatformError {
            text: text.to_owned(),
        };
        if parts.iter().any(|part| part.is_empty()) {
            return Err(fail());
        }
        match parts.as_slice() {
            [os, architecture] => Ok(Self::new(os, architecture, None)),
            [os, architecture, variant] => Ok(Self::new(os, architecture, Some(variant))),
            _ => Err(fail()),
        }
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
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v7".parse::<Platform>().is_err());
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
