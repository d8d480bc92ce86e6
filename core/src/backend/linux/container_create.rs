//! `create`: prepares a container and leaves its init waiting for `start`. The runtime
//! forks the container's supervisor (no exec: a copy of this process, kept small), which
//! clones the init; the init builds the container's filesystem and blocks on the exec
//! fifo. `create` returns once the supervisor reported the init ready. When the spec
//! asks for a terminal, the init sends its master to the console socket during `create`.

use std::io::Read;
use std::path::Path;

use nix::sys::stat::Mode;
use nix::unistd::{fork, ForkResult};

use std::os::fd::OwnedFd;

use super::cgroup::ContainerCgroup;
use super::console;
use super::spec::Bundle;
use super::state::ContainerDir;
use super::supervisor::{self, REPORT_OK};
use super::sys::{process, SysError};
use super::RuntimeError;

/// Creates container `id` from `bundle`; returns the init's pid. A spec that asks for a
/// terminal needs `console_socket` (a listening unix socket, which receives the
/// terminal's master), and only such a spec takes one. Must be called from a
/// single-threaded process.
pub fn create(
    root: &Path,
    id: &str,
    bundle: &Path,
    pid_file: Option<&Path>,
    console_socket: Option<&Path>,
) -> Result<i32, RuntimeError> {
    let threads = process::thread_count();
    if threads != 1 {
        return Err(super::launch::LaunchError::Threaded { threads }.into());
    }
    let dir = ContainerDir::new(root, id)?;
    let bundle = Bundle::load(bundle)?;
    let console = console::connect(console::wants_terminal(&bundle.spec), console_socket)?;
    dir.create()?;
    match create_in(&dir, bundle, console) {
        Ok(pid) => {
            if let Some(path) = pid_file {
                std::fs::write(path, pid.to_string()).map_err(|e| RuntimeError::Io {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            }
            Ok(pid)
        }
        Err(e) => {
            let _ = dir.remove();
            Err(e)
        }
    }
}

fn create_in(
    dir: &ContainerDir,
    bundle: Bundle,
    console: Option<OwnedFd>,
) -> Result<i32, RuntimeError> {
    nix::unistd::mkfifo(&dir.fifo(), Mode::from_bits_truncate(0o622))
        .map_err(|e| SysError::new("mkfifo", dir.fifo().display(), e))?;
    let linux = bundle.spec.linux().as_ref();
    let cgroup_path =
        ContainerCgroup::path_for(linux.and_then(|l| l.cgroups_path().as_deref()), &dir.id);
    let cgroup = ContainerCgroup::create(&cgroup_path, linux.and_then(|l| l.resources().as_ref()))?;
    let (report_read, report_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| SysError::new("pipe2", "supervisor report", e))?;
    // SAFETY: this process is single-threaded (checked by `create`).
    match unsafe { fork() }.map_err(|e| SysError::new("fork", "supervisor", e))? {
        ForkResult::Child => {
            drop(report_read);
            supervisor::run(dir.clone(), bundle, cgroup, report_write, console)
        }
        ForkResult::Parent { child } => {
            drop(report_write);
            drop(console);
            // The first byte says it; the init keeps a copy of the pipe until it execs,
            // so no end of file comes after a success.
            let mut report = std::fs::File::from(report_read);
            let mut answer = vec![0u8];
            if report.read_exact(&mut answer).is_ok() && answer[0] == REPORT_OK {
                return Ok(dir.record()?.pid);
            }
            let _ = report.read_to_end(&mut answer);
            let _ = nix::sys::wait::waitpid(child, None);
            Err(RuntimeError::Supervisor {
                id: dir.id.clone(),
                message: String::from_utf8_lossy(answer.get(1..).unwrap_or_default()).into_owned(),
            })
        }
    }
}
