//! Builds a [`Plan`] from what is desired, what was applied and what is observed.
//! Pure: no I/O, same inputs give the same plan.

use crate::backend::Observed;
use crate::plan::Plan;
use crate::resource::desired::{Desired, DesiredError};
use crate::state::State;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Desired(#[from] DesiredError),
    #[error("the state is of stack `{state}`, the stack file names `{stack}`")]
    WrongStack { state: String, stack: String },
}

/// The plan that takes `state` (as `observed` now) to `desired`.
pub fn diff(desired: &Desired, state: &State, observed: &Observed) -> Result<Plan, PlanError> {
    let _ = (desired, state, observed);
    todo!("plan::diff")
}

/// The plan that deletes everything of `state`; volumes only when `volumes` is set.
pub fn destroy(state: &State, observed: &Observed, volumes: bool) -> Plan {
    let _ = (state, observed, volumes);
    todo!("plan::destroy")
}
