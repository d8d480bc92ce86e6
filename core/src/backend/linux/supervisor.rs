//! The supervisor: one small process per container, forked (not exec'd) from the
//! runtime at `create`, that outlives the CLI. It holds the container's init as its
//! child; writes what the program prints to the log with timestamps; records each exit
//! (code, signal, OOM kill, time); applies the restart policy with a doubling backoff;
//! and on SIGTERM stops the container with SIGTERM, then SIGKILL after a grace period.
//! It is single-threaded: one poll loop over the two output pipes and a signalfd.
//! It never decides the container's status for others: the records do.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::cgroup::ContainerCgroup;
use super::launch::{launch, LaunchRequest, Launched};
use super::log::{append, LineSplitter};
use super::spec::{Bundle, RESTART, STOP_GRACE};
use super::state::{now_ms, process_start, ContainerDir, ExitRecord, Record};
use super::sys::process;
use crate::backend::LogStream;
use crate::stack::RestartPolicy;

/// The first restart waits this long; each quick failure doubles it.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// The longest wait between restarts.
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A run longer than this resets the backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// After this long without events, the supervisor drops its resident text pages.
const IDLE_RELEASE: Duration = Duration::from_secs(1);
/// The default time between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The restart policy a bundle asks for (annotation `org.quai.restart`).
pub fn restart_policy(bundle: &Bundle) -> RestartPolicy {
    match bundle.annotation(RESTART) {
        Some("always") => RestartPolicy::Always,
        Some("on-failure") => RestartPolicy::OnFailure,
        _ => RestartPolicy::No,
    }
}

/// Whether an exit calls for a restart.
pub fn should_restart(policy: RestartPolicy, exit_code: i32, stopping: bool) -> bool {
    !stopping
        && match policy {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Always => true,
        }
}

/// The wait before restart number `attempt` (0 for the first).
pub fn backoff(attempt: u32) -> Duration {
    BACKOFF_START
        .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .min(BACKOFF_MAX)
}

/// How the supervisor tells `create` it is ready (`O`) or failed (`E` + message).
pub const REPORT_OK: u8 = b'O';
/// See [`REPORT_OK`].
pub const REPORT_FAILED: u8 = b'E';

/// Runs in the freshly forked supervisor: launches the init (waiting for `start`),
/// records it, reports to `create` through `report`, then supervises until the end.
/// `console` is the caller's console socket, for a spec that asks for a terminal: the
/// init sends its master there, and the supervisor closes it once the init is ready.
pub fn run(
    dir: ContainerDir,
    bundle: Bundle,
    cgroup: ContainerCgroup,
    report: OwnedFd,
    console: Option<OwnedFd>,
) -> ! {
    let fail = |message: String| -> ! {
        let mut bytes = vec![REPORT_FAILED];
        bytes.extend_from_slice(message.as_bytes());
        let _ = nix::unistd::write(&report, &bytes);
        let _ = cgroup.delete();
        process::exit_now(1)
    };
    let _ = nix::unistd::setsid();
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
    ] {
        mask.add(s);
    }
    if let Err(e) = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None) {
        fail(format!("sigprocmask: {e}"));
    }
    let signals = match SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
    {
        Ok(s) => s,
        Err(e) => fail(format!("signalfd: {e}")),
    };
    let _ = process::set_child_subreaper();
    let pipes = (|| {
        let devnull = std::fs::File::open("/dev/null").ok()?;
        let out = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
        let err = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
        Some((OwnedFd::from(devnull), out, err))
    })();
    let Some((devnull, out, err)) = pipes else {
        fail("cannot open the output pipes".to_string())
    };
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.log_file())
    {
        Ok(f) => f,
        Err(e) => fail(format!("cannot open the log: {e}")),
    };
    let stdio = [devnull.as_raw_fd(), out.1.as_raw_fd(), err.1.as_raw_fd()];
    let fifo = dir.fifo();
    let launched = launch(&LaunchRequest {
        bundle: &bundle,
        cgroup: &cgroup,
        exec_fifo: Some(&fifo),
        stdio: Some(stdio),
        console: console.as_ref().map(|c| c.as_raw_fd()),
    });
    drop(console);
    let pid = match launched {
        Ok(l) => l.pid(),
        Err(e) => fail(e.to_string()),
    };
    let me = std::process::id() as i32;
    let record = Record {
        id: dir.id.clone(),
        pid: pid.as_raw(),
        pid_start: process_start(pid.as_raw()).unwrap_or(0),
        supervisor: Some(me),
        supervisor_start: process_start(me).unwrap_or(0),
        bundle: bundle.dir.clone(),
        cgroup: String::new(),
        created_ms: now_ms(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
    };
    let record = Record {
        cgroup: cgroup_path_of(&dir, &bundle),
        ..record
    };
    if let Err(e) = dir.save_record(&record) {
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        fail(e.to_string());
    }
    let _ = nix::unistd::write(&report, &[REPORT_OK]);
    drop(report);
    for fd in 0..3 {
        let _ = nix::unistd::dup2(devnull.as_raw_fd(), fd);
    }
    // Free what the CLI allocated before the fork: the supervisor lives long.
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    let grace = bundle
        .annotation(STOP_GRACE)
        .and_then(|g| g.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_GRACE);
    let mut supervisor = Supervisor {
        policy: restart_policy(&bundle),
        dir,
        bundle,
        cgroup,
        record,
        signals,
        out,
        err,
        devnull,
        log,
        grace,
        out_lines: LineSplitter::default(),
        err_lines: LineSplitter::default(),
    };
    // The CLI's work left resident pages of code the loop never runs.
    process::release_file_pages();
    supervisor.watch(pid);
    process::exit_now(0)
}

fn cgroup_path_of(dir: &ContainerDir, bundle: &Bundle) -> String {
    ContainerCgroup::path_for(
        bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.cgroups_path().as_deref()),
        &dir.id,
    )
}

struct Supervisor {
    dir: ContainerDir,
    bundle: Bundle,
    cgroup: ContainerCgroup,
    record: Record,
    policy: RestartPolicy,
    signals: SignalFd,
    out: (OwnedFd, OwnedFd),
    err: (OwnedFd, OwnedFd),
    devnull: OwnedFd,
    log: std::fs::File,
    grace: Duration,
    out_lines: LineSplitter,
    err_lines: LineSplitter,
}

impl Supervisor {
    /// The loop: until the init exited for good.
    fn watch(&mut self, first: Pid) {
        let mut init = Some(first);
        let mut started = Instant::now();
        let mut restarts = 0u32;
        let mut quick_failures = 0u32;
        let mut kill_at: Option<Instant> = None;
        let mut restart_at: Option<Instant> = None;
        let mut stopping = false;
        // Whether the loop touched code since its resident text was last dropped.
        let mut touched = false;
        loop {
            let idle_at = touched.then(|| Instant::now() + IDLE_RELEASE);
            let next = [kill_at, restart_at, idle_at].into_iter().flatten().min();
            let timeout = match next {
                Some(at) => {
                    let ms = at.saturating_duration_since(Instant::now()).as_millis();
                    PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::NONE)
                }
                None => PollTimeout::NONE,
            };
            let mut fds = [
                PollFd::new(self.out.0.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.err.0.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, timeout) {
                Err(nix::errno::Errno::EINTR) => continue,
                Ok(0) if touched && kill_at.is_none() && restart_at.is_none() => {
                    // Quiet for a while: give back the text pages the last burst used.
                    process::release_file_pages();
                    touched = false;
                    continue;
                }
                _ => touched = true,
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            if ready[0] {
                self.pump(LogStream::Stdout);
            }
            if ready[1] {
                self.pump(LogStream::Stderr);
            }
            if ready[2] {
                while let Ok(Some(info)) = self.signals.read_signal() {
                    match Signal::try_from(info.ssi_signo as i32) {
                        Ok(Signal::SIGCHLD) => {}
                        Ok(_) => {
                            stopping = true;
                            match init {
                                Some(pid) => {
                                    let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
                                    kill_at = Some(Instant::now() + self.stop_grace());
                                }
                                None => return self.finish(),
                            }
                        }
                        Err(_) => {}
                    }
                }
            }
            // Reap: the init, and anything reparented to us.
            while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                let (pid, code, signal) = match status {
                    WaitStatus::Exited(pid, code) => (pid, code, None),
                    WaitStatus::Signaled(pid, sig, _) => (pid, 128 + sig as i32, Some(sig as i32)),
                    _ => break,
                };
                if Some(pid) != init {
                    continue;
                }
                init = None;
                kill_at = None;
                self.pump(LogStream::Stdout);
                self.pump(LogStream::Stderr);
                let exit = ExitRecord {
                    code,
                    signal,
                    oom_killed: self.cgroup.oom_killed(),
                    time_ms: now_ms(),
                    restarts,
                };
                let _ = self.dir.save_exit(&exit);
                if !should_restart(self.policy, code, stopping) {
                    return self.finish();
                }
                if started.elapsed() >= HEALTHY_RUN {
                    quick_failures = 0;
                }
                restart_at = Some(Instant::now() + backoff(quick_failures));
                quick_failures += 1;
            }
            let now = Instant::now();
            if kill_at.is_some_and(|at| now >= at) {
                self.cgroup.kill_all();
                kill_at = None;
            }
            if restart_at.is_some_and(|at| now >= at) {
                restart_at = None;
                match self.relaunch() {
                    Some(pid) => {
                        init = Some(pid);
                        started = Instant::now();
                        restarts += 1;
                    }
                    None => return self.finish(),
                }
            }
        }
    }

    /// The grace period: `stop --time`'s, else the bundle's, else the default.
    fn stop_grace(&self) -> Duration {
        std::fs::read_to_string(self.dir.stop_file())
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(self.grace)
    }

    /// Starts the program again (no wait for `start` this time). A container with a
    /// terminal is not started again: its console went to the caller, once.
    fn relaunch(&mut self) -> Option<Pid> {
        let stdio = [
            self.devnull.as_raw_fd(),
            self.out.1.as_raw_fd(),
            self.err.1.as_raw_fd(),
        ];
        let launched = launch(&LaunchRequest {
            bundle: &self.bundle,
            cgroup: &self.cgroup,
            exec_fifo: None,
            stdio: Some(stdio),
            console: None,
        });
        match launched {
            Ok(Launched::Running(pid)) | Ok(Launched::Created(pid)) => {
                self.record.pid = pid.as_raw();
                self.record.pid_start = process_start(pid.as_raw()).unwrap_or(0);
                let _ = self.dir.save_record(&self.record);
                process::release_file_pages();
                Some(pid)
            }
            Err(e) => {
                append(
                    &mut self.log,
                    now_ms(),
                    LogStream::Stderr,
                    format!("quai: restart failed: {e}"),
                );
                None
            }
        }
    }

    /// Moves what a pipe holds into the log, without blocking.
    fn pump(&mut self, stream: LogStream) {
        let fd = match stream {
            LogStream::Stdout => &self.out.0,
            LogStream::Stderr => &self.err.0,
        };
        let mut buf = [0u8; 8192];
        loop {
            let mut probe = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            let readable = poll(&mut probe, PollTimeout::ZERO).unwrap_or(0) > 0
                && probe[0]
                    .revents()
                    .is_some_and(|r| r.contains(PollFlags::POLLIN));
            if !readable {
                break;
            }
            let n = match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let splitter = match stream {
                LogStream::Stdout => &mut self.out_lines,
                LogStream::Stderr => &mut self.err_lines,
            };
            let lines = splitter.push(&buf[..n]);
            let time = now_ms();
            for line in lines {
                append(&mut self.log, time, stream, line);
            }
        }
        let _ = self.log.flush();
    }

    /// Logs unfinished lines and leaves.
    fn finish(&mut self) {
        for (stream, splitter) in [
            (LogStream::Stdout, &mut self.out_lines),
            (LogStream::Stderr, &mut self.err_lines),
        ] {
            if let Some(line) = splitter.finish() {
                append(&mut self.log, now_ms(), stream, line);
            }
        }
        let _ = self.log.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert!(!should_restart(RestartPolicy::No, 1, false));
        assert!(should_restart(RestartPolicy::OnFailure, 1, false));
        assert!(!should_restart(RestartPolicy::OnFailure, 0, false));
        assert!(should_restart(RestartPolicy::Always, 0, false));
        assert!(!should_restart(RestartPolicy::Always, 1, true));
    }

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(800));
        assert_eq!(backoff(20), BACKOFF_MAX);
        assert_eq!(backoff(40), BACKOFF_MAX);
    }
}
