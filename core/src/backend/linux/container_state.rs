//! `state` and `ps`: what a container is now, from its records and the kernel, so the
//! answer stays true after the CLI or the supervisor died (no stale "running").

use std::path::Path;

use serde::Serialize;

use super::state::{list, ContainerDir, OciState, Status};
use super::RuntimeError;

/// The OCI state of container `id`.
pub fn state(root: &Path, id: &str) -> Result<OciState, RuntimeError> {
    Ok(ContainerDir::new(root, id)?.oci_state()?)
}

/// One line of `ps`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub id: String,
    pub status: Status,
    pub pid: Option<i32>,
    /// The last exit code, when it exited at least once.
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    pub restarts: u32,
    pub created_ms: u64,
}

/// Every container under `root`.
pub fn ps(root: &Path) -> Vec<Summary> {
    list(root)
        .into_iter()
        .filter_map(|id| {
            let dir = ContainerDir::new(root, &id).ok()?;
            let (record, status) = dir.status().ok()?;
            let exit = dir.exit();
            Some(Summary {
                id,
                status,
                pid: (status != Status::Stopped).then_some(record.pid),
                exit_code: exit.as_ref().map(|e| e.code),
                oom_killed: exit.as_ref().is_some_and(|e| e.oom_killed),
                restarts: exit.as_ref().map_or(0, |e| e.restarts),
                created_ms: record.created_ms,
            })
        })
        .collect()
}
