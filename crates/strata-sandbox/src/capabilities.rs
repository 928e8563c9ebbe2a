//! Capability sets by number, with the kernel's names and Docker's rules for
//! `--cap-add` and `--cap-drop` (moby's `oci/caps`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Every capability this crate knows, by number (linux/capability.h).
const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default set (moby's `caps.DefaultCapabilities`), in its order.
const DOCKER_DEFAULT: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The `--cap-add`/`--cap-drop` value meaning every capability.
const ALL: &str = "ALL";

/// A set of capabilities, bit N for capability number N. Defaults to Docker's set.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    bits: u64,
}

impl Capabilities {
    /// No capability.
    pub const fn empty() -> Self {
        Self { bits: 0 }
    }

    /// Every capability this crate knows (`CAP_CHOWN` to `CAP_CHECKPOINT_RESTORE`).
    pub const fn all() -> Self {
        Self {
            bits: (1u64 << NAMES.len()) - 1,
        }
    }

    /// The set of these bits (kernel order: bit N is capability N).
    pub(crate) const fn from_bits(bits: u64) -> Self {
        Self { bits }
    }

    /// Docker's 14 default capabilities (what a RUN step and a container get).
    pub fn docker_default() -> Self {
        let mut set = Self::empty();
        for name in DOCKER_DEFAULT {
            if let Some(number) = number_of(name) {
                set.bits |= 1 << number;
            }
        }
        set
    }

    /// The set of the named capabilities (case-insensitive, `CAP_` optional).
    pub fn from_names<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = Self::empty();
        for name in names {
            set.bits |= 1 << parse(name.as_ref(), "Capabilities")?;
        }
        Ok(set)
    }

    /// The set's names (`CAP_CHOWN` ...), by number.
    pub fn names(&self) -> Vec<&'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(|(number, _)| self.contains(*number as u32))
            .map(|(_, name)| *name)
            .collect()
    }

    /// Whether capability `number` is in the set.
    pub fn contains(&self, number: u32) -> bool {
        number < 64 && self.bits & (1 << number) != 0
    }

    /// The set as the kernel's bitmask (what /proc/PID/status shows).
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// This set changed by `--cap-add` and `--cap-drop` as Docker changes
    /// its default set: names are case-insensitive with an optional `CAP_`
    /// prefix, `ALL` in `add` gives every capability but the dropped ones,
    /// `ALL` in `drop` (without `ALL` in `add`) gives only the added ones, and
    /// otherwise drops go first, then adds. An unknown name is Docker's error
    /// (`invalid CapAdd: unknown capability: "CAP_NOPE"`).
    pub fn apply_docker_flags<S: AsRef<str>>(self, add: &[S], drop: &[S]) -> Result<Self> {
        if add.is_empty() && drop.is_empty() {
            return Ok(self);
        }
        let drop = normalize(drop, "CapDrop")?;
        let add = normalize(add, "CapAdd")?;
        let base = if add.contains(&None) {
            Self::all()
        } else if drop.contains(&None) {
            Self::empty()
        } else {
            self
        };
        let mut bits = base.bits;
        for number in drop.iter().flatten() {
            bits &= !(1 << number);
        }
        if !add.contains(&None) {
            for number in add.iter().flatten() {
                bits |= 1 << number;
            }
        }
        Ok(Self { bits })
    }
}

/// Each name's number, or `None` for `ALL`.
fn normalize<S: AsRef<str>>(names: &[S], option: &'static str) -> Result<Vec<Option<u32>>> {
    names
        .iter()
        .map(|name| {
            if name.as_ref().eq_ignore_ascii_case(ALL) {
                Ok(None)
            } else {
                parse(name.as_ref(), option).map(Some)
            }
        })
        .collect()
}

/// A capability's number from its name as Docker normalises it.
fn parse(name: &str, option: &'static str) -> Result<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    number_of(&full).ok_or(Error::UnknownCapability { option, name: full })
}

fn number_of(full_name: &str) -> Option<u32> {
    NAMES
        .iter()
        .position(|known| *known == full_name)
        .map(|n| n as u32)
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::docker_default()
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl Serialize for Capabilities {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Self::from_names(&names).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: Capabilities) -> Vec<&'static str> {
        let mut names = set.names();
        names.sort_unstable();
        names
    }

    #[test]
    fn docker_default_is_the_kernel_mask_docker_shows() {
        assert_eq!(Capabilities::docker_default().bits(), 0xa80425fb);
        assert_eq!(Capabilities::docker_default().names().len(), 14);
        assert_eq!(Capabilities::all().bits(), 0x1ff_ffff_ffff);
        assert!(Capabilities::empty().names().is_empty());
    }

    #[test]
    fn names_are_case_insensitive_with_an_optional_prefix() {
        let set = Capabilities::from_names(["net_admin", "CAP_SYS_ADMIN", "Sys_Ptrace"]).unwrap();
        assert_eq!(
            names(set),
            ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]
        );
        assert_eq!(set.bits(), (1 << 12) | (1 << 21) | (1 << 19));
    }

    #[test]
    fn drops_then_adds() {
        let set = Capabilities::docker_default()
            .apply_docker_flags(&["sys_admin", "CHOWN"], &["chown", "net_raw", "cap_kill"])
            .unwrap();
        let expected = (Capabilities::docker_default().bits() & !(1 << 13) & !(1 << 5)) | 1 << 21;
        assert_eq!(set.bits(), expected, "{set:?}");
        assert!(set.contains(0), "an add wins over a drop of the same one");
    }

    #[test]
    fn all_in_add_or_drop() {
        let every_but = Capabilities::docker_default()
            .apply_docker_flags(&["all"], &["SYS_ADMIN", "ALL"])
            .unwrap();
        assert_eq!(every_but.bits(), Capabilities::all().bits() & !(1 << 21));
        let only = Capabilities::docker_default()
            .apply_docker_flags(&["NET_ADMIN"], &["ALL"])
            .unwrap();
        assert_eq!(names(only), ["CAP_NET_ADMIN"]);
        let none: [&str; 0] = [];
        let nothing = Capabilities::docker_default()
            .apply_docker_flags(&none, &["all"])
            .unwrap();
        assert_eq!(nothing, Capabilities::empty());
        let unchanged = Capabilities::empty()
            .apply_docker_flags(&none, &none)
            .unwrap();
        assert_eq!(unchanged, Capabilities::empty());
    }

    #[test]
    fn unknown_names_are_dockers_errors() {
        let error = Capabilities::docker_default()
            .apply_docker_flags(&["nope"], &[])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid CapAdd: unknown capability: \"CAP_NOPE\""
        );
        let error = Capabilities::docker_default()
            .apply_docker_flags(&[], &["cap_fly"])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid CapDrop: unknown capability: \"CAP_FLY\""
        );
    }

    #[test]
    fn serialised_as_names() {
        let set = Capabilities::from_names(["CHOWN", "KILL"]).unwrap();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["CAP_CHOWN","CAP_KILL"]"#);
        assert_eq!(serde_json::from_str::<Capabilities>(&json).unwrap(), set);
        assert!(serde_json::from_str::<Capabilities>(r#"["CAP_NOPE"]"#).is_err());
    }
}
