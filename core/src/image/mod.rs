//! Images: references and digests, the build of an image step by step, and the cache
//! keys that make a rebuild predictable.
//!
//! Does no I/O: build contexts arrive as [`Context`] values (the CLI reads them from
//! disk, the playground keeps them in the page).

pub mod build;
pub mod context;
pub mod digest;
pub mod layer;
pub mod reference;

pub use build::{BuildPlan, BuildStep, CacheKey, CachePrediction, MissReason};
pub use context::Context;
pub use digest::Digest;
pub use layer::LayerFile;
pub use reference::{Reference, ReferenceError};

use serde::{Deserialize, Serialize};

/// One layer of an image, as a store or a registry knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Digest of the layer's tar (what a registry names it by).
    pub digest: Digest,
    /// Size in bytes of the layer's tar.
    pub size: u64,
    /// The instruction that made it (`COPY package.json /app/`), when known.
    pub created_by: String,
}

/// The configuration an image gives its containers (the OCI image config, trimmed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workdir: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// An image present in a store: its id, layers, config and the tags that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The image's id: the digest of its manifest. Two tags of one image share it.
    pub digest: Digest,
    pub layers: Vec<Layer>,
    pub config: ImageConfig,
    /// References that name this image in the store (`busybox:1.36`, `blog/web:latest`).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl ImageInfo {
    /// Sum of the sizes of the layers.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }
}
