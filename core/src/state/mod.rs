//! The state: what was applied, per stack. Versioned JSON, written atomically by the
//! [`file`] store (temporary file, fsync, rename, fsync of the folder, backup kept),
//! kept in memory by the [`memory`] store. A lock (pid, host, time) keeps a second
//! apply out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::resource::ResourceConfig;

#[cfg(not(target_arch = "wasm32"))]
pub mod file;
pub mod memory;

/// The version of the state's JSON schema this build writes. Older versions are
/// upgraded when read; newer ones are refused.
pub const SCHEMA_VERSION: u32 = 1;

/// What was applied to one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub stack: String,
    /// Counts the writes; a plan remembers the serial it was made against.
    pub serial: u64,
    pub resources: BTreeMap<Address, Recorded>,
}

impl State {
    pub fn new(stack: impl Into<String>) -> Self {
        State {
            version: SCHEMA_VERSION,
            stack: stack.into(),
            serial: 0,
            resources: BTreeMap::new(),
        }
    }
}

/// One applied resource: its configuration when applied and what the backend answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub config: ResourceConfig,
    /// The backend's id (a container id, an image digest); empty for volumes and networks.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// What the backend allocated (`subnet`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// `apply`, `destroy`, ...
    pub operation: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} by pid {} on {} since {} (unix time)",
            self.operation, self.pid, self.host, self.since
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state of stack `{stack}` is locked: {holder}; waited {waited:?}")]
    Locked {
        stack: String,
        holder: LockInfo,
        waited: Duration,
    },
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid state JSON: {message}")]
    Corrupt { path: String, message: String },
    #[error("state file {path} has schema version {found}; this quai reads up to {SCHEMA_VERSION}: upgrade quai")]
    TooNew { path: String, found: u32 },
}

/// Where the states of stacks are kept.
pub trait StateStore: Send + Sync {
    /// Takes the stack's lock, waiting up to `timeout` for another holder to let go.
    fn lock(
        &self,
        stack: &str,
        operation: &str,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock + '_>, StateError>;

    /// Reads a stack's state without locking (for `plan`, `state show`); an empty state
    /// when there is none.
    fn read(&self, stack: &str) -> Result<State, StateError>;
}

/// A held lock: the only way to write a state. Dropping it lets go of the lock.
pub trait StateLock: Send {
    fn load(&self) -> Result<State, StateError>;
    /// Writes the state (bumping its serial), atomically.
    fn save(&mut self, state: &mut State) -> Result<(), StateError>;
}
