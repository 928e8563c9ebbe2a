//! Changes to an OCI layer: a sorted tar, compressed, with both digests
//! computed in the same pass.

use std::collections::{HashMap, HashSet};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use strata_oci::{Digest, Sha256Writer};
use tar::EntryType;

use crate::change::{Change, ChangeKind, OPAQUE_MARKER, WHITEOUT_PREFIX, sort_key};
use crate::compress::{Compression, Compressor};
use crate::header::{EntryHeader, padding};
use crate::{Error, Result};

/// How a layer is written.
#[derive(Debug, Clone, Default)]
pub struct LayerOptions {
    /// The compression (default gzip level 6).
    pub compression: Compression,
    /// When set, every mtime later than this (seconds since the epoch) is
    /// clamped to it, as `SOURCE_DATE_EPOCH` asks.
    pub source_date_epoch: Option<i64>,
    /// Compression threads; 0 (the default) means one per core. Above one,
    /// the diff id is also hashed on a thread of its own.
    pub threads: usize,
}

impl LayerOptions {
    /// Options with `compression`, `SOURCE_DATE_EPOCH` read from the
    /// environment (ignored unless it is a whole number), and every core.
    pub fn from_env(compression: Compression) -> Self {
        Self {
            compression,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            threads: 0,
        }
    }
}

/// What identifies a written layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerDigests {
    /// sha256 of the uncompressed tar (the image config's `rootfs.diff_ids`).
    pub diff_id: Digest,
    /// sha256 of the blob as written (the manifest's layer digest).
    pub digest: Digest,
    /// Size of the blob as written, in bytes.
    pub size: u64,
    /// Size of the uncompressed tar, in bytes.
    pub uncompressed_size: u64,
    /// The OCI media type of the blob.
    pub media_type: &'static str,
}

enum Item<'a> {
    Entry(&'a Path),
    Whiteout(&'a Path),
    Opaque(&'a Path),
}

/// Writes the layer for `changes` (paths relative to `source_root`, whose
/// files hold the new contents) to `output`, and returns its digests and the
/// output writer.
///
/// Entries are sorted depth first by name; a directory is preceded by its
/// parents even when they did not change; files sharing an inode become
/// hardlinks; sockets are skipped (a tar cannot hold them).
pub fn write_layer<W: Write>(
    source_root: &Path,
    changes: &[Change],
    options: &LayerOptions,
    output: W,
) -> Result<(LayerDigests, W)> {
    let mut items: Vec<(Vec<Vec<u8>>, ChangeKind, Item<'_>)> = Vec::with_capacity(changes.len());
    for change in changes {
        if !Change::is_valid_path(&change.path) {
            return Err(Error::InvalidChangePath {
                path: change.path.clone(),
            });
        }
        let key: Vec<Vec<u8>> = sort_key(&change.path)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        match change.kind {
            ChangeKind::Modified => items.push((key, change.kind, Item::Entry(&change.path))),
            ChangeKind::Deleted => {
                let mut key = key;
                if let Some(last) = key.last_mut() {
                    let mut name = WHITEOUT_PREFIX.as_bytes().to_vec();
                    name.extend_from_slice(last);
                    *last = name;
                }
                items.push((key, change.kind, Item::Whiteout(&change.path)));
            }
            ChangeKind::OpaqueDirectory => {
                let mut marker_key = key.clone();
                marker_key.push(Vec::new());
                items.push((key, ChangeKind::Modified, Item::Entry(&change.path)));
                items.push((marker_key, change.kind, Item::Opaque(&change.path)));
            }
        }
    }
    items.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    items.dedup_by(|a, b| a.0 == b.0);

    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    // An uncompressed blob is the tar itself: one sha256 gives both digests.
    let blob = if options.compression == Compression::None {
        BlobOutput::Same { inner: output }
    } else {
        BlobOutput::Hashed(Sha256Writer::new(output))
    };
    let compressor = Compressor::new(blob, options.compression, threads)
        .map_err(|source| Error::Output { source })?;
    let mut writer = TarWriter {
        root: source_root,
        sink: HashingWriter::new(compressor, threads > 1),
        scratch: Vec::with_capacity(4096),
        buffer: vec![0; 1024 * 1024],
        emitted_directories: HashSet::new(),
        hardlinks: HashMap::new(),
        source_date_epoch: options.source_date_epoch,
    };
    for (_, _, item) in &items {
        match item {
            Item::Entry(path) => {
                writer.ensure_parents(path)?;
                writer.entry(path)?;
            }
            Item::Whiteout(path) => {
                writer.ensure_parents(path)?;
                writer.marker(path.parent(), whiteout_name(path), false)?;
            }
            Item::Opaque(path) => {
                writer.marker(Some(path), OPAQUE_MARKER.as_bytes().to_vec(), true)?;
            }
        }
    }
    // The end of the archive: two zero blocks.
    writer.put(&[0; 1024])?;
    let (diff_id, uncompressed_size, compressor) = writer
        .sink
        .finish()
        .map_err(|source| Error::Output { source })?;
    let blob = compressor
        .finish()
        .map_err(|source| Error::Output { source })?;
    let (digest, size, output) = blob.finish(diff_id, uncompressed_size);
    Ok((
        LayerDigests {
            diff_id,
            digest,
            size,
            uncompressed_size,
            media_type: options.compression.media_type(),
        },
        output,
    ))
}

fn whiteout_name(path: &Path) -> Vec<u8> {
    let mut name = WHITEOUT_PREFIX.as_bytes().to_vec();
    name.extend_from_slice(path.file_name().map(|n| n.as_bytes()).unwrap_or_default());
    name
}

struct TarWriter<'a, W: Write> {
    root: &'a Path,
    sink: HashingWriter<Compressor<BlobOutput<W>>>,
    scratch: Vec<u8>,
    buffer: Vec<u8>,
    emitted_directories: HashSet<PathBuf>,
    hardlinks: HashMap<(u64, u64), Vec<u8>>,
    source_date_epoch: Option<i64>,
}

impl<W: Write> TarWriter<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sink
            .write_all(bytes)
            .map_err(|source| Error::Output { source })
    }

    fn ensure_parents(&mut self, path: &Path) -> Result<()> {
        let mut ancestors: Vec<&Path> = path
            .ancestors()
            .skip(1)
            .filter(|a| !a.as_os_str().is_empty())
            .collect();
        ancestors.reverse();
        for ancestor in ancestors {
            if !self.emitted_directories.contains(ancestor) {
                self.entry(ancestor)?;
            }
        }
        Ok(())
    }

    fn mtime(&self, metadata: &Metadata) -> i64 {
        match self.source_date_epoch {
            Some(epoch) => metadata.mtime().min(epoch),
            None => metadata.mtime(),
        }
    }

    /// A whiteout or opaque marker inside `parent`. A whiteout is root's with
    /// mode 0 and time 0, as BuildKit's (containerd 2's) change writer makes
    /// it; an opaque marker has its directory's owner, permission bits and
    /// times (docker's overlay2 driver).
    fn marker(&mut self, parent: Option<&Path>, name: Vec<u8>, opaque: bool) -> Result<()> {
        let mut full = Vec::new();
        if let Some(parent) = parent.filter(|p| !p.as_os_str().is_empty()) {
            full.extend_from_slice(parent.as_os_str().as_bytes());
            full.push(b'/');
        }
        full.extend_from_slice(&name);
        let parent_metadata = match parent.filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) if opaque => Some(strata_fs::symlink_metadata(self.root.join(parent))?),
            _ => None,
        };
        let (mode, uid, gid, mtime) = match &parent_metadata {
            Some(metadata) => (
                metadata.mode() & 0o777,
                u64::from(metadata.uid()),
                u64::from(metadata.gid()),
                self.mtime(metadata),
            ),
            None => (0, 0, 0, 0),
        };
        let header = EntryHeader {
            name: full,
            entry_type: Some(EntryType::Regular),
            mode,
            uid,
            gid,
            mtime,
            ..EntryHeader::default()
        };
        self.scratch.clear();
        header.encode(&mut self.scratch);
        let scratch = std::mem::take(&mut self.scratch);
        let result = self.put(&scratch);
        self.scratch = scratch;
        result
    }

    fn entry(&mut self, path: &Path) -> Result<()> {
        let source = self.root.join(path);
        let metadata = strata_fs::symlink_metadata(&source)?;
        let file_type = metadata.file_type();
        let mut name = path.as_os_str().as_bytes().to_vec();
        let mut header = EntryHeader {
            mode: metadata.mode(),
            uid: u64::from(metadata.uid()),
            gid: u64::from(metadata.gid()),
            mtime: self.mtime(&metadata),
            xattrs: layer_xattrs(&source)?,
            ..EntryHeader::default()
        };
        let mut data_size = 0;
        if file_type.is_dir() {
            name.push(b'/');
            header.entry_type = Some(EntryType::Directory);
            self.emitted_directories.insert(path.to_path_buf());
        } else if file_type.is_file() {
            let key = (metadata.dev(), metadata.ino());
            match self.hardlinks.get(&key) {
                Some(first) if metadata.nlink() > 1 => {
                    header.entry_type = Some(EntryType::Link);
                    header.link_name = first.clone();
                }
                _ => {
                    if metadata.nlink() > 1 {
                        self.hardlinks.insert(key, name.clone());
                    }
                    header.entry_type = Some(EntryType::Regular);
                    header.size = metadata.len();
                    data_size = metadata.len();
                }
            }
        } else if file_type.is_symlink() {
            header.entry_type = Some(EntryType::Symlink);
            header.link_name = strata_fs::read_link(&source)?
                .into_os_string()
                .into_encoded_bytes();
        } else if file_type.is_char_device() || file_type.is_block_device() {
            header.entry_type = Some(if file_type.is_char_device() {
                EntryType::Char
            } else {
                EntryType::Block
            });
            let device = metadata.rdev();
            header.device = (rustix::fs::major(device), rustix::fs::minor(device));
        } else if file_type.is_fifo() {
            header.entry_type = Some(EntryType::Fifo);
        } else {
            // Sockets have no tar representation; docker skips them too.
            return Ok(());
        }
        header.name = name;
        self.scratch.clear();
        header.encode(&mut self.scratch);
        let scratch = std::mem::take(&mut self.scratch);
        self.put(&scratch)?;
        self.scratch = scratch;
        if data_size > 0 {
            self.copy_file(&source, data_size)?;
        }
        Ok(())
    }

    fn copy_file(&mut self, source: &Path, size: u64) -> Result<()> {
        let mut file: File = OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(source)
            .map_err(|e| strata_fs::Error::new("open", source, e))?;
        let mut remaining = size;
        let mut buffer = std::mem::take(&mut self.buffer);
        let result = (|| {
            while remaining > 0 {
                let want = buffer
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                let read = match file.read(&mut buffer[..want]) {
                    Ok(0) => {
                        return Err(strata_fs::Error::new(
                            "read",
                            source,
                            io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "file shrank while the layer was written",
                            ),
                        )
                        .into());
                    }
                    Ok(read) => read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(strata_fs::Error::new("read", source, e).into()),
                };
                self.put(&buffer[..read])?;
                remaining -= read as u64;
            }
            let zeros = [0u8; 512];
            self.put(&zeros[..padding(size)])
        })();
        self.buffer = buffer;
        result
    }
}

/// The extended attributes of `path` (not following a symlink) that a layer
/// keeps, sorted by name: all but overlayfs's own bookkeeping and SELinux
/// labels (which belong to the host, not the image).
pub fn layer_xattrs(path: &Path) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let fail = |e: rustix::io::Errno| strata_fs::Error::new("list xattrs", path, e.into());
    let mut names = vec![0u8; 1024];
    let length = loop {
        match rustix::fs::llistxattr(path, &mut names[..]) {
            Ok(length) => break length,
            Err(rustix::io::Errno::RANGE) => {
                let needed = rustix::fs::llistxattr_query(path).map_err(fail)?;
                names.resize(needed.max(names.len() * 2), 0);
            }
            Err(rustix::io::Errno::NOTSUP | rustix::io::Errno::PERM) => return Ok(Vec::new()),
            Err(e) => return Err(fail(e).into()),
        }
    };
    let mut xattrs = Vec::new();
    for name in names[..length].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if !keep_xattr(name) {
            continue;
        }
        let name_text = std::ffi::OsStr::from_bytes(name);
        let mut value = vec![0u8; 256];
        let read = loop {
            match rustix::fs::lgetxattr(path, name_text, &mut value[..]) {
                Ok(read) => break Some(read),
                Err(rustix::io::Errno::RANGE) => {
                    let needed = rustix::fs::lgetxattr_query(path, name_text)
                        .map_err(|e| strata_fs::Error::new("read xattr", path, e.into()))?;
                    value.resize(needed.max(value.len() * 2), 0);
                }
                Err(rustix::io::Errno::NODATA) => break None,
                Err(e) => return Err(strata_fs::Error::new("read xattr", path, e.into()).into()),
            }
        };
        if let Some(read) = read {
            value.truncate(read);
            xattrs.push((name.to_vec(), value));
        }
    }
    xattrs.sort();
    Ok(xattrs)
}

/// Whether an extended attribute belongs in a layer.
pub(crate) fn keep_xattr(name: &[u8]) -> bool {
    !(name.starts_with(b"trusted.overlay.")
        || name.starts_with(b"user.overlay.")
        || name == b"security.selinux")
}

/// The blob as written: hashed on its way out, or (uncompressed) the very
/// bytes the diff id was computed over.
enum BlobOutput<W> {
    Hashed(Sha256Writer<W>),
    Same { inner: W },
}

impl<W> BlobOutput<W> {
    /// The blob's digest and size, given the tar's, and the output.
    fn finish(self, diff_id: Digest, uncompressed_size: u64) -> (Digest, u64, W) {
        match self {
            BlobOutput::Hashed(writer) => writer.finish(),
            BlobOutput::Same { inner } => (diff_id, uncompressed_size, inner),
        }
    }
}

impl<W: Write> Write for BlobOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            BlobOutput::Hashed(writer) => writer.write(buf),
            BlobOutput::Same { inner } => inner.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            BlobOutput::Hashed(writer) => writer.flush(),
            BlobOutput::Same { inner } => inner.flush(),
        }
    }
}

/// How much of the tar [`HashingWriter`] gathers before it writes it out and
/// hands it to the hashing thread.
const HASH_CHUNK: usize = 1 << 20;

/// Computes the sha256 of what passes through (the diff id). With `parallel`
/// it does so on a second thread, a chunk at a time, so that hashing (about
/// 1 GB/s) runs beside the reading and writing of a big layer rather than
/// between them; a layer smaller than a chunk is hashed in place and starts
/// no thread.
enum HashingWriter<W: Write> {
    /// Hashed as written, on this thread.
    InPlace(Sha256Writer<W>),
    /// Gathered into chunks that a thread hashes.
    Chunked {
        inner: W,
        chunk: Vec<u8>,
        size: u64,
        pipe: Option<HashPipe>,
    },
}

struct HashPipe {
    chunks: std::sync::mpsc::SyncSender<Vec<u8>>,
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: std::thread::JoinHandle<Digest>,
}

fn stopped() -> io::Error {
    io::Error::other("the layer's hashing thread stopped")
}

impl HashPipe {
    fn start() -> io::Result<Self> {
        let (chunks, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (give_back, recycled) = std::sync::mpsc::sync_channel::<Vec<u8>>(3);
        let thread = std::thread::Builder::new()
            .name("layer-sha256".to_owned())
            .spawn(move || {
                let mut hasher = Sha256Writer::new(io::sink());
                for chunk in receiver {
                    // Writing to a sink cannot fail.
                    let _ = hasher.write_all(&chunk);
                    let _ = give_back.try_send(chunk);
                }
                hasher.finish().0
            })?;
        Ok(Self {
            chunks,
            recycled,
            thread,
        })
    }
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W, parallel: bool) -> Self {
        if parallel {
            HashingWriter::Chunked {
                inner,
                chunk: Vec::with_capacity(HASH_CHUNK),
                size: 0,
                pipe: None,
            }
        } else {
            HashingWriter::InPlace(Sha256Writer::new(inner))
        }
    }

    /// The sha256 and size of everything written, and the inner writer.
    fn finish(self) -> io::Result<(Digest, u64, W)> {
        match self {
            HashingWriter::InPlace(writer) => Ok(writer.finish()),
            HashingWriter::Chunked {
                mut inner,
                chunk,
                size,
                pipe,
            } => {
                inner.write_all(&chunk)?;
                let digest = match pipe {
                    Some(pipe) => {
                        pipe.chunks.send(chunk).map_err(|_| stopped())?;
                        drop(pipe.chunks);
                        pipe.thread
                            .join()
                            .map_err(|_| io::Error::other("the layer's hashing thread panicked"))?
                    }
                    None => {
                        let mut hasher = Sha256Writer::new(io::sink());
                        hasher.write_all(&chunk)?;
                        hasher.finish().0
                    }
                };
                Ok((digest, size, inner))
            }
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            HashingWriter::InPlace(writer) => writer.write(buf),
            HashingWriter::Chunked {
                inner,
                chunk,
                size,
                pipe,
            } => {
                let taken = buf.len().min(HASH_CHUNK - chunk.len());
                chunk.extend_from_slice(&buf[..taken]);
                *size += taken as u64;
                if chunk.len() == HASH_CHUNK {
                    inner.write_all(chunk)?;
                    if pipe.is_none() {
                        *pipe = Some(HashPipe::start()?);
                    }
                    if let Some(pipe) = pipe {
                        let mut next = pipe
                            .recycled
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(HASH_CHUNK));
                        next.clear();
                        let full = std::mem::replace(chunk, next);
                        pipe.chunks.send(full).map_err(|_| stopped())?;
                    }
                }
                Ok(taken)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            HashingWriter::InPlace(writer) => writer.flush(),
            // The gathered chunk is written at the end (finish).
            HashingWriter::Chunked { inner, .. } => inner.flush(),
        }
    }
}
