//! The container's init, on the child side of the clone: it joins its cgroup, builds its
//! filesystem, takes its hostname, limits, user and capabilities, waits for `start` when
//! asked, and execs the spec's program. It runs in a freshly forked copy of a
//! single-threaded runtime process and never returns: it execs or exits.
//! It must never leave a host descriptor open across exec, nor run the runtime's own
//! binary inside the container.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{PosixRlimitType, Process, Spec};

use super::console::{self, ConsoleError};
use super::rootfs::{self, Overlay, RootfsError};
use super::spec::{capability_numbers, DEFAULT_CAPABILITIES};
use super::sys::{capability, mount, process, SysError};

/// What went wrong in the container's init, before its program ran.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error("the spec's process has no args")]
    NoArgs,
    #[error("executable `{program}` not found in the container (PATH={path})")]
    NotFound { program: String, path: String },
    #[error("`{program}` is the runtime's own binary: it is never run inside a container")]
    RuntimeBinary { program: String },
    #[error("cwd {cwd} is refused: a working directory under /proc could reach a host descriptor")]
    CwdInProc { cwd: String },
    #[error("cwd {cwd} is outside the container's root")]
    CwdOutside { cwd: String },
    #[error("cannot change to cwd {cwd}: {errno}")]
    Cwd {
        cwd: String,
        errno: nix::errno::Errno,
    },
    #[error("`{value}` contains a NUL byte")]
    Nul { value: String },
    #[error("cannot write sysctl {key}: {message}")]
    Sysctl { key: String, message: String },
}

/// Everything the init needs, prepared by the parent before the clone.
pub struct InitContext<'a> {
    pub spec: &'a Spec,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub overlay: Option<&'a Overlay>,
    /// When set, the init waits until this fifo is opened for reading (by `start`).
    pub exec_fifo: Option<&'a Path>,
    /// The parent writes a byte here once the init is in its cgroup (and, in a new user
    /// namespace, once its id maps are written).
    pub go: RawFd,
    /// (device, inode) of the runtime's binary.
    pub runtime_exe: (u64, u64),
    /// Descriptors to become the program's stdin, stdout, stderr.
    pub stdio: Option<[RawFd; 3]>,
    /// Whether a new user namespace was asked.
    pub in_user_ns: bool,
    /// Replace the spec's args (for `exec`).
    pub args: Option<&'a [String]>,
    /// Where to say "ready" before waiting on the exec fifo.
    pub report: RawFd,
    /// The socket that receives the terminal's master, when the spec asks for a terminal.
    pub console: Option<RawFd>,
}

/// Runs the init's steps; on success it does not return (the program runs).
pub fn run(ctx: InitContext<'_>) -> Result<std::convert::Infallible, InitError> {
    // Nothing of this process may be opened from inside while it is still the runtime.
    process::set_dumpable(false)?;
    process::set_parent_death_signal(libc::SIGKILL)?;
    if let Some(fds) = ctx.stdio {
        for (target, fd) in fds.iter().enumerate() {
            nix::unistd::dup2(*fd, target as RawFd).map_err(|e| SysError::new("dup2", fd, e))?;
        }
    }
    if ctx.in_user_ns {
        // Nothing is allowed in a user namespace before its id maps exist.
        wait_for_parent(ctx.go)?;
        nix::unistd::setresgid(0.into(), 0.into(), 0.into())
            .map_err(|e| SysError::new("setresgid", 0, e))?;
        nix::unistd::setresuid(0.into(), 0.into(), 0.into())
            .map_err(|e| SysError::new("setresuid", 0, e))?;
    }
    let spec = ctx.spec;
    let proc_ = spec.process().as_ref().ok_or(InitError::NoArgs)?;
    if let Some(hostname) = spec.hostname() {
        nix::unistd::sethostname(hostname)
            .map_err(|e| SysError::new("sethostname", hostname, e))?;
    }
    if let Some(domain) = spec.domainname() {
        let c = cstring(domain)?;
        // SAFETY: the pointer and length describe `c`.
        if unsafe { libc::setdomainname(c.as_ptr(), domain.len()) } == -1 {
            return Err(SysError::last("setdomainname", domain).into());
        }
    }
    // Keep a handle on the fifo: the path will be out of reach after pivot_root.
    let fifo = match ctx.exec_fifo {
        Some(path) => Some(mount::open_path(path)?),
        None => None,
    };
    rootfs::prepare(spec, ctx.bundle, ctx.rootfs, ctx.overlay, ctx.in_user_ns)?;
    if proc_.terminal() == Some(true) {
        console::attach(ctx.console.ok_or(ConsoleError::NoSocket)?)?;
    }
    for (key, value) in spec
        .linux()
        .as_ref()
        .and_then(|l| l.sysctl().clone())
        .unwrap_or_default()
    {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value).map_err(|e| InitError::Sysctl {
            key: key.clone(),
            message: e.to_string(),
        })?;
    }
    let args: Vec<String> = match ctx.args {
        Some(a) => a.to_vec(),
        None => proc_.args().clone().unwrap_or_default(),
    };
    let report = fifo.as_ref().map(|_| ctx.report);
    if !ctx.in_user_ns {
        // The parent moved us into the cgroup while we built the rootfs: the move waits
        // for the kernel (an RCU grace period on cgroup v1), so both go on in parallel.
        // The program must not run before it is limited.
        wait_for_parent(ctx.go)?;
    }
    enter_process(proc_, &args, ctx.runtime_exe, fifo.as_ref().zip(report))
}

/// The last steps, shared by a container's init and by `exec`: limits, program, cwd,
/// user and capabilities, no_new_privs, then (for an init created but not started) the
/// wait for `start`, and exec with every other descriptor closed.
pub fn enter_process(
    proc_: &Process,
    args: &[String],
    runtime_exe: (u64, u64),
    wait: Option<(&OwnedFd, RawFd)>,
) -> Result<std::convert::Infallible, InitError> {
    reset_signals();
    set_rlimits(proc_)?;
    let env: Vec<String> = proc_.env().clone().unwrap_or_default();
    let program = args.first().ok_or(InitError::NoArgs)?;
    let executable = find_executable(program, &env)?;
    refuse_runtime_binary(&executable, program, runtime_exe)?;
    enter_cwd(&proc_.cwd().to_string_lossy())?;
    become_user(proc_)?;
    // A change of uid clears the parent-death signal: set it again.
    process::set_parent_death_signal(libc::SIGKILL)?;
    if proc_.no_new_privileges() == Some(true) {
        process::set_no_new_privs()?;
    }
    if let Some((fifo, report)) = wait {
        // SAFETY: the report pipe stays open until exec.
        let report = unsafe { std::os::fd::BorrowedFd::borrow_raw(report) };
        let _ = nix::unistd::write(report, &[super::launch::READY]);
        wait_for_start(fifo)?;
    }
    // Every descriptor the runtime holds closes at exec; only 0, 1, 2 go on.
    process::cloexec_from(3)?;
    let path = cstring(&executable.to_string_lossy())?;
    let argv = args
        .iter()
        .map(|a| cstring(a))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = env
        .iter()
        .map(|e| cstring(e))
        .collect::<Result<Vec<_>, _>>()?;
    Err(process::exec(&path, &argv, &envp).into())
}

/// Signals as a fresh program expects them: none blocked, none ignored (the runtime
/// ignores SIGPIPE and its supervisor blocks a few; neither may leak into the program).
fn reset_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in Signal::iterator() {
        if signal != Signal::SIGKILL && signal != Signal::SIGSTOP {
            // SAFETY: restoring the default disposition installs no handler.
            let _ = unsafe { sigaction(signal, &default) };
        }
    }
}

/// Waits for the parent's go byte; an end of file means the parent gave up.
fn wait_for_parent(go: RawFd) -> Result<(), InitError> {
    let mut byte = [0u8];
    match nix::unistd::read(go, &mut byte) {
        Ok(1) => Ok(()),
        Ok(_) => Err(SysError::new("read", "parent's go", nix::errno::Errno::EPIPE).into()),
        Err(e) => Err(SysError::new("read", "parent's go", e).into()),
    }
}

fn cstring(s: &str) -> Result<CString, InitError> {
    CString::new(s).map_err(|_| InitError::Nul {
        value: s.to_string(),
    })
}

/// Blocks until `start` opens the fifo for reading, then tells it we go on.
fn wait_for_start(fifo: &OwnedFd) -> Result<(), InitError> {
    let path = mount::fd_path(fifo);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| SysError::new("open", path.display(), errno_of(&e)))?;
    file.write_all(b"0")
        .map_err(|e| SysError::new("write", "exec fifo", errno_of(&e)))?;
    Ok(())
}

fn errno_of(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// The program's path: as given when it has a `/`, else looked up in the spec's PATH.
fn find_executable(program: &str, env: &[String]) -> Result<PathBuf, InitError> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path.split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| {
            candidate.is_file()
                && nix::unistd::access(candidate, nix::unistd::AccessFlags::X_OK).is_ok()
        })
        .ok_or_else(|| InitError::NotFound {
            program: program.to_string(),
            path: path.to_string(),
        })
}

/// Refuses to exec the runtime's own binary (reached through /proc/self/exe or a bind
/// mount): a container must never get a handle on it.
fn refuse_runtime_binary(
    executable: &Path,
    program: &str,
    runtime: (u64, u64),
) -> Result<(), InitError> {
    match std::fs::metadata(executable) {
        Ok(meta) if (meta.dev(), meta.ino()) == runtime => Err(InitError::RuntimeBinary {
            program: program.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Changes to `cwd`, refusing anything under /proc and anything outside the root.
fn enter_cwd(cwd: &str) -> Result<(), InitError> {
    let normal: PathBuf = Path::new("/").join(cwd).components().collect();
    if normal.starts_with("/proc") {
        return Err(InitError::CwdInProc {
            cwd: cwd.to_string(),
        });
    }
    nix::unistd::chdir(&normal).map_err(|errno| InitError::Cwd {
        cwd: cwd.to_string(),
        errno,
    })?;
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => Ok(()),
        _ => Err(InitError::CwdOutside {
            cwd: cwd.to_string(),
        }),
    }
}

/// The (device, inode) of the running binary, to recognise it later.
pub fn runtime_identity() -> (u64, u64) {
    std::fs::metadata("/proc/self/exe")
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or((0, 0))
}

fn set_rlimits(proc_: &Process) -> Result<(), InitError> {
    for rlimit in proc_.rlimits().as_deref().unwrap_or_default() {
        if let Some(resource) = rlimit_number(rlimit.typ()) {
            process::set_rlimit(resource, rlimit.soft(), rlimit.hard())?;
        }
    }
    Ok(())
}

fn rlimit_number(typ: PosixRlimitType) -> Option<libc::c_int> {
    use PosixRlimitType::*;
    Some(match typ {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
        #[allow(unreachable_patterns)]
        _ => return None,
    } as libc::c_int)
}

/// Groups, gid, uid, then capabilities: the bounding set first (it needs CAP_SETPCAP),
/// the uid change keeping permitted capabilities, then the sets the spec asks.
fn become_user(proc_: &Process) -> Result<(), InitError> {
    let caps = proc_.capabilities().as_ref();
    let set = |pick: fn(
        &oci_spec::runtime::LinuxCapabilities,
    ) -> &Option<oci_spec::runtime::Capabilities>|
     -> u64 {
        match caps {
            Some(c) => capability::mask(&capability_numbers(pick(c).iter().flatten())),
            None => capability::mask(&capability_numbers(DEFAULT_CAPABILITIES.iter())),
        }
    };
    let bounding = set(|c| c.bounding());
    let effective = set(|c| c.effective());
    let permitted = set(|c| c.permitted());
    let inheritable = match caps {
        Some(c) => capability::mask(&capability_numbers(c.inheritable().iter().flatten())),
        None => 0,
    };
    let ambient = match caps {
        Some(c) => capability::mask(&capability_numbers(c.ambient().iter().flatten())),
        None => 0,
    };
    capability::limit_bounding_set(bounding)?;

    let user = proc_.user();
    let groups: Vec<nix::unistd::Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    process::set_keep_caps(true)?;
    if let Err(e) = nix::unistd::setgroups(&groups) {
        // A user namespace may forbid setgroups; no extra groups is the safe outcome.
        if e != nix::errno::Errno::EPERM || !groups.is_empty() {
            return Err(SysError::new("setgroups", format!("{groups:?}"), e).into());
        }
    }
    let gid = nix::unistd::Gid::from_raw(user.gid());
    let uid = nix::unistd::Uid::from_raw(user.uid());
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| SysError::new("setresgid", gid, e))?;
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| SysError::new("setresuid", uid, e))?;
    process::set_keep_caps(false)?;
    capability::set(effective & permitted, permitted, inheritable)?;
    capability::raise_ambient(ambient & permitted & inheritable)?;
    Ok(())
}
