//! The resolved configuration of each resource: what a backend is asked to create and
//! what the state records once it exists. The planner derives one per address from the
//! stack ([`desired`]) and compares it field by field with the recorded one.
//!
//! Does no I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::image::{BuildStep, Digest};
use crate::stack::{DependsOn, Healthcheck, PortMapping, Resources, RestartPolicy, Subnet};

pub mod desired;

/// One resource's configuration, of any kind. Images and containers are shared
/// (`Arc`): a configuration is held by its state record and by the plan step that
/// keeps it, and a no-op step holds the record's own (equal) configuration rather than
/// a copy, so that a plan of 10 000 unchanged containers adds no configuration to the
/// state's. Kept inline, each would also weigh what the largest (a container, 408
/// bytes) does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResourceConfig {
    Image(Arc<ImageResource>),
    Volume(VolumeResource),
    Network(NetworkResource),
    Container(Arc<ContainerResource>),
}

/// An image: pulled by reference, or built from steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ImageResource {
    Pull {
        /// As written in the stack (`busybox:1.36`).
        reference: String,
        /// What the reference resolved to when planned.
        digest: Digest,
    },
    Build {
        /// Name of the image in the stack (`web`).
        name: String,
        /// The tag given to the result (`STACK/NAME:latest`).
        tag: String,
        /// The base image as written after FROM, and its digest.
        base: String,
        base_digest: Digest,
        /// Every step after FROM, with its cache key.
        steps: Vec<BuildStep>,
        /// The cache key of the last step: the identity of this build.
        key: Digest,
    },
}

impl ImageResource {
    /// What identifies the image's content: the pulled digest or the build's last key.
    /// Containers record it; when it changes they are replaced.
    pub fn identity(&self) -> &Digest {
        match self {
            ImageResource::Pull { digest, .. } => digest,
            ImageResource::Build { key, .. } => key,
        }
    }
    /// The reference a container names to run this image.
    pub fn run_reference(&self) -> &str {
        match self {
            ImageResource::Pull { reference, .. } => reference,
            ImageResource::Build { tag, .. } => tag,
        }
    }
}

/// A named volume. `name` is the backend's name for it (`STACK_NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeResource {
    pub name: String,
}

/// A network. `name` is the backend's name for it (`STACK_NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkResource {
    pub name: String,
    /// As asked in the stack; `None` lets the backend allocate one.
    pub subnet: Option<Subnet>,
}

/// A container as each of its replicas runs it, every reference resolved to backend
/// names. The replicas of a service share one (`Arc`), in the plan and in a decoded
/// state; what tells them apart is their address, and the backend name derived from it
/// ([`container_name`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerResource {
    /// The reference to run (`busybox:1.36`, or the built tag `blog/web:latest`).
    pub image: String,
    /// The image's identity ([`ImageResource::identity`]).
    pub image_id: Digest,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub ports: Vec<PortMapping>,
    pub mounts: Vec<ResolvedMount>,
    /// Backend names of the networks.
    pub networks: Vec<String>,
    /// Container names in the stack, with the condition to wait for.
    pub depends_on: BTreeMap<String, DependsOn>,
    pub restart: RestartPolicy,
    pub read_only: bool,
    pub resources: Resources,
    pub healthcheck: Option<Healthcheck>,
}

/// A mount with its source resolved: a backend volume name or a host path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResolvedMount {
    Volume {
        volume: String,
        target: String,
        read_only: bool,
    },
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
}

/// The backend name of a volume or network of a stack.
pub fn backend_name(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

/// The backend name of the container at `address` in a stack: `STACK-NAME-N`, N
/// counted from 1 as Compose does.
pub fn container_name(stack: &str, address: &Address) -> String {
    format!("{stack}-{}-{}", address.name, address.index + 1)
}
