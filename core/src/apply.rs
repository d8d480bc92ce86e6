//! Runs a [`Plan`] over a [`Backend`]: steps in dependency order, independent steps
//! concurrently, each finished step recorded in the state at once. When a step fails,
//! the steps that depend on it are skipped and every failure is reported; the state
//! left behind is one from which the next apply converges.
//!
//! Decides on actions alone; reasons are for people.

use std::collections::BTreeMap;

use crate::address::Address;
use crate::backend::{Backend, BackendError};
use crate::event::EventSink;
use crate::image::Context;
use crate::plan::Plan;
use crate::state::{StateError, StateLock};

/// How an apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Steps run at once at most (1 in the browser).
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        let parallelism = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        ApplyOptions { parallelism }
    }
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    pub done: Vec<Address>,
    pub failed: Vec<(Address, String)>,
    /// Not run, because a step they depend on failed: (skipped, failed dependency).
    pub skipped: Vec<(Address, Address)>,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan was made against state serial {planned}, the state is now at {current}: plan again")]
    StalePlan { planned: u64, current: u64 },
    #[error("the plan is for stack `{planned}`, the state is of stack `{current}`")]
    WrongStack { planned: String, current: String },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A failpoint of a test stopped the apply (only with the `failpoints` feature).
    #[error("interrupted at failpoint {failpoint}: {message}")]
    Interrupted { failpoint: String, message: String },
}

/// Applies `plan` with `backend`, writing the state through `lock` after each step.
/// `contexts` are the build contexts of the stack's images, by image name.
pub fn apply(
    plan: &Plan,
    backend: &dyn Backend,
    lock: &mut dyn StateLock,
    contexts: &BTreeMap<String, Context>,
    events: &dyn EventSink,
    options: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let _ = (plan, backend, lock, contexts, events, options);
    todo!("apply")
}
