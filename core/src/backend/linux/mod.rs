//! The Linux backend: quai's own container runtime (namespaces, overlayfs, cgroups),
//! its image store (an OCI image layout) and its supervisor. Compiled only on Linux.
//! System calls live in a thin layer here ([`sys`]); the rest is ordinary code.
//!
//! The runtime speaks the OCI runtime command line, one verb per file:
//! [`container_create`], [`container_start`], [`container_state`], [`container_kill`],
//! [`container_delete`], [`container_run`], [`container_exec`].

pub mod cgroup;
pub mod container_run;
pub mod init;
pub mod launch;
pub mod rootfs;
pub mod spec;
pub mod state;
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
}
