//! The Linux backend: quai's own container runtime (namespaces, overlayfs, cgroups),
//! its image store (an OCI image layout) and its supervisor. Compiled only on Linux.
//! System calls live in a thin layer here ([`sys`]); the rest is ordinary code.
//!
//! The runtime speaks the OCI runtime command line, one verb per file:
//! [`container_create`], [`container_start`], [`container_state`], [`container_kill`],
//! [`container_delete`], [`container_run`], [`container_exec`]. A container is a bundle
//! ([`spec`]); its init is cloned with the spec's namespaces ([`launch`]), builds its
//! filesystem ([`rootfs`]) and becomes the program ([`init`]); its limits are a cgroup
//! ([`cgroup`]); its records live under a root folder ([`state`]); a [`supervisor`]
//! holds it after `create` and writes its [`log`]. A spec that asks for a terminal gets
//! a [`console`], whose master goes to the caller.
//!
//! The verbs that fork (`create`, `run`, `exec`) must be called from a single-threaded
//! process: they check it and refuse otherwise. A multithreaded caller (the apply engine)
//! runs them through the `quai runtime` command instead.

pub mod cgroup;
pub mod console;
pub mod container_create;
pub mod container_delete;
pub mod container_exec;
pub mod container_kill;
pub mod container_run;
pub mod container_start;
pub mod container_state;
pub mod init;
pub mod launch;
pub mod log;
pub mod rootfs;
pub mod spec;
pub mod state;
pub mod supervisor;
pub mod sys;

/// What went wrong in a runtime verb.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Cgroup(#[from] cgroup::CgroupError),
    #[error(transparent)]
    Launch(#[from] launch::LaunchError),
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Sys(#[from] sys::SysError),
    #[error(transparent)]
    Console(#[from] console::ConsoleError),
    #[error("the supervisor of `{id}` failed: {message}")]
    Supervisor { id: String, message: String },
    #[error("cannot write {path}: {message}")]
    Io {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("`{signal}` is not a signal")]
    BadSignal { signal: String },
    #[error("container `{id}`: timed out waiting for {what}")]
    Timeout { id: String, what: &'static str },
}
