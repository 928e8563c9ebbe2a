//! An rpm header as the rpmdb stores it: the index count and data length
//! (big-endian u32s), the 16-byte index entries (tag, type, offset, count),
//! then the data store the offsets point into.

/// The tags read.
pub(super) const NAME: i32 = 1000;
pub(super) const VERSION: i32 = 1001;
pub(super) const RELEASE: i32 = 1002;
pub(super) const EPOCH: i32 = 1003;
pub(super) const LICENSE: i32 = 1014;
pub(super) const ARCH: i32 = 1022;
pub(super) const SOURCERPM: i32 = 1044;

const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// Entries beyond this are not believed (rpm itself caps at 0xffff).
const MOST_ENTRIES: usize = 0xffff;

/// A parsed header: its index entries and data store.
pub(super) struct Header<'a> {
    entries: Vec<(i32, u32, usize, usize)>,
    store: &'a [u8],
}

impl<'a> Header<'a> {
    /// Parses `blob`; `None` if it is not a well-formed header.
    pub(super) fn parse(blob: &'a [u8]) -> Option<Self> {
        let count = usize::try_from(be32(blob, 0)?).ok()?;
        let length = usize::try_from(be32(blob, 4)?).ok()?;
        if count > MOST_ENTRIES {
            return None;
        }
        let store_start = 8 + count * 16;
        let store = blob.get(store_start..store_start.checked_add(length)?)?;
        let entries = (0..count)
            .map(|i| {
                let at = 8 + i * 16;
                Some((
                    be32(blob, at)? as i32,
                    be32(blob, at + 4)?,
                    usize::try_from(be32(blob, at + 8)?).ok()?,
                    usize::try_from(be32(blob, at + 12)?).ok()?,
                ))
            })
            .collect::<Option<_>>()?;
        Some(Header { entries, store })
    }

    fn entry(&self, tag: i32) -> Option<(u32, usize, usize)> {
        self.entries
            .iter()
            .find(|(t, ..)| *t == tag)
            .map(|&(_, kind, offset, count)| (kind, offset, count))
    }

    /// A string tag's value (the first of an array or translation table).
    pub(super) fn string(&self, tag: i32) -> Option<String> {
        let (kind, offset, _) = self.entry(tag)?;
        if !matches!(kind, STRING | STRING_ARRAY | I18NSTRING) {
            return None;
        }
        let tail = self.store.get(offset..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&tail[..end]).into_owned())
    }

    /// An INT32 tag's first value.
    pub(super) fn int32(&self, tag: i32) -> Option<u32> {
        let (kind, offset, count) = self.entry(tag)?;
        if kind != INT32 || count == 0 {
            return None;
        }
        be32(self.store, offset)
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}
