//! Everything the simulated backend holds, as plain serialisable data: the image and
//! layer stores, the build cache, containers, volumes and networks. The operations on
//! it live beside (`build`, `container`, `network`); this file only names the parts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::backend::LogLine;
use crate::event::ContainerStatus;
use crate::image::{BuildStep, Digest, ImageConfig, ImageInfo};
use crate::resource::ContainerResource;
use crate::stack::Subnet;

/// The whole simulated machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct World {
    /// Counts created objects; ids derive from it, so they are deterministic.
    pub counter: u64,
    /// A logical clock for log lines (no wall clock in the sim).
    pub tick: u64,
    /// Images in the local store, by manifest digest.
    pub images: BTreeMap<Digest, ImageInfo>,
    /// Canonical references (`docker.io/library/busybox:1.36`) to image digests.
    pub tags: BTreeMap<String, Digest>,
    /// Layers in the store, shared by every image that lists them.
    pub layers: BTreeMap<Digest, StoredLayer>,
    /// The build cache: a step's cache key to what the step produced.
    pub cache: BTreeMap<Digest, CachedStep>,
    /// The last build of each tag, to explain the next one's cache misses.
    pub builds: BTreeMap<String, PreviousBuild>,
    pub containers: BTreeMap<String, SimContainer>,
    pub volumes: BTreeMap<String, SimVolume>,
    pub networks: BTreeMap<String, SimNetwork>,
}

/// A layer of the store. Layers built by COPY and ADD keep their files, so that a
/// container can read what its image copied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredLayer {
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, Vec<u8>>,
}

/// What a build step left in the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedStep {
    /// The layer it made; none for steps that only change the config.
    pub layer: Option<Digest>,
    /// The image config after the step.
    pub config: ImageConfig,
}

/// One earlier build of a tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PreviousBuild {
    pub base_digest: Digest,
    pub steps: Vec<BuildStep>,
}

/// A container of the simulated runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SimContainer {
    pub id: String,
    pub name: String,
    /// The stack label.
    pub stack: String,
    /// The address label.
    pub address: Address,
    pub config: ContainerResource,
    /// The manifest digest of the image it runs.
    pub image: Digest,
    pub status: ContainerStatus,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// How many times the restart policy restarted it.
    pub restarts: u32,
    /// Stopped by a person (or quai): the restart policy leaves it alone.
    pub stopped: bool,
    pub logs: Vec<LogLine>,
    /// The writable layer: files written outside any volume. Dropped on remove.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Its address on each network, by network name.
    pub addresses: BTreeMap<String, [u8; 4]>,
}

/// A named volume and the files written into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SimVolume {
    pub stack: String,
    /// Paths relative to the volume's root, without leading `/`.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A network and its subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SimNetwork {
    pub stack: String,
    pub subnet: Subnet,
}

impl World {
    /// A fresh deterministic id: the sha256 of `kind:N:name`.
    pub fn next_id(&mut self, kind: &str, name: &str) -> String {
        self.counter += 1;
        Digest::of(format!("{kind}:{}:{name}", self.counter).as_bytes())
            .hex()
            .to_string()
    }

    /// The next logical time, in milliseconds.
    pub fn next_time(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The local image a canonical reference names.
    pub fn local_image(&self, canonical: &str) -> Option<&ImageInfo> {
        if let Some((_, digest)) = canonical.split_once('@') {
            return self
                .images
                .values()
                .find(|i| i.digest.to_string() == digest);
        }
        self.tags.get(canonical).and_then(|d| self.images.get(d))
    }

    /// Points `canonical` (shown as `familiar`) at the image `digest`, which must be in
    /// the store; the image it named before loses the tag.
    pub fn tag(&mut self, canonical: &str, familiar: &str, digest: &Digest) {
        if let Some(old) = self.tags.insert(canonical.to_string(), digest.clone()) {
            if let Some(info) = self.images.get_mut(&old) {
                info.tags.retain(|t| t != familiar);
            }
        }
        if let Some(info) = self.images.get_mut(digest) {
            if !info.tags.iter().any(|t| t == familiar) {
                info.tags.push(familiar.to_string());
                info.tags.sort();
            }
        }
    }
}

/// The full form of an image reference, as [`crate::image::Reference`] displays it:
/// `busybox` → `docker.io/library/busybox:latest`.
pub(crate) fn canonical(text: &str) -> String {
    let (name, digest) = match text.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (text, None),
    };
    let (name, tag) = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest.to_string())
        }
        _ => ("docker.io", name.to_string()),
    };
    let repository = if registry == "docker.io" && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    let mut out = format!("{registry}/{repository}");
    match (tag, digest) {
        (Some(t), _) => out.push_str(&format!(":{t}")),
        (None, None) => out.push_str(":latest"),
        (None, Some(_)) => {}
    }
    if let Some(d) = digest {
        out.push_str(&format!("@{d}"));
    }
    out
}

/// The short form people write: `docker.io/library/busybox:1.36` → `busybox:1.36`.
pub(crate) fn familiar(canonical: &str) -> String {
    canonical
        .strip_prefix("docker.io/library/")
        .or_else(|| canonical.strip_prefix("docker.io/"))
        .unwrap_or(canonical)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_take_docker_hub_defaults() {
        assert_eq!(canonical("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(canonical("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(canonical("blog/web:latest"), "docker.io/blog/web:latest");
        assert_eq!(canonical("localhost:5000/web"), "localhost:5000/web:latest");
        let pinned = format!("alpine@{}", Digest::of(b"x"));
        assert_eq!(
            canonical(&pinned),
            format!("docker.io/library/alpine@{}", Digest::of(b"x"))
        );
        assert_eq!(familiar("docker.io/library/busybox:1.36"), "busybox:1.36");
        assert_eq!(familiar("docker.io/blog/web:latest"), "blog/web:latest");
    }
}
