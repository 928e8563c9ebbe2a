//! Build progress on stderr, as BuildKit shows it:
//! - plain (CI, logs): one line per event (`#5 [2/6] COPY …`, `#5 CACHED`,
//!   `#9 0.034 output`, `#9 DONE 0.1s`), plus why each step that ran missed
//!   the cache;
//! - tty: a live view redrawn in place, `[+] Building 3.2s (5/7)` then one
//!   line per step with `CACHED`/`ERROR` marks and its time, the last lines
//!   of a running step's output under it, a running clock; the whole view
//!   once more when the build ends (`FINISHED`);
//! - quiet: warnings only.
//!
//! Colours (BuildKit's: finished steps blue, errors red, cancelled yellow,
//! output faint) only on a terminal and never with `NO_COLOR`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata_build::{Event, Progress};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing but warnings.
    Quiet,
    /// One line per event, for logs and CI.
    Plain,
    /// A live view redrawn in place (a terminal).
    Tty,
}

/// How often the live view is redrawn (BuildKit: 100-150 ms).
const REDRAW: Duration = Duration::from_millis(120);

/// Prints build events.
pub(crate) struct Printer {
    mode: Mode,
    colour: bool,
    lock: Mutex<()>,
    live: Option<Live>,
}

/// The live view and the thread that redraws it.
struct Live {
    view: Arc<Mutex<View>>,
    stop: Arc<AtomicBool>,
    /// Lines of the frame on screen (the final frame goes back over it).
    drawn: Arc<AtomicUsize>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Printer {
    pub(crate) fn new(mode: Mode) -> Self {
        let colour = crate::report::colour_stderr();
        let live = (mode == Mode::Tty).then(|| {
            let view = Arc::new(Mutex::new(View::new(Instant::now(), log_lines())));
            let stop = Arc::new(AtomicBool::new(false));
            let drawn = Arc::new(AtomicUsize::new(0));
            let thread = {
                let view = Arc::clone(&view);
                let stop = Arc::clone(&stop);
                let drawn = Arc::clone(&drawn);
                std::thread::spawn(move || {
                    let mut screen = Screen::default();
                    while !stop.load(Ordering::SeqCst) {
                        let lines = view.lock().ok().map(|view| {
                            let (width, height) = terminal();
                            view.render(Instant::now(), width, height, false, colour)
                        });
                        if let Some(lines) = lines {
                            let text = screen.frame(&lines);
                            let mut stderr = std::io::stderr().lock();
                            let _ = stderr.write_all(text.as_bytes());
                            let _ = stderr.flush();
                            drawn.store(screen.lines, Ordering::SeqCst);
                        }
                        std::thread::sleep(REDRAW);
                    }
                })
            };
            Live {
                view,
                stop,
                drawn,
                thread: Mutex::new(Some(thread)),
            }
        });
        Self {
            mode,
            colour: colour && mode == Mode::Tty,
            lock: Mutex::new(()),
            live,
        }
    }

    /// Ends the live view with its final frame (every step, `FINISHED`
    /// when all went well) and prints the warnings; flushes. Idempotent.
    pub(crate) fn finish(&self) {
        if let Some(live) = &self.live {
            let thread = live.thread.lock().ok().and_then(|mut t| t.take());
            if let Some(thread) = thread {
                live.stop.store(true, Ordering::SeqCst);
                let _ = thread.join();
                if let Ok(view) = live.view.lock() {
                    let (width, height) = terminal();
                    let lines = view.render(Instant::now(), width, height, true, self.colour);
                    // The last frame stays: over the one on screen, every line.
                    let mut screen = Screen {
                        lines: live.drawn.load(Ordering::SeqCst),
                    };
                    let mut text = screen.frame(&lines);
                    for warning in &view.warnings {
                        let _ = writeln!(text, "{} {warning}", self.paint("33", "WARNING:"));
                    }
                    text.push_str("\x1b[?25h");
                    self.write(&text);
                }
            }
        }
        let _ = std::io::stderr().flush();
    }

    fn write(&self, text: &str) {
        let _guard = self.lock.lock();
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
    }

    fn paint(&self, code: &str, text: &str) -> String {
        paint(self.colour, code, text)
    }
}

fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The terminal's size (80×24 when unknown).
fn terminal() -> (usize, usize) {
    match terminal_size::terminal_size_of(std::io::stderr()) {
        Some((terminal_size::Width(width), terminal_size::Height(height)))
            if width > 0 && height > 0 =>
        {
            (usize::from(width), usize::from(height))
        }
        _ => (80, 24),
    }
}

/// Lines of a running step's output shown (`BUILDKIT_TTY_LOG_LINES`, default 6).
fn log_lines() -> usize {
    std::env::var("BUILDKIT_TTY_LOG_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(6)
}

impl Progress for Printer {
    fn event(&self, event: Event<'_>) {
        if let Some(live) = &self.live {
            if let Ok(mut view) = live.view.lock() {
                view.apply(&event, Instant::now());
            }
            return;
        }
        if self.mode == Mode::Quiet {
            if let Event::Warning { message } = event {
                self.write(&format!("WARNING: {message}\n"));
            }
            return;
        }
        self.write(&plain_line(&event, self.colour));
    }
}

/// The plain-mode text of an event.
fn plain_line(event: &Event<'_>, colour: bool) -> String {
    match event {
        Event::Started { vertex, name } => format!("#{vertex} {}\n", paint(colour, "1", name)),
        Event::Cached { vertex } => format!("#{vertex} {}\n\n", paint(colour, "36", "CACHED")),
        Event::CacheMiss { vertex, reason } => format!("#{vertex} cache miss: {reason}\n"),
        Event::Output {
            vertex,
            line,
            elapsed,
            ..
        } => format!(
            "#{vertex} {:.3} {}\n",
            elapsed.as_secs_f64(),
            String::from_utf8_lossy(line)
        ),
        Event::Status { vertex, message } => format!("#{vertex} {message}\n"),
        Event::Done { vertex, elapsed } => format!(
            "#{vertex} {} {:.1}s\n\n",
            paint(colour, "34", "DONE"),
            elapsed.as_secs_f64()
        ),
        Event::Failed { vertex, error, .. } => {
            format!("#{vertex} {} {error}\n\n", paint(colour, "31", "ERROR:"))
        }
        Event::Warning { message } => format!("{} {message}\n", paint(colour, "33", "WARNING:")),
    }
}

/// What a step (a vertex) is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Running,
    Done,
    Cached,
    Failed,
    Cancelled,
}

/// One vertex of the live view.
#[derive(Debug)]
struct Vertex {
    id: usize,
    name: String,
    started: Instant,
    /// How long it took, once it ended.
    took: Option<Duration>,
    state: State,
    /// Why it missed the cache.
    reason: Option<String>,
    /// Progress lines (`transferring dockerfile: 70B`).
    statuses: Vec<String>,
    /// The last lines of its output.
    logs: VecDeque<String>,
}

/// The live view's state: events in, frames out. No I/O, no clock of its
/// own (times come in), so that it can be tested.
#[derive(Debug)]
pub(crate) struct View {
    started: Instant,
    vertices: Vec<Vertex>,
    warnings: Vec<String>,
    log_lines: usize,
}

impl View {
    pub(crate) fn new(started: Instant, log_lines: usize) -> Self {
        Self {
            started,
            vertices: Vec::new(),
            warnings: Vec::new(),
            log_lines,
        }
    }

    fn vertex(&mut self, id: usize) -> Option<&mut Vertex> {
        self.vertices.iter_mut().rev().find(|v| v.id == id)
    }

    /// Takes in one event that happened at `now`.
    pub(crate) fn apply(&mut self, event: &Event<'_>, now: Instant) {
        match event {
            Event::Started { vertex, name } => self.vertices.push(Vertex {
                id: *vertex,
                name: name.replace('\t', " "),
                started: now,
                took: None,
                state: State::Running,
                reason: None,
                statuses: Vec::new(),
                logs: VecDeque::new(),
            }),
            Event::Cached { vertex } => {
                if let Some(v) = self.vertex(*vertex) {
                    v.state = State::Cached;
                    v.took = Some(Duration::ZERO);
                }
            }
            Event::CacheMiss { vertex, reason } => {
                if let Some(v) = self.vertex(*vertex) {
                    v.reason = Some((*reason).to_owned());
                }
            }
            Event::Output { vertex, line, .. } => {
                let limit = self.log_lines;
                if let Some(v) = self.vertex(*vertex) {
                    let text = String::from_utf8_lossy(line)
                        .replace('\t', "    ")
                        .chars()
                        .filter(|c| !c.is_control())
                        .collect();
                    v.logs.push_back(text);
                    while v.logs.len() > limit {
                        v.logs.pop_front();
                    }
                }
            }
            Event::Status { vertex, message } => {
                if let Some(v) = self.vertex(*vertex) {
                    let message = message.strip_suffix(" done").unwrap_or(message);
                    v.statuses.push(message.to_owned());
                }
            }
            Event::Done { vertex, elapsed } => {
                if let Some(v) = self.vertex(*vertex) {
                    if v.state == State::Running {
                        v.state = State::Done;
                    }
                    v.took = Some(*elapsed);
                }
            }
            Event::Failed {
                vertex,
                elapsed,
                error,
            } => {
                if let Some(v) = self.vertex(*vertex) {
                    v.state = if *error == "build cancelled" {
                        State::Cancelled
                    } else {
                        State::Failed
                    };
                    v.took = Some(*elapsed);
                }
            }
            Event::Warning { message } => self.warnings.push((*message).to_owned()),
        }
    }

    /// The frame at `now` for a `width`×`height` terminal: a header, then
    /// each vertex with its time, its progress lines and (while it runs) the
    /// last lines of its output. `last` draws every vertex (the frame that
    /// stays); otherwise the oldest finished ones give way to fit `height`.
    pub(crate) fn render(
        &self,
        now: Instant,
        width: usize,
        height: usize,
        last: bool,
        colour: bool,
    ) -> Vec<String> {
        let width = width.max(20);
        let total = self.vertices.len();
        let completed = self
            .vertices
            .iter()
            .filter(|v| v.state != State::Running)
            .count();
        let failed = self
            .vertices
            .iter()
            .any(|v| matches!(v.state, State::Failed | State::Cancelled));
        let finished = if last && total > 0 && completed == total && !failed {
            " FINISHED"
        } else {
            ""
        };
        let header = format!(
            "[+] Building {:.1}s ({completed}/{total}){finished}",
            now.saturating_duration_since(self.started).as_secs_f64()
        );
        let mut blocks: Vec<(bool, Vec<String>)> = Vec::new();
        for vertex in &self.vertices {
            let mut lines = Vec::new();
            let seconds = vertex
                .took
                .unwrap_or_else(|| now.saturating_duration_since(vertex.started))
                .as_secs_f64();
            let seconds = if seconds < 0.05 { 0.0 } else { seconds };
            let mark = match vertex.state {
                State::Cached => "CACHED ",
                State::Failed => "ERROR ",
                State::Cancelled => "CANCELED ",
                State::Running | State::Done => "",
            };
            let line = job_line(&format!("{mark}{}", vertex.name), seconds, width);
            let code = match vertex.state {
                State::Running => None,
                State::Done | State::Cached => Some("34"),
                State::Failed => Some("31"),
                State::Cancelled => Some("33"),
            };
            lines.push(match code {
                Some(code) => paint(colour, code, &line),
                None => line,
            });
            let done = vertex.state != State::Running;
            if let Some(reason) = &vertex.reason {
                let line = job_line(&format!("=> cache miss: {reason}"), 0.0, width);
                lines.push(if done {
                    paint(colour, "34", &line)
                } else {
                    line
                });
            }
            for status in &vertex.statuses {
                let line = job_line(&format!("=> {status}"), 0.0, width);
                lines.push(if done {
                    paint(colour, "34", &line)
                } else {
                    line
                });
            }
            if !done {
                for log in &vertex.logs {
                    let text: String = format!(" => => # {log}").chars().take(width).collect();
                    lines.push(paint(colour, "2", &text));
                }
            }
            blocks.push((done, lines));
        }
        if !last {
            // Keep the frame within the terminal: drop finished vertices,
            // oldest first, then anything from the top.
            let budget = height.saturating_sub(2);
            let mut count: usize = blocks.iter().map(|(_, l)| l.len()).sum();
            let mut index = 0;
            while count > budget && index < blocks.len() {
                if blocks[index].0 {
                    count -= blocks[index].1.len();
                    blocks.remove(index);
                } else {
                    index += 1;
                }
            }
            while count > budget && !blocks.is_empty() {
                count -= blocks[0].1.len();
                blocks.remove(0);
            }
        }
        let mut frame = vec![header.chars().take(width).collect()];
        frame.extend(blocks.into_iter().flat_map(|(_, lines)| lines));
        frame
    }
}

/// ` => NAME ... 1.2s`: the name cut to fit, the time right-aligned.
fn job_line(name: &str, seconds: f64, width: usize) -> String {
    let timer = format!(" {seconds:.1}s");
    let prefix = " => ";
    let room = width.saturating_sub(prefix.len() + timer.len() + 1).max(12);
    let name: String = name.chars().take(room).collect();
    let padding = room.saturating_sub(name.chars().count());
    format!("{prefix}{name}{}{timer}", " ".repeat(padding))
}

/// Draws frames over each other on stderr.
#[derive(Default)]
struct Screen {
    lines: usize,
}

impl Screen {
    /// The text that replaces the previous frame with `lines`.
    fn frame(&mut self, lines: &[String]) -> String {
        let mut text = String::from("\x1b[?25l");
        if self.lines > 0 {
            let _ = write!(text, "\x1b[{}A\r", self.lines);
        }
        for line in lines {
            text.push_str(line);
            text.push_str("\x1b[K\n");
        }
        text.push_str("\x1b[J");
        self.lines = lines.len();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    /// A build's events: two steps cached, one running with output.
    fn running_view(start: Instant) -> View {
        let mut view = View::new(start, 3);
        let events: Vec<(u64, Event<'_>)> = vec![
            (
                0,
                Event::Started {
                    vertex: 1,
                    name: "[internal] load build definition from Dockerfile",
                },
            ),
            (
                1,
                Event::Status {
                    vertex: 1,
                    message: "transferring dockerfile: 70B done",
                },
            ),
            (
                2,
                Event::Done {
                    vertex: 1,
                    elapsed: Duration::from_millis(2),
                },
            ),
            (
                10,
                Event::Started {
                    vertex: 2,
                    name: "[1/3] FROM docker.io/library/busybox:latest",
                },
            ),
            (
                10,
                Event::Done {
                    vertex: 2,
                    elapsed: Duration::ZERO,
                },
            ),
            (
                20,
                Event::Started {
                    vertex: 3,
                    name: "[2/3] COPY app.py /app/",
                },
            ),
            (20, Event::Cached { vertex: 3 }),
            (
                30,
                Event::Started {
                    vertex: 4,
                    name: "[3/3] RUN make all && make install PREFIX=/usr/local/very/long/path",
                },
            ),
            (
                30,
                Event::CacheMiss {
                    vertex: 4,
                    reason: "src/app.py changed",
                },
            ),
        ];
        for (millis, event) in &events {
            view.apply(event, at(start, *millis));
        }
        for (index, line) in ["one", "two", "three", "four\tfive"].iter().enumerate() {
            view.apply(
                &Event::Output {
                    vertex: 4,
                    stream: strata_build::Stream::Stdout,
                    line: line.as_bytes(),
                    elapsed: Duration::from_millis(100 * index as u64),
                },
                at(start, 500),
            );
        }
        view
    }

    #[test]
    fn running_frame() {
        let start = Instant::now();
        let view = running_view(start);
        let frame = view.render(at(start, 2345), 72, 40, false, false);
        insta::assert_snapshot!("tty_running", frame.join("\n"));
    }

    #[test]
    fn final_frames() {
        let start = Instant::now();
        let mut view = running_view(start);
        view.apply(
            &Event::Done {
                vertex: 4,
                elapsed: Duration::from_millis(4100),
            },
            at(start, 4130),
        );
        view.apply(
            &Event::Warning {
                message: "unused build arg X",
            },
            at(start, 4130),
        );
        let frame = view.render(at(start, 4200), 72, 40, true, false);
        insta::assert_snapshot!("tty_finished", frame.join("\n"));
        assert_eq!(view.warnings, ["unused build arg X"]);

        let mut failed = running_view(start);
        failed.apply(
            &Event::Failed {
                vertex: 4,
                elapsed: Duration::from_millis(1500),
                error: "process \"/bin/sh -c make\" did not complete successfully: exit code: 2",
            },
            at(start, 1530),
        );
        let frame = failed.render(at(start, 1600), 72, 40, true, true);
        insta::assert_snapshot!("tty_failed_colour", frame.join("\n"));
    }

    #[test]
    fn small_terminals_keep_running_steps() {
        let start = Instant::now();
        let view = running_view(start);
        let frame = view.render(at(start, 1000), 40, 8, false, false);
        assert!(frame.len() <= 8, "{frame:#?}");
        assert!(frame[0].starts_with("[+] Building 1.0s (3/4)"));
        assert!(frame.iter().any(|l| l.starts_with(" => [3/3] RUN make")));
        assert!(frame.iter().all(|l| l.chars().count() <= 40), "{frame:#?}");
        // The final frame shows everything.
        let frame = view.render(at(start, 1000), 40, 8, true, false);
        assert!(frame.iter().any(|l| l.contains("[internal] load build")));
    }

    #[test]
    fn cancelled_steps_are_marked() {
        let start = Instant::now();
        let mut view = running_view(start);
        view.apply(
            &Event::Failed {
                vertex: 4,
                elapsed: Duration::from_millis(700),
                error: "build cancelled",
            },
            at(start, 730),
        );
        let frame = view.render(at(start, 800), 80, 40, true, false);
        assert!(
            frame
                .iter()
                .any(|l| l.starts_with(" => CANCELED [3/3] RUN")),
            "{frame:#?}"
        );
        assert!(!frame[0].contains("FINISHED"));
        // Output is shown only while a step runs.
        assert!(!frame.iter().any(|l| l.contains(" => => # ")));
    }

    #[test]
    fn screen_goes_back_over_the_last_frame() {
        let mut screen = Screen::default();
        let first = screen.frame(&["a".to_owned(), "b".to_owned()]);
        assert_eq!(first, "\x1b[?25la\x1b[K\nb\x1b[K\n\x1b[J");
        let second = screen.frame(&["c".to_owned()]);
        assert_eq!(second, "\x1b[?25l\x1b[2A\rc\x1b[K\n\x1b[J");
    }

    #[test]
    fn plain_lines_as_buildkit() {
        let line = plain_line(
            &Event::Done {
                vertex: 3,
                elapsed: Duration::from_millis(1234),
            },
            false,
        );
        assert_eq!(line, "#3 DONE 1.2s\n\n");
        let line = plain_line(&Event::Cached { vertex: 2 }, true);
        assert_eq!(line, "#2 \x1b[36mCACHED\x1b[0m\n\n");
    }
}
