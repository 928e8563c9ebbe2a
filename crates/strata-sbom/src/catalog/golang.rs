//! Go binaries: the build info every Go executable carries (main module, dependencies, the toolchain as `stdlib`).
//!
//! The build info starts with a 32-byte header (`\xff Go buildinf:`, the
//! pointer size, flags). Since Go 1.18 (flag bit 2) the Go version and the
//! module info follow inline as varint-length strings; before, the header
//! holds two pointers to Go string headers, resolved here through the ELF
//! section table.

use super::elf;
use crate::package::{Kind, Location, Package};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;

/// The Go packages of an ELF executable's build info; none if it has none.
pub(super) fn packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    let Some((go_version, modinfo)) = build_info(bytes) else {
        return Vec::new();
    };
    let location = Location {
        path: path.to_string(),
        layer: None,
    };
    let mut found = Vec::new();
    if let Some(version) = go_version.split_whitespace().next() {
        found.push(Package::new(Kind::GoModule, "stdlib", version));
    }
    found.extend(modules(&modinfo).into_iter().map(Module::package));
    for package in &mut found {
        package.locations.push(location.clone());
    }
    found
}

/// The Go version and module info of the build info, if found.
fn build_info(bytes: &[u8]) -> Option<(String, String)> {
    let sections = elf::sections(bytes);
    let from_section = sections
        .as_deref()
        .and_then(|s| s.iter().find(|s| s.name == ".go.buildinfo"))
        .and_then(|s| elf::contents(bytes, s.offset, s.size));
    if let Some(found) = from_section.and_then(|data| decode(data, bytes, sections.as_deref())) {
        return Some(found);
    }
    // Stripped of section headers, or a Go binary whose build info is
    // elsewhere: look for the magic (not in every C binary of an image).
    let looks_like_go = sections.as_deref().is_none_or(|sections| {
        sections
            .iter()
            .any(|s| s.name == ".note.go.buildid" || s.name == ".gopclntab")
    });
    if !looks_like_go {
        return None;
    }
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], MAGIC) {
        let start = at + found;
        if let Some(info) = decode(&bytes[start..], bytes, sections.as_deref()) {
            return Some(info);
        }
        at = start + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Decodes the build info header at the start of `data`.
fn decode(data: &[u8], file: &[u8], sections: Option<&[elf::Section]>) -> Option<(String, String)> {
    if !data.starts_with(MAGIC) || data.len() < HEADER_LEN {
        return None;
    }
    let pointer_size = usize::from(data[14]);
    let flags = data[15];
    let (version, modinfo) = if flags & FLAG_INLINE != 0 {
        let (version, rest) = inline_string(&data[HEADER_LEN..])?;
        let (modinfo, _) = inline_string(rest)?;
        (version, modinfo)
    } else {
        let layout = elf::layout(file)?;
        let big = flags & FLAG_BIG_ENDIAN != 0;
        let read = |at: usize| pointed_string(file, sections?, layout, big, pointer_size, data, at);
        (read(16)?, read(16 + pointer_size)?)
    };
    Some((
        String::from_utf8_lossy(version).into_owned(),
        String::from_utf8_lossy(strip_sentinels(modinfo)).into_owned(),
    ))
}

/// A uvarint-length-prefixed string and what follows it.
fn inline_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut length: u64 = 0;
    for (i, byte) in data.iter().enumerate().take(10) {
        length |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let start = i + 1;
            let end = start.checked_add(usize::try_from(length).ok()?)?;
            return Some((data.get(start..end)?, data.get(end..)?));
        }
    }
    None
}

/// The Go string whose header's address is the word at `at` of `data`
/// (the pre-1.18 format).
fn pointed_string<'a>(
    file: &'a [u8],
    sections: &[elf::Section],
    layout: elf::Layout,
    big: bool,
    pointer_size: usize,
    data: &[u8],
    at: usize,
) -> Option<&'a [u8]> {
    let order = elf::Layout { big, ..layout };
    let header_addr = order.uint(data, at, pointer_size)?;
    let header = usize::try_from(elf::file_offset(sections, header_addr)?).ok()?;
    let string_addr = order.uint(file, header, pointer_size)?;
    let length = order.uint(file, header.checked_add(pointer_size)?, pointer_size)?;
    let start = elf::file_offset(sections, string_addr)?;
    elf::contents(file, start, length)
}

/// The module info without the 16-byte sentinels the linker wraps it in.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n >= 33 && modinfo[n - 17] == b'\n' {
        &modinfo[16..n - 16]
    } else {
        modinfo
    }
}

/// A module line (`mod` or `dep`) and the `=>` line replacing it.
#[derive(Debug)]
struct Module {
    path: String,
    version: String,
    replacement: Option<(String, String)>,
}

impl Module {
    /// The package: a replacement by another module names that module and
    /// version; one by a local directory keeps the path and takes its version.
    fn package(self) -> Package {
        let (name, version) = match self.replacement {
            Some((path, version)) if is_directory(&path) => {
                let version = if version.is_empty() {
                    self.version
                } else {
                    version
                };
                (self.path, version)
            }
            Some((path, version)) => (path, version),
            None => (self.path, self.version),
        };
        Package::new(Kind::GoModule, name, version)
    }
}

fn is_directory(path: &str) -> bool {
    path.starts_with('/') || path.starts_with("./") || path.starts_with("../") || path == "."
}

/// The main module (first, if any) and the dependencies of the module info.
fn modules(modinfo: &str) -> Vec<Module> {
    let mut modules: Vec<Module> = Vec::new();
    for line in modinfo.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        match fields.first().copied() {
            Some("mod" | "dep") if fields.len() >= 2 => modules.push(Module {
                path: field(1),
                version: field(2),
                replacement: None,
            }),
            Some("=>") if fields.len() >= 2 => {
                if let Some(last) = modules.last_mut() {
                    last.replacement = Some((field(1), field(2)));
                }
            }
            _ => {}
        }
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::process::Command;

    fn found(bytes: &[u8]) -> BTreeSet<(String, String)> {
        packages("/bin/x", bytes)
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect()
    }

    fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// `go version -m`'s lines, as (first field, second, third).
    fn reference(go: &Path, binary: &Path) -> (String, Vec<Vec<String>>) {
        let output = Command::new(go)
            .args(["version", "-m"])
            .arg(binary)
            .env("GOTOOLCHAIN", "local")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let mut lines = text.lines();
        let go_version = lines
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        let rest = lines
            .map(|l| l.trim_start().split('\t').map(str::to_string).collect())
            .collect();
        (go_version, rest)
    }

    #[test]
    fn debians_gopath_mode_docker_registry() {
        let path = Path::new("/usr/bin/docker-registry");
        if !strata_test::should_run(
            "debians_gopath_mode_docker_registry",
            path.exists(),
            "/usr/bin/docker-registry (the docker-registry package)",
        ) {
            return;
        }
        let bytes = std::fs::read(path).unwrap();
        // Built in GOPATH mode: a `path` line but no main module, no deps.
        assert_eq!(found(&bytes), set(&[("stdlib", "go1.19.8")]));
        let (info_version, modinfo) = build_info(&bytes).unwrap();
        assert_eq!(info_version, "go1.19.8");
        assert!(modinfo.starts_with("path\tgithub.com/docker/distribution/cmd/registry\n"));
        if let Some(go) = strata_test::test_tool("venv/bin/go") {
            let (go_version, lines) = reference(&go, path);
            assert_eq!(go_version, info_version);
            assert!(lines.iter().all(|l| l[0] != "mod" && l[0] != "dep"));
        }
        // Without section headers the magic is found by scanning.
        let mut stripped = bytes.clone();
        stripped[0x28..0x30].copy_from_slice(&0u64.to_le_bytes());
        assert!(elf::sections(&stripped).is_none());
        assert_eq!(found(&stripped), set(&[("stdlib", "go1.19.8")]));
        // Nor with the section renamed: a Go binary is still scanned.
        let mut renamed = bytes.clone();
        let at = find(&renamed, b".go.buildinfo\0").unwrap();
        renamed[at + 12] = b'X';
        assert!(elf::section(&renamed, ".go.buildinfo").is_none());
        assert_eq!(found(&renamed), set(&[("stdlib", "go1.19.8")]));
        // A binary that is not Go has no build info (and is not scanned).
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(found(&exe).is_empty());
    }

    #[test]
    fn the_pre_1_18_pointer_layout_written_into_a_real_binary() {
        let path = Path::new("/usr/bin/docker-registry");
        if !strata_test::should_run(
            "the_pre_1_18_pointer_layout_written_into_a_real_binary",
            path.exists(),
            "/usr/bin/docker-registry (the docker-registry package)",
        ) {
            return;
        }
        let mut bytes = std::fs::read(path).unwrap();
        let sections = elf::sections(&bytes).unwrap();
        let info = sections.iter().find(|s| s.name == ".go.buildinfo").unwrap();
        // The old layout: two pointers to Go string headers (data, length),
        // here placed in the section after the header, strings after them.
        let modinfo = b"path\tex.com/m\nmod\tex.com/m\tv0.1.0\t\ndep\tex.com/d\tv1.0.0\t\n";
        let mut wrapped = vec![0x30; 16];
        wrapped.extend_from_slice(modinfo);
        wrapped.extend_from_slice(&[0x31; 16]);
        let addr = info.addr;
        let version = b"go1.16.15";
        let version_at = addr + 64;
        let modinfo_at = version_at + version.len() as u64;
        let mut section = MAGIC.to_vec();
        section.extend_from_slice(&[8, 0]);
        // Header words at 16 and 24; string headers at 32 and 48.
        for word in [
            addr + 32,
            addr + 48,
            version_at,
            version.len() as u64,
            modinfo_at,
            wrapped.len() as u64,
        ] {
            section.extend_from_slice(&word.to_le_bytes());
        }
        section.extend_from_slice(version);
        section.extend_from_slice(&wrapped);
        assert!(section.len() as u64 <= info.size);
        let start = info.offset as usize;
        bytes[start..start + section.len()].copy_from_slice(&section);
        assert_eq!(
            found(&bytes),
            set(&[
                ("stdlib", "go1.16.15"),
                ("ex.com/m", "v0.1.0"),
                ("ex.com/d", "v1.0.0")
            ])
        );
    }

    fn write(root: &Path, name: &str, text: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A module requiring one vendored module and another replaced by a fork.
    fn build_module(go: &Path, dir: &Path) -> std::path::PathBuf {
        let src = dir.join("src");
        write(
            &src,
            "go.mod",
            "module example.com/hello\n\ngo 1.21\n\nrequire (\n\texample.com/greet v1.2.3\n\texample.com/other v0.1.0\n)\n\nreplace example.com/other v0.1.0 => example.com/fork v0.2.0\n",
        );
        write(
            &src,
            "main.go",
            "package main\n\nimport (\n\t\"example.com/greet\"\n\t\"example.com/other\"\n)\n\nfunc main() { println(greet.Hello(), other.Name) }\n",
        );
        write(
            &src,
            "vendor/modules.txt",
            "# example.com/greet v1.2.3\n## explicit; go 1.21\nexample.com/greet\n# example.com/other v0.1.0 => example.com/fork v0.2.0\n## explicit; go 1.21\nexample.com/other\n",
        );
        write(
            &src,
            "vendor/example.com/greet/greet.go",
            "package greet\n\nfunc Hello() string { return \"hello\" }\n",
        );
        write(
            &src,
            "vendor/example.com/other/other.go",
            "package other\n\nconst Name = \"fork\"\n",
        );
        let binary = dir.join("hello");
        let status = Command::new(go)
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .current_dir(&src)
            .env("GOFLAGS", "-mod=vendor")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOCACHE", dir.join("cache"))
            .env("GOPATH", dir.join("gopath"))
            .env("CGO_ENABLED", "0")
            .status()
            .unwrap();
        assert!(status.success());
        binary
    }

    #[test]
    fn a_module_binary_built_here_matches_go_version_m() {
        let Some(go) = strata_test::test_tool("venv/bin/go") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let binary = build_module(&go, dir.path());
        let bytes = std::fs::read(&binary).unwrap();
        let (go_version, lines) = reference(&go, &binary);
        // The reference, read with the replacement rule: a `=>` line names
        // the module and version actually linked.
        let mut expected = set(&[("stdlib", go_version.as_str())]);
        for (i, line) in lines.iter().enumerate() {
            if line[0] != "mod" && line[0] != "dep" {
                continue;
            }
            let linked = match lines.get(i + 1) {
                Some(next) if next[0] == "=>" => next,
                _ => line,
            };
            expected.insert((linked[1].clone(), linked[2].clone()));
        }
        assert_eq!(found(&bytes), expected);
        assert_eq!(
            expected,
            set(&[
                ("stdlib", go_version.as_str()),
                ("example.com/hello", "(devel)"),
                ("example.com/greet", "v1.2.3"),
                ("example.com/fork", "v0.2.0"),
            ])
        );
        let packages = packages("/usr/local/bin/hello", &bytes);
        assert!(packages.iter().all(|p| p.kind == Kind::GoModule
            && p.locations
                == [Location {
                    path: "/usr/local/bin/hello".into(),
                    layer: None
                }]));
    }

    #[test]
    fn local_directory_replacements_keep_the_module_path() {
        let info = "path\tx\nmod\tx\t(devel)\t\ndep\ta.com/b\tv1.0.0\th1:abc=\n=>\t../b\t\t\ndep\tc.com/d\tv1.0.0\n=>\tfork.com/d\tv1.1.0\th1:x=\n";
        let got: Vec<_> = modules(info)
            .into_iter()
            .map(|m| {
                let p = m.package();
                (p.name, p.version)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("x".to_string(), "(devel)".to_string()),
                ("a.com/b".into(), "v1.0.0".into()),
                ("fork.com/d".into(), "v1.1.0".into())
            ]
        );
    }

    #[test]
    fn truncated_build_info_is_ignored() {
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&[8, FLAG_INLINE]);
        data.resize(HEADER_LEN, 0);
        data.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert!(decode(&data, &data, None).is_none());
        data.truncate(HEADER_LEN);
        data.extend_from_slice(&[3, b'g', b'o']);
        assert!(decode(&data, &data, None).is_none());
        assert!(packages("/x", b"\x7fELF\xff Go buildinf:").is_empty());
        let mut pointers = MAGIC.to_vec();
        pointers.extend_from_slice(&[8, 0]);
        pointers.resize(64, 0xee);
        assert!(decode(&pointers, &pointers, None).is_none());
    }
}
