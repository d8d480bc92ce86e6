//! Processes: clone with namespace flags, setns, prctl, rlimits, descriptor hygiene,
//! exec. No policy: the caller says which namespaces, which limits, which program.

use std::ffi::CString;
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::unistd::Pid;

use super::{SysError, SysResult};

/// What a clone returned: in which of the two processes we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// We are the parent; the child has this pid (as the parent sees it).
    Parent(Pid),
    /// We are the child.
    Child,
}

/// Forks with `flags` (`CLONE_NEW*`): the child gets new namespaces and continues on a
/// copy of the parent's memory, like fork(2).
///
/// # Safety
/// The calling process must be single-threaded, or the child must only call
/// async-signal-safe functions before it execs or exits.
pub unsafe fn clone_with(flags: libc::c_int) -> SysResult<Forked> {
    // SAFETY: a clone with no new stack behaves like fork(2); the caller upholds the
    // single-thread contract above.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match ret {
        -1 => Err(SysError::last("clone", format!("{flags:#x}"))),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}

/// Joins the namespace behind `fd` (an open `/proc/PID/ns/X`).
pub fn join_namespace(fd: RawFd, what: &str) -> SysResult<()> {
    // SAFETY: setns only reads its arguments.
    if unsafe { libc::setns(fd, 0) } == -1 {
        return Err(SysError::last("setns", what));
    }
    Ok(())
}

/// Sets one process attribute with prctl(2).
fn prctl(option: libc::c_int, arg: libc::c_ulong, what: &str) -> SysResult<()> {
    // SAFETY: the options used here take plain integers.
    if unsafe {
        libc::prctl(
            option,
            arg,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    } == -1
    {
        return Err(SysError::last("prctl", what));
    }
    Ok(())
}

/// `PR_SET_NO_NEW_PRIVS`: exec can never grant more privileges (setuid bits, file caps).
pub fn set_no_new_privs() -> SysResult<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS")
}

/// `PR_SET_DUMPABLE`: a process that is not dumpable cannot be ptraced, nor its
/// `/proc/PID/` files (exe, mem, fd) opened by other processes of the same user.
pub fn set_dumpable(dumpable: bool) -> SysResult<()> {
    prctl(
        libc::PR_SET_DUMPABLE,
        dumpable as libc::c_ulong,
        "PR_SET_DUMPABLE",
    )
}

/// `PR_SET_KEEPCAPS`: keep the permitted capabilities across a change of uid.
pub fn set_keep_caps(keep: bool) -> SysResult<()> {
    prctl(
        libc::PR_SET_KEEPCAPS,
        keep as libc::c_ulong,
        "PR_SET_KEEPCAPS",
    )
}

/// `PR_SET_PDEATHSIG`: the signal this process gets when its parent dies.
pub fn set_parent_death_signal(signal: libc::c_int) -> SysResult<()> {
    prctl(
        libc::PR_SET_PDEATHSIG,
        signal as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    )
}

/// `PR_SET_CHILD_SUBREAPER`: orphaned descendants are reparented to this process.
pub fn set_child_subreaper() -> SysResult<()> {
    prctl(libc::PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER")
}

/// Sets a resource limit (`resource` is a `RLIMIT_*` number).
pub fn set_rlimit(resource: libc::c_int, soft: u64, hard: u64) -> SysResult<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `limit` is a valid rlimit that outlives the call.
    if unsafe { libc::setrlimit(resource as _, &limit) } == -1 {
        return Err(SysError::last("setrlimit", resource));
    }
    Ok(())
}

/// Marks every descriptor from `first` on close-on-exec, so that none of them reaches
/// the program exec'd next (the ones still needed before exec stay usable until then).
pub fn cloexec_from(first: RawFd) -> SysResult<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only flips flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    // Kernels before 5.11: walk the open descriptors.
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| {
            SysError::new(
                "opendir",
                "/proc/self/fd",
                Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd >= first)
        .collect();
    for fd in fds {
        // SAFETY: setting FD_CLOEXEC on a descriptor number is harmless even if it closed.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Replaces this process with `path`, with exactly `args` and `env`.
pub fn exec(path: &CString, args: &[CString], env: &[CString]) -> SysError {
    match nix::unistd::execve(path, args, env) {
        Err(e) => SysError::new("execve", path.to_string_lossy(), e),
        Ok(never) => match never {},
    }
}

/// How many threads this process has (from `/proc/self/stat`).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name (which may hold spaces) end with ')'.
            let rest = &stat[stat.rfind(')')? + 2..];
            rest.split(' ').nth(17)?.parse().ok()
        })
        .unwrap_or(1)
}

/// Leaves the process now, with `code`, without running destructors or atexit handlers
/// (what a forked child must do).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Drops this process's resident pages of program text (its own and its libraries'):
/// clean copies of files, read back on the next touch. A long-lived process forked from
/// a busy one then keeps only what it runs.
pub fn release_file_pages() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms), Some(_), Some(_), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        // Only executable, private file mappings: text is never written, so dropping it
        // loses nothing. (Read-only data is not safe: relocated pages are made read-only
        // after being written.)
        if inode == "0" || perms != "r-xp" {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is a read-only private file mapping of this process; its
        // pages are refetched from the file when next touched.
        // Random access: a page read back from disk brings no read-ahead with it.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM);
        }
    }
}
