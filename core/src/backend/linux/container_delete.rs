//! `delete`: removes a stopped container (or, with `force`, kills it first): its
//! supervisor, its processes, its cgroup and its records.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::cgroup::ContainerCgroup;
use super::state::{can_delete, process_alive, ContainerDir, StateError};
use super::RuntimeError;

/// Deletes container `id`.
pub fn delete(root: &Path, id: &str, force: bool) -> Result<(), RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let (record, status) = match dir.status() {
        Ok(found) => found,
        // A folder without records: an interrupted create. Remove what is there.
        Err(StateError::Io { .. }) if dir.dir.exists() => return Ok(dir.remove()?),
        Err(e) => return Err(e.into()),
    };
    if !can_delete(status, force) {
        return Err(StateError::BadStatus {
            id: id.to_string(),
            verb: "be deleted (stop it first, or --force)",
            status,
        }
        .into());
    }
    // The supervisor first, so that it restarts nothing; its init dies with it.
    if let Some(pid) = record.supervisor {
        if process_alive(pid, record.supervisor_start) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let cgroup = ContainerCgroup::load(&record.cgroup);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        cgroup.kill_all();
        let alive = process_alive(record.pid, record.pid_start);
        if (!alive && cgroup.pids().is_empty()) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cgroup.delete()?;
    dir.remove()?;
    Ok(())
}
