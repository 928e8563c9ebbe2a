//! Build progress on stderr: BuildKit's plain lines (`#5 [2/6] COPY …`,
//! `#5 CACHED`, `#9 0.034 output`, `#9 DONE 0.1s`), plus why each step
//! that ran missed the cache; quiet mode prints warnings only.

use std::io::Write;
use std::sync::Mutex;

use strata_build::{Event, Progress};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing but warnings.
    Quiet,
    /// One line per event, for logs and CI.
    Plain,
    /// A terminal (plain lines for now, with colour).
    Tty,
}

/// Prints build events.
pub(crate) struct Printer {
    mode: Mode,
    colour: bool,
    lock: Mutex<()>,
}

impl Printer {
    pub(crate) fn new(mode: Mode) -> Self {
        let colour = mode == Mode::Tty && crate::report::colour_stderr();
        Self {
            mode,
            colour,
            lock: Mutex::new(()),
        }
    }

    /// Flushes what is pending.
    pub(crate) fn finish(&self) {
        let _ = std::io::stderr().flush();
    }

    fn write(&self, text: &str) {
        let _guard = self.lock.lock();
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

impl Progress for Printer {
    fn event(&self, event: Event<'_>) {
        if self.mode == Mode::Quiet {
            if let Event::Warning { message } = event {
                self.write(&format!("WARNING: {message}\n"));
            }
            return;
        }
        let text = match event {
            Event::Started { vertex, name } => format!("#{vertex} {}\n", self.paint("1", name)),
            Event::Cached { vertex } => format!("#{vertex} {}\n\n", self.paint("36", "CACHED")),
            Event::CacheMiss { vertex, reason } => format!("#{vertex} cache miss: {reason}\n"),
            Event::Output {
                vertex,
                line,
                elapsed,
                ..
            } => {
                format!(
                    "#{vertex} {:.3} {}\n",
                    elapsed.as_secs_f64(),
                    String::from_utf8_lossy(line)
                )
            }
            Event::Status { vertex, message } => format!("#{vertex} {message}\n"),
            Event::Done { vertex, elapsed } => {
                format!(
                    "#{vertex} {} {:.1}s\n\n",
                    self.paint("34", "DONE"),
                    elapsed.as_secs_f64()
                )
            }
            Event::Failed { vertex, error, .. } => {
                format!("#{vertex} {} {error}\n\n", self.paint("31", "ERROR:"))
            }
            Event::Warning { message } => format!("{} {message}\n", self.paint("33", "WARNING:")),
        };
        self.write(&text);
    }
}
