//! The solver: runs the plan's stages (each in its own thread, so stages that
//! do not depend on each other run at the same time), serves each step from
//! the cache when its key is there, and otherwise runs it over a snapshot of
//! its parent and records the layer it made.

use std::collections::{HashMap, VecDeque};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use strata_context::Context;
use strata_oci::{Descriptor, Digest};
use strata_sandbox::{Canceller, MountKind, RootFs, Sandbox, Spec};
use strata_snapshot::{ActiveSnapshot, Snapshotter};
use strata_store::Store;

use crate::cache::ImportedCache;
use crate::copy;
use crate::error::{Error, Result};
use crate::explain::Explainer;
use crate::options::{BuildOptions, SecretSource};
use crate::plan::{Base, CopyInput, Operation, Plan, RunMount, RunMountKind, RunOperation, Step};
use crate::progress::{Event, Progress, VertexId};
use crate::rootfs::{Root, resolve_owner};

/// One layer of a stage's result.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    /// The blob in the store.
    pub(crate) descriptor: Descriptor,
    /// Its uncompressed digest.
    pub(crate) diff_id: Digest,
    /// When a step of this build (or an earlier one, from the cache) made
    /// it; `None` for a base image's layers.
    pub(crate) created: Option<String>,
}

/// What a stage produced.
#[derive(Clone, Debug, Default)]
pub(crate) struct StageOutput {
    /// Its layers, base first.
    pub(crate) layers: Vec<Layer>,
}

/// What happened to one step, for `--metadata-file` and tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepReport {
    /// The step (`[2/6] COPY src/ ./src/`).
    pub name: String,
    /// Whether the cache served it.
    pub cached: bool,
    /// Why it ran, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its cache key.
    pub key: String,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// Cancels a running build: steps stop being started, running processes are
/// killed. Clone it into a signal handler.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    inner: Arc<CancelState>,
}

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    running: Mutex<Vec<(usize, Canceller)>>,
}

impl Cancel {
    /// A handle nothing has cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the build.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        if let Ok(running) = self.inner.running.lock() {
            for (_, canceller) in running.iter() {
                canceller.cancel();
            }
        }
    }

    /// Whether the build was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    fn register(&self, id: usize, canceller: Canceller) {
        if let Ok(mut running) = self.inner.running.lock() {
            running.push((id, canceller));
        }
        if self.is_cancelled() {
            self.cancel();
        }
    }

    fn unregister(&self, id: usize) {
        if let Ok(mut running) = self.inner.running.lock() {
            running.retain(|(other, _)| *other != id);
        }
    }
}

/// A step found in a cache.
#[derive(Clone, Debug)]
enum Hit {
    /// In the store, blob included.
    Stored(Layer),
    /// In an imported cache; its blob is downloaded when needed.
    Imported(Layer),
}

/// What the solve needs of a stage, decided from the caches before
/// anything runs (BuildKit's solver reaches the same from its cache keys).
#[derive(Clone, Copy, Debug, Default)]
struct Demand {
    /// Whether it runs: false when every step that reads it is cached (it
    /// is then shown as cached, and started only if a hit fails).
    run: bool,
    /// Whether its layers must be in the store: the image's, or a stage's
    /// that a step which runs reads.
    keep_output: bool,
    /// Its last step no cache has: the layers before it are that step's parent.
    last_miss: Option<usize>,
}

impl Demand {
    /// Whether the layer of step `number` must be in the store.
    fn needs_layer(&self, number: usize) -> bool {
        self.keep_output || self.last_miss.is_some_and(|last| number < last)
    }
}

/// What a solve produced: the target's output, what happened to each step,
/// and the layer of every step served or run, by key (what a cache export
/// covers).
pub(crate) struct Solved {
    pub(crate) output: StageOutput,
    pub(crate) steps: Vec<StepReport>,
    pub(crate) layers: HashMap<Digest, Layer>,
}

type Slot = (
    Mutex<Option<std::result::Result<Arc<StageOutput>, ()>>>,
    Condvar,
);

/// Runs a plan.
pub(crate) struct Solver<'a> {
    pub(crate) store: &'a Store,
    pub(crate) snapshotter: &'a Snapshotter,
    pub(crate) sandbox: &'a Sandbox,
    pub(crate) plan: &'a Plan,
    pub(crate) context: Option<Arc<Context>>,
    pub(crate) options: &'a BuildOptions,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) vertices: &'a AtomicUsize,
    pub(crate) cancel: &'a Cancel,
    pub(crate) explainer: &'a Explainer,
    pub(crate) secrets: &'a HashMap<String, SecretSource>,
    pub(crate) imported: &'a ImportedCache,
    slots: Vec<Slot>,
    started: Vec<AtomicBool>,
    demand: OnceLock<Vec<Demand>>,
    hits: Mutex<HashMap<Digest, Hit>>,
    layers: Mutex<HashMap<Digest, Layer>>,
    errors: Mutex<Vec<Error>>,
    reports: Mutex<Vec<(usize, usize, StepReport)>>,
    running_ids: AtomicUsize,
}

/// How many of a failed step's last output lines its error keeps.
pub const TAIL_LINES: usize = 20;

impl<'a> Solver<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: &'a Store,
        snapshotter: &'a Snapshotter,
        sandbox: &'a Sandbox,
        plan: &'a Plan,
        context: Option<Arc<Context>>,
        options: &'a BuildOptions,
        progress: &'a dyn Progress,
        vertices: &'a AtomicUsize,
        cancel: &'a Cancel,
        explainer: &'a Explainer,
        secrets: &'a HashMap<String, SecretSource>,
        imported: &'a ImportedCache,
    ) -> Self {
        let slots = plan
            .stages
            .iter()
            .map(|_| (Mutex::new(None), Condvar::new()))
            .collect();
        Self {
            store,
            snapshotter,
            sandbox,
            plan,
            context,
            options,
            progress,
            vertices,
            cancel,
            explainer,
            secrets,
            imported,
            slots,
            started: plan.stages.iter().map(|_| AtomicBool::new(false)).collect(),
            demand: OnceLock::new(),
            hits: Mutex::new(HashMap::new()),
            layers: Mutex::new(HashMap::new()),
            errors: Mutex::new(Vec::new()),
            reports: Mutex::new(Vec::new()),
            running_ids: AtomicUsize::new(0),
        }
    }

    /// Runs every stage the target needs and the caches lack; the
    /// target's output, what happened to each step, in plan order, and the
    /// layers of the steps.
    pub(crate) fn solve(&self) -> Result<Solved> {
        let needed = self.needed();
        let demand = self.plan_demand(&needed)?;
        let running: Vec<usize> = needed.iter().copied().filter(|i| demand[*i].run).collect();
        let _ = self.demand.set(demand);
        // One stage runs on this thread: a one-stage build starts none.
        std::thread::scope(|scope| {
            if let Some((last, others)) = running.split_last() {
                for index in others.iter().copied() {
                    if !self.started[index].swap(true, Ordering::SeqCst) {
                        scope.spawn(move || self.run_and_publish(index));
                    }
                }
                if !self.started[*last].swap(true, Ordering::SeqCst) {
                    self.run_and_publish(*last);
                }
            }
        });
        let mut errors =
            std::mem::take(&mut *self.errors.lock().unwrap_or_else(PoisonError::into_inner));
        if errors.is_empty() {
            // Stages nothing started (a failed hit may start one on demand).
            for index in needed.iter().copied() {
                if !self.started[index].load(Ordering::SeqCst) {
                    self.show_cached_stage(index);
                }
            }
        }
        if !errors.is_empty() {
            // The first real failure explains the others' cancellation.
            let index = errors
                .iter()
                .position(|e| !matches!(e, Error::Cancelled))
                .unwrap_or(0);
            return Err(errors.swap_remove(index));
        }
        let output = self.wait(self.plan.target)?;
        let mut reports = self.reports.lock().map(|r| r.clone()).unwrap_or_default();
        reports.sort_by_key(|(stage, step, _)| (*stage, *step));
        let layers =
            std::mem::take(&mut *self.layers.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(Solved {
            output: (*output).clone(),
            steps: reports.into_iter().map(|(_, _, r)| r).collect(),
            layers,
        })
    }

    /// Runs stage `index` and publishes its output (or failure) to the
    /// stages waiting for it.
    fn run_and_publish(&self, index: usize) {
        let stored = match self.run_stage(index) {
            Ok(output) => Ok(Arc::new(output)),
            Err(error) => {
                // Other stages stop at their next step; running processes are killed.
                if !matches!(error, Error::Cancelled) {
                    self.cancel.cancel();
                }
                if let Ok(mut errors) = self.errors.lock() {
                    errors.push(error);
                }
                Err(())
            }
        };
        let (lock, condvar) = &self.slots[index];
        if let Ok(mut slot) = lock.lock() {
            *slot = Some(stored);
        }
        condvar.notify_all();
    }

    /// Decides which stages run: the target does; a stage does when a step
    /// that runs reads it, or a stage that runs starts from it. Hits are
    /// kept for the steps' own lookups.
    fn plan_demand(&self, needed: &[usize]) -> Result<Vec<Demand>> {
        let mut demand = vec![Demand::default(); self.plan.stages.len()];
        demand[self.plan.target].run = true;
        demand[self.plan.target].keep_output = true;
        for index in needed.iter().copied() {
            // `--no-cache-filter` asks for the stage to run.
            demand[index].run |= self.plan.stages[index].no_cache;
        }
        // Stages come after the stages they read: dependents first.
        for index in needed.iter().copied().rev() {
            if !demand[index].run {
                continue;
            }
            let stage = &self.plan.stages[index];
            for (number, step) in stage.steps.iter().enumerate() {
                match self.find(step, stage.no_cache)? {
                    Some(hit) => {
                        if let Ok(mut hits) = self.hits.lock() {
                            hits.insert(step.key, hit);
                        }
                    }
                    None => {
                        demand[index].last_miss = Some(number);
                        for source in step_stages(step) {
                            demand[source].run = true;
                            demand[source].keep_output = true;
                        }
                    }
                }
            }
            if let Base::Stage(base) = stage.base {
                let keep = demand[index].keep_output || demand[index].last_miss.is_some();
                demand[base].run = true;
                demand[base].keep_output |= keep;
            }
        }
        Ok(demand)
    }

    /// A stage nothing needs to run: its steps shown as cached, as
    /// BuildKit shows the vertices below a cached one.
    fn show_cached_stage(&self, index: usize) {
        let plan = &self.plan.stages[index];
        if let Some(name) = &plan.from_name {
            let vertex = self.vertex(name);
            self.progress.event(Event::Done {
                vertex,
                elapsed: std::time::Duration::ZERO,
            });
        }
        for (number, step) in plan.steps.iter().enumerate() {
            let started = Instant::now();
            let vertex = self.vertex(&step.name);
            self.progress.event(Event::Cached { vertex });
            self.report(index, number, step, true, None, started);
            self.explainer.seen(step);
        }
    }

    /// The cache's answer for `step`: the planning pass's, else the
    /// store's records, else the imported caches.
    fn lookup(&self, step: &Step, no_cache: bool) -> Result<Option<Hit>> {
        // Checked here too: a twin step of a cached stage may have left a
        // hit under the same key.
        if no_cache {
            return Ok(None);
        }
        if let Some(hit) = self.hits.lock().ok().and_then(|mut h| h.remove(&step.key)) {
            return Ok(Some(hit));
        }
        self.find(step, no_cache)
    }

    fn find(&self, step: &Step, no_cache: bool) -> Result<Option<Hit>> {
        if no_cache {
            return Ok(None);
        }
        if let Some(layer) = stored_layer(self.store, &step.key)? {
            return Ok(Some(Hit::Stored(layer)));
        }
        Ok(self.imported.lookup(&step.key).map(Hit::Imported))
    }

    /// The layer of a step served from an imported cache, brought into the
    /// store (verified) and recorded there, so the next build needs no import.
    fn materialise(&self, step: &Step, layer: &Layer) -> std::result::Result<(), String> {
        self.imported.fetch(self.store, &layer.diff_id)?;
        self.record(step, layer).map_err(|e| e.to_string())
    }

    /// The stages the target depends on, the target included.
    fn needed(&self) -> Vec<usize> {
        let mut needed = vec![false; self.plan.stages.len()];
        let mut stack = vec![self.plan.target];
        while let Some(index) = stack.pop() {
            if needed[index] {
                continue;
            }
            needed[index] = true;
            stack.extend(dependencies(&self.plan.stages[index]));
        }
        (0..needed.len()).filter(|i| needed[*i]).collect()
    }

    /// Stage `index`'s output, once it is done; a stage not started yet
    /// (the planning pass found nothing that needed it) runs here.
    fn wait(&self, index: usize) -> Result<Arc<StageOutput>> {
        if !self.started[index].swap(true, Ordering::SeqCst) {
            self.run_and_publish(index);
        }
        let (lock, condvar) = &self.slots[index];
        let mut slot = lock.lock().map_err(|_| Error::Cancelled)?;
        loop {
            if let Some(result) = slot.as_ref() {
                return result.clone().map_err(|()| Error::Cancelled);
            }
            slot = condvar.wait(slot).map_err(|_| Error::Cancelled)?;
        }
    }

    fn vertex(&self, name: &str) -> VertexId {
        let vertex = self.vertices.fetch_add(1, Ordering::SeqCst) + 1;
        self.progress.event(Event::Started { vertex, name });
        vertex
    }

    fn run_stage(&self, index: usize) -> Result<StageOutput> {
        let plan = &self.plan.stages[index];
        let mut layers: Vec<Layer> = match &plan.base {
            Base::Scratch => Vec::new(),
            Base::Image(image) => image
                .layers
                .iter()
                .map(|(descriptor, diff_id)| Layer {
                    descriptor: descriptor.clone(),
                    diff_id: *diff_id,
                    created: None,
                })
                .collect(),
            Base::Stage(base) => self.wait(*base)?.layers.clone(),
        };
        if let Some(name) = &plan.from_name {
            let vertex = self.vertex(name);
            self.progress.event(Event::Done {
                vertex,
                elapsed: std::time::Duration::ZERO,
            });
        }
        let mut demand = self.demand.get().map(|d| d[index]).unwrap_or_default();
        // Not planned to run: a step that runs (a cache hit that failed)
        // reads this stage, so all its layers must be in the store.
        demand.keep_output |= !demand.run;
        for (number, step) in plan.steps.iter().enumerate() {
            if self.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let started = Instant::now();
            let hit = match self.lookup(step, plan.no_cache)? {
                Some(Hit::Stored(layer)) => Some(layer),
                Some(Hit::Imported(layer)) if !demand.needs_layer(number) => Some(layer),
                Some(Hit::Imported(layer)) => match self.materialise(step, &layer) {
                    Ok(()) => Some(layer),
                    Err(message) => {
                        // Never a wrong layer: the step runs instead.
                        let message = format!("{}: not taken from the cache: {message}", step.name);
                        self.progress.event(Event::Warning { message: &message });
                        None
                    }
                },
                None => None,
            };
            if let Some(layer) = hit {
                let vertex = self.vertex(&step.name);
                self.progress.event(Event::Cached { vertex });
                self.report(index, number, step, true, None, started);
                self.explainer.seen(step);
                self.keep_layer(step, &layer);
                layers.push(layer);
                continue;
            }
            let stage_outputs = self.step_dependencies(step)?;
            let vertex = self.vertex(&step.name);
            let reason = self.explainer.reason(
                self.store,
                step,
                self.context.as_deref(),
                plan.no_cache,
                self.options.no_cache,
            );
            self.progress.event(Event::CacheMiss {
                vertex,
                reason: &reason,
            });
            match self.execute(step, &layers, &stage_outputs, vertex, started) {
                Ok(layer) => {
                    self.progress.event(Event::Done {
                        vertex,
                        elapsed: started.elapsed(),
                    });
                    self.report(index, number, step, false, Some(reason), started);
                    self.explainer.seen(step);
                    self.keep_layer(step, &layer);
                    layers.push(layer);
                }
                Err(error) => {
                    // What a cancel interrupted failed because of it.
                    let error = if self.cancel.is_cancelled() {
                        Error::Cancelled
                    } else {
                        error
                    };
                    let message = error.to_string();
                    self.progress.event(Event::Failed {
                        vertex,
                        elapsed: started.elapsed(),
                        error: &message,
                    });
                    return Err(error);
                }
            }
        }
        Ok(StageOutput { layers })
    }

    /// Remembers the layer of `step` for a cache export.
    fn keep_layer(&self, step: &Step, layer: &Layer) {
        if let Ok(mut layers) = self.layers.lock() {
            layers.insert(step.key, layer.clone());
        }
    }

    fn report(
        &self,
        stage: usize,
        number: usize,
        step: &Step,
        cached: bool,
        reason: Option<String>,
        started: Instant,
    ) {
        if let Ok(mut reports) = self.reports.lock() {
            reports.push((
                stage,
                number,
                StepReport {
                    name: step.name.clone(),
                    cached,
                    reason,
                    key: step.key.to_string(),
                    seconds: started.elapsed().as_secs_f64(),
                },
            ));
        }
    }

    /// The outputs of the stages a step reads from, waited for.
    fn step_dependencies(&self, step: &Step) -> Result<HashMap<usize, Arc<StageOutput>>> {
        let mut outputs = HashMap::new();
        for stage in step_stages(step) {
            outputs.insert(stage, self.wait(stage)?);
        }
        Ok(outputs)
    }

    /// Makes sure the snapshots of `layers` exist (blobs only an imported
    /// cache has downloaded first); the chain id of the last.
    fn ensure_chain(&self, layers: &[Layer]) -> Result<Option<Digest>> {
        fetch_imported(self.store, self.imported, layers)?;
        ensure_chain(self.store, self.snapshotter, layers)
    }

    fn execute(
        &self,
        step: &Step,
        layers: &[Layer],
        stage_outputs: &HashMap<usize, Arc<StageOutput>>,
        vertex: VertexId,
        started: Instant,
    ) -> Result<Layer> {
        let parent = match &step.operation {
            // COPY --link starts from nothing.
            Operation::Copy(copy) if copy.link => None,
            _ => self.ensure_chain(layers)?,
        };
        let active = self.snapshotter.prepare(parent.as_ref())?;
        match &step.operation {
            Operation::Run(run) => self.run(step, run, &active, stage_outputs, vertex, started)?,
            Operation::Copy(operation) => {
                // The stages it copies from, mounted for reading.
                let mut sources: Vec<ActiveSnapshot> = Vec::new();
                let mut stage_ids = Vec::new();
                for source in &operation.sources {
                    if let CopyInput::Stage { stage, .. } = source
                        && !stage_ids.contains(stage)
                    {
                        let output = stage_outputs.get(stage).ok_or(Error::Cancelled)?;
                        let chain = self.ensure_chain(&output.layers)?;
                        sources.push(self.snapshotter.prepare(chain.as_ref())?);
                        stage_ids.push(*stage);
                    }
                }
                let mounted_sources = sources
                    .iter()
                    .map(ActiveSnapshot::mount)
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let mut roots = HashMap::new();
                for (stage, mounted) in stage_ids.iter().zip(&mounted_sources) {
                    roots.insert(*stage, Root::open(mounted.path())?);
                }
                let mounted = active.mount()?;
                let root = Root::open(mounted.path())?;
                copy::copy(
                    &root,
                    operation,
                    self.context.as_deref(),
                    &roots,
                    self.options.source_date_epoch,
                )
                .map_err(|e| match e {
                    // Paths as the image sees them, not the snapshot's on the host.
                    Error::Io(io) => {
                        let mut message = io.to_string();
                        for (prefix, _) in std::iter::once((mounted.path(), ()))
                            .chain(mounted_sources.iter().map(|m| (m.path(), ())))
                        {
                            message = message.replace(&prefix.display().to_string(), "");
                        }
                        Error::Copy {
                            step: step.name.clone(),
                            message,
                            span: step.span,
                        }
                    }
                    other => other,
                })?;
                drop(root);
                drop(mounted);
                drop(roots);
                drop(mounted_sources);
            }
            Operation::Mkdir { path, user } => {
                let mounted = active.mount()?;
                let root = Root::open(mounted.path())?;
                let owner = resolve_owner(&root, user);
                root.make_directories(path, owner, self.options.source_date_epoch)?;
            }
        }
        self.commit(step, active)
    }

    fn commit(&self, step: &Step, active: ActiveSnapshot) -> Result<Layer> {
        let options = strata_layer::LayerOptions {
            compression: strata_layer::Compression::None,
            source_date_epoch: self.options.source_date_epoch,
            threads: 2,
        };
        let writer = self.store.begin_blob_hashed_by_writer()?;
        // A cancel stops the layer mid-write: the snapshot and the blob's
        // temporary file go away with the error.
        let (committed, writer) = active.commit(
            &options,
            CancelWriter::new(
                std::io::BufWriter::with_capacity(1 << 20, writer),
                self.cancel,
            ),
        )?;
        let writer = writer
            .into_inner()
            .into_inner()
            .map_err(|e| Error::io("write", std::path::Path::new("layer"), e.into_error()))?;
        let (digest, size) = writer.commit(Some(&committed.layer.digest))?;
        let created = match self.options.source_date_epoch {
            Some(epoch) => crate::plan::format_time(epoch),
            None => jiff::Timestamp::now().to_string(),
        };
        let descriptor = Descriptor::new(committed.layer.media_type, digest, size);
        let layer = Layer {
            descriptor,
            diff_id: committed.layer.diff_id,
            created: Some(created),
        };
        self.record(step, &layer)?;
        Ok(layer)
    }

    /// Records `layer` as the result of `step` in the store's cache, with
    /// the inputs its key covered (for miss explanations).
    fn record(&self, step: &Step, layer: &Layer) -> Result<()> {
        let record = serde_json::json!({
            "diff_id": layer.diff_id.to_string(),
            "digest": layer.descriptor.digest.to_string(),
            "size": layer.descriptor.size,
            "media_type": layer.descriptor.media_type,
            "created": layer.created,
            "step": step.name,
            "inputs": step.inputs(self.context.as_deref()),
        });
        self.store
            .put_cache_record(&step.key.to_string(), &record, &[layer.descriptor.digest])?;
        Ok(())
    }

    /// Runs a RUN step's process in the sandbox over `active`, its mounts
    /// in place; the last lines of its output in the error when it fails.
    fn run(
        &self,
        step: &Step,
        run: &RunOperation,
        active: &ActiveSnapshot,
        stage_outputs: &HashMap<usize, Arc<StageOutput>>,
        vertex: VertexId,
        started: Instant,
    ) -> Result<()> {
        let mut spec = run_spec(run);
        // Kept alive until the step ends.
        let mut kept = StepResources {
            stage_snapshots: Vec::new(),
            _scripts_directory: self.scripts(run, &mut spec)?,
            secret_files: None,
            ssh_relays: Vec::new(),
        };
        for mount in &run.mounts {
            let Some(kind) = self.mount_kind(step, mount, stage_outputs, &mut spec, &mut kept)?
            else {
                continue;
            };
            let readonly = match mount.kind {
                RunMountKind::Context { .. } | RunMountKind::Secret { .. } => true,
                RunMountKind::Ssh { .. } => false,
                _ => mount.read_only,
            };
            spec.mounts.push(strata_sandbox::Mount {
                destination: mount.target.clone(),
                kind,
                readonly,
            });
        }
        // Stage snapshots used as bind sources must be mounted for the run.
        let mounted: Vec<_> = kept
            .stage_snapshots
            .iter()
            .map(ActiveSnapshot::mount)
            .collect::<std::result::Result<_, _>>()?;
        let rootfs = RootFs::Detached {
            mount: active.detached_mount()?,
            mount_point: active.mount_point(),
        };
        let (status, tail) = self.spawn_and_wait(rootfs, &spec, vertex, started)?;
        drop(mounted);
        drop(kept);
        let status = status?;
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        if status.success() {
            keep_mount_points(active, self.options.source_date_epoch)?;
            return Ok(());
        }
        Err(step_failed(step, run, status, tail))
    }

    /// Starts the process (stoppable by the build's cancel) and waits for
    /// it, its output shown as it comes; how it ended and its last lines.
    fn spawn_and_wait(
        &self,
        rootfs: RootFs,
        spec: &Spec,
        vertex: VertexId,
        started: Instant,
    ) -> Result<(
        strata_sandbox::Result<strata_sandbox::ExitStatus>,
        VecDeque<String>,
    )> {
        let running = self.sandbox.spawn(rootfs, spec)?;
        let id = self.running_ids.fetch_add(1, Ordering::SeqCst);
        self.cancel.register(id, running.canceller());
        let mut tail: VecDeque<String> = VecDeque::new();
        let status = running.wait(|stream, line| {
            self.progress.event(Event::Output {
                vertex,
                stream,
                line,
                elapsed: started.elapsed(),
            });
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(String::from_utf8_lossy(line).into_owned());
        });
        self.cancel.unregister(id);
        Ok((status, tail))
    }

    /// The heredoc scripts a RUN runs, written to a directory mounted at
    /// `/dev/pipes`; none without scripts.
    fn scripts(&self, run: &RunOperation, spec: &mut Spec) -> Result<Option<TemporaryDirectory>> {
        if run.scripts.is_empty() {
            return Ok(None);
        }
        let directory = self.store.temporary_path("scripts");
        strata_fs::create_dir_all(&directory)?;
        for (name, data) in &run.scripts {
            let path = directory.join(name);
            std::fs::write(&path, data).map_err(|e| Error::io("write", &path, e))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("chmod", &path, e))?;
        }
        spec.mounts.push(strata_sandbox::Mount {
            destination: "/dev/pipes".to_owned(),
            kind: MountKind::Bind {
                source: directory.clone(),
            },
            readonly: true,
        });
        Ok(Some(TemporaryDirectory(directory)))
    }

    /// What a `RUN --mount` mounts in the sandbox; `None` for a secret or
    /// SSH agent that is missing but not required, or a secret only in the
    /// environment.
    fn mount_kind(
        &self,
        step: &Step,
        mount: &RunMount,
        stage_outputs: &HashMap<usize, Arc<StageOutput>>,
        spec: &mut Spec,
        kept: &mut StepResources,
    ) -> Result<Option<MountKind>> {
        let kind = match &mount.kind {
            RunMountKind::Cache { id, uid, gid, mode } => {
                self.cache_mount(id, *uid, *gid, *mode)?
            }
            RunMountKind::Tmpfs { size } => MountKind::Tmpfs {
                size: (*size > 0).then_some(*size as u64),
            },
            RunMountKind::Secret {
                id,
                required,
                env,
                file,
            } => {
                let Some(source) = self.secrets.get(id) else {
                    missing(step, *required, format!("secret {id}: not found"))?;
                    return Ok(None);
                };
                if let Some(variable) = env {
                    // As BuildKit: the whole value, a final newline too.
                    let value = String::from_utf8_lossy(&secret_value(source)?).into_owned();
                    spec.env.push(format!("{variable}={value}"));
                }
                if !*file {
                    return Ok(None);
                }
                MountKind::Bind {
                    source: self.secret_file(id, source, &mut kept.secret_files)?,
                }
            }
            RunMountKind::Ssh {
                id,
                required,
                uid,
                gid,
                mode,
            } => {
                let Some(agent) = self.options.ssh.get(id) else {
                    missing(step, *required, format!("unset ssh forward key {id}"))?;
                    return Ok(None);
                };
                let relay = crate::ssh::Relay::start(agent, *uid, *gid, *mode)?;
                let source = relay.socket().to_path_buf();
                kept.ssh_relays.push(relay);
                MountKind::Bind { source }
            }
            RunMountKind::Context { source, named, .. } => {
                let context =
                    named
                        .as_ref()
                        .or(self.context.as_ref())
                        .ok_or_else(|| Error::Copy {
                            step: step.name.clone(),
                            message: "a bind mount from the build context needs a context"
                                .to_owned(),
                            span: step.span,
                        })?;
                let path = context.root().join(source.trim_start_matches('/'));
                MountKind::Bind { source: path }
            }
            RunMountKind::Stage { stage, source, .. } => {
                let output = stage_outputs.get(stage).ok_or(Error::Cancelled)?;
                let chain = self.ensure_chain(&output.layers)?;
                let snapshot = self.snapshotter.prepare(chain.as_ref())?;
                let mount_point = snapshot.mount_point();
                kept.stage_snapshots.push(snapshot);
                MountKind::Bind {
                    source: mount_point.join(source.trim_start_matches('/')),
                }
            }
        };
        Ok(Some(kind))
    }

    /// A cache mount's directory in the store, made with its owner and
    /// mode when first used.
    fn cache_mount(&self, id: &str, uid: u32, gid: u32, mode: u32) -> Result<MountKind> {
        let directory = self
            .store
            .area("cache-mounts")?
            .join(Digest::of(id.as_bytes()).hex());
        if !directory.exists() {
            strata_fs::create_dir_all(&directory)?;
            std::os::unix::fs::chown(&directory, Some(uid), Some(gid))
                .map_err(|e| Error::io("chown", &directory, e))?;
            std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("chmod", &directory, e))?;
        }
        Ok(MountKind::Bind { source: directory })
    }
}

/// What a RUN step keeps alive until it ends: stages mounted for binds,
/// scripts, secrets from the environment and SSH relays (dropped in this
/// order).
struct StepResources {
    stage_snapshots: Vec<ActiveSnapshot>,
    _scripts_directory: Option<TemporaryDirectory>,
    secret_files: Option<TemporaryDirectory>,
    ssh_relays: Vec<crate::ssh::Relay>,
}

/// The sandbox's spec for a RUN: process, environment (proxy variables
/// last), user, network, hosts, limits and `/dev/shm`.
fn run_spec(run: &RunOperation) -> Spec {
    let mut spec = Spec::new(run.args.clone());
    spec.env = run.env.iter().chain(&run.proxy_env).cloned().collect();
    spec.working_dir = run.working_dir.clone();
    spec.user = run.user.clone();
    spec.network = if run.network {
        strata_sandbox::Network::Host
    } else {
        strata_sandbox::Network::None
    };
    spec.extra_hosts = run.extra_hosts.clone();
    spec.ulimits = run.ulimits.clone();
    spec.insecure = run.insecure;
    if let Some(size) = run.shm_size {
        spec.mounts.push(strata_sandbox::Mount {
            destination: "/dev/shm".to_owned(),
            kind: MountKind::Tmpfs { size: Some(size) },
            readonly: false,
        });
    }
    spec
}

/// The error of a RUN whose process failed: its status and last lines.
fn step_failed(
    step: &Step,
    run: &RunOperation,
    status: strata_sandbox::ExitStatus,
    tail: VecDeque<String>,
) -> Error {
    let (status_text, exit_code) = match status {
        strata_sandbox::ExitStatus::Code(code) => (format!("exit code: {code}"), Some(code)),
        strata_sandbox::ExitStatus::Signal(signal) => {
            (format!("terminated by signal {signal}"), None)
        }
    };
    Error::StepFailed {
        step: step.name.clone(),
        command: run.args.join(" "),
        status: status_text,
        exit_code,
        output: tail.into_iter().collect(),
        span: step.span,
    }
}

impl Solver<'_> {
    /// The file a secret is mounted from: its own for a file secret; for
    /// one from the environment, a file written for the step in
    /// `directory` (made on first use: in /dev/shm, memory as BuildKit's
    /// tmpfs, when the host has it), removed when the step ends.
    fn secret_file(
        &self,
        id: &str,
        source: &SecretSource,
        directory: &mut Option<TemporaryDirectory>,
    ) -> Result<std::path::PathBuf> {
        if let SecretSource::File(path) = source {
            return Ok(path.clone());
        }
        let directory = match directory {
            Some(directory) => directory,
            None => {
                let scratch = self.store.temporary_path("secrets");
                let shm = std::path::Path::new("/dev/shm");
                let path = match scratch.file_name() {
                    Some(name) if shm.is_dir() => shm.join(name),
                    _ => scratch,
                };
                strata_fs::create_dir_all(&path)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| Error::io("chmod", &path, e))?;
                directory.insert(TemporaryDirectory(path))
            }
        };
        let path = directory.0.join(Digest::of(id.as_bytes()).hex());
        std::fs::write(&path, secret_value(source)?).map_err(|e| Error::io("write", &path, e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400))
            .map_err(|e| Error::io("chmod", &path, e))?;
        Ok(path)
    }
}

/// A secret or SSH agent the build was not given: `message` as the step's
/// error when the mount is required; nothing (the mount is skipped) otherwise.
fn missing(step: &Step, required: bool, message: String) -> Result<()> {
    if !required {
        return Ok(());
    }
    Err(Error::Copy {
        step: step.name.clone(),
        message,
        span: step.span,
    })
}

/// A secret's value: its file's bytes, or its environment variable's
/// (empty when unset, as buildx's `os.Getenv`).
fn secret_value(source: &SecretSource) -> Result<Vec<u8>> {
    match source {
        SecretSource::File(path) => std::fs::read(path).map_err(|e| Error::io("read", path, e)),
        SecretSource::Env(name) => Ok(std::env::var_os(name)
            .map(|value| value.into_encoded_bytes())
            .unwrap_or_default()),
    }
}

/// The layer the store's cache records for step `key`, when its blob is there.
pub(crate) fn stored_layer(store: &Store, key: &Digest) -> Result<Option<Layer>> {
    Ok(store
        .cache_record_as::<CachedLayer>(&key.to_string())?
        .and_then(CachedLayer::layer)
        .filter(|layer| store.has_blob(&layer.descriptor.digest)))
}

/// Brings the blobs of `layers` that only an imported cache has into the store.
pub(crate) fn fetch_imported(
    store: &Store,
    imported: &ImportedCache,
    layers: &[Layer],
) -> Result<()> {
    for layer in layers {
        if !store.has_blob(&layer.descriptor.digest) && imported.layer(&layer.diff_id).is_some() {
            imported
                .fetch(store, &layer.diff_id)
                .map_err(|message| Error::CacheImport { message })?;
        }
    }
    Ok(())
}

/// Makes sure the snapshots of `layers` exist (unpacking what is missing
/// from the store's blobs); the chain id of the last.
pub(crate) fn ensure_chain(
    store: &Store,
    snapshotter: &Snapshotter,
    layers: &[Layer],
) -> Result<Option<Digest>> {
    let diff_ids: Vec<Digest> = layers.iter().map(|layer| layer.diff_id).collect();
    Ok(snapshotter.unpack_chain(&diff_ids, |index| {
        store
            .open_blob(&layers[index].descriptor.digest)
            .map(std::io::BufReader::new)
            .map_err(std::io::Error::other)
    })?)
}

/// BuildKit's runc leaves the mount points it made for its own file systems
/// in a RUN's layer: `/dev`, `/proc` and `/sys` exist after any RUN, so a RUN
/// over a root without them gets them too (empty, 0755, root's). The stubs
/// made for `/etc/hosts`, `/etc/resolv.conf` and `--mount` targets are
/// removed again when empty, parents included (BuildKit's mount stubs
/// cleaner; the sandbox does the same).
fn keep_mount_points(active: &ActiveSnapshot, epoch: Option<i64>) -> Result<()> {
    let mounted = active.mount()?;
    let root = Root::open(mounted.path())?;
    for name in ["/dev", "/proc", "/sys"] {
        if root.kind(name, false)?.is_none() {
            root.make_directories(name, crate::rootfs::Owner::ROOT, epoch)?;
        }
    }
    Ok(())
}

/// A writer that fails once the build is cancelled, so that long writes
/// (a big layer, an archive) stop at the next buffer.
pub(crate) struct CancelWriter<'a, W> {
    inner: W,
    cancel: &'a Cancel,
}

impl<'a, W> CancelWriter<'a, W> {
    pub(crate) fn new(inner: W, cancel: &'a Cancel) -> Self {
        Self { inner, cancel }
    }

    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: std::io::Write> std::io::Write for CancelWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            // Not `Interrupted`: copy loops retry that.
            return Err(std::io::Error::other("build cancelled"));
        }
        self.inner.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Removes a directory when dropped.
struct TemporaryDirectory(std::path::PathBuf);

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The stages a step reads from (`COPY --from`, `RUN --mount=from=`).
fn step_stages(step: &Step) -> Vec<usize> {
    let mut stages = Vec::new();
    match &step.operation {
        Operation::Copy(copy) => {
            for source in &copy.sources {
                if let CopyInput::Stage { stage, .. } = source {
                    stages.push(*stage);
                }
            }
        }
        Operation::Run(run) => {
            for mount in &run.mounts {
                if let RunMountKind::Stage { stage, .. } = mount.kind {
                    stages.push(stage);
                }
            }
        }
        Operation::Mkdir { .. } => {}
    }
    stages.sort_unstable();
    stages.dedup();
    stages
}

/// Every stage a stage depends on.
fn dependencies(stage: &crate::plan::StagePlan) -> Vec<usize> {
    let mut all = Vec::new();
    if let Base::Stage(base) = stage.base {
        all.push(base);
    }
    for step in &stage.steps {
        all.extend(step_stages(step));
    }
    all
}

/// The layer fields of a step's cache record (its inputs, which can list
/// thousands of files, are left unread).
#[derive(serde::Deserialize)]
struct CachedLayer {
    digest: String,
    diff_id: String,
    size: u64,
    media_type: String,
    created: Option<String>,
}

impl CachedLayer {
    /// The layer it describes; `None` when a digest does not parse.
    fn layer(self) -> Option<Layer> {
        let digest: Digest = self.digest.parse().ok()?;
        let diff_id: Digest = self.diff_id.parse().ok()?;
        Some(Layer {
            descriptor: Descriptor::new(self.media_type, digest, self.size),
            diff_id,
            created: self.created,
        })
    }
}
