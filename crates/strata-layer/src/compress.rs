//! Layer compression: none, gzip (block-parallel) or zstd (multi-threaded).

use std::io::{self, Read, Write};

use crate::gzip::ParallelGzipWriter;

/// How a layer blob is compressed. The default is gzip at level 6, what
/// `docker build` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip at a level from 0 (stored) to 9 (smallest).
    Gzip {
        /// The deflate level, 0-9.
        level: u32,
    },
    /// zstd at a level from 1 to 19 (negative levels are faster still).
    Zstd {
        /// The zstd level; 3 is zstd's own default.
        level: i32,
    },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Gzip { level: 6 }
    }
}

impl Compression {
    /// gzip at its default level, 6.
    pub const GZIP: Compression = Compression::Gzip { level: 6 };
    /// zstd at its default level, 3.
    pub const ZSTD: Compression = Compression::Zstd { level: 3 };

    /// The OCI media type of a layer compressed this way.
    pub fn media_type(&self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip { .. } => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd { .. } => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Recognises a compressed stream by its first bytes: gzip, zstd, or neither.
pub fn detect_compression(prefix: &[u8]) -> Compression {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        Compression::GZIP
    } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::ZSTD
    } else {
        Compression::None
    }
}

/// Copies `input` to `output` compressed with `compression` on `threads`
/// threads (0: one per core), as a layer blob is compressed for a registry
/// or an archive; returns the bytes read and `output`.
pub fn compress<R: Read, W: Write>(
    mut input: R,
    output: W,
    compression: Compression,
    threads: usize,
) -> io::Result<(u64, W)> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    };
    let mut compressor = Compressor::new(output, compression, threads)?;
    let read = io::copy(&mut input, &mut compressor)?;
    Ok((read, compressor.finish()?))
}

/// A writer that compresses into `W`.
pub(crate) enum Compressor<W: Write> {
    None(W),
    Gzip(ParallelGzipWriter<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Compressor<W> {
    pub(crate) fn new(inner: W, compression: Compression, threads: usize) -> io::Result<Self> {
        Ok(match compression {
            Compression::None => Compressor::None(inner),
            Compression::Gzip { level } => {
                Compressor::Gzip(ParallelGzipWriter::new(inner, level.min(9), threads)?)
            }
            Compression::Zstd { level } => {
                let mut encoder = zstd::stream::write::Encoder::new(inner, level)?;
                if threads > 1 {
                    encoder.multithread(u32::try_from(threads).unwrap_or(u32::MAX))?;
                }
                Compressor::Zstd(encoder)
            }
        })
    }

    pub(crate) fn finish(self) -> io::Result<W> {
        match self {
            Compressor::None(mut inner) => {
                inner.flush()?;
                Ok(inner)
            }
            Compressor::Gzip(writer) => writer.finish(),
            Compressor::Zstd(encoder) => encoder.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::None(inner) => inner.write(data),
            Compressor::Gzip(writer) => writer.write(data),
            Compressor::Zstd(encoder) => encoder.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::None(inner) => inner.flush(),
            Compressor::Gzip(writer) => writer.flush(),
            Compressor::Zstd(encoder) => encoder.flush(),
        }
    }
}

/// A reader that decompresses whatever `R` holds (gzip, zstd or plain).
pub fn decompressor<'a, R: Read + 'a>(reader: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut reader = io::BufReader::with_capacity(256 * 1024, reader);
    let prefix = io::BufRead::fill_buf(&mut reader)?;
    Ok(match detect_compression(prefix) {
        Compression::None => Box::new(reader),
        // Multi-member: pigz and some registries concatenate members.
        Compression::Gzip { .. } => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
        Compression::Zstd { .. } => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_round_trips_in_every_compression() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        for compression in [Compression::None, Compression::GZIP, Compression::ZSTD] {
            let (read, compressed) = compress(&data[..], Vec::new(), compression, 2).unwrap();
            assert_eq!(read, data.len() as u64);
            assert_eq!(detect_compression(&compressed), compression);
            let mut back = Vec::new();
            decompressor(&compressed[..])
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data);
        }
    }
}
