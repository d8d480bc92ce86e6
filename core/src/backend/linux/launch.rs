//! Starting a container's init: the parent's side of the clone. Opens what the init
//! will need (cgroup files, namespace files), clones with the spec's namespaces, writes
//! the id maps of a new user namespace, and learns from a pipe whether the init failed,
//! is waiting for `start`, or exec'd its program. Must be called from a single-threaded
//! process (the CLI, the supervisor): the child runs ordinary Rust code before exec.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::unistd::Pid;
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType};

use super::cgroup::ContainerCgroup;
use super::init::{self, InitContext};
use super::rootfs::Overlay;
use super::spec::{Bundle, OVERLAY_LOWER, OVERLAY_UPPER, OVERLAY_WORK};
use super::sys::process::{self, Forked};
use super::sys::SysError;

/// What went wrong starting an init.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the runtime must start containers from a single-threaded process (this one has {threads} threads)")]
    Threaded { threads: usize },
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error("cannot open {path}: {message}")]
    Open { path: String, message: String },
    #[error("container init failed: {message}")]
    Init { message: String },
}

/// How the init ended its setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launched {
    /// It exec'd the program.
    Running(Pid),
    /// It waits on the exec fifo for `start`.
    Created(Pid),
}

impl Launched {
    /// The init's pid, as the host sees it.
    pub fn pid(self) -> Pid {
        match self {
            Launched::Running(p) | Launched::Created(p) => p,
        }
    }
}

/// What to launch.
pub struct LaunchRequest<'a> {
    pub bundle: &'a Bundle,
    pub cgroup: &'a ContainerCgroup,
    /// Wait on this fifo before exec (the create/start split).
    pub exec_fifo: Option<&'a Path>,
    /// Descriptors for the program's stdin, stdout, stderr (else inherited).
    pub stdio: Option<[RawFd; 3]>,
    /// The socket to send the terminal's master to, when the spec asks for a terminal.
    pub console: Option<RawFd>,
}

/// The byte an init writes when it waits for `start`.
pub const READY: u8 = b'R';
const FAILED: u8 = b'E';

/// Clones the init and waits until it has exec'd, is waiting for `start`, or failed.
pub fn launch(request: &LaunchRequest<'_>) -> Result<Launched, LaunchError> {
    let threads = process::thread_count();
    if threads != 1 {
        return Err(LaunchError::Threaded { threads });
    }
    let spec = &request.bundle.spec;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let mut flags = 0;
    let mut join: Vec<(OwnedFd, String)> = Vec::new();
    for ns in &namespaces {
        let flag = namespace_flag(ns.typ());
        match ns.path() {
            None => flags |= flag,
            Some(path) => {
                let fd = open_raw(path, libc::O_RDONLY)?;
                if ns.typ() == LinuxNamespaceType::Pid {
                    // A pid namespace applies to children: join it here, before the clone.
                    process::join_namespace(fd.as_raw_fd(), &path.to_string_lossy())?;
                } else {
                    join.push((fd, path.to_string_lossy().into_owned()));
                }
            }
        }
    }
    let in_user_ns = flags & libc::CLONE_NEWUSER != 0;
    let cgroup_procs = request
        .cgroup
        .procs_files()
        .iter()
        .map(|p| open_raw(p, libc::O_WRONLY))
        .collect::<Result<Vec<_>, _>>()?;
    let overlay = overlay_of(request.bundle);
    let runtime_exe = init::runtime_identity();
    let (report_read, report_write) = pipe()?;
    let (go_read, go_write) = pipe()?;

    // SAFETY: this process is single-threaded (checked above).
    match unsafe { process::clone_with(flags) }? {
        Forked::Child => {
            drop(report_read);
            drop(go_write);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                for (fd, what) in &join {
                    process::join_namespace(fd.as_raw_fd(), what).map_err(|e| e.to_string())?;
                }
                drop(join);
                init::run(InitContext {
                    spec,
                    bundle: &request.bundle.dir,
                    rootfs: &request.bundle.rootfs,
                    overlay: overlay.as_ref(),
                    exec_fifo: request.exec_fifo,
                    go: go_read.as_raw_fd(),
                    runtime_exe,
                    stdio: request.stdio,
                    in_user_ns,
                    args: None,
                    report: report_write.as_raw_fd(),
                    console: request.console,
                })
                .map_err(|e| e.to_string())
            }));
            let message = match outcome {
                Ok(Err(message)) => message,
                Ok(Ok(never)) => match never {},
                Err(_) => "the init panicked".to_string(),
            };
            let mut bytes = vec![FAILED];
            bytes.extend_from_slice(message.as_bytes());
            let _ = nix::unistd::write(&report_write, &bytes);
            process::exit_now(1)
        }
        Forked::Parent(pid) => {
            drop(report_write);
            drop(join);
            drop(go_read);
            let prepared = (|| {
                if in_user_ns {
                    write_id_maps(pid, spec)?;
                }
                for fd in cgroup_procs {
                    let mut file = std::fs::File::from(fd);
                    file.write_all(pid.as_raw().to_string().as_bytes())
                        .map_err(|e| LaunchError::Open {
                            path: format!("cgroup.procs of {}", request.cgroup.path()),
                            message: e.to_string(),
                        })?;
                }
                Ok(())
            })();
            if let Err(e) = prepared {
                // Dropping the go pipe unblocks the child, which then gives up.
                drop(go_write);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                reap(pid);
                return Err(e);
            }
            let _ = nix::unistd::write(&go_write, &[1]);
            drop(go_write);
            read_report(report_read, pid, request.exec_fifo.is_some())
        }
    }
}

fn read_report(report: OwnedFd, pid: Pid, waits: bool) -> Result<Launched, LaunchError> {
    let mut file = std::fs::File::from(report);
    let mut first = [0u8; 1];
    let n = file.read(&mut first).unwrap_or(0);
    match (n, first[0]) {
        (0, _) => Ok(Launched::Running(pid)),
        (_, READY) if waits => Ok(Launched::Created(pid)),
        _ => {
            let mut rest = Vec::new();
            let _ = file.read_to_end(&mut rest);
            reap(pid);
            Err(LaunchError::Init {
                message: String::from_utf8_lossy(&rest).into_owned(),
            })
        }
    }
}

fn reap(pid: Pid) {
    let _ = nix::sys::wait::waitpid(pid, None);
}

/// The overlay the spec's annotations ask for, if all three parts are given.
fn overlay_of(bundle: &Bundle) -> Option<Overlay> {
    Some(Overlay {
        lower: bundle.annotation(OVERLAY_LOWER)?.to_string(),
        upper: bundle.annotation(OVERLAY_UPPER)?.into(),
        work: bundle.annotation(OVERLAY_WORK)?.into(),
    })
}

fn namespace_flag(typ: LinuxNamespaceType) -> libc::c_int {
    match typ {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Time => 0x80,
    }
}

fn open_raw(path: &Path, flags: libc::c_int) -> Result<OwnedFd, LaunchError> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::from_bits_truncate(flags | libc::O_CLOEXEC),
        nix::sys::stat::Mode::empty(),
    )
    // SAFETY: a fresh descriptor nothing else owns.
    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    .map_err(|e| LaunchError::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), LaunchError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| SysError::new("pipe2", "report", e).into())
}

/// Writes a new user namespace's uid and gid maps (the spec's, or root to root).
fn write_id_maps(pid: Pid, spec: &oci_spec::runtime::Spec) -> Result<(), LaunchError> {
    let linux = spec.linux().as_ref();
    let render = |maps: Option<&Vec<LinuxIdMapping>>| -> String {
        match maps {
            Some(m) if !m.is_empty() => m
                .iter()
                .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
                .collect(),
            _ => "0 0 4294967295\n".to_string(),
        }
    };
    for (file, maps) in [
        ("uid_map", linux.and_then(|l| l.uid_mappings().as_ref())),
        ("gid_map", linux.and_then(|l| l.gid_mappings().as_ref())),
    ] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, render(maps)).map_err(|e| LaunchError::Open {
            path,
            message: e.to_string(),
        })?;
    }
    Ok(())
}
