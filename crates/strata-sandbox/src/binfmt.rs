//! Foreign platforms through QEMU user-mode emulation: which platforms this
//! host can run (its own, and those binfmt_misc hands to a registered
//! emulator), and registering Debian's `qemu-user-static` emulators with the
//! fix-binary flag, so that steps in a rootfs and a mount namespace of their
//! own find the emulator the kernel already holds open.

use std::path::{Path, PathBuf};

use strata_oci::Platform;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// An ELF machine QEMU emulates: the platform, QEMU's name, and the ELF
/// header bytes (and mask) binfmt_misc recognises it by.
struct Machine {
    platform: &'static str,
    qemu: &'static str,
    magic: &'static [u8; 20],
    mask: &'static [u8; 20],
}

/// 64-bit little-endian ELF executables with machine `m` (two bytes, LE).
const fn elf64le(m: [u8; 2]) -> [u8; 20] {
    [
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, m[0], m[1],
    ]
}
const fn elf32le(m: [u8; 2]) -> [u8; 20] {
    [
        0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, m[0], m[1],
    ]
}
const fn elf64be(m: [u8; 2]) -> [u8; 20] {
    [
        0x7f, b'E', b'L', b'F', 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, m[1], m[0],
    ]
}
/// The ABI-version byte and the type's low bit (executable or shared) vary.
const MASK_LE: [u8; 20] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xfe, 0xff, 0xff, 0xff,
];
const MASK_BE: [u8; 20] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xfe, 0xff, 0xff,
];

const MACHINES: [Machine; 6] = [
    Machine {
        platform: "linux/arm64",
        qemu: "aarch64",
        magic: &elf64le([0xb7, 0]),
        mask: &MASK_LE,
    },
    Machine {
        platform: "linux/arm/v7",
        qemu: "arm",
        magic: &elf32le([0x28, 0]),
        mask: &MASK_LE,
    },
    Machine {
        platform: "linux/amd64",
        qemu: "x86_64",
        magic: &elf64le([0x3e, 0]),
        mask: &MASK_LE,
    },
    Machine {
        platform: "linux/ppc64le",
        qemu: "ppc64le",
        magic: &elf64le([0x15, 0]),
        mask: &MASK_LE,
    },
    Machine {
        platform: "linux/riscv64",
        qemu: "riscv64",
        magic: &elf64le([0xf3, 0]),
        mask: &MASK_LE,
    },
    Machine {
        platform: "linux/s390x",
        qemu: "s390x",
        magic: &elf64be([0x16, 0]),
        mask: &MASK_BE,
    },
];

/// How a platform runs here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Natively: the host's own platform.
    Native,
    /// Through an emulator binfmt_misc hands its executables to.
    Emulated {
        /// The emulator.
        interpreter: PathBuf,
        /// Whether the kernel holds it open (flag `F`), as steps in their
        /// own root need.
        fix_binary: bool,
    },
}

/// Why a platform cannot run here: what is missing, and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot run {platform} programs on this {host} host: {reason}")]
pub struct CannotRun {
    /// The platform asked for.
    pub platform: String,
    /// This host's platform.
    pub host: String,
    /// What is missing and how to add it.
    pub reason: String,
}

/// How `platform` runs here, or why it cannot.
pub fn runner(platform: &Platform) -> Result<Runner, CannotRun> {
    let host = Platform::host();
    if platform.matches(&host) || host.matches(platform) {
        return Ok(Runner::Native);
    }
    let cannot = |reason: String| CannotRun {
        platform: platform.to_string(),
        host: host.to_string(),
        reason,
    };
    let Some(machine) = machine(platform) else {
        return Err(cannot("strata knows no emulator for it".to_owned()));
    };
    match registered(machine) {
        Some(runner) => Ok(runner),
        None if !Path::new(BINFMT).join("status").exists() => Err(cannot(format!(
            "binfmt_misc is not mounted; run `strata system binfmt --install` as root (it mounts it and registers qemu-{}-static from Debian's qemu-user-static)",
            machine.qemu
        ))),
        None => Err(cannot(format!(
            "no emulator is registered for it in binfmt_misc; run `strata system binfmt --install` as root (needs qemu-{}-static: apt-get install qemu-user-static)",
            machine.qemu
        ))),
    }
}

/// Every platform strata knows an emulator for, with how it runs or why not.
pub fn platforms() -> Vec<(Platform, Result<Runner, CannotRun>)> {
    MACHINES
        .iter()
        .filter_map(|m| m.platform.parse::<Platform>().ok())
        .map(|platform| {
            let runner = runner(&platform);
            (platform, runner)
        })
        .collect()
}

fn machine(platform: &Platform) -> Option<&'static Machine> {
    MACHINES.iter().find(|m| {
        m.platform
            .parse::<Platform>()
            .is_ok_and(|known| known.matches(platform) || platform.matches(&known))
    })
}

/// The enabled binfmt_misc entry whose magic is the machine's, if any.
fn registered(machine: &Machine) -> Option<Runner> {
    let entries = std::fs::read_dir(BINFMT).ok()?;
    let magic = hex(machine.magic);
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        if text.lines().next() != Some("enabled") || field("magic ") != Some(magic.as_str()) {
            continue;
        }
        let interpreter = PathBuf::from(field("interpreter ")?);
        // An entry whose emulator is gone (Debian's `-binfmt-P` wrappers
        // without binfmt-support) runs nothing.
        if !interpreter.exists() {
            continue;
        }
        let fix_binary = field("flags:").is_some_and(|flags| flags.contains('F'));
        return Some(Runner::Emulated {
            interpreter,
            fix_binary,
        });
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `\xHH` for every byte, as binfmt_misc's register file reads them.
fn escaped(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

/// What [`install`] did for one platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Installed {
    /// Registered now, with this emulator.
    Registered(PathBuf),
    /// Already runnable (natively or by an emulator registered before).
    Present(Runner),
    /// No `qemu-ARCH-static` on this host.
    Missing(String),
}

/// Mounts binfmt_misc when needed and registers every `qemu-ARCH-static`
/// found in `/usr/bin` for a platform that cannot run yet, with flags `F`
/// (the emulator held open), `P` (argv[0] kept), `O` and `C` (set-id
/// programs run with their credentials), as Docker's binfmt installer does.
pub fn install() -> std::io::Result<Vec<(Platform, Installed)>> {
    let status = Path::new(BINFMT).join("status");
    if !status.exists() {
        mount_binfmt()?;
    }
    let mut report = Vec::new();
    for machine in &MACHINES {
        let Ok(platform) = machine.platform.parse::<Platform>() else {
            continue;
        };
        if let Ok(runner) = runner(&platform) {
            report.push((platform, Installed::Present(runner)));
            continue;
        }
        let interpreter = PathBuf::from(format!("/usr/bin/qemu-{}-static", machine.qemu));
        if !interpreter.exists() {
            report.push((
                platform,
                Installed::Missing(interpreter.display().to_string()),
            ));
            continue;
        }
        let line = format!(
            ":strata-qemu-{}:M::{}:{}:{}:POCF",
            machine.qemu,
            escaped(machine.magic),
            escaped(machine.mask),
            interpreter.display()
        );
        std::fs::write(Path::new(BINFMT).join("register"), line)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{BINFMT}/register: {e}")))?;
        report.push((platform, Installed::Registered(interpreter)));
    }
    Ok(report)
}

fn mount_binfmt() -> std::io::Result<()> {
    let status = std::process::Command::new("mount")
        .args(["-t", "binfmt_misc", "binfmt_misc", BINFMT])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "mount -t binfmt_misc binfmt_misc {BINFMT}: {status}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_platform_runs_natively() {
        assert_eq!(runner(&Platform::host()), Ok(Runner::Native));
    }

    #[test]
    fn magic_matches_debians_qemu_definition() {
        // Debian's /usr/lib/binfmt.d/qemu-aarch64.conf, when installed.
        let Ok(conf) = std::fs::read_to_string("/usr/lib/binfmt.d/qemu-aarch64.conf") else {
            return;
        };
        let arm64 = machine(&"linux/arm64".parse().unwrap()).unwrap();
        assert!(conf.contains(&escaped(arm64.magic)), "{conf}");
        assert!(conf.contains(&escaped(arm64.mask)), "{conf}");
        let s390x = std::fs::read_to_string("/usr/lib/binfmt.d/qemu-s390x.conf").unwrap();
        let machine = machine(&"linux/s390x".parse().unwrap()).unwrap();
        assert!(s390x.contains(&escaped(machine.magic)), "{s390x}");
        assert!(s390x.contains(&escaped(machine.mask)), "{s390x}");
    }

    #[test]
    fn an_unknown_platform_says_so() {
        let error = runner(&"linux/sparc64".parse().unwrap()).unwrap_err();
        assert!(error.to_string().contains("knows no emulator"), "{error}");
    }
}
