//! `kill` sends a signal to a container's init; `stop` asks its supervisor to stop it
//! (SIGTERM, then SIGKILL after the grace period) and waits until it is stopped.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::cgroup::ContainerCgroup;
use super::state::{can_kill, process_alive, ContainerDir, StateError, Status};
use super::sys::SysError;
use super::RuntimeError;

/// A signal written as `TERM`, `SIGTERM` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal, RuntimeError> {
    let bad = || RuntimeError::BadSignal {
        signal: text.to_string(),
    };
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| bad())
}

/// Sends `signal` to container `id`'s init.
pub fn kill(root: &Path, id: &str, signal: Signal) -> Result<(), RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let (record, status) = dir.status()?;
    if !can_kill(status) {
        return Err(StateError::BadStatus {
            id: id.to_string(),
            verb: "be signalled",
            status,
        }
        .into());
    }
    nix::sys::signal::kill(Pid::from_raw(record.pid), signal)
        .map_err(|e| SysError::new("kill", record.pid, e).into())
}

/// Stops container `id`: SIGTERM, then SIGKILL after `grace` (the supervisor's
/// default when `None`). Returns once it is stopped.
pub fn stop(root: &Path, id: &str, grace: Option<Duration>) -> Result<(), RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let (record, status) = dir.status()?;
    if status == Status::Stopped {
        return Ok(());
    }
    let grace_secs = grace.map(|g| g.as_secs());
    if let Some(secs) = grace_secs {
        std::fs::write(dir.stop_file(), secs.to_string()).map_err(|e| RuntimeError::Io {
            path: dir.stop_file(),
            message: e.to_string(),
        })?;
    }
    let wait = grace.unwrap_or(super::supervisor::DEFAULT_GRACE) + Duration::from_secs(5);
    let supervised = record
        .supervisor
        .filter(|pid| process_alive(*pid, record.supervisor_start));
    match supervised {
        Some(pid) => {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        None => {
            // Nobody holds it: do the supervisor's job here.
            let _ = nix::sys::signal::kill(Pid::from_raw(record.pid), Signal::SIGTERM);
            let deadline = Instant::now() + grace.unwrap_or(super::supervisor::DEFAULT_GRACE);
            while process_alive(record.pid, record.pid_start) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            ContainerCgroup::load(&record.cgroup).kill_all();
        }
    }
    let deadline = Instant::now() + wait;
    loop {
        let alive = process_alive(record.pid, record.pid_start)
            || supervised.is_some_and(|pid| process_alive(pid, record.supervisor_start));
        if !alive {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(RuntimeError::Timeout {
                id: id.to_string(),
                what: "the container to stop",
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_short_name_or_number() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("term").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
