//! Where a command acts: the quai root, the backend chosen by `--backend`, and the state
//! store that goes with it. The simulated backend and its states live under
//! `ROOT/sim/` (world in `ROOT/sim/world.json`, states in `ROOT/sim/stacks/`), apart from
//! the Linux backend's `ROOT/stacks/`, so that one never reads the other's records.

use std::path::{Path, PathBuf};

use quai_core::backend::Backend;
use quai_core::state::file::FileStore;
use quai_core::state::StateStore;

use crate::args::BackendKind;
use crate::sim_file::{SimFile, SimFileError};

/// Why a backend cannot be used here.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("the linux backend runs only on Linux; this is {os}. Use `--backend sim` (quai's simulated backend) instead")]
    NotLinux { os: &'static str },
    #[error("the linux backend needs root (this process runs as uid {uid}). Run quai with sudo, or use `--backend sim`")]
    NotRoot { uid: u32 },
    #[error("the linux backend (image store, builds, registry, supervised containers) is not available in this version of quai yet. Use `--backend sim` for stacks, and `quai runtime` to run an OCI bundle with quai's Linux runtime")]
    LinuxNotYet,
    #[error(transparent)]
    Sim(#[from] SimFileError),
}

/// A backend and the store of the states made with it.
pub struct Place {
    pub backend: Box<dyn Backend>,
    pub store: Box<dyn StateStore>,
}

/// Opens the backend `kind` under `root`.
pub fn open(kind: BackendKind, root: &Path) -> Result<Place, PlaceError> {
    match kind {
        BackendKind::Sim => {
            let dir = root.join("sim");
            let backend = SimFile::open(&dir)?;
            Ok(Place {
                backend: Box::new(backend),
                store: Box::new(FileStore::new(dir)),
            })
        }
        BackendKind::Linux => {
            if !cfg!(target_os = "linux") {
                return Err(PlaceError::NotLinux {
                    os: std::env::consts::OS,
                });
            }
            let uid = effective_uid();
            if uid != 0 {
                return Err(PlaceError::NotRoot { uid });
            }
            Err(PlaceError::LinuxNotYet)
        }
    }
}

/// The quai root when neither `--root` nor QUAI_ROOT names one: `/var/lib/quai` for root,
/// else `$XDG_STATE_HOME/quai`, else `~/.local/state/quai`.
pub fn default_root() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    root_for(effective_uid(), var("XDG_STATE_HOME"), var("HOME"))
}

fn root_for(
    uid: u32,
    xdg_state_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> PathBuf {
    if uid == 0 {
        return PathBuf::from("/var/lib/quai");
    }
    if let Some(state) = xdg_state_home {
        return PathBuf::from(state).join("quai");
    }
    match home {
        Some(home) => PathBuf::from(home).join(".local/state/quai"),
        None => PathBuf::from(".quai"),
    }
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn effective_uid() -> u32 {
    u32::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_root_depends_on_who_runs_quai() {
        assert_eq!(
            root_for(0, None, Some("/root".into())),
            PathBuf::from("/var/lib/quai")
        );
        assert_eq!(
            root_for(1000, Some("/s".into()), Some("/home/a".into())),
            PathBuf::from("/s/quai")
        );
        assert_eq!(
            root_for(1000, None, Some("/home/a".into())),
            PathBuf::from("/home/a/.local/state/quai")
        );
    }

    #[test]
    fn the_linux_backend_says_why_it_cannot_be_used() {
        let dir = tempfile::tempdir().unwrap();
        let err = match open(BackendKind::Linux, dir.path()) {
            Err(e) => e,
            Ok(_) => panic!("the linux backend is not available in this version"),
        };
        let text = err.to_string();
        assert!(text.contains("--backend sim"), "{text}");
    }
}
