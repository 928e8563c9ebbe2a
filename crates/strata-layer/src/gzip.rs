//! Block-parallel gzip, as pigz does it: the input is cut into blocks, each
//! block is deflated on a worker with the previous 32 KiB as its dictionary and
//! ends on a byte boundary (a sync flush), and the blocks are written in order
//! as one deflate stream in one gzip member. The ratio stays within a fraction
//! of a percent of a single-threaded gzip at the same level; the speed scales
//! with the cores.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bytes of input per block.
const BLOCK_SIZE: usize = 512 * 1024;
/// The deflate window: how much of the previous block primes the next one.
const DICTIONARY_SIZE: usize = 32 * 1024;

struct Job {
    index: u64,
    dictionary: Arc<Vec<u8>>,
    data: Vec<u8>,
    last: bool,
}

struct Done {
    index: u64,
    compressed: io::Result<Vec<u8>>,
    crc: Crc,
}

/// A gzip writer that deflates blocks on `threads` workers.
pub(crate) struct ParallelGzipWriter<W: Write> {
    inner: W,
    buffer: Vec<u8>,
    dictionary: Arc<Vec<u8>>,
    next_index: u64,
    next_to_write: u64,
    in_flight: usize,
    max_in_flight: usize,
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    pending: BTreeMap<u64, Done>,
    workers: Vec<JoinHandle<()>>,
    crc: Crc,
}

impl<W: Write> ParallelGzipWriter<W> {
    /// A writer at `level` (0-9) using `threads` workers (at least one).
    pub(crate) fn new(mut inner: W, level: u32, threads: usize) -> io::Result<Self> {
        let threads = threads.max(1);
        let max_in_flight = threads * 2 + 1;
        let (job_sender, job_receiver) = sync_channel::<Job>(max_in_flight);
        let (result_sender, results) = sync_channel::<Done>(max_in_flight);
        let job_receiver = Arc::new(std::sync::Mutex::new(job_receiver));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let jobs = Arc::clone(&job_receiver);
            let results = result_sender.clone();
            workers.push(std::thread::spawn(move || worker(level, &jobs, &results)));
        }
        // Header: magic, deflate, no flags, no mtime (reproducible), no extra
        // flags, OS unknown -- as Go's gzip writes it.
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
        Ok(Self {
            inner,
            buffer: Vec::with_capacity(BLOCK_SIZE),
            dictionary: Arc::new(Vec::new()),
            next_index: 0,
            next_to_write: 0,
            in_flight: 0,
            max_in_flight,
            jobs: Some(job_sender),
            results,
            pending: BTreeMap::new(),
            workers,
            crc: Crc::new(),
        })
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        while self.in_flight >= self.max_in_flight {
            self.receive_one()?;
        }
        let data = std::mem::replace(&mut self.buffer, Vec::with_capacity(BLOCK_SIZE));
        let tail = &data[data.len().saturating_sub(DICTIONARY_SIZE)..];
        let next_dictionary = if tail.len() == DICTIONARY_SIZE || self.dictionary.is_empty() {
            tail.to_vec()
        } else {
            // A short block: the window spans it and the end of the one before.
            let mut joined = self.dictionary.to_vec();
            joined.extend_from_slice(tail);
            joined[joined.len().saturating_sub(DICTIONARY_SIZE)..].to_vec()
        };
        let job = Job {
            index: self.next_index,
            dictionary: std::mem::replace(&mut self.dictionary, Arc::new(next_dictionary)),
            data,
            last,
        };
        self.next_index += 1;
        self.in_flight += 1;
        let Some(jobs) = &self.jobs else {
            return Err(io::Error::other("gzip writer already finished"));
        };
        jobs.send(job)
            .map_err(|_| io::Error::other("gzip worker stopped"))?;
        Ok(())
    }

    /// Waits for one result and writes every block that is now in order.
    fn receive_one(&mut self) -> io::Result<()> {
        let done = self
            .results
            .recv()
            .map_err(|_| io::Error::other("gzip worker stopped"))?;
        self.in_flight -= 1;
        self.pending.insert(done.index, done);
        while let Some(done) = self.pending.remove(&self.next_to_write) {
            let compressed = done.compressed?;
            self.inner.write_all(&compressed)?;
            self.crc.combine(&done.crc);
            self.next_to_write += 1;
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer, and returns the inner writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while self.in_flight > 0 {
            self.receive_one()?;
        }
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.inner.write_all(&trailer)?;
        self.inner.flush()?;
        let Self { inner, .. } = self;
        Ok(inner)
    }
}

impl<W: Write> Write for ParallelGzipWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.buffer.len();
        let taken = room.min(data.len());
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == BLOCK_SIZE {
            self.submit(false)?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn worker(level: u32, jobs: &std::sync::Mutex<Receiver<Job>>, results: &SyncSender<Done>) {
    let mut compress = Compress::new(Compression::new(level), false);
    loop {
        let job = {
            let Ok(receiver) = jobs.lock() else { return };
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let mut crc = Crc::new();
        crc.update(&job.data);
        let compressed = deflate_block(&mut compress, &job);
        let done = Done {
            index: job.index,
            compressed,
            crc,
        };
        if results.send(done).is_err() {
            return;
        }
    }
}

/// Deflates one block: primed with the dictionary, ended with a sync flush
/// (or the final block's finish).
fn deflate_block(compress: &mut Compress, job: &Job) -> io::Result<Vec<u8>> {
    compress.reset();
    if !job.dictionary.is_empty() {
        compress
            .set_dictionary(&job.dictionary)
            .map_err(io::Error::other)?;
    }
    let mut output = Vec::with_capacity(job.data.len() + job.data.len() / 16 + 1024);
    let start_in = compress.total_in();
    loop {
        let consumed = (compress.total_in() - start_in) as usize;
        let flush = if job.last {
            FlushCompress::Finish
        } else {
            FlushCompress::Sync
        };
        if output.capacity() - output.len() < 1024 {
            output.reserve(output.capacity().max(64 * 1024));
        }
        let status = compress
            .compress_vec(&job.data[consumed..], &mut output, flush)
            .map_err(io::Error::other)?;
        let consumed = (compress.total_in() - start_in) as usize;
        let room_left = output.capacity() - output.len();
        match status {
            Status::StreamEnd => return Ok(output),
            // A sync flush is complete once all input is in and the
            // compressor stopped before filling the output.
            Status::Ok | Status::BufError
                if !job.last && consumed == job.data.len() && room_left > 0 =>
            {
                return Ok(output);
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn round_trip(data: &[u8], threads: usize) -> Vec<u8> {
        let mut writer = ParallelGzipWriter::new(Vec::new(), 6, threads).unwrap();
        for chunk in data.chunks(70_000) {
            writer.write_all(chunk).unwrap();
        }
        let compressed = writer.finish().unwrap();
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, data);
        compressed
    }

    #[test]
    fn empty_input_is_a_valid_gzip() {
        round_trip(b"", 2);
    }

    #[test]
    fn many_blocks_decode_as_one_member() {
        let mut data = Vec::new();
        let mut state = 1u64;
        for i in 0..3_000_000u64 {
            // Compressible text with some noise.
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if i % 7 == 0 {
                data.push((state >> 56) as u8);
            } else {
                data.push(b"the quick brown fox "[(i % 20) as usize]);
            }
        }
        let parallel = round_trip(&data, 3);
        let single = round_trip(&data, 1);
        assert_eq!(
            parallel, single,
            "output does not depend on the thread count"
        );
        let mut reference = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        reference.write_all(&data).unwrap();
        let reference = reference.finish().unwrap();
        // Within 1% of a single deflate stream.
        assert!(
            parallel.len() * 100 <= reference.len() * 101,
            "{} vs {}",
            parallel.len(),
            reference.len()
        );
    }
}
