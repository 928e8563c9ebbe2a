//! Docker's json-file log driver: [`LogWriter`] splits a container's output
//! into entries as Docker's copier does and appends them as json-file lines;
//! [`LogReader`] reads them back as `docker logs` does (tail from the end of
//! the file, since/until, follow until the container stops).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::Offset;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fs::inotify;
use strata_sandbox::Stream;

use crate::error::{Error, Result};

/// The longest run of a line without its newline kept back; Docker's copier
/// writes such a run as an entry of its own, without a newline.
pub const PARTIAL_ENTRY_SIZE: usize = 16 * 1024;

/// Appends a container's output to a json-file log, one `write(2)` per entry.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    path: PathBuf,
    /// Per stream (stdout, stderr): the unfinished line, and the time of its
    /// first partial entry when one was written.
    pending: [(Vec<u8>, Option<Timestamp>); 2],
}

impl LogWriter {
    /// Creates (or truncates) the log at `path`, mode 0640 as Docker's.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), true)
    }

    /// Opens the log at `path` for appending, creating it when missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), false)
    }

    fn open_with(path: &Path, truncate: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(path)
            .map_err(|source| strata_fs::Error::new("open log", path, source))?;
        // O_APPEND and O_TRUNC do not mix in std: truncate by hand.
        if truncate {
            file.set_len(0)
                .map_err(|source| strata_fs::Error::new("truncate log", path, source))?;
        }
        Ok(Self {
            file,
            path: path.to_owned(),
            pending: Default::default(),
        })
    }

    /// Logs `bytes` read from `stream` at `time`: one entry per complete line
    /// (with its newline); an unfinished line is held until its newline, or
    /// written without one once it reaches [`PARTIAL_ENTRY_SIZE`].
    pub fn write(&mut self, stream: Stream, bytes: &[u8], time: Timestamp) -> Result<()> {
        let index = stream_index(stream);
        let mut rest = bytes;
        while !rest.is_empty() {
            let (line, partial_time) = &mut self.pending[index];
            let room = PARTIAL_ENTRY_SIZE - line.len();
            let newline = rest[..rest.len().min(room)]
                .iter()
                .position(|&b| b == b'\n');
            if let Some(at) = newline {
                line.extend_from_slice(&rest[..=at]);
                rest = &rest[at + 1..];
                // A line finishing partial entries keeps their time, as Docker's.
                let entry_time = partial_time.take().unwrap_or(time);
                let line = std::mem::take(line);
                self.append(stream, &line, entry_time)?;
                continue;
            }
            let taken = rest.len().min(room);
            line.extend_from_slice(&rest[..taken]);
            rest = &rest[taken..];
            if line.len() == PARTIAL_ENTRY_SIZE {
                self.flush_partial(stream, time)?;
            }
        }
        Ok(())
    }

    /// Writes what `stream` holds of an unfinished line as an entry without a
    /// newline (Docker does so when the stream ends).
    pub fn flush_partial(&mut self, stream: Stream, time: Timestamp) -> Result<()> {
        let (line, partial_time) = &mut self.pending[stream_index(stream)];
        if line.is_empty() {
            return Ok(());
        }
        let entry_time = *partial_time.get_or_insert(time);
        let line = std::mem::take(line);
        self.append(stream, &line, entry_time)
    }

    /// Writes both streams' unfinished lines and closes the log.
    pub fn close(mut self, time: Timestamp) -> Result<()> {
        self.flush_partial(Stream::Stdout, time)?;
        self.flush_partial(Stream::Stderr, time)
    }

    fn append(&mut self, stream: Stream, line: &[u8], time: Timestamp) -> Result<()> {
        let entry = encode_entry(stream, line, time);
        self.file
            .write_all(&entry)
            .map_err(|source| strata_fs::Error::new("append to log", &self.path, source).into())
    }
}

fn stream_index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// The stream's name in a json-file entry.
fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

/// One json-file line: `{"log":…,"stream":…,"time":…}` and a newline.
fn encode_entry(stream: Stream, line: &[u8], time: Timestamp) -> Vec<u8> {
    let mut entry = Vec::with_capacity(line.len() + 80);
    entry.extend_from_slice(b"{\"log\":");
    write_json_string(&mut entry, line);
    entry.extend_from_slice(b",\"stream\":\"");
    entry.extend_from_slice(stream_name(stream).as_bytes());
    entry.extend_from_slice(b"\",\"time\":\"");
    entry.extend_from_slice(format_rfc3339_nano(time).as_bytes());
    entry.extend_from_slice(b"\"}\n");
    entry
}

/// Bytes as a JSON string the way Docker's json-file logger writes them:
/// `<`, `>`, `&`, tab and other controls as `\u00XX`, each byte of invalid
/// UTF-8 as `\ufffd`, U+2028 and U+2029 escaped.
fn write_json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, invalid) = match std::str::from_utf8(rest) {
            Ok(text) => (text, 0),
            Err(error) => {
                let valid = &rest[..error.valid_up_to()];
                let invalid = error.error_len().unwrap_or(rest.len() - valid.len());
                (std::str::from_utf8(valid).unwrap_or_default(), invalid)
            }
        };
        write_json_text(out, valid);
        // Go decodes an invalid sequence one byte at a time.
        for _ in 0..invalid {
            out.extend_from_slice(b"\\ufffd");
        }
        rest = &rest[valid.len() + invalid..];
    }
    out.push(b'"');
}

fn write_json_text(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for character in text.chars() {
        match character {
            '\\' | '"' => out.extend_from_slice(&[b'\\', character as u8]),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                let byte = character as u8;
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
            }
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            _ => {
                let mut buffer = [0; 4];
                out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
}

/// A time as Go's RFC3339Nano in UTC: `2026-12-06T12:00:00.123456789Z`, the
/// fraction's trailing zeros (and a bare point) dropped.
pub fn format_rfc3339_nano(time: Timestamp) -> String {
    let seconds = format_seconds(time);
    let nanoseconds = time.subsec_nanosecond();
    if nanoseconds == 0 {
        return format!("{seconds}Z");
    }
    let fraction = format!("{nanoseconds:09}");
    format!("{seconds}.{}Z", fraction.trim_end_matches('0'))
}

/// A time as `docker logs -t` prints it (Docker's RFC3339NanoFixed, UTC):
/// always nine fraction digits, `2026-12-06T12:00:00.120000000Z`.
pub fn format_rfc3339_nano_fixed(time: Timestamp) -> String {
    format!("{}.{:09}Z", format_seconds(time), time.subsec_nanosecond())
}

fn format_seconds(time: Timestamp) -> String {
    let civil = Offset::UTC.to_datetime(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        civil.year(),
        civil.month(),
        civil.day(),
        civil.hour(),
        civil.minute(),
        civil.second()
    )
}

/// One entry of a json-file log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Which stream it came from.
    pub stream: Stream,
    /// The bytes, with their newline unless the entry is a partial line.
    pub bytes: Vec<u8>,
    /// When it was read from the container.
    pub time: Timestamp,
}

impl LogEntry {
    /// The entry as `docker logs` writes it: the bytes, after the time and a
    /// space when `timestamps` (`-t`).
    pub fn display(&self, timestamps: bool) -> Vec<u8> {
        if !timestamps {
            return self.bytes.clone();
        }
        let mut line = format_rfc3339_nano_fixed(self.time).into_bytes();
        line.push(b' ');
        line.extend_from_slice(&self.bytes);
        line
    }
}

#[derive(serde::Deserialize)]
struct JsonEntry {
    #[serde(default)]
    log: String,
    #[serde(default)]
    stream: String,
    time: String,
}

/// What `docker logs` asks for; the default is the whole log, no follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last this many entries (`--tail N`); `None` is all.
    pub tail: Option<usize>,
    /// Skip entries before this time (`--since`, inclusive).
    pub since: Option<Timestamp>,
    /// Stop at the first entry after this time (`--until`, inclusive).
    pub until: Option<Timestamp>,
}

/// How long a follower sleeps at most before asking again whether the
/// container stopped, when no write wakes it.
const FOLLOW_CHECK_INTERVAL_MILLISECONDS: i64 = 200;

/// The bytes read from the log at a time.
const READ_SIZE: usize = 64 * 1024;

/// Reads a json-file log's entries in order; an iterator of `Result<LogEntry>`.
pub struct LogReader {
    file: File,
    path: PathBuf,
    options: ReadOptions,
    /// Read but not yet split into entries: an unfinished last line.
    buffer: Vec<u8>,
    /// The file offset of `buffer`'s first byte (for error messages).
    offset: u64,
    entries: VecDeque<LogEntry>,
    follow: Option<Follow>,
    finished: bool,
}

/// A follower's wait: an inotify watch on the file and the caller's test of
/// whether the container stopped.
struct Follow {
    inotify: OwnedFd,
    stopped: Box<dyn FnMut() -> bool + Send>,
    draining: bool,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("follow", &self.follow.is_some())
            .finish_non_exhaustive()
    }
}

impl LogReader {
    /// Reads the log at `path` to its current end.
    pub fn open(path: impl AsRef<Path>, options: ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let mut file = strata_fs::open(path)?;
        let offset = match options.tail {
            Some(count) => tail_offset(&mut file, path, count)?,
            None => 0,
        };
        file.seek(SeekFrom::Start(offset))
            .map_err(|source| strata_fs::Error::new("seek in log", path, source))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            options,
            buffer: Vec::new(),
            offset,
            entries: VecDeque::new(),
            follow: None,
            finished: false,
        })
    }

    /// Reads the log at `path` and keeps reading as it grows (`docker logs
    /// -f`) until `stopped` says the container has stopped; then reads what
    /// is left and ends. Waits on inotify, waking at least every 200 ms to
    /// ask `stopped`.
    pub fn follow(
        path: impl AsRef<Path>,
        options: ReadOptions,
        stopped: impl FnMut() -> bool + Send + 'static,
    ) -> Result<Self> {
        let path = path.as_ref();
        let inotify = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(|source| strata_fs::Error::new("watch log", path, source.into()))?;
        let events = inotify::WatchFlags::MODIFY
            | inotify::WatchFlags::DELETE_SELF
            | inotify::WatchFlags::MOVE_SELF
            | inotify::WatchFlags::ATTRIB;
        inotify::add_watch(&inotify, path, events)
            .map_err(|source| strata_fs::Error::new("watch log", path, source.into()))?;
        // Watch first, then open: nothing written in between is missed.
        let mut reader = Self::open(path, options)?;
        reader.follow = Some(Follow {
            inotify,
            stopped: Box::new(stopped),
            draining: false,
        });
        Ok(reader)
    }

    /// The next entry, `None` at the end (or, following, once the container
    /// stopped and the log is drained).
    pub fn next_entry(&mut self) -> Result<Option<LogEntry>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            while let Some(entry) = self.entries.pop_front() {
                if self.options.since.is_some_and(|since| entry.time < since) {
                    continue;
                }
                if self.options.until.is_some_and(|until| entry.time > until) {
                    self.finished = true;
                    return Ok(None);
                }
                return Ok(Some(entry));
            }
            if self.read_more()? {
                continue;
            }
            if !self.wait_for_more()? {
                self.finished = true;
            }
        }
    }

    /// Reads a chunk and splits off its complete lines; false at the end of the file.
    fn read_more(&mut self) -> Result<bool> {
        let start = self.buffer.len();
        self.buffer.resize(start + READ_SIZE, 0);
        let read = self
            .file
            .read(&mut self.buffer[start..])
            .map_err(|source| strata_fs::Error::new("read log", &self.path, source));
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                self.buffer.truncate(start);
                return Err(error.into());
            }
        };
        self.buffer.truncate(start + read);
        if read == 0 {
            return Ok(false);
        }
        let Some(last_newline) = self.buffer.iter().rposition(|&b| b == b'\n') else {
            return Ok(true);
        };
        let complete: Vec<u8> = self.buffer.drain(..=last_newline).collect();
        for line in complete.split_inclusive(|&b| b == b'\n') {
            let entry = decode_entry(line).ok_or_else(|| Error::InvalidLogEntry {
                path: self.path.clone(),
                offset: self.offset,
            })?;
            self.offset += line.len() as u64;
            self.entries.push_back(entry);
        }
        Ok(true)
    }

    /// At the end of the file: false when the reading is over, true once the
    /// file may have grown.
    fn wait_for_more(&mut self) -> Result<bool> {
        let Some(follow) = &mut self.follow else {
            return Ok(false);
        };
        if follow.draining {
            return Ok(false);
        }
        if (follow.stopped)() {
            // The writer is done: one more pass to the end, then stop.
            follow.draining = true;
            return Ok(true);
        }
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: FOLLOW_CHECK_INTERVAL_MILLISECONDS * 1_000_000,
        };
        let mut fds = [PollFd::new(&follow.inotify, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(error) => {
                return Err(strata_fs::Error::new("wait for log", &self.path, error.into()).into());
            }
        }
        drain_events(&follow.inotify);
        Ok(true)
    }
}

impl Iterator for LogReader {
    type Item = Result<LogEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

/// Empties the inotify queue (its events only say "look again").
fn drain_events(inotify_fd: &OwnedFd) {
    let mut buffer = [std::mem::MaybeUninit::uninit(); 1024];
    let mut reader = inotify::Reader::new(inotify_fd, &mut buffer);
    while reader.next().is_ok() {}
}

fn decode_entry(line: &[u8]) -> Option<LogEntry> {
    let entry: JsonEntry = serde_json::from_slice(line).ok()?;
    let stream = match entry.stream.as_str() {
        "stderr" => Stream::Stderr,
        _ => Stream::Stdout,
    };
    Some(LogEntry {
        stream,
        bytes: entry.log.into_bytes(),
        time: entry.time.parse().ok()?,
    })
}

/// Where the last `count` complete lines of the log begin, found by reading
/// backwards from the end in blocks.
fn tail_offset(file: &mut File, path: &Path, count: usize) -> Result<u64> {
    let size = file
        .metadata()
        .map_err(|source| strata_fs::Error::new("stat log", path, source))?
        .len();
    let mut block = vec![0; READ_SIZE];
    let mut end = size;
    // Newlines seen; the first ends the last line (or there is a partial line).
    let mut newlines = 0;
    let mut seen_any = false;
    while end > 0 {
        let start = end.saturating_sub(READ_SIZE as u64);
        let length = (end - start) as usize;
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut block[..length]))
            .map_err(|source| strata_fs::Error::new("read log", path, source))?;
        for (index, &byte) in block[..length].iter().enumerate().rev() {
            if byte != b'\n' {
                continue;
            }
            if !seen_any {
                // The newline ending the last complete line.
                seen_any = true;
                if count == 0 {
                    return Ok(start + index as u64 + 1);
                }
                continue;
            }
            newlines += 1;
            if newlines == count {
                return Ok(start + index as u64 + 1);
            }
        }
        end = start;
    }
    Ok(0)
}

/// A `--since`/`--until` value as `docker logs` reads it (Docker's
/// `GetTimestamp`): a Go duration before `now` (`10m`, whole seconds), an
/// RFC 3339 date or time (`2026-12-06`, `2026-12-06T12:00:00.5Z`, local time
/// without a zone), or a Unix timestamp (`1700000000.5`).
pub fn parse_log_time(value: &str, now: Timestamp) -> Result<Timestamp> {
    if value != "0"
        && let Ok(duration) =
            strata_go::time::parse_duration(value).map(jiff::SignedDuration::from_nanos)
    {
        let then = now
            .checked_sub(duration)
            .map_err(|_| invalid_log_time(value))?;
        // Docker sends `reference.Add(-d).Unix()`: whole seconds, rounded down.
        return Timestamp::from_second(then.as_second() - i64::from(then.subsec_nanosecond() < 0))
            .map_err(|_| invalid_log_time(value));
    }
    let zoned = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    match parse_rfc3339_like(value, zoned, now) {
        Ok(time) => Ok(time),
        Err(reason) if value.contains('-') => Err(Error::InvalidLogTime {
            value: value.to_owned(),
            reason,
        }),
        Err(_) => parse_unix_timestamp(value).ok_or_else(|| invalid_log_time(value)),
    }
}

fn invalid_log_time(value: &str) -> Error {
    Error::InvalidLogTimeOrDuration {
        value: value.to_owned(),
    }
}

/// `seconds[.fraction]`, the fraction scaled to nanoseconds.
fn parse_unix_timestamp(value: &str) -> Option<Timestamp> {
    let (seconds, fraction) = value.split_once('.').unwrap_or((value, ""));
    let seconds: i64 = seconds.parse().ok()?;
    let mut nanoseconds = 0;
    if value.contains('.') {
        let digits: i64 = fraction.parse().ok()?;
        let length = i32::try_from(fraction.len()).ok()?;
        nanoseconds = (digits as f64 * 10f64.powi(9 - length)) as i32;
    }
    Timestamp::new(seconds, nanoseconds).ok()
}

/// The layouts Docker picks for `--since` (date; `T15`; `T15:04`;
/// `T15:04:05`; with a fraction; each with or without a zone), parsed.
fn parse_rfc3339_like(value: &str, zoned: bool, now: Timestamp) -> Result<Timestamp, String> {
    let mut colons = value.matches(':').count();
    if zoned && !value.contains(['z', 'Z']) && colons > 0 {
        colons -= 1;
    }
    let mut parser = Parser { rest: value };
    let year = parser.number(4, 4)?;
    parser.literal("-")?;
    let month = parser.number(2, 2)?;
    parser.literal("-")?;
    let day = parser.number(2, 2)?;
    let (mut hour, mut minute, mut second, mut nanosecond) = (0, 0, 0, 0);
    let has_fraction = value.contains('.');
    if has_fraction || value.contains('T') {
        parser.literal("T")?;
        hour = parser.number(1, 2)?;
        if has_fraction || colons >= 1 {
            parser.literal(":")?;
            minute = parser.number(2, 2)?;
        }
        if has_fraction || colons >= 2 {
            parser.literal(":")?;
            second = parser.number(2, 2)?;
        }
        nanosecond = parser.fraction()?;
    }
    let date = jiff::civil::DateTime::new(
        i16::try_from(year).map_err(|_| "year out of range")?,
        i8::try_from(month).map_err(|_| "month out of range")?,
        i8::try_from(day).map_err(|_| "day out of range")?,
        i8::try_from(hour).map_err(|_| "hour out of range")?,
        i8::try_from(minute).map_err(|_| "minute out of range")?,
        i8::try_from(second).map_err(|_| "second out of range")?,
        nanosecond,
    )
    .map_err(|error| error.to_string())?;
    let offset = if zoned {
        parser.zone()?
    } else {
        jiff::tz::TimeZone::system().to_offset(now)
    };
    if !parser.rest.is_empty() {
        return Err(format!("extra text: \"{}\"", parser.rest));
    }
    offset.to_timestamp(date).map_err(|error| error.to_string())
}

/// A cursor over a time being parsed.
struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn number(&mut self, least: usize, most: usize) -> Result<i32, String> {
        let digits = self
            .rest
            .bytes()
            .take(most)
            .take_while(u8::is_ascii_digit)
            .count();
        if digits < least {
            return Err(format!("cannot parse \"{}\" as a number", self.rest));
        }
        let (number, rest) = self.rest.split_at(digits);
        self.rest = rest;
        number
            .parse()
            .map_err(|_| format!("cannot parse \"{number}\""))
    }

    fn literal(&mut self, expected: &str) -> Result<(), String> {
        self.rest = self
            .rest
            .strip_prefix(expected)
            .ok_or_else(|| format!("cannot parse \"{}\" as \"{expected}\"", self.rest))?;
        Ok(())
    }

    /// An optional `.digits`: Go takes up to nine, ignoring further digits.
    fn fraction(&mut self) -> Result<i32, String> {
        let Some(after) = self.rest.strip_prefix('.') else {
            return Ok(0);
        };
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("cannot parse \"{}\" as a fraction", self.rest));
        }
        let kept = &after[..digits.min(9)];
        let scaled = format!("{kept:0<9}");
        self.rest = &after[digits..];
        scaled
            .parse()
            .map_err(|_| format!("cannot parse \"{kept}\""))
    }

    /// `Z` or `±hh:mm`.
    fn zone(&mut self) -> Result<Offset, String> {
        if let Some(rest) = self.rest.strip_prefix('Z') {
            self.rest = rest;
            return Ok(Offset::UTC);
        }
        let sign = match self.rest.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(format!("cannot parse \"{}\" as \"Z07:00\"", self.rest)),
        };
        self.rest = &self.rest[1..];
        let hours = self.number(2, 2)?;
        self.literal(":")?;
        let minutes = self.number(2, 2)?;
        Offset::from_seconds(sign * (hours * 3600 + minutes * 60))
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn log_text(writer_actions: impl FnOnce(&mut LogWriter)) -> String {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("container-json.log");
        let mut writer = LogWriter::create(&path).unwrap();
        writer_actions(&mut writer);
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn entries_are_dockers_json_lines() {
        let text = log_text(|writer| {
            let at = time("2026-12-06T12:00:00.123456789Z");
            writer.write(Stream::Stdout, b"hello\nworld\n", at).unwrap();
            writer
                .write(Stream::Stderr, b"oops\n", time("2026-12-06T12:00:01.5Z"))
                .unwrap();
            writer
                .write(Stream::Stdout, b"x\n", time("2026-12-06T12:00:02Z"))
                .unwrap();
        });
        assert_eq!(
            text,
            concat!(
                r#"{"log":"hello\n","stream":"stdout","time":"2026-12-06T12:00:00.123456789Z"}"#,
                "\n",
                r#"{"log":"world\n","stream":"stdout","time":"2026-12-06T12:00:00.123456789Z"}"#,
                "\n",
                r#"{"log":"oops\n","stream":"stderr","time":"2026-12-06T12:00:01.5Z"}"#,
                "\n",
                r#"{"log":"x\n","stream":"stdout","time":"2026-12-06T12:00:02Z"}"#,
                "\n",
            )
        );
    }

    #[test]
    fn escaping_is_gos() {
        let mut out = Vec::new();
        write_json_string(
            &mut out,
            b"<a href=\"x\">&amp;</a>\t\\ \x01\x7f caf\xc3\xa9 \xff\xfe \xe2\x82 \xe2\x80\xa8\xe2\x80\xa9 \xef\xbf\xbd\r\n",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#""\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e\u0009\\ \u0001"#,
                "\x7f caf\u{e9} ",
                r#"\ufffd\ufffd \ufffd\ufffd \u2028\u2029 "#,
                "\u{fffd}",
                r#"\r\n""#
            )
        );
    }

    #[test]
    fn a_line_arriving_in_pieces_is_one_entry_with_its_last_time() {
        let text = log_text(|writer| {
            writer
                .write(Stream::Stdout, b"hel", time("2026-01-01T00:00:01Z"))
                .unwrap();
            writer
                .write(Stream::Stderr, b"err", time("2026-01-01T00:00:02Z"))
                .unwrap();
            writer
                .write(Stream::Stdout, b"lo\nne", time("2026-01-01T00:00:03Z"))
                .unwrap();
            writer
                .write(Stream::Stderr, b"or\n", time("2026-01-01T00:00:04Z"))
                .unwrap();
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"log":"hello\n","stream":"stdout","time":"2026-01-01T00:00:03Z"}"#,
                r#"{"log":"error\n","stream":"stderr","time":"2026-01-01T00:00:04Z"}"#,
            ]
        );
    }

    #[test]
    fn partial_lines_are_written_on_close_without_newline() {
        let text = log_text(|writer| {
            writer
                .write(
                    Stream::Stdout,
                    b"a\nno newline",
                    time("2026-01-01T00:00:01Z"),
                )
                .unwrap();
            let closing = std::mem::replace(writer, LogWriter::open(&writer.path).unwrap());
            closing.close(time("2026-01-01T00:00:09Z")).unwrap();
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"log":"a\n","stream":"stdout","time":"2026-01-01T00:00:01Z"}"#,
                r#"{"log":"no newline","stream":"stdout","time":"2026-01-01T00:00:09Z"}"#,
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_every_16_kib_and_keep_the_first_time() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        let mut writer = LogWriter::create(&path).unwrap();
        let long = vec![b'x'; 40_000];
        // In 1000-byte pieces, as a pipe would deliver them.
        for (index, piece) in long.chunks(1000).enumerate() {
            let at = Timestamp::from_second(1_700_000_000 + index as i64).unwrap();
            writer.write(Stream::Stdout, piece, at).unwrap();
        }
        writer
            .write(Stream::Stdout, b"\n", time("2030-01-01T00:00:00Z"))
            .unwrap();
        let entries: Vec<LogEntry> = LogReader::open(&path, ReadOptions::default())
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        let sizes: Vec<usize> = entries.iter().map(|entry| entry.bytes.len()).collect();
        assert_eq!(sizes, [16_384, 16_384, 40_000 - 32_768 + 1]);
        assert!(
            entries[..2]
                .iter()
                .all(|entry| !entry.bytes.ends_with(b"\n"))
        );
        assert!(entries[2].bytes.ends_with(b"\n"));
        // The first partial was written when its 17th piece arrived; every
        // piece of the line keeps that time, as Docker's copier does.
        let first = Timestamp::from_second(1_700_000_016).unwrap();
        assert!(
            entries.iter().all(|entry| entry.time == first),
            "{entries:?}"
        );
    }

    #[test]
    fn exactly_16_kib_with_its_newline_is_one_partial_and_a_newline() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        let mut writer = LogWriter::create(&path).unwrap();
        let mut line = vec![b'y'; PARTIAL_ENTRY_SIZE];
        line.push(b'\n');
        writer
            .write(Stream::Stdout, &line, time("2026-01-01T00:00:00Z"))
            .unwrap();
        let entries: Vec<LogEntry> = LogReader::open(&path, ReadOptions::default())
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].bytes.len(), PARTIAL_ENTRY_SIZE);
        assert_eq!(entries[1].bytes, b"\n");
    }

    #[test]
    fn times_print_as_go_does() {
        assert_eq!(
            format_rfc3339_nano(time("2026-12-06T12:00:00Z")),
            "2026-12-06T12:00:00Z"
        );
        assert_eq!(
            format_rfc3339_nano(time("2026-12-06T12:00:00.120Z")),
            "2026-12-06T12:00:00.12Z"
        );
        assert_eq!(
            format_rfc3339_nano_fixed(time("2026-12-06T12:00:00.12Z")),
            "2026-12-06T12:00:00.120000000Z"
        );
        let entry = LogEntry {
            stream: Stream::Stdout,
            bytes: b"hi\n".to_vec(),
            time: time("2026-12-06T12:00:00Z"),
        };
        assert_eq!(entry.display(true), b"2026-12-06T12:00:00.000000000Z hi\n");
        assert_eq!(entry.display(false), b"hi\n");
    }

    fn numbered_log(path: &Path, count: usize) {
        let mut writer = LogWriter::create(path).unwrap();
        for index in 0..count {
            let at = Timestamp::from_second(1_700_000_000 + index as i64).unwrap();
            let line = format!("line {index} {}\n", "z".repeat(index % 50));
            let stream = if index % 3 == 0 {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            writer.write(stream, line.as_bytes(), at).unwrap();
        }
    }

    fn read_all(path: &Path, options: ReadOptions) -> Vec<LogEntry> {
        LogReader::open(path, options)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap()
    }

    #[test]
    fn reading_gives_back_what_was_written() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 10);
        let entries = read_all(&path, ReadOptions::default());
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[4].bytes, b"line 4 zzzz\n");
        assert_eq!(entries[3].stream, Stream::Stderr);
        assert_eq!(entries[4].stream, Stream::Stdout);
        assert_eq!(
            entries[4].time,
            Timestamp::from_second(1_700_000_004).unwrap()
        );
    }

    #[test]
    fn tail_reads_the_last_lines_of_a_file_bigger_than_the_buffer() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 5000);
        assert!(std::fs::metadata(&path).unwrap().len() > 4 * READ_SIZE as u64);
        for count in [0, 1, 3, 1500, 4999, 5000, 7000] {
            let entries = read_all(
                &path,
                ReadOptions {
                    tail: Some(count),
                    ..Default::default()
                },
            );
            assert_eq!(entries.len(), count.min(5000), "tail {count}");
            if let Some(last) = entries.last() {
                assert!(last.bytes.starts_with(b"line 4999 "));
                let first = format!("line {} ", 5000 - count.min(5000));
                assert!(
                    entries[0].bytes.starts_with(first.as_bytes()),
                    "tail {count}"
                );
            }
        }
    }

    #[test]
    fn tail_ignores_an_unfinished_last_line() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 3);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"log":"half"#).unwrap();
        let entries = read_all(
            &path,
            ReadOptions {
                tail: Some(1),
                ..Default::default()
            },
        );
        assert_eq!(entries.len(), 1);
        assert!(entries[0].bytes.starts_with(b"line 2 "));
        assert_eq!(read_all(&path, ReadOptions::default()).len(), 3);
    }

    #[test]
    fn since_and_until_are_inclusive() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 10);
        let options = ReadOptions {
            since: Some(Timestamp::from_second(1_700_000_003).unwrap()),
            until: Some(Timestamp::from_second(1_700_000_006).unwrap()),
            ..Default::default()
        };
        let entries = read_all(&path, options);
        let first_words: Vec<&[u8]> = entries.iter().map(|entry| &entry.bytes[..6]).collect();
        assert_eq!(first_words, [b"line 3", b"line 4", b"line 5", b"line 6"]);
        // Tail applies before since, as Docker's reader does.
        let options = ReadOptions {
            tail: Some(2),
            ..options
        };
        assert_eq!(read_all(&path, options).len(), 0);
    }

    #[test]
    fn a_corrupt_line_is_an_error_naming_the_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 2);
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let results: Vec<Result<LogEntry>> = LogReader::open(&path, ReadOptions::default())
            .unwrap()
            .collect();
        let error = results.into_iter().find_map(Result::err).unwrap();
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn follow_sees_new_entries_and_ends_when_told() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 2);
        let stopped = Arc::new(AtomicBool::new(false));
        let writer_stopped = Arc::clone(&stopped);
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            let mut writer = LogWriter::open(&writer_path).unwrap();
            for index in 0..5 {
                std::thread::sleep(std::time::Duration::from_millis(30));
                let line = format!("late {index}\n");
                writer
                    .write(Stream::Stdout, line.as_bytes(), Timestamp::now())
                    .unwrap();
            }
            writer
                .write(Stream::Stdout, b"last words", Timestamp::now())
                .unwrap();
            writer.close(Timestamp::now()).unwrap();
            writer_stopped.store(true, Ordering::SeqCst);
        });
        let started = std::time::Instant::now();
        let reader_stopped = Arc::clone(&stopped);
        let reader = LogReader::follow(&path, ReadOptions::default(), move || {
            reader_stopped.load(Ordering::SeqCst)
        })
        .unwrap();
        let entries: Vec<LogEntry> = reader.collect::<Result<_>>().unwrap();
        writer.join().unwrap();
        let texts: Vec<String> = entries
            .iter()
            .map(|entry| String::from_utf8_lossy(&entry.bytes).into_owned())
            .collect();
        assert_eq!(texts.len(), 8, "{texts:?}");
        assert_eq!(
            texts[2..],
            [
                "late 0\n",
                "late 1\n",
                "late 2\n",
                "late 3\n",
                "late 4\n",
                "last words"
            ]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }

    #[test]
    fn follow_waits_without_spinning() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("log");
        numbered_log(&path, 1);
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&asked);
        let started = std::time::Instant::now();
        let reader = LogReader::follow(&path, ReadOptions::default(), move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 3
        })
        .unwrap();
        assert_eq!(reader.count(), 1);
        // Four questions, about 200 ms apart: asleep in between, not polling.
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 4);
        assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    }

    #[test]
    fn log_times_are_read_as_docker_does() {
        let now = time("2026-12-06T12:00:30.7Z");
        let cases = [
            ("10m", "2026-12-06T11:50:30Z"),
            ("1h30m", "2026-12-06T10:30:30Z"),
            ("1700000000", "2023-11-14T22:13:20Z"),
            ("1700000000.5", "2023-11-14T22:13:20.5Z"),
            ("1700000000.000000001", "2023-11-14T22:13:20.000000001Z"),
            ("0", "1970-01-01T00:00:00Z"),
            ("2026-12-06T12:00:00Z", "2026-12-06T12:00:00Z"),
            ("2026-12-06T12:00:00.25Z", "2026-12-06T12:00:00.25Z"),
            ("2026-12-06T12:00:00+01:00", "2026-12-06T11:00:00Z"),
            ("2026-12-06T12:00:00-01:30", "2026-12-06T13:30:00Z"),
            ("2026-12-06T12Z", "2026-12-06T12:00:00Z"),
            ("2026-12-06T12:05Z", "2026-12-06T12:05:00Z"),
            ("2026-12-06Z", "2026-12-06T00:00:00Z"),
            ("2026-12-06+02:00", "2026-12-05T22:00:00Z"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_log_time(value, now).unwrap(),
                time(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn local_times_use_the_local_zone() {
        let now = time("2026-12-06T12:00:30Z");
        let offset = jiff::tz::TimeZone::system().to_offset(now);
        let local = offset
            .to_timestamp(jiff::civil::date(2026, 12, 6).at(8, 30, 0, 0))
            .unwrap();
        assert_eq!(parse_log_time("2026-12-06T08:30:00", now).unwrap(), local);
        assert_eq!(parse_log_time("2026-12-06T08:30", now).unwrap(), local);
        let midnight = offset
            .to_timestamp(jiff::civil::date(2026, 12, 6).at(0, 0, 0, 0))
            .unwrap();
        assert_eq!(parse_log_time("2026-12-06", now).unwrap(), midnight);
    }

    #[test]
    fn bad_log_times_get_dockers_messages() {
        let now = time("2026-12-06T12:00:30Z");
        assert_eq!(
            parse_log_time("yesterday", now).unwrap_err().to_string(),
            r#"failed to parse value as time or duration: "yesterday""#
        );
        assert_eq!(
            parse_log_time("1x", now).unwrap_err().to_string(),
            r#"failed to parse value as time or duration: "1x""#
        );
        let error = parse_log_time("2026-13-01", now).unwrap_err().to_string();
        assert!(error.starts_with(r#"parsing time "2026-13-01""#), "{error}");
        // Docker quotes with `%q` (strconv.Quote), Go's time errors with the
        // time package's own quoting, which escapes every non-ASCII byte.
        assert_eq!(
            parse_log_time("d\u{e9}j\u{e0}\t", now)
                .unwrap_err()
                .to_string(),
            "failed to parse value as time or duration: \"d\u{e9}j\u{e0}\\t\""
        );
        let error = parse_log_time("2026-12-\u{e9}", now)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(r#"parsing time "2026-12-\xc3\xa9""#),
            "{error}"
        );
    }
}
