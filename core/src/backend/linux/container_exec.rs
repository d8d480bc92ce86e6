//! `exec`: runs another program in a running container. The runtime makes itself not
//! dumpable (nothing inside may open its `/proc/PID/exe`), joins the container's cgroup
//! and namespaces, forks into its pid namespace, and the child takes the spec's user,
//! capabilities and environment before exec. Must be called from a single-threaded
//! process; waits and returns the program's exit code.

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::LinuxNamespaceType;

use super::cgroup::ContainerCgroup;
use super::init::{enter_process, runtime_identity};
use super::spec::Bundle;
use super::state::{ContainerDir, StateError, Status};
use super::sys::{mount, process, SysError};
use super::RuntimeError;

/// Namespaces in the order they are joined: the user namespace first (it grants the
/// rights to join the others), the mount namespace last (it changes the root).
const ORDER: [(LinuxNamespaceType, &str); 7] = [
    (LinuxNamespaceType::User, "user"),
    (LinuxNamespaceType::Ipc, "ipc"),
    (LinuxNamespaceType::Uts, "uts"),
    (LinuxNamespaceType::Network, "net"),
    (LinuxNamespaceType::Cgroup, "cgroup"),
    (LinuxNamespaceType::Pid, "pid"),
    (LinuxNamespaceType::Mount, "mnt"),
];

/// Runs `args` in container `id`; returns its exit code.
pub fn exec(root: &Path, id: &str, args: &[String]) -> Result<i32, RuntimeError> {
    let threads = process::thread_count();
    if threads != 1 {
        return Err(super::launch::LaunchError::Threaded { threads }.into());
    }
    let dir = ContainerDir::new(root, id)?;
    let (record, status) = dir.status()?;
    if status != Status::Running {
        return Err(StateError::BadStatus {
            id: id.to_string(),
            verb: "exec",
            status,
        }
        .into());
    }
    let bundle = Bundle::load(&record.bundle)?;
    let proc_ = bundle.spec.process().clone().unwrap_or_default();
    let declared: Vec<LinuxNamespaceType> = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default()
        .iter()
        .map(|n| n.typ())
        .collect();
    let runtime_exe = runtime_identity();
    let mut joins: Vec<(OwnedFd, String)> = Vec::new();
    for (typ, name) in ORDER {
        if declared.contains(&typ) {
            let path = format!("/proc/{}/ns/{name}", record.pid);
            joins.push((mount::open_path_follow(Path::new(&path))?, path));
        }
    }
    process::set_dumpable(false)?;
    for file in ContainerCgroup::load(&record.cgroup).procs_files() {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|mut f| f.write_all(b"0"));
    }
    for (fd, path) in &joins {
        process::join_namespace(fd.as_raw_fd(), path)?;
    }
    drop(joins);
    // SAFETY: this process is single-threaded (checked above).
    match unsafe { fork() }.map_err(|e| SysError::new("fork", "exec", e))? {
        ForkResult::Child => {
            let Err(e) = enter_process(&proc_, args, runtime_exe, None);
            eprintln!("quai: exec in `{id}`: {e}");
            process::exit_now(127)
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(SysError::new("waitpid", child, e).into()),
            }
        },
    }
}
