//! Reading zip archives held in memory: Java archives (and the archives
//! nested in them) and OSV's per-ecosystem `all.zip`. Stored and deflated
//! entries, zip64 sizes and offsets; no encryption, no multi-disk archives.

use crate::error::{Error, Result};

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// One entry of the central directory.
#[derive(Clone, Debug)]
pub(crate) struct ZipEntry {
    /// The entry's name (`/`-separated; directories end in `/`).
    pub(crate) name: String,
    method: u16,
    compressed_size: u64,
    size: u64,
    local_header: u64,
}

impl ZipEntry {
    /// The entry's uncompressed size, as the directory records it.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// A raw-deflate decoder kept between entries.
pub(crate) struct Inflater(flate2::Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(flate2::Decompress::new(false))
    }
}

impl Inflater {
    /// Inflates `body` onto `out`, at most `size` bytes (the directory's
    /// size: a lying one makes the read stop short, never grow).
    fn inflate(&mut self, body: &[u8], size: u64, out: &mut Vec<u8>) -> Result<(), String> {
        self.0.reset(false);
        let limit = usize::try_from(size).unwrap_or(usize::MAX);
        out.reserve(limit.min(1 << 30));
        loop {
            let consumed = usize::try_from(self.0.total_in()).unwrap_or(usize::MAX);
            let input = body.get(consumed..).unwrap_or_default();
            if out.len() == out.capacity() {
                out.reserve(64 * 1024);
            }
            let before = (self.0.total_in(), out.len());
            let status = self
                .0
                .decompress_vec(input, out, flate2::FlushDecompress::Finish)
                .map_err(|e| e.to_string())?;
            if status == flate2::Status::StreamEnd || out.len() >= limit {
                out.truncate(limit);
                return Ok(());
            }
            if (self.0.total_in(), out.len()) == before && out.len() < out.capacity() {
                return Err("truncated deflate stream".to_string());
            }
        }
    }
}

/// A zip archive over borrowed bytes.
pub(crate) struct ZipArchive<'a> {
    name: String,
    data: &'a [u8],
    entries: Vec<ZipEntry>,
}

impl<'a> ZipArchive<'a> {
    /// Reads the central directory of `data`; `name` names it in errors.
    pub(crate) fn parse(name: &str, data: &'a [u8]) -> Result<Self> {
        let mut archive = ZipArchive {
            name: name.to_string(),
            data,
            entries: Vec::new(),
        };
        let (count, offset) = archive.directory()?;
        let mut at = usize::try_from(offset).map_err(|_| archive.error("directory offset"))?;
        for _ in 0..count {
            let entry = archive.central_entry(&mut at)?;
            archive.entries.push(entry);
        }
        Ok(archive)
    }

    /// The entries, in directory order.
    pub(crate) fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// The uncompressed bytes of `entry`.
    pub(crate) fn read(&self, entry: &ZipEntry) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.read_with(entry, &mut Inflater::default(), &mut out)?;
        Ok(out)
    }

    /// Reads `entry` into `out` (cleared first) with `inflater`: a caller
    /// reading many entries keeps one, instead of allocating a decoder's
    /// state and window per entry (which fragments the heap of a
    /// many-threaded reader of OSV's archives into gigabytes).
    pub(crate) fn read_with(
        &self,
        entry: &ZipEntry,
        inflater: &mut Inflater,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        out.clear();
        let at = usize::try_from(entry.local_header).map_err(|_| self.error("local header"))?;
        if self.u32_at(at)? != LOCAL_HEADER {
            return Err(self.error(&format!("{}: no local header", entry.name)));
        }
        let name_len = usize::from(self.u16_at(at + 26)?);
        let extra_len = usize::from(self.u16_at(at + 28)?);
        let start = at + 30 + name_len + extra_len;
        let length =
            usize::try_from(entry.compressed_size).map_err(|_| self.error("entry size"))?;
        let body = self
            .data
            .get(start..start.saturating_add(length))
            .ok_or_else(|| self.error(&format!("{}: truncated", entry.name)))?;
        match entry.method {
            0 => {
                out.extend_from_slice(body);
                Ok(())
            }
            8 => inflater
                .inflate(body, entry.size, out)
                .map_err(|e| self.error(&format!("{}: {e}", entry.name))),
            method => Err(self.error(&format!("{}: compression method {method}", entry.name))),
        }
    }

    /// The entry named `name`, if any.
    pub(crate) fn find(&self, name: &str) -> Option<&ZipEntry> {
        self.entries.iter().find(|entry| entry.name == name)
    }

    /// Finds the end record (searching back over a comment) and returns the
    /// entry count and the central directory's offset, zip64 when flagged.
    fn directory(&self) -> Result<(u64, u64)> {
        let data = self.data;
        if data.len() < 22 {
            return Err(self.error("too short"));
        }
        let lowest = data.len().saturating_sub(22 + 0xffff);
        let end = (lowest..=data.len() - 22)
            .rev()
            .find(|&at| self.u32_at(at).ok() == Some(END_OF_CENTRAL_DIRECTORY))
            .ok_or_else(|| self.error("no end of central directory"))?;
        let count = u64::from(self.u16_at(end + 10)?);
        let offset = u64::from(self.u32_at(end + 16)?);
        if (count == 0xffff || offset == 0xffff_ffff)
            && end >= 20
            && self.u32_at(end - 20)? == ZIP64_END_LOCATOR
        {
            let record = usize::try_from(self.u64_at(end - 12)?)
                .map_err(|_| self.error("zip64 record offset"))?;
            if self.u32_at(record)? != ZIP64_END {
                return Err(self.error("bad zip64 end record"));
            }
            return Ok((self.u64_at(record + 32)?, self.u64_at(record + 48)?));
        }
        Ok((count, offset))
    }

    fn central_entry(&self, at: &mut usize) -> Result<ZipEntry> {
        let start = *at;
        if self.u32_at(start)? != CENTRAL_HEADER {
            return Err(self.error("bad central directory entry"));
        }
        let method = self.u16_at(start + 10)?;
        let mut compressed_size = u64::from(self.u32_at(start + 20)?);
        let mut size = u64::from(self.u32_at(start + 24)?);
        let name_len = usize::from(self.u16_at(start + 28)?);
        let extra_len = usize::from(self.u16_at(start + 30)?);
        let comment_len = usize::from(self.u16_at(start + 32)?);
        let mut local_header = u64::from(self.u32_at(start + 42)?);
        let name_start = start + 46;
        let name_bytes = self
            .data
            .get(name_start..name_start + name_len)
            .ok_or_else(|| self.error("truncated entry name"))?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        // Zip64: the extra field holds, in order, the sizes and offset that
        // are 0xffffffff in the fixed header.
        let mut extra = name_start + name_len;
        let extra_end = extra + extra_len;
        while extra + 4 <= extra_end {
            let id = self.u16_at(extra)?;
            let len = usize::from(self.u16_at(extra + 2)?);
            if id == 1 {
                let mut field = extra + 4;
                for value in [&mut size, &mut compressed_size, &mut local_header] {
                    if *value == 0xffff_ffff && field + 8 <= extra + 4 + len {
                        *value = self.u64_at(field)?;
                        field += 8;
                    }
                }
            }
            extra += 4 + len;
        }
        *at = extra_end + comment_len;
        Ok(ZipEntry {
            name,
            method,
            compressed_size,
            size,
            local_header,
        })
    }

    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        self.data
            .get(at..at.saturating_add(N))
            .and_then(|slice| slice.try_into().ok())
            .ok_or_else(|| self.error("truncated"))
    }

    fn u16_at(&self, at: usize) -> Result<u16> {
        self.bytes(at).map(u16::from_le_bytes)
    }

    fn u32_at(&self, at: usize) -> Result<u32> {
        self.bytes(at).map(u32::from_le_bytes)
    }

    fn u64_at(&self, at: usize) -> Result<u64> {
        self.bytes(at).map(u64::from_le_bytes)
    }

    fn error(&self, reason: &str) -> Error {
        Error::Zip {
            name: self.name.clone(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stored_and_deflated_entries_written_by_python() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        let script = format!(
            "import zipfile\nwith zipfile.ZipFile({:?}, 'w') as z:\n z.writestr('stored.txt', 'plain', compress_type=zipfile.ZIP_STORED)\n z.writestr('dir/deflated.json', '{{\"x\": 1}}' * 100, compress_type=zipfile.ZIP_DEFLATED)\n",
            path.to_str().unwrap()
        );
        let status = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .status()
            .unwrap();
        assert!(status.success());
        let data = std::fs::read(&path).unwrap();
        let archive = ZipArchive::parse("a.zip", &data).unwrap();
        let names: Vec<_> = archive.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["stored.txt", "dir/deflated.json"]);
        assert_eq!(
            archive.read(archive.find("stored.txt").unwrap()).unwrap(),
            b"plain"
        );
        let json = archive
            .read(archive.find("dir/deflated.json").unwrap())
            .unwrap();
        assert_eq!(json, "{\"x\": 1}".repeat(100).as_bytes());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for data in [
            &b""[..],
            b"PK\x05\x06",
            &[0u8; 100],
            b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0",
        ] {
            let _ = ZipArchive::parse("x", data);
        }
        let mut forged = vec![0u8; 40];
        forged.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\x05\0\0\0\0\0");
        assert!(ZipArchive::parse("x", &forged).is_err());
    }
}
