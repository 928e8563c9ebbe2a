//! A small read-only reader of SQLite database files (the documented file
//! format): the header, table b-trees (interior and leaf pages, overflow
//! chains) and records. Enough to read one table's rows; no indexes, no WAL.
//! Every read is bounds-checked and page walks are bounded, so malformed
//! files give an error, never a panic or a loop.

use std::collections::BTreeSet;

/// Why a file could not be read as SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Malformed(pub(super) &'static str);

type Result<T> = std::result::Result<T, Malformed>;

/// A column's value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// A database file held in memory.
pub(super) struct Database<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
}

const LEAF_TABLE: u8 = 13;
const INTERIOR_TABLE: u8 = 5;

impl<'a> Database<'a> {
    /// Reads the header of `data`.
    pub(super) fn open(data: &'a [u8]) -> Result<Self> {
        if !data.starts_with(b"SQLite format 3\0") {
            return Err(Malformed("not an SQLite database"));
        }
        let raw = u16::from_be_bytes(array(data, 16)?);
        let page_size = if raw == 1 { 65536 } else { usize::from(raw) };
        if page_size < 512 || !page_size.is_power_of_two() {
            return Err(Malformed("bad page size"));
        }
        let reserved = usize::from(*data.get(20).ok_or(Malformed("truncated header"))?);
        let usable = page_size
            .checked_sub(reserved)
            .filter(|&u| u >= 480)
            .ok_or(Malformed("bad reserved space"))?;
        Ok(Database {
            data,
            page_size,
            usable,
        })
    }

    /// The rows of the table `name` (rowid and columns), found through
    /// `sqlite_schema`.
    pub(super) fn table(&self, name: &str) -> Result<Vec<(i64, Vec<Value>)>> {
        let root = self
            .rows(1)?
            .into_iter()
            .find_map(|(_, columns)| match columns.as_slice() {
                [
                    Value::Text(kind),
                    Value::Text(table),
                    _,
                    Value::Integer(root),
                    ..,
                ] if kind == b"table" && table == name.as_bytes() => Some(*root),
                _ => None,
            })
            .ok_or(Malformed("no such table"))?;
        self.rows(usize::try_from(root).map_err(|_| Malformed("bad root page"))?)
    }

    /// Every row of the table b-tree rooted at page `root`, in rowid order.
    fn rows(&self, root: usize) -> Result<Vec<(i64, Vec<Value>)>> {
        let mut rows = Vec::new();
        let mut visited = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(number) = stack.pop() {
            if !visited.insert(number) || visited.len() > self.page_count() {
                return Err(Malformed("b-tree loops"));
            }
            let (page, header) = self.page(number)?;
            let kind = *page.get(header).ok_or(Malformed("truncated page"))?;
            let cells = self.cell_offsets(page, header, kind)?;
            match kind {
                LEAF_TABLE => {
                    for cell in cells {
                        rows.push(self.leaf_cell(page, cell)?);
                    }
                }
                INTERIOR_TABLE => {
                    // Pushed right-most first so pages pop in key order.
                    stack.push(u32_at(page, header + 8)? as usize);
                    for cell in cells.into_iter().rev() {
                        stack.push(u32_at(page, cell)? as usize);
                    }
                }
                _ => return Err(Malformed("not a table b-tree page")),
            }
        }
        Ok(rows)
    }

    fn page_count(&self) -> usize {
        self.data.len() / self.page_size
    }

    /// The bytes of page `number` (1-based) and where its b-tree header is.
    fn page(&self, number: usize) -> Result<(&'a [u8], usize)> {
        let start = number
            .checked_sub(1)
            .and_then(|n| n.checked_mul(self.page_size))
            .ok_or(Malformed("bad page number"))?;
        let page = self
            .data
            .get(start..start + self.page_size)
            .ok_or(Malformed("page beyond the end"))?;
        Ok((&page[..self.usable], if number == 1 { 100 } else { 0 }))
    }

    fn cell_offsets(&self, page: &[u8], header: usize, kind: u8) -> Result<Vec<usize>> {
        let count = usize::from(u16::from_be_bytes(array(page, header + 3)?));
        let pointers = header + if kind == INTERIOR_TABLE { 12 } else { 8 };
        (0..count)
            .map(|i| {
                Ok(usize::from(u16::from_be_bytes(array(
                    page,
                    pointers + 2 * i,
                )?)))
            })
            .collect()
    }

    /// A table leaf cell: payload size, rowid, payload (spilling to overflow pages).
    fn leaf_cell(&self, page: &[u8], at: usize) -> Result<(i64, Vec<Value>)> {
        let (size, n) = varint(page.get(at..).unwrap_or_default())?;
        let (rowid, m) = varint(page.get(at + n..).unwrap_or_default())?;
        let size = usize::try_from(size).map_err(|_| Malformed("payload size"))?;
        if size > self.data.len() {
            return Err(Malformed("payload larger than the file"));
        }
        let start = at + n + m;
        let local = self.local_size(size);
        let mut payload = page
            .get(start..start + local)
            .ok_or(Malformed("truncated cell"))?
            .to_vec();
        if local < size {
            let first = u32_at(page, start + local)? as usize;
            self.read_overflow(first, size, &mut payload)?;
        }
        Ok((rowid as i64, record(&payload)?))
    }

    /// How much of a payload of `size` bytes a table leaf keeps on its page.
    fn local_size(&self, size: usize) -> usize {
        let u = self.usable;
        let max_local = u - 35;
        if size <= max_local {
            return size;
        }
        let min_local = (u - 12) * 32 / 255 - 23;
        let k = min_local + (size - min_local) % (u - 4);
        if k <= max_local { k } else { min_local }
    }

    fn read_overflow(&self, mut next: usize, size: usize, payload: &mut Vec<u8>) -> Result<()> {
        let mut hops = 0;
        while payload.len() < size {
            hops += 1;
            if next == 0 || hops > self.page_count() {
                return Err(Malformed("overflow chain broken"));
            }
            let (page, _) = self.page(next)?;
            next = u32_at(page, 0)? as usize;
            let wanted = (size - payload.len()).min(self.usable - 4);
            payload.extend_from_slice(page.get(4..4 + wanted).ok_or(Malformed("overflow"))?);
        }
        Ok(())
    }
}

/// A record: a header of serial types, then the values.
fn record(payload: &[u8]) -> Result<Vec<Value>> {
    let (header_size, mut at) = varint(payload)?;
    let header_size = usize::try_from(header_size).map_err(|_| Malformed("record header"))?;
    let mut body = header_size;
    let mut values = Vec::new();
    while at < header_size {
        let (serial, n) = varint(payload.get(at..header_size).unwrap_or_default())?;
        at += n;
        let (value, used) = value(serial, payload.get(body..).unwrap_or_default())?;
        body += used;
        values.push(value);
    }
    Ok(values)
}

fn value(serial: u64, data: &[u8]) -> Result<(Value, usize)> {
    let int = |len: usize| -> Result<(Value, usize)> {
        let bytes = data.get(..len).ok_or(Malformed("truncated value"))?;
        let unsigned = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let shift = 64 - 8 * len as u32;
        Ok((Value::Integer(((unsigned << shift) as i64) >> shift), len))
    };
    match serial {
        0 => Ok((Value::Null, 0)),
        1..=4 => int(serial as usize),
        5 => int(6),
        6 => int(8),
        7 => {
            let bytes: [u8; 8] = array(data, 0)?;
            Ok((Value::Real(f64::from_be_bytes(bytes)), 8))
        }
        8 => Ok((Value::Integer(0), 0)),
        9 => Ok((Value::Integer(1), 0)),
        10 | 11 => Err(Malformed("reserved serial type")),
        _ => {
            let len = usize::try_from((serial - 12) / 2).map_err(|_| Malformed("length"))?;
            let bytes = data
                .get(..len)
                .ok_or(Malformed("truncated value"))?
                .to_vec();
            let value = if serial.is_multiple_of(2) {
                Value::Blob(bytes)
            } else {
                Value::Text(bytes)
            };
            Ok((value, len))
        }
    }
}

/// SQLite's big-endian varint (up to nine bytes) and its length.
fn varint(data: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().enumerate().take(9) {
        if i == 8 {
            return Ok(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(Malformed("truncated varint"))
}

fn array<const N: usize>(data: &[u8], at: usize) -> Result<[u8; N]> {
    data.get(at..at.saturating_add(N))
        .and_then(|s| s.try_into().ok())
        .ok_or(Malformed("truncated"))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32> {
    array(data, at).map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A database python's sqlite3 writes: small rows, a row spanning
    /// overflow pages, enough rows for interior pages.
    fn python_database(dir: &std::path::Path) -> Vec<u8> {
        let path = dir.join("t.sqlite");
        let script = format!(
            "import sqlite3\ndb = sqlite3.connect({:?})\ndb.execute('PRAGMA page_size=1024')\ndb.execute('CREATE TABLE other (x TEXT)')\ndb.execute('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)')\nfor i in range(1, 400):\n    db.execute('INSERT INTO Packages (blob) VALUES (?)', (bytes([i % 256]) * (i * 7 if i != 200 else 10000),))\ndb.execute('INSERT INTO other VALUES (?)', ('x' * 3000,))\ndb.commit()\n",
            path.to_str().unwrap()
        );
        let status = Command::new("python3")
            .arg("-c")
            .arg(script)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read(path).unwrap()
    }

    fn expected_blob(i: i64) -> Vec<u8> {
        vec![(i % 256) as u8; if i == 200 { 10000 } else { (i * 7) as usize }]
    }

    #[test]
    fn reads_what_python_sqlite3_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let data = python_database(dir.path());
        let db = Database::open(&data).unwrap();
        let rows = db.table("Packages").unwrap();
        assert_eq!(rows.len(), 399);
        for (i, (rowid, columns)) in rows.iter().enumerate() {
            assert_eq!(*rowid, i as i64 + 1);
            assert_eq!(columns[0], Value::Null);
            assert_eq!(columns[1], Value::Blob(expected_blob(*rowid)));
        }
        let other = db.table("other").unwrap();
        assert_eq!(other[0].1, [Value::Text(vec![b'x'; 3000])]);
        assert_eq!(db.table("missing"), Err(Malformed("no such table")));
    }

    #[test]
    fn mangled_databases_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let data = python_database(dir.path());
        for cut in [
            0,
            16,
            99,
            100,
            1023,
            1024,
            5000,
            data.len() / 2,
            data.len() - 1,
        ] {
            if let Ok(db) = Database::open(&data[..cut]) {
                let _ = db.table("Packages");
            }
        }
        // Deterministic pseudo-random corruption of bytes all over the file.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..300 {
            let mut copy = data.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % copy.len();
                copy[at] = (seed >> 32) as u8;
            }
            if let Ok(db) = Database::open(&copy) {
                let _ = db.table("Packages");
            }
        }
    }

    #[test]
    fn varints_and_integers() {
        assert_eq!(varint(&[0x7f]), Ok((0x7f, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Ok((0x80, 2)));
        assert_eq!(varint(&[0xff; 9]), Ok((u64::MAX, 9)));
        assert!(varint(&[0x80]).is_err());
        assert_eq!(value(1, &[0xff]), Ok((Value::Integer(-1), 1)));
        assert_eq!(value(5, &[0, 0, 0, 0, 1, 0]), Ok((Value::Integer(256), 6)));
    }
}
