//! The simulated world of the page: quai-core's simulated backend and a memory state
//! store, driven exactly as the CLI drives the real ones (observe, diff, apply,
//! destroy). A sandbox can be copied, so the page keeps one per point of its history.
//!
//! Never draws, never touches the browser.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use quai_core::apply::{apply, ApplyError, ApplyOptions, ApplyReport};
use quai_core::backend::sim::SimBackend;
use quai_core::backend::{Backend, BackendError, Observed};
use quai_core::event::{Event, Recorder};
use quai_core::image::{Context, ImageInfo};
use quai_core::plan::{self, Plan, PlanError};
use quai_core::resource::desired::Desired;
use quai_core::state::memory::MemoryStore;
use quai_core::state::{State, StateError, StateStore};

/// Why the sandbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The exit code of a process killed by SIGKILL (128 + 9).
pub const SIGKILL_EXIT: i32 = 137;

/// What an apply (or destroy) did, with every event it told.
#[derive(Debug, Clone)]
pub struct Run {
    pub report: ApplyReport,
    pub events: Vec<Event>,
}

/// The simulated backend and the states of the stacks applied to it.
pub struct Sandbox {
    backend: SimBackend,
    states: MemoryStore,
    /// Stacks that have a state, so that a copy can carry them.
    stacks: BTreeSet<String>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Clone for Sandbox {
    fn clone(&self) -> Self {
        let states = MemoryStore::new();
        for stack in &self.stacks {
            let mut state = self.state(stack);
            let mut lock = states
                .lock(stack, "copy", Duration::ZERO)
                .expect("a new store has no lock");
            lock.save(&mut state).expect("a memory store always saves");
        }
        let backend = SimBackend::from_json(&self.backend.to_json())
            .expect("a simulated backend loads what it saved");
        Sandbox {
            backend,
            states,
            stacks: self.stacks.clone(),
        }
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            backend: SimBackend::new(),
            states: MemoryStore::new(),
            stacks: BTreeSet::new(),
        }
    }

    pub fn backend(&self) -> &SimBackend {
        &self.backend
    }

    /// What was applied to `stack` (empty when nothing was).
    pub fn state(&self, stack: &str) -> State {
        self.states
            .read(stack)
            .unwrap_or_else(|_| State::new(stack))
    }

    /// What the backend shows now for the stack of `desired`.
    pub fn observe(&self, desired: &Desired) -> Result<Observed, SandboxError> {
        let images = quai_core::resource::desired::references(desired)
            .map_err(|e| SandboxError::Plan(e.into()))?;
        Ok(self.backend.observe(&desired.stack.name, &images)?)
    }

    /// What the backend shows now for `stack`, without asking about images.
    pub fn observe_stack(&self, stack: &str) -> Result<Observed, SandboxError> {
        Ok(self.backend.observe(stack, &[])?)
    }

    /// The plan that takes what was applied to what `desired` asks.
    pub fn plan(&self, desired: &Desired) -> Result<Plan, SandboxError> {
        let observed = self.observe(desired)?;
        let state = self.state(&desired.stack.name);
        Ok(plan::diff(desired, &state, &observed)?)
    }

    /// The plan that removes everything of `stack` but its volumes.
    pub fn destroy_plan(&self, stack: &str) -> Result<Plan, SandboxError> {
        let observed = self.observe_stack(stack)?;
        Ok(plan::destroy(&self.state(stack), &observed, false))
    }

    /// Applies `plan`, one step at a time, recording every event.
    pub fn apply(
        &mut self,
        plan: &Plan,
        contexts: &BTreeMap<String, Context>,
    ) -> Result<Run, SandboxError> {
        let recorder = Recorder::new();
        let report = {
            let mut lock = self.states.lock(&plan.stack, "apply", Duration::ZERO)?;
            apply(
                plan,
                &self.backend,
                &mut *lock,
                contexts,
                &recorder,
                &ApplyOptions { parallelism: 1 },
            )?
        };
        self.stacks.insert(plan.stack.clone());
        Ok(Run {
            report,
            events: recorder.take(),
        })
    }

    /// A file as container `id` sees it (volume, writable layer or image).
    pub fn read_file(&self, id: &str, path: &str) -> Option<Vec<u8>> {
        self.backend.read_file(id, path).ok().flatten()
    }

    /// Container `id`'s program writes a file: into a volume when one is mounted there,
    /// else into its writable layer.
    pub fn write_file(&self, id: &str, path: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        Ok(self.backend.write_file(id, path, bytes)?)
    }

    /// Container `id`'s process is killed outside quai (SIGKILL); its restart policy
    /// applies.
    pub fn kill(&self, id: &str) -> Result<(), SandboxError> {
        Ok(self.backend.kill(id, SIGKILL_EXIT)?)
    }

    /// Every image in the simulated store.
    pub fn images(&self) -> Vec<ImageInfo> {
        self.backend.images().unwrap_or_default()
    }
}
