//! `run`: create, start and wait for a container in the foreground, then delete it.
//! The calling process is the init's parent; the program inherits its stdio. The exit
//! code comes back; an OOM kill is reported as such. When the spec asks for a
//! terminal, its master goes to the console socket if one is given; else `run` relays
//! it to its own stdin and stdout (stdin in raw mode when it is a terminal).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::cgroup::ContainerCgroup;
use super::console::{self, Relay};
use super::launch::{launch, LaunchRequest};
use super::spec::Bundle;
use super::state::{now_ms, process_start, ContainerDir, ExitRecord, Record};
use super::sys::terminal;
use super::RuntimeError;

/// Runs the bundle at `bundle` as container `id` until it exits. A spec that asks for a
/// terminal sends its master to `console_socket`, or without one has it relayed here.
pub fn run(
    root: &Path,
    id: &str,
    bundle: &Path,
    console_socket: Option<&Path>,
) -> Result<ExitRecord, RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let bundle = Bundle::load(bundle)?;
    let terminal = console::wants_terminal(&bundle.spec);
    // Without a console socket, a terminal comes back here through a socket pair.
    let console = match (terminal, console_socket) {
        (true, None) => {
            let (ours, theirs) = terminal::socket_pair()?;
            Some(Console::Relayed { ours, theirs })
        }
        (t, socket) => console::connect(t, socket)?.map(Console::Sent),
    };
    dir.create()?;
    let outcome = run_in(&dir, &bundle, console);
    let removed = dir.remove();
    let exit = outcome?;
    removed?;
    Ok(exit)
}

/// Where a terminal's master goes.
enum Console {
    /// To the caller's socket.
    Sent(OwnedFd),
    /// Back to this process, which relays it.
    Relayed { ours: OwnedFd, theirs: OwnedFd },
}

fn run_in(
    dir: &ContainerDir,
    bundle: &Bundle,
    console: Option<Console>,
) -> Result<ExitRecord, RuntimeError> {
    let linux = bundle.spec.linux().as_ref();
    let cgroup_path =
        ContainerCgroup::path_for(linux.and_then(|l| l.cgroups_path().as_deref()), &dir.id);
    let cgroup = ContainerCgroup::create(&cgroup_path, linux.and_then(|l| l.resources().as_ref()))?;
    // Signals meant for the container (Ctrl-C, a kill of the CLI) are held here and
    // passed on, so that the CLI stays to reap the init and clean up after it.
    let signals = forwarded_signals();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&signals), None);
    let launched = launch(&LaunchRequest {
        bundle,
        cgroup: &cgroup,
        exec_fifo: None,
        stdio: None,
        console: console.as_ref().map(|c| match c {
            Console::Sent(fd) | Console::Relayed { theirs: fd, .. } => fd.as_raw_fd(),
        }),
    });
    let pid = match launched {
        Ok(l) => l.pid(),
        Err(e) => {
            let _ = cgroup.delete();
            return Err(e.into());
        }
    };
    // The init sent its master before it exec'd: it waits on our side of the pair.
    let relay = match console {
        Some(Console::Relayed { ours, theirs }) => {
            drop(theirs);
            console::receive_master(ours.as_fd()).ok().map(Relay::new)
        }
        _ => None,
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
    let exit = match relay {
        Some(relay) => wait_relaying(pid, &cgroup, &signals, relay),
        None => wait_forwarding(pid, &cgroup, &signals),
    };
    cgroup.kill_all();
    cgroup.delete()?;
    saved?;
    Ok(exit)
}

/// The signals `run` passes on to the container, and SIGCHLD to learn of its end.
fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCHLD,
    ] {
        set.add(s);
    }
    set
}

/// Passes held signals on to the init until it exits; tells how it ended.
fn wait_forwarding(pid: Pid, cgroup: &ContainerCgroup, signals: &SigSet) -> ExitRecord {
    let Ok(fd) = SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC) else {
        return wait_exit(pid, cgroup);
    };
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return exit_record(code, None, cgroup),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                return exit_record(128 + sig as i32, Some(sig as i32), cgroup)
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return exit_record(255, None, cgroup),
        }
        match fd.read_signal() {
            Ok(Some(info)) if info.ssi_signo != Signal::SIGCHLD as u32 => {
                if let Ok(signal) = Signal::try_from(info.ssi_signo as i32) {
                    let _ = nix::sys::signal::kill(pid, signal);
                }
            }
            Ok(_) => {}
            Err(_) => return wait_exit(pid, cgroup),
        }
    }
}

/// Relays the container's terminal until the init exits, passing held signals on (but
/// a change of window size, which goes to the terminal); tells how it ended.
fn wait_relaying(
    pid: Pid,
    cgroup: &ContainerCgroup,
    signals: &SigSet,
    mut relay: Relay,
) -> ExitRecord {
    let Ok(fd) = SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC) else {
        return wait_exit(pid, cgroup);
    };
    let _raw = console::raw_stdin();
    loop {
        let ended = match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => Some((code, None)),
            Ok(WaitStatus::Signaled(_, sig, _)) => Some((128 + sig as i32, Some(sig as i32))),
            Ok(_) | Err(nix::errno::Errno::EINTR) => None,
            Err(_) => Some((255, None)),
        };
        if let Some((code, signal)) = ended {
            relay.drain();
            return exit_record(code, signal, cgroup);
        }
        let master = relay.master();
        let stdin = relay.stdin();
        let mut fds = vec![PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        fds.extend(master.map(|m| PollFd::new(m, PollFlags::POLLIN)));
        fds.extend(stdin.map(|s| PollFd::new(s, PollFlags::POLLIN)));
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return wait_exit(pid, cgroup),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        let (master_ready, stdin_ready) = match (master.is_some(), stdin.is_some()) {
            (true, true) => (ready[1], ready[2]),
            (true, false) => (ready[1], false),
            (false, true) => (false, ready[1]),
            (false, false) => (false, false),
        };
        drop(fds);
        if ready[0] {
            match fd.read_signal() {
                Ok(Some(info)) if info.ssi_signo == Signal::SIGWINCH as u32 => relay.resize(),
                Ok(Some(info)) if info.ssi_signo != Signal::SIGCHLD as u32 => {
                    if let Ok(signal) = Signal::try_from(info.ssi_signo as i32) {
                        let _ = nix::sys::signal::kill(pid, signal);
                    }
                }
                Ok(_) => {}
                Err(_) => return wait_exit(pid, cgroup),
            }
        }
        if master_ready {
            relay.master_ready();
        }
        if stdin_ready {
            relay.stdin_ready();
        }
    }
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
    exit_record(code, signal, cgroup)
}

fn exit_record(code: i32, signal: Option<i32>, cgroup: &ContainerCgroup) -> ExitRecord {
    ExitRecord {
        code,
        signal,
        oom_killed: cgroup.oom_killed(),
        time_ms: now_ms(),
        restarts: 0,
    }
}
