//! The thin system-call layer of quai's runtime: mounts, namespaces, processes,
//! capabilities, terminals. Each function does one call (or one tight loop of calls) and turns
//! its failure into a [`SysError`] that names the call and its target.
//! It must never decide anything about containers: policy lives in the modules above.

pub mod capability;
pub mod mount;
pub mod process;
pub mod terminal;

use nix::errno::Errno;

/// A system call that failed, with what it was called on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{call}({target}): {errno}")]
pub struct SysError {
    /// The system call (`mount`, `pivot_root`, `capset`...).
    pub call: &'static str,
    /// What it acted on: a path, a pid, a value.
    pub target: String,
    /// The error number the kernel returned.
    pub errno: Errno,
}

impl SysError {
    /// Wraps `errno` for `call` on `target`.
    pub fn new(call: &'static str, target: impl std::fmt::Display, errno: Errno) -> Self {
        SysError {
            call,
            target: target.to_string(),
            errno,
        }
    }

    /// The error of the last failed libc call.
    pub fn last(call: &'static str, target: impl std::fmt::Display) -> Self {
        SysError::new(call, target, Errno::last())
    }
}

/// The result of a system call.
pub type SysResult<T> = Result<T, SysError>;
