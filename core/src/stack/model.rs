//! The validated stack: what the rest of quai reads. Every reference in it has been
//! checked (images, volumes, networks, depends_on), units are parsed, defaults filled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::image::Reference;

/// A whole stack file, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    /// `[stack] name`, else the name of the folder that holds the file.
    pub name: String,
    pub images: BTreeMap<String, ImageSpec>,
    pub volumes: BTreeMap<String, VolumeSpec>,
    pub networks: BTreeMap<String, NetworkSpec>,
    pub containers: BTreeMap<String, ContainerSpec>,
}

/// `[images.NAME]`: built from a Dockerfile or from inline steps, or pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSpec {
    /// `context` and `dockerfile` (default `Dockerfile`), or `context` and `steps`.
    Build {
        /// Folder of the build context, relative to the stack file's folder, `/`-separated.
        context: String,
        source: BuildSource,
    },
    /// `from = "busybox:1.36"`.
    Pull { reference: Reference },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildSource {
    /// A Dockerfile inside the context (path relative to the context).
    Dockerfile(String),
    /// Inline steps, each a Dockerfile instruction.
    Steps(Vec<String>),
}

/// `[volumes.NAME]`: a named volume. It survives replace and destroy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {}

/// `[networks.NAME]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// IPv4 subnet in CIDR form; allocated by the backend when absent.
    pub subnet: Option<Subnet>,
}

/// An IPv4 subnet: address and prefix length, the address aligned on the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Subnet {
    pub addr: [u8; 4],
    pub prefix: u8,
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.addr;
        write!(f, "{a}.{b}.{c}.{d}/{}", self.prefix)
    }
}

/// Which image a container runs: one of the stack's `[images]`, or a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageRef {
    /// A key of `[images]`.
    Stack(String),
    /// Any other image reference (pulled when absent).
    Reference(Reference),
}

/// `[containers.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub image: ImageRef,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub ports: Vec<PortMapping>,
    pub volumes: Vec<Mount>,
    pub networks: Vec<String>,
    pub depends_on: BTreeMap<String, DependsOn>,
    pub restart: RestartPolicy,
    /// At least 1.
    pub replicas: u32,
    pub read_only: bool,
    pub resources: Resources,
    pub healthcheck: Option<Healthcheck>,
}

/// `ports = ["8080:80"]`: host port to container port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    pub host: u16,
    pub container: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// `volumes = ["data:/www", "./static:/static:ro"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mount {
    pub source: MountSource,
    /// Absolute path inside the container.
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountSource {
    /// A key of `[volumes]`.
    Volume(String),
    /// A host path, relative to the stack file's folder or absolute, as written.
    Bind(String),
}

/// `depends_on = ["db"]` (started) or `{ db = "healthy" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependsOn {
    Started,
    Healthy,
    CompletedSuccessfully,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    OnFailure,
    Always,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
        }
    }
}

/// `resources = { memory = "128MiB", cpus = 0.5, pids = 100 }`. Changed in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Bytes.
    pub memory: Option<u64>,
    /// Fraction of CPUs (0.5 is half of one).
    pub cpus: Option<f64>,
    pub pids: Option<u64>,
}

/// `healthcheck = { command = [...], interval = "2s", retries = 3 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    pub command: Vec<String>,
    /// Milliseconds.
    pub interval_ms: u64,
    pub retries: u32,
}
