//! ADD's archive detection: a local file is unpacked when it is a tar
//! archive, plain or compressed with gzip, bzip2, xz or zstd (recognised by
//! content, not name), as BuildKit decides with `isArchivePath`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};

/// `file` as a decompressed tar stream when it is an archive, else `None`.
pub(crate) fn open_archive(mut file: File, path: &Path) -> Result<Option<Box<dyn Read + Send>>> {
    let mut magic = [0u8; 6];
    let read = read_up_to(&mut file, &mut magic).map_err(|e| Error::io("read", path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seek", path, e))?;
    let magic = &magic[..read];
    let probe = |reader: Box<dyn Read + Send>| -> std::io::Result<bool> {
        let mut reader = reader;
        let mut header = [0u8; 512];
        let read = read_up_to(&mut reader, &mut header)?;
        Ok(read == 512 && is_tar_header(&header))
    };
    let decoder = |file: File| -> Box<dyn Read + Send> {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else if magic.starts_with(b"BZh") {
            Box::new(bzip2::read::MultiBzDecoder::new(file))
        } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Box::new(liblzma::read::XzDecoder::new_multi_decoder(file))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            match zstd::stream::read::Decoder::new(file) {
                Ok(decoder) => Box::new(decoder),
                Err(_) => Box::new(std::io::empty()),
            }
        } else {
            Box::new(file)
        }
    };
    let probe_file = file.try_clone().map_err(|e| Error::io("open", path, e))?;
    if !probe(decoder(probe_file)).unwrap_or(false) {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seek", path, e))?;
    Ok(Some(decoder(file)))
}

fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Whether a 512-byte block is a tar header: its checksum field matches.
fn is_tar_header(header: &[u8; 512]) -> bool {
    let field = &header[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .map(|b| *b as char)
        .collect();
    let Ok(recorded) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == recorded && header[..100].iter().any(|b| *b != 0)
}
