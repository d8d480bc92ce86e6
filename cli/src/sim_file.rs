//! The simulated backend kept in a file, so that `--backend sim` lasts across commands:
//! its world lives in `DIR/world.json`. Every call takes a file lock on `DIR/world.lock`
//! (shared to read, exclusive to change), loads the world as it is on disk, runs, and
//! after a call that changes something writes the world back atomically (temporary file,
//! fsync, rename, fsync of the folder). So two quai processes never lose each other's
//! writes, and a reader never sees half a world.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use quai_core::address::Address;
use quai_core::backend::sim::SimBackend;
use quai_core::backend::{Backend, BackendError, BuildRequest, LogLine, Observed};
use quai_core::event::EventSink;
use quai_core::image::{ImageInfo, Reference};
use quai_core::resource::{ContainerResource, NetworkResource, VolumeResource};
use quai_core::stack::{Resources, RestartPolicy, Subnet};

/// Why the world file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SimFileError {
    #[error("cannot create the sim backend's folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

/// A [`SimBackend`] whose world is kept in a file.
pub struct SimFile {
    dir: PathBuf,
    world: Mutex<SimBackend>,
}

/// Whether a call changes the world (and so must write it back).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl SimFile {
    /// The world kept under `dir` (created when missing; a fresh world when there is no
    /// file yet).
    pub fn open(dir: &Path) -> Result<SimFile, SimFileError> {
        fs::create_dir_all(dir).map_err(|source| SimFileError::Folder {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(SimFile {
            dir: dir.to_path_buf(),
            world: Mutex::new(SimBackend::new()),
        })
    }

    fn world_path(&self) -> PathBuf {
        self.dir.join("world.json")
    }

    /// Runs `call` on the world as it is on disk, under the file lock, and writes the
    /// world back when `access` is `Write` (even when the call failed: it may have
    /// changed part of the world before failing, and the file must say so).
    fn with<R>(
        &self,
        access: Access,
        call: impl FnOnce(&SimBackend) -> Result<R, BackendError>,
    ) -> Result<R, BackendError> {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let lock_path = self.dir.join("world.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error("open the sim world's lock", &lock_path, e))?;
        match access {
            Access::Read => lock.lock_shared(),
            Access::Write => lock.lock(),
        }
        .map_err(|e| io_error("lock the sim world", &lock_path, e))?;
        *world = self.load()?;
        let result = call(&world);
        if access == Access::Write {
            self.save(&world)?;
        }
        drop(lock);
        result
    }

    fn load(&self) -> Result<SimBackend, BackendError> {
        let path = self.world_path();
        match fs::read_to_string(&path) {
            Ok(text) => SimBackend::from_json(&text).map_err(|e| BackendError::Io {
                operation: format!("read the sim world {}", path.display()),
                message: format!("{e}; delete the file to start from an empty world"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SimBackend::new()),
            Err(e) => Err(io_error("read the sim world", &path, e)),
        }
    }

    fn save(&self, world: &SimBackend) -> Result<(), BackendError> {
        let path = self.world_path();
        let temporary = self
            .dir
            .join(format!("world.json.{}.tmp", std::process::id()));
        let text = world.to_json();
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temporary, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| io_error("write the sim world", &path, e))
    }
}

fn io_error(operation: &str, path: &Path, e: std::io::Error) -> BackendError {
    BackendError::Io {
        operation: format!("{operation} {}", path.display()),
        message: e.to_string(),
    }
}

impl Backend for SimFile {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn observe(&self, stack: &str, images: &[Reference]) -> Result<Observed, BackendError> {
        self.with(Access::Read, |w| w.observe(stack, images))
    }

    fn pull(
        &self,
        reference: &Reference,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError> {
        self.with(Access::Write, |w| w.pull(reference, events))
    }

    fn build(
        &self,
        request: &BuildRequest<'_>,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError> {
        self.with(Access::Write, |w| w.build(request, events))
    }

    fn images(&self) -> Result<Vec<ImageInfo>, BackendError> {
        self.with(Access::Read, |w| w.images())
    }

    fn create_volume(&self, stack: &str, volume: &VolumeResource) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.create_volume(stack, volume))
    }

    fn remove_volume(&self, name: &str) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.remove_volume(name))
    }

    fn create_network(
        &self,
        stack: &str,
        network: &NetworkResource,
    ) -> Result<Subnet, BackendError> {
        self.with(Access::Write, |w| w.create_network(stack, network))
    }

    fn remove_network(&self, name: &str) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.remove_network(name))
    }

    fn create_container(
        &self,
        stack: &str,
        address: &Address,
        container: &ContainerResource,
        events: &dyn EventSink,
    ) -> Result<String, BackendError> {
        self.with(Access::Write, |w| {
            w.create_container(stack, address, container, events)
        })
    }

    fn start_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.start_container(id, events))
    }

    fn update_container(
        &self,
        id: &str,
        resources: &Resources,
        restart: RestartPolicy,
    ) -> Result<(), BackendError> {
        self.with(Access::Write, |w| {
            w.update_container(id, resources, restart)
        })
    }

    fn stop_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.stop_container(id, events))
    }

    fn remove_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        self.with(Access::Write, |w| w.remove_container(id, events))
    }

    fn wait_healthy(&self, id: &str) -> Result<(), BackendError> {
        self.with(Access::Read, |w| w.wait_healthy(id))
    }

    fn logs(&self, id: &str) -> Result<Vec<LogLine>, BackendError> {
        self.with(Access::Read, |w| w.logs(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str) -> VolumeResource {
        VolumeResource {
            name: name.to_string(),
        }
    }

    #[test]
    fn the_world_lasts_across_openings() {
        let dir = tempfile::tempdir().unwrap();
        SimFile::open(dir.path())
            .unwrap()
            .create_volume("s", &volume("s_data"))
            .unwrap();
        let again = SimFile::open(dir.path()).unwrap();
        let seen = again.observe("s", &[]).unwrap();
        assert!(seen.volumes.contains("s_data"), "{seen:?}");
    }

    #[test]
    fn two_openings_of_one_world_keep_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let a = SimFile::open(dir.path()).unwrap();
        let b = SimFile::open(dir.path()).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20 {
                    a.create_volume("s", &volume(&format!("s_a{i}"))).unwrap();
                }
            });
            s.spawn(|| {
                for i in 0..20 {
                    b.create_volume("s", &volume(&format!("s_b{i}"))).unwrap();
                }
            });
        });
        let seen = SimFile::open(dir.path())
            .unwrap()
            .observe("s", &[])
            .unwrap();
        assert_eq!(seen.volumes.len(), 40, "{:?}", seen.volumes);
    }

    #[test]
    fn a_damaged_world_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("world.json"), "{ not json").unwrap();
        let sim = SimFile::open(dir.path()).unwrap();
        let err = sim.create_volume("s", &volume("s_data")).unwrap_err();
        assert!(err.to_string().contains("world.json"), "{err}");
        assert_eq!(
            fs::read_to_string(dir.path().join("world.json")).unwrap(),
            "{ not json"
        );
    }
}
