//! The `Backend` trait: what the apply engine asks of a place where containers run.
//! Two implementations: [`sim`] (in memory, deterministic, also in the browser) and
//! `linux` (quai's own runtime; only on Linux). One conformance suite, in `tests/`,
//! runs against both.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::event::{ContainerStatus, EventSink};
use crate::image::{Context, Digest, ImageInfo, Reference};
use crate::resource::{ContainerResource, ImageResource, NetworkResource, VolumeResource};
use crate::stack::{Resources, RestartPolicy, Subnet};

pub mod sim;

#[cfg(target_os = "linux")]
pub mod linux;

/// What a backend sees now, for one stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Images asked about, keyed by the reference as written in the stack.
    pub images: BTreeMap<String, ObservedImage>,
    /// Build cache keys the backend has a layer for.
    pub cache: BTreeSet<Digest>,
    /// Containers that carry this stack's label, by id.
    pub containers: BTreeMap<String, ObservedContainer>,
    /// Volumes of this stack, by backend name.
    pub volumes: BTreeSet<String>,
    /// Networks of this stack, by backend name.
    pub networks: BTreeMap<String, ObservedNetwork>,
}

/// An image a reference resolves to; `local` says whether it is in the store already
/// (else applying pulls it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedImage {
    pub info: ImageInfo,
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedContainer {
    /// The backend's name (`STACK-NAME-N`).
    pub name: String,
    /// The address it was created for (from its label).
    pub address: Address,
    pub status: ContainerStatus,
    pub exit_code: Option<i32>,
    /// The image identity it was created from.
    pub image_id: Digest,
    /// Whether the last exit was an out-of-memory kill.
    #[serde(default)]
    pub oom_killed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedNetwork {
    pub subnet: Subnet,
}

/// A line a container wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch (the sim backend counts from 0).
    pub time_ms: u64,
    pub stream: LogStream,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// What went wrong in a backend. Each variant names the thing it was about.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    #[error("image `{reference}` not found in the store nor in the registry")]
    ImageNotFound { reference: String },
    #[error("no container with id `{id}`")]
    NoSuchContainer { id: String },
    #[error("container `{name}` cannot {verb}: it is {status}")]
    BadContainerState {
        name: String,
        verb: &'static str,
        status: &'static str,
    },
    #[error("a container named `{name}` exists already")]
    NameTaken { name: String },
    #[error("volume `{name}` is used by {users:?}")]
    VolumeInUse { name: String, users: Vec<String> },
    #[error("no network named `{name}`")]
    NoSuchNetwork { name: String },
    #[error("no volume named `{name}`")]
    NoSuchVolume { name: String },
    #[error("network `{name}` still has containers attached: {users:?}")]
    NetworkInUse { name: String, users: Vec<String> },
    #[error("subnet {subnet} overlaps network `{other}`")]
    SubnetTaken { subnet: String, other: String },
    #[error("no free subnet left for network `{name}`")]
    NoFreeSubnet { name: String },
    #[error("no free address left in network `{name}` ({subnet}): all {hosts} are taken")]
    NoFreeAddress {
        name: String,
        subnet: String,
        hosts: u32,
    },
    #[error("host port {port} is already published by `{holder}`")]
    PortTaken { port: u16, holder: String },
    #[error("build of `{image}` failed at step {step} (`{instruction}`): {message}")]
    BuildFailed {
        image: String,
        step: usize,
        instruction: String,
        message: String,
    },
    #[error("container `{name}` did not become healthy: {message}")]
    Unhealthy { name: String, message: String },
    #[error("{operation}: {message}")]
    Io { operation: String, message: String },
    #[error("the {backend} backend is not available here: {why}")]
    Unavailable { backend: &'static str, why: String },
}

/// What a build needs: the image's resolved configuration and its context's files.
pub struct BuildRequest<'a> {
    pub address: &'a Address,
    pub image: &'a ImageResource,
    pub context: &'a Context,
}

/// A place where images are stored and containers run.
///
/// Every call that changes something is idempotent where it can be (creating a volume
/// that exists is fine), so that an interrupted apply can be run again.
pub trait Backend: Send + Sync {
    /// `sim` or `linux`.
    fn name(&self) -> &'static str;

    /// What exists now for `stack`, and what each of `images` resolves to.
    fn observe(&self, stack: &str, images: &[Reference]) -> Result<Observed, BackendError>;

    /// Fetches an image into the local store (layers already present are reused).
    fn pull(
        &self,
        reference: &Reference,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError>;

    /// Builds an image step by step, using the cache, and tags it.
    fn build(
        &self,
        request: &BuildRequest<'_>,
        events: &dyn EventSink,
    ) -> Result<ImageInfo, BackendError>;

    /// Every image in the local store.
    fn images(&self) -> Result<Vec<ImageInfo>, BackendError>;

    fn create_volume(&self, stack: &str, volume: &VolumeResource) -> Result<(), BackendError>;
    /// Deletes a volume and its data.
    fn remove_volume(&self, name: &str) -> Result<(), BackendError>;

    /// Creates a network; returns its subnet (allocated when none was asked).
    fn create_network(
        &self,
        stack: &str,
        network: &NetworkResource,
    ) -> Result<Subnet, BackendError>;
    fn remove_network(&self, name: &str) -> Result<(), BackendError>;

    /// Creates a container (not started); returns its id.
    fn create_container(
        &self,
        stack: &str,
        address: &Address,
        container: &ContainerResource,
        events: &dyn EventSink,
    ) -> Result<String, BackendError>;
    fn start_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError>;
    /// Changes what can change while it runs: resources and restart policy.
    fn update_container(
        &self,
        id: &str,
        resources: &Resources,
        restart: RestartPolicy,
    ) -> Result<(), BackendError>;
    /// Stops it: SIGTERM, then SIGKILL after a grace period.
    fn stop_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError>;
    /// Removes it and its writable layer (stopping it first if it runs).
    fn remove_container(&self, id: &str, events: &dyn EventSink) -> Result<(), BackendError>;
    /// Waits until its healthcheck passes (returns at once when it has none).
    fn wait_healthy(&self, id: &str) -> Result<(), BackendError>;
    /// What it wrote, oldest first.
    fn logs(&self, id: &str) -> Result<Vec<LogLine>, BackendError>;
}
