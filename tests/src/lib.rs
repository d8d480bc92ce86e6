//! Helpers for quai's test suite: the conformance suite is written once against the
//! `Backend` trait and instantiated for each backend.
//!
//! `conformance!(sim, || SimBackend::new())` expands, inside a module `sim`, one test
//! per function of [`suite`], each given a fresh backend from the closure. A backend
//! takes part by implementing [`Probe`] (how a test plays a container's program writing
//! a file).
//!
//! The [`Harness`] holds a backend, a memory state store and the failpoint scenario:
//! failpoints are global to the process, so every conformance test takes the scenario's
//! lock and they run one at a time.

use std::collections::BTreeMap;
use std::time::Duration;

use fail::FailScenario;
use quai_core::address::{Address, Kind};
use quai_core::apply::{apply, ApplyError, ApplyOptions, ApplyReport};
use quai_core::backend::sim::SimBackend;
use quai_core::backend::{Backend, BackendError, Observed};
use quai_core::event::{Discard, EventSink};
use quai_core::image::{Context, Reference};
use quai_core::plan::{self, Action, Plan};
use quai_core::resource::desired::{self, Desired};
use quai_core::stack::{self, Stack};
use quai_core::state::memory::MemoryStore;
use quai_core::state::{State, StateStore};

pub mod suite;

/// What a test needs from a backend beyond the trait: play a container's program.
pub trait Probe: Backend {
    /// The container's program writes `bytes` at `path`.
    fn write_file(&self, id: &str, path: &str, bytes: &[u8]) -> Result<(), BackendError>;
    /// The file at `path` as the container sees it.
    fn read_file(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, BackendError>;
}

impl Probe for SimBackend {
    fn write_file(&self, id: &str, path: &str, bytes: &[u8]) -> Result<(), BackendError> {
        SimBackend::write_file(self, id, path, bytes)
    }
    fn read_file(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, BackendError> {
        SimBackend::read_file(self, id, path)
    }
}

/// Expands every conformance test for one backend.
#[macro_export]
macro_rules! conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_tests!($make;
                apply_then_plan_is_empty,
                env_change_replaces,
                memory_change_updates_in_place,
                image_change_replaces_its_containers,
                removed_container_is_deleted,
                new_volume_is_created,
                volume_data_survives_a_replace,
                destroy_keeps_volumes_unless_asked,
                container_stopped_outside_is_repaired,
                container_removed_outside_is_repaired,
                failed_step_leaves_a_state_that_converges,
                interrupted_create_converges,
                interrupted_change_converges,
                interrupted_destroy_converges,
                two_applies_at_once_one_waits_or_fails_naming_the_holder,
                parallel_apply_converges,
                builds_go_as_the_plan_predicts,
            );
        }
    };
}

/// One `#[test]` per named function of [`suite`].
#[macro_export]
#[doc(hidden)]
macro_rules! conformance_tests {
    ($make:expr; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::suite::$test($make);
            }
        )*
    };
}

/// A backend, a state store and what a test needs to plan and apply stacks on them.
pub struct Harness<B: Backend> {
    pub backend: B,
    pub store: MemoryStore,
    pub contexts: BTreeMap<String, Context>,
    _scenario: FailScenario<'static>,
}

/// Parses a stack file of the suite (its folder is `app`).
pub fn parse(text: &str) -> Stack {
    stack::parse(text, "stack.toml", "app").unwrap_or_else(|e| panic!("stack file: {e}"))
}

impl<B: Backend> Harness<B> {
    pub fn new(backend: B) -> Self {
        let scenario = FailScenario::setup();
        Harness {
            backend,
            store: MemoryStore::new(),
            contexts: BTreeMap::new(),
            _scenario: scenario,
        }
    }

    pub fn state(&self) -> State {
        self.store.read("app").expect("state")
    }

    /// The image references the backend is asked about for `stack`, as the CLI asks.
    fn references(&self, stack: &Stack) -> Vec<Reference> {
        let desired = Desired {
            stack: stack.clone(),
            contexts: self.contexts.clone(),
        };
        desired::references(&desired).unwrap_or_else(|e| panic!("references: {e}"))
    }

    pub fn observe(&self, stack: &Stack) -> Observed {
        self.backend
            .observe(&stack.name, &self.references(stack))
            .expect("observe")
    }

    /// The plan from the current state to `text`.
    pub fn plan(&self, text: &str) -> Plan {
        let stack = parse(text);
        let observed = self.observe(&stack);
        let state = self.store.read(&stack.name).expect("state");
        let desired = Desired {
            stack,
            contexts: self.contexts.clone(),
        };
        plan::diff(&desired, &state, &observed).unwrap_or_else(|e| panic!("plan: {e}"))
    }

    /// The plan that destroys the stack `app`.
    pub fn destroy_plan(&self, volumes: bool) -> Plan {
        let observed = self.backend.observe("app", &[]).expect("observe");
        plan::destroy(&self.state(), &observed, volumes)
    }

    /// Applies one step at a time, events dropped.
    pub fn apply(&self, plan: &Plan) -> Result<ApplyReport, ApplyError> {
        self.apply_with(plan, &Discard, 1)
    }

    /// Applies with up to `parallelism` steps at once, telling `events`.
    pub fn apply_with(
        &self,
        plan: &Plan,
        events: &dyn EventSink,
        parallelism: usize,
    ) -> Result<ApplyReport, ApplyError> {
        let mut lock = self
            .store
            .lock(&plan.stack, "apply", Duration::from_secs(5))
            .expect("lock");
        apply(
            plan,
            &self.backend,
            &mut *lock,
            &self.contexts,
            events,
            &ApplyOptions { parallelism },
        )
    }

    /// Plans and applies `text`; every step must succeed.
    pub fn up(&self, text: &str) -> Plan {
        let plan = self.plan(text);
        let report = self.apply(&plan).unwrap_or_else(|e| panic!("apply: {e}"));
        assert!(report.succeeded(), "apply failed: {report:?}");
        plan
    }

    /// The backend id recorded for an address (`container.web`).
    pub fn id(&self, address: &str) -> String {
        let address: Address = address.parse().expect("address");
        self.state().resources[&address].id.clone()
    }

    /// Asserts that planning `text` now changes nothing and that the backend holds
    /// nothing of the stack that the state does not know.
    pub fn assert_converged(&self, text: &str) {
        let plan = self.plan(text);
        let pending: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| format!("{} {:?} {:?}", c.address, c.action, c.reasons))
            .collect();
        assert!(pending.is_empty(), "not converged: {pending:#?}");
        self.assert_no_orphans();
    }

    /// Every container and network of the stack in the backend is in the state.
    pub fn assert_no_orphans(&self) {
        let state = self.state();
        let observed = self.backend.observe("app", &[]).expect("observe");
        for (id, c) in &observed.containers {
            assert!(
                state.resources.values().any(|r| &r.id == id),
                "orphan container {} ({id})",
                c.name
            );
        }
        let networks: Vec<&Address> = state
            .resources
            .keys()
            .filter(|a| a.kind == Kind::Network)
            .collect();
        assert_eq!(
            observed.networks.len(),
            networks.len(),
            "networks observed {:?}, recorded {networks:?}",
            observed.networks.keys()
        );
    }

    /// The action the plan gives `address`.
    pub fn action(plan: &Plan, address: &str) -> Action {
        let address: Address = address.parse().expect("address");
        plan.changes
            .iter()
            .find(|c| c.address == address)
            .map(|c| c.action)
            .unwrap_or_else(|| panic!("{address} is not in the plan"))
    }
}
