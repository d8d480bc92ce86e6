//! `run`: create, start and wait for a container in the foreground, then delete it.
//! The calling process is the init's parent; the program inherits its stdio. The exit
//! code comes back; an OOM kill is reported as such.

use std::path::Path;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::cgroup::ContainerCgroup;
use super::launch::{launch, LaunchRequest};
use super::spec::Bundle;
use super::state::{now_ms, process_start, ContainerDir, ExitRecord, Record};
use super::RuntimeError;

/// Runs the bundle at `bundle` as container `id` until it exits.
pub fn run(root: &Path, id: &str, bundle: &Path) -> Result<ExitRecord, RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let bundle = Bundle::load(bundle)?;
    dir.create()?;
    let outcome = run_in(&dir, &bundle);
    let removed = dir.remove();
    let exit = outcome?;
    removed?;
    Ok(exit)
}

fn run_in(dir: &ContainerDir, bundle: &Bundle) -> Result<ExitRecord, RuntimeError> {
    let linux = bundle.spec.linux().as_ref();
    let cgroup_path =
        ContainerCgroup::path_for(linux.and_then(|l| l.cgroups_path().as_deref()), &dir.id);
    let cgroup = ContainerCgroup::create(&cgroup_path, linux.and_then(|l| l.resources().as_ref()))?;
    let launched = launch(&LaunchRequest {
        bundle,
        cgroup: &cgroup,
        exec_fifo: None,
        stdio: None,
    });
    let pid = match launched {
        Ok(l) => l.pid(),
        Err(e) => {
            let _ = cgroup.delete();
            return Err(e.into());
        }
    };
    let record = Record {
        id: dir.id.clone(),
        pid: pid.as_raw(),
        pid_start: process_start(pid.as_raw()).unwrap_or(0),
        supervisor: None,
        supervisor_start: 0,
        bundle: bundle.dir.clone(),
        cgroup: cgroup_path,
        created_ms: now_ms(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
    };
    let saved = dir.save_record(&record);
    let exit = wait_exit(pid, &cgroup);
    cgroup.kill_all();
    cgroup.delete()?;
    saved?;
    Ok(exit)
}

/// Waits for the init to exit and tells how.
pub fn wait_exit(pid: Pid, cgroup: &ContainerCgroup) -> ExitRecord {
    let (code, signal) = loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => break (code, None),
            Ok(WaitStatus::Signaled(_, sig, _)) => break (128 + sig as i32, Some(sig as i32)),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break (255, None),
        }
    };
    ExitRecord {
        code,
        signal,
        oom_killed: cgroup.oom_killed(),
        time_ms: now_ms(),
        restarts: 0,
    }
}
