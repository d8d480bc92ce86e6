//! `start`: lets a created container's init exec its program, by opening the exec fifo
//! it waits on, then removing the fifo (its absence means "started").

use std::os::fd::AsFd;
use std::path::Path;

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;

use super::state::{can_start, ContainerDir, StateError};
use super::sys::SysError;
use super::RuntimeError;

/// How long `start` waits for the init to answer.
const ANSWER_TIMEOUT_MS: u16 = 10_000;

/// Starts container `id`.
pub fn start(root: &Path, id: &str) -> Result<(), RuntimeError> {
    let dir = ContainerDir::new(root, id)?;
    let (_, status) = dir.status()?;
    if !can_start(status) {
        return Err(StateError::BadStatus {
            id: id.to_string(),
            verb: "start",
            status,
        }
        .into());
    }
    let fifo = dir.fifo();
    let fd = nix::fcntl::open(
        &fifo,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::new("open", fifo.display(), e))?;
    // SAFETY: a fresh descriptor nothing else owns.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::from(ANSWER_TIMEOUT_MS)).unwrap_or(0);
    let mut byte = [0u8; 1];
    let got = ready > 0
        && matches!(
            nix::unistd::read(std::os::fd::AsRawFd::as_raw_fd(&fd), &mut byte),
            Ok(1)
        );
    let _ = std::fs::remove_file(&fifo);
    if !got {
        return Err(RuntimeError::Timeout {
            id: id.to_string(),
            what: "the init to start its program",
        });
    }
    Ok(())
}
