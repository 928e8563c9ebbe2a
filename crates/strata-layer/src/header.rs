//! ustar headers, with PAX extended records for what ustar cannot hold.

use tar::{EntryType, Header};

/// The largest value of an 8-byte octal field (uid, gid, mode).
const MAX_OCTAL_8: u64 = 0o7_777_777;
/// The largest value of a 12-byte octal field (size, mtime).
const MAX_OCTAL_12: u64 = 0o77_777_777_777;

/// Everything a layer entry's header records.
#[derive(Debug, Default)]
pub(crate) struct EntryHeader {
    /// The full name; directories end with `/`.
    pub(crate) name: Vec<u8>,
    pub(crate) entry_type: Option<EntryType>,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) size: u64,
    pub(crate) mtime: i64,
    pub(crate) link_name: Vec<u8>,
    pub(crate) device: (u32, u32),
    /// Extended attributes, sorted by name.
    pub(crate) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl EntryHeader {
    /// Appends the PAX header (when needed) and the ustar header to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut records: Vec<u8> = Vec::new();
        let mut header = Header::new_ustar();
        header.set_entry_type(self.entry_type.unwrap_or(EntryType::Regular));

        if !set_name(&mut header, &self.name) {
            pax_record(&mut records, b"path", &self.name);
        }
        if !self.link_name.is_empty() {
            if self.link_name.len() <= 100 {
                header.as_old_mut().linkname[..self.link_name.len()]
                    .copy_from_slice(&self.link_name);
            } else {
                pax_record(&mut records, b"linkpath", &self.link_name);
            }
        }
        header.set_mode(self.mode & 0o7777);
        for (value, key, set) in [
            (
                self.uid,
                &b"uid"[..],
                Header::set_uid as fn(&mut Header, u64),
            ),
            (self.gid, &b"gid"[..], Header::set_gid),
        ] {
            if value <= MAX_OCTAL_8 {
                set(&mut header, value);
            } else {
                set(&mut header, 0);
                pax_record(&mut records, key, value.to_string().as_bytes());
            }
        }
        if self.size <= MAX_OCTAL_12 {
            header.set_size(self.size);
        } else {
            header.set_size(0);
            pax_record(&mut records, b"size", self.size.to_string().as_bytes());
        }
        let mtime = u64::try_from(self.mtime).unwrap_or(0).min(MAX_OCTAL_12);
        header.set_mtime(mtime);
        if matches!(self.entry_type, Some(EntryType::Char | EntryType::Block)) {
            // Both fit: the octal fields hold 2^21 - 1 and Linux majors are 12 bits.
            let _ = header.set_device_major(self.device.0);
            let _ = header.set_device_minor(self.device.1);
        }
        for (name, value) in &self.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(name);
            pax_record(&mut records, &key, value);
        }
        header.set_cksum();

        if !records.is_empty() {
            let mut pax = Header::new_ustar();
            pax.set_entry_type(EntryType::XHeader);
            let base = self
                .name
                .trim_ascii_end()
                .strip_suffix(b"/")
                .unwrap_or(&self.name);
            let base = base.rsplit(|b| *b == b'/').next().unwrap_or(base);
            let mut pax_name = b"PaxHeaders/".to_vec();
            pax_name.extend_from_slice(&base[..base.len().min(100 - pax_name.len())]);
            set_name(&mut pax, &pax_name);
            pax.set_mode(0o644);
            pax.set_size(records.len() as u64);
            pax.set_mtime(0);
            pax.set_cksum();
            out.extend_from_slice(pax.as_bytes());
            out.extend_from_slice(&records);
            pad(out, records.len() as u64);
        }
        out.extend_from_slice(header.as_bytes());
    }
}

/// Pads `out` with zeros after `size` bytes of entry data.
pub(crate) fn pad(out: &mut Vec<u8>, size: u64) {
    let remainder = (size % 512) as usize;
    if remainder != 0 {
        out.resize(out.len() + 512 - remainder, 0);
    }
}

/// The number of zero bytes that follow `size` bytes of data.
pub(crate) fn padding(size: u64) -> usize {
    let remainder = (size % 512) as usize;
    if remainder == 0 { 0 } else { 512 - remainder }
}

/// Puts `name` in the ustar name and prefix fields; false when it does not fit.
fn set_name(header: &mut Header, name: &[u8]) -> bool {
    let Some(ustar) = header.as_ustar_mut() else {
        return false;
    };
    if name.len() <= 100 {
        ustar.name[..name.len()].copy_from_slice(name);
        return true;
    }
    // Split at a '/' so that the prefix holds at most 155 bytes and the
    // rest at most 100; the slash itself is implied.
    let split = name
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i <= 155 && name.len() - i - 1 <= 100 && i > 0)
        .map(|(i, _)| i)
        .next();
    let Some(split) = split else { return false };
    let rest = &name[split + 1..];
    if rest.is_empty() {
        return false;
    }
    ustar.prefix[..split].copy_from_slice(&name[..split]);
    ustar.name[..rest.len()].copy_from_slice(rest);
    true
}

/// Appends one PAX record: `"<length> <key>=<value>\n"`, the length counting itself.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = 1 + key.len() + 1 + value.len() + 1;
    let mut length = rest + 1;
    while length != rest + length.to_string().len() {
        length = rest + length.to_string().len();
    }
    out.extend_from_slice(length.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        let mut out = Vec::new();
        pax_record(&mut out, b"path", b"abc");
        assert_eq!(out, b"12 path=abc\n");
        let mut out = Vec::new();
        pax_record(&mut out, b"k", &[b'v'; 95]);
        // 1 + 1 + 1 + 95 + 1 = 99 bytes plus the length's 3 digits.
        assert_eq!(&out[..4], b"102 ");
        assert_eq!(out.len(), 102);
    }

    #[test]
    fn long_names_split_or_use_pax() {
        let mut header = Header::new_ustar();
        let name = format!("{}/{}", "d".repeat(150), "f".repeat(90));
        assert!(set_name(&mut header, name.as_bytes()));
        assert_eq!(header.path_bytes().as_ref(), name.as_bytes());
        let mut header = Header::new_ustar();
        assert!(!set_name(&mut header, "x".repeat(101).as_bytes()));
    }
}
