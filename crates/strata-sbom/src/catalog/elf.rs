//! Just enough ELF to find a named section: the file header and the section
//! header table (32 and 64 bit, either byte order). Program headers are not
//! read; a section's address maps to its file offset directly.

/// A section with file contents.
#[derive(Clone, Debug)]
pub(super) struct Section {
    /// Its name, from the section-name string table.
    pub(super) name: String,
    /// The virtual address it is loaded at (0 when not loaded).
    pub(super) addr: u64,
    /// Where its bytes start in the file.
    pub(super) offset: u64,
    /// How many bytes it holds.
    pub(super) size: u64,
}

/// No file bytes: `.bss`-like sections.
const SHT_NOBITS: u32 = 8;

/// An ELF file's byte order and word size.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// Big-endian.
    pub(super) big: bool,
    /// 64-bit.
    pub(super) wide: bool,
}

impl Layout {
    fn of(bytes: &[u8]) -> Option<Layout> {
        if !bytes.starts_with(b"\x7fELF") {
            return None;
        }
        let wide = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big = match bytes.get(5)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        Some(Layout { big, wide })
    }

    /// The unsigned integer of `len` bytes (1 to 8) at `at`.
    pub(super) fn uint(self, bytes: &[u8], at: usize, len: usize) -> Option<u64> {
        let slice = bytes.get(at..at.checked_add(len)?)?;
        if len > 8 {
            return None;
        }
        let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        Some(if self.big {
            slice.iter().fold(0, fold)
        } else {
            slice.iter().rev().fold(0, fold)
        })
    }

    /// A pointer-sized word at `at`.
    fn word(self, bytes: &[u8], at: usize) -> Option<u64> {
        self.uint(bytes, at, if self.wide { 8 } else { 4 })
    }
}

/// The byte order and word size of an ELF file, if `bytes` is one.
pub(super) fn layout(bytes: &[u8]) -> Option<Layout> {
    Layout::of(bytes)
}

/// The sections of an ELF file; `None` if it is not one or its section
/// header table is missing or out of bounds.
pub(super) fn sections(bytes: &[u8]) -> Option<Vec<Section>> {
    let layout = Layout::of(bytes)?;
    let (shoff, table) = if layout.wide {
        (0x28, 0x3a)
    } else {
        (0x20, 0x2e)
    };
    let shoff = usize::try_from(layout.word(bytes, shoff)?).ok()?;
    let entsize = usize::try_from(layout.uint(bytes, table, 2)?).ok()?;
    let count = usize::try_from(layout.uint(bytes, table + 2, 2)?).ok()?;
    let names = usize::try_from(layout.uint(bytes, table + 4, 2)?).ok()?;
    if shoff == 0 || entsize < if layout.wide { 64 } else { 40 } {
        return None;
    }
    let raw: Vec<_> = (0..count)
        .map(|i| header(bytes, layout, shoff.checked_add(i.checked_mul(entsize)?)?))
        .collect::<Option<_>>()?;
    let (_, _, names_offset, names_size) = *raw.get(names)?;
    let string_table = contents(bytes, names_offset, names_size)?;
    Some(
        raw.into_iter()
            .filter(|(_, kind, _, _)| *kind != SHT_NOBITS)
            .map(|(name, _, offset, size)| Section {
                name: string_at(string_table, name.0),
                addr: name.1,
                offset,
                size,
            })
            .collect(),
    )
}

/// One section header: (name offset, address), type, file offset, size.
type RawHeader = ((usize, u64), u32, u64, u64);

fn header(bytes: &[u8], layout: Layout, at: usize) -> Option<RawHeader> {
    let name = usize::try_from(layout.uint(bytes, at, 4)?).ok()?;
    let kind = u32::try_from(layout.uint(bytes, at + 4, 4)?).ok()?;
    let (addr, offset, size) = if layout.wide {
        (at + 16, at + 24, at + 32)
    } else {
        (at + 12, at + 16, at + 20)
    };
    Some((
        (name, layout.word(bytes, addr)?),
        kind,
        layout.word(bytes, offset)?,
        layout.word(bytes, size)?,
    ))
}

/// The bytes of the region at `offset` of `size`, if inside the file.
pub(super) fn contents(bytes: &[u8], offset: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    bytes.get(start..end)
}

fn string_at(table: &[u8], at: usize) -> String {
    let tail = table.get(at..).unwrap_or_default();
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    String::from_utf8_lossy(&tail[..end]).into_owned()
}

/// The bytes of the section called `name`.
pub(super) fn section<'a>(bytes: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let found = sections(bytes)?.into_iter().find(|s| s.name == name)?;
    contents(bytes, found.offset, found.size)
}

/// The file offset of virtual address `addr`, through the section holding it.
pub(super) fn file_offset(sections: &[Section], addr: u64) -> Option<u64> {
    sections
        .iter()
        .find(|s| s.addr != 0 && addr >= s.addr && addr - s.addr < s.size)
        .map(|s| s.offset + (addr - s.addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sections_readelf_lists() {
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        let names: Vec<_> = sections(&bytes)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        let output = std::process::Command::new("readelf")
            .args(["-S", "-W"])
            .arg(&exe)
            .output();
        let Ok(output) = output else {
            assert!(names.iter().any(|n| n == ".text"));
            return;
        };
        let listing = String::from_utf8_lossy(&output.stdout);
        for name in names.iter().filter(|n| !n.is_empty()) {
            assert!(listing.contains(name.as_str()), "{name} not in readelf -S");
        }
        assert!(names.iter().any(|n| n == ".text"));
    }

    #[test]
    fn mangled_headers_are_none_not_panics() {
        let bytes = std::fs::read("/proc/self/exe").unwrap();
        for cut in [0, 4, 5, 6, 20, 0x3c, 0x40, 1000] {
            let _ = sections(&bytes[..cut.min(bytes.len())]);
        }
        let mut mangled = bytes[..4096].to_vec();
        mangled[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(sections(&mangled).is_none());
        let _ = section(b"\x7fELF\x02\x01", ".text");
    }
}
