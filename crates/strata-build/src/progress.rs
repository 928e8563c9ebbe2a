//! What a build reports while it runs. The builder emits [`Event`]s; the
//! binary turns them into BuildKit's plain lines or a live view.

use std::time::Duration;

pub use strata_sandbox::Stream;

/// A build's vertex number (`#5` in BuildKit's plain output), in start order.
pub type VertexId = usize;

/// One thing that happened during a build.
#[derive(Debug)]
pub enum Event<'a> {
    /// A vertex began: an internal task or a step, `name` as BuildKit shows it
    /// (`[2/6] COPY src/ ./src/`).
    Started {
        /// The vertex.
        vertex: VertexId,
        /// Its name.
        name: &'a str,
    },
    /// The step's result came from the cache.
    Cached {
        /// The vertex.
        vertex: VertexId,
    },
    /// The step will run, and why the cache could not serve it.
    CacheMiss {
        /// The vertex.
        vertex: VertexId,
        /// The first changed input, in one line (`src/app.py changed`).
        reason: &'a str,
    },
    /// A line of a running step's output (without its newline).
    Output {
        /// The vertex.
        vertex: VertexId,
        /// stdout or stderr.
        stream: Stream,
        /// The line.
        line: &'a [u8],
        /// Time since the vertex started.
        elapsed: Duration,
    },
    /// A line of a vertex's progress (`writing image sha256:… done`).
    Status {
        /// The vertex.
        vertex: VertexId,
        /// The line.
        message: &'a str,
    },
    /// The vertex finished.
    Done {
        /// The vertex.
        vertex: VertexId,
        /// How long it took.
        elapsed: Duration,
    },
    /// The vertex failed.
    Failed {
        /// The vertex.
        vertex: VertexId,
        /// How long it ran.
        elapsed: Duration,
        /// The error, in one line.
        error: &'a str,
    },
    /// A warning that belongs to no vertex (unused build args, ...).
    Warning {
        /// The warning.
        message: &'a str,
    },
}

/// Receives a build's events; called from several threads at once.
pub trait Progress: Send + Sync {
    /// Handles one event.
    fn event(&self, event: Event<'_>);
}

/// Discards every event.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _event: Event<'_>) {}
}
