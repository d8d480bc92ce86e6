//! The simulated backend: images, layers, containers, volumes and networks in memory.
//! Deterministic (same inputs, same events, same digests) and serialisable, so the CLI
//! keeps it in a file and the playground in the page. It carries a registry seeded with
//! well-known images so that pulls work offline.
//!
//! Never touches the disk, the network, a clock or a process: ids come from a counter,
//! log times from a logical tick, and programs from a fixed interpretation (`process`).
//! Besides the [`Backend`] trait it offers what happens outside quai, for drift tests
//! and the playground: [`SimBackend::kill`], [`SimBackend::oom_kill`],
//! [`SimBackend::remove_outside`], and files written by a container's program
//! ([`SimBackend::write_file`], [`SimBackend::read_file`]).

use std::sync::{Mutex, MutexGuard};

use crate::address::Address;
use crate::backend::{
    Backend, BackendError, BuildRequest, LogLine, Observed, ObservedContainer, ObservedImage,
    ObservedNetwork,
};
use crate::event::{Discard, Event, EventSink};
use crate::image::{ImageInfo, Reference};
use crate::resource::{ContainerResource, NetworkResource, VolumeResource};
use crate::stack::{Resources, RestartPolicy, Subnet};

mod build;
mod container;
mod network;
mod process;
pub mod registry;
mod world;

pub use registry::Registry;
use world::{familiar, SimVolume, StoredLayer, World};

/// The simulated backend. Cheap to create; all its state sits behind one mutex.
pub struct SimBackend {
    world: Mutex<World>,
    registry: Registry,
}

/// Why a saved simulation cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[error("the saved simulated backend is not valid: {message}")]
pub struct SimLoadError {
    pub message: String,
}

impl Default for SimBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl SimBackend {
    /// An empty machine (no image, no container) with the seeded registry.
    pub fn new() -> Self {
        SimBackend {
            world: Mutex::new(World::default()),
            registry: Registry::seeded(),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The whole machine as JSON, to be loaded again by [`SimBackend::from_json`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(&*self.world()).unwrap_or_else(|e| {
            // Every part of the world is plain data with string map keys.
            unreachable!("the simulated world does not serialise: {e}")
        })
    }

    /// A machine saved by [`SimBackend::to_json`].
    pub fn from_json(text: &str) -> Result<Self, SimLoadError> {
        let world = serde_json::from_str(text).map_err(|e| SimLoadError {
            message: e.to_string(),
        })?;
        Ok(SimBackend {
            world: Mutex::new(world),
            registry: Registry::seeded(),
        })
    }

    /// The process of a running container dies with `exit_code` (137 for SIGKILL), as
    /// if killed outside quai; its restart policy applies.
    pub fn kill(&self, id: &str, exit_code: i32) -> Result<(), BackendError> {
        container::kill(&mut self.world(), id, exit_code, false, &Discard)
    }

    /// The kernel's OOM killer ends the container's process (exit 137, reported as an
    /// out-of-memory kill).
    pub fn oom_kill(&self, id: &str) -> Result<(), BackendError> {
        container::kill(
            &mut self.world(),
            id,
            container::SIGKILL_EXIT,
            true,
            &Discard,
        )
    }

    /// Someone removes the container outside quai (`docker rm -f`).
    pub fn remove_outside(&self, id: &str) -> Result<(), BackendError> {
        container::remove(&mut self.world(), id, &Discard)
    }

    /// The container's program writes a file: under a volume mount it lands in the
    /// volume, elsewhere in the container's writable layer.
    pub fn write_file(&self, id: &str, path: &str, bytes: &[u8]) -> Result<(), BackendError> {
        container::write_file(&mut self.world(), id, path, bytes)
    }

    /// A file as the container sees it (volume, writable layer, image), if present.
    pub fn read_file(&self, id: &str, path: &str) -> Result<Option<Vec<u8>>, BackendError> {
        container::read_file(&self.world(), id, path)
    }

    /// The container's address on a network (`10.89.0.2`).
    pub fn address_of(&self, id: &str, network: &str) -> Option<String> {
        let world = self.world();
        let [a, b, c, d] = *world.containers.get(id)?.addresses.get(network)?;
        Some(format!("{a}.{b}.{c}.{d}"))
    }

    /// How many times the restart policy restarted a container.
    pub fn restarts(&self, id: &str) -> Option<u32> {
        self.world().containers.get(id).map(|c| c.restarts)
    }

    /// Names of every volume on the machine, of any stack.
    pub fn volume_names(&self) -> Vec<String> {
        self.world().volumes.keys().cloned().collect()
    }

    /// Names of every network on the machine, of any stack.
    pub fn network_names(&self) -> Vec<String> {
        self.world().networks.keys().cloned().collect()
    }
}

/// Pulls `canonical` from `registry` into `world`: new layers are pulled, present ones
/// reused, then the reference is tagged.
pub(crate) fn pull_into(
    registry: &Registry,
    world: &mut World,
    canonical: &str,
    events: &dyn EventSink,
) -> Result<ImageInfo, BackendError> {
    let Some(remote) = registry.get(canonical) else {
        return Err(BackendError::ImageNotFound {
            reference: familiar(canonical),
        });
    };
    let shown = familiar(canonical);
    for layer in &remote.layers {
        if world.layers.contains_key(&layer.digest) {
            events.emit(Event::LayerReused {
                reference: shown.clone(),
                digest: layer.digest.clone(),
            });
        } else {
            world.layers.insert(
                layer.digest.clone(),
                StoredLayer {
                    size: layer.size,
                    files: Default::default(),
                },
            );
            events.emit(Event::LayerPulled {
                reference: shown.clone(),
                digest: layer.digest.clone(),
                bytes: layer.size,
            });
        }
    }
    world
        .images
        .entry(remote.digest.clone())
        .or_insert_with(|| ImageInfo {
            tags: Vec::new(),
            ..remote.clone()
        });
    if !canonical.contains('@') {
        world.tag(canonical, &shown, &remote.digest);
        events.emit(Event::ImageTagged {
            tag: shown,
            digest: remote.digest.clone(),
        });
    }
    Ok(world.images[&remote.digest].clone())
}

impl Backend for SimBackend {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn observe(&self, stack: &str, images: &[Reference]) -> Result<Observed, BackendError> {
        let world = self.world();
        let mut observed = Observed::default();
        for reference in images {
            let key = reference.to_string();
            let found = match world.local_image(&key) {
                Some(info) => Some(ObservedImage {
                    info: info.clone(),
                    local: true,
                }),
                None => self.registry.get(&key).map(|info| ObservedImage {
                    info: info.clone(),
                    local: false,
                }),
            };
            if let Some(found) = found {
                observed.images.insert(key, found);
            }
        }
        observed.cache = world.cache.keys().cloned().collect();
        for c in world.containers.values().filter(|c| c.stack == stack) {
            observed.containers.insert(
                c.id.clone(),
                ObservedContainer {
                    name: c.name.clone(),
                    address: c.address.clone(),
                    status: c.status,
                    exit_code: c.exit_code,
                    image_id: c.config.image_id.clone(),
                    oom_killed: c.oom_killed,
                },
            );
        }
        observed.volumes = world
            .volumes
            .iter()
            .filter(|(_, v)| v.stack == stack)
            .map(|(name, _)| name.clone())
            .collect();
        observed.networks = world
            .networks
            .iter()
            .filter(|(_, n)| n.stack == stack)
            .map(|(name, n)| (name.clone(), ObservedNetwork { subnet: n.subnet }))
            .collect();
        Ok(observed)
    }

    fn pull(
        &self,
        reference: &Reference,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError> {
        pull_into(
            &self.registry,
            &mut self.world(),
            &reference.to_string(),
            events,
        )
    }

    fn build(
        &self,
        request: &BuildRequest<'_>,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError> {
        // A failed build changes nothing but the cache (the steps that ran) and the
        // store (its base image): images, tags and build history change at the end.
        build::build(self, &mut self.world(), request, events)
    }

    fn images(&self) -> Result<Vec<ImageInfo>, BackendError> {
        Ok(self.world().images.values().cloned().collect())
    }

    fn create_volume(&self, stack: &str, volume: &VolumeResource) -> Result<(), BackendError> {
        self.world()
            .volumes
            .entry(volume.name.clone())
            .or_insert_with(|| SimVolume {
                stack: stack.to_string(),
                files: Default::default(),
            });
        Ok(())
    }

    fn remove_volume(&self, name: &str) -> Result<(), BackendError> {
        let mut world = self.world();
        let users: Vec<String> = world
            .containers
            .values()
            .filter(|c| {
                c.config.mounts.iter().any(|m| {
                    matches!(m, crate::resource::ResolvedMount::Volume { volume, .. } if volume == name)
                })
            })
            .map(|c| c.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(BackendError::VolumeInUse {
                name: name.to_string(),
                users,
            });
        }
        world.volumes.remove(name);
        Ok(())
    }

    fn create_network(
        &self,
        stack: &str,
        network: &NetworkResource,
    ) -> Result<Subnet, BackendError> {
        network::create(&mut self.world(), stack, network)
    }

    fn remove_network(&self, name: &str) -> Result<(), BackendError> {
        let mut world = self.world();
        let users: Vec<String> = world
            .containers
            .values()
            .filter(|c| c.addresses.contains_key(name))
            .map(|c| c.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(BackendError::NetworkInUse {
                name: name.to_string(),
                users,
            });
        }
        world.networks.remove(name);
        Ok(())
    }

    fn create_container(
        &self,
        stack: &str,
        address: &Address,
        container: &ContainerResource,
        events: &dyn EventSink,
    ) -> Result<String, BackendError> {
        container::create(
            &mut self.world(),
            &self.registry,
            stack,
            address,
            container,
            events,
        )
    }

    fn start_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        container::start(&mut self.world(), id, events)
    }

    fn update_container(
        &self,
        id: &str,
        resources: &Resources,
        restart: RestartPolicy,
    ) -> Result<(), BackendError> {
        let mut world = self.world();
        let c = world
            .containers
            .get_mut(id)
            .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })?;
        c.config.resources = *resources;
        c.config.restart = restart;
        Ok(())
    }

    fn stop_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        container::stop(&mut self.world(), id, events)
    }

    fn remove_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError> {
        container::remove(&mut self.world(), id, events)
    }

    fn wait_healthy(&self, id: &str) -> Result<(), BackendError> {
        container::wait_healthy(&self.world(), id)
    }

    fn logs(&self, id: &str) -> Result<Vec<LogLine>, BackendError> {
        self.world()
            .containers
            .get(id)
            .map(|c| c.logs.clone())
            .ok_or_else(|| BackendError::NoSuchContainer { id: id.to_string() })
    }
}

#[cfg(test)]
mod tests;
