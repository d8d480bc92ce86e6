//! Test fixtures for the planner: a small blog stack written by hand (no parser), the
//! observation of a backend that has its base images, and the state and observation
//! after an apply that did exactly what the stack asks.

use std::collections::BTreeMap;

use crate::address::Address;
use crate::backend::{Observed, ObservedContainer, ObservedImage, ObservedNetwork};
use crate::event::ContainerStatus;
use crate::image::{Context, Digest, ImageInfo, Reference};
use crate::resource::desired::{resolve, Desired};
use crate::resource::ResourceConfig;
use crate::stack::{
    BuildSource, ContainerSpec, DependsOn, ImageRef, ImageSpec, Mount, MountSource, NetworkSpec,
    PortMapping, Protocol, Resources, RestartPolicy, Stack, Subnet, VolumeSpec,
};
use crate::state::{Recorded, State};

pub const DOCKERFILE: &str = "FROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";

pub fn postgres() -> Reference {
    Reference {
        registry: "docker.io".into(),
        repository: "library/postgres".into(),
        tag: Some("16".into()),
        digest: None,
    }
}

/// A container spec with every optional field empty.
pub fn container(image: ImageRef) -> ContainerSpec {
    ContainerSpec {
        image,
        command: None,
        entrypoint: None,
        env: BTreeMap::new(),
        workdir: None,
        user: None,
        hostname: None,
        ports: Vec::new(),
        volumes: Vec::new(),
        networks: Vec::new(),
        depends_on: BTreeMap::new(),
        restart: RestartPolicy::No,
        replicas: 1,
        read_only: false,
        resources: Resources::default(),
        healthcheck: None,
    }
}

pub fn web_context() -> Context {
    let mut c = Context::new();
    c.insert("Dockerfile", DOCKERFILE);
    c.insert(
        "package.json",
        r#"{"name":"blog","dependencies":{"express":"4"}}"#,
    );
    c.insert("server.js", "require('express')().listen(80)\n");
    c
}

/// `blog`: image `web` built from `web/Dockerfile`; `web` (2 replicas, no volume) on
/// network `back`, depending on `db` (postgres:16, volume `data`).
pub fn blog() -> Desired {
    let mut images = BTreeMap::new();
    images.insert(
        "web".to_string(),
        ImageSpec::Build {
            context: "web".into(),
            source: BuildSource::Dockerfile("Dockerfile".into()),
        },
    );
    let mut web = container(ImageRef::Stack("web".into()));
    web.replicas = 2;
    web.ports = vec![PortMapping {
        host: 8080,
        container: 80,
        protocol: Protocol::Tcp,
    }];
    web.networks = vec!["back".into()];
    web.depends_on.insert("db".into(), DependsOn::Started);
    web.env.insert("MODE".into(), "prod".into());
    web.restart = RestartPolicy::OnFailure;
    web.resources.memory = Some(64 << 20);
    let mut db = container(ImageRef::Reference(postgres()));
    db.volumes = vec![Mount {
        source: MountSource::Volume("data".into()),
        target: "/var/lib/postgresql/data".into(),
        read_only: false,
    }];
    db.networks = vec!["back".into()];
    db.restart = RestartPolicy::Always;
    let mut volumes = BTreeMap::new();
    volumes.insert("data".to_string(), VolumeSpec {});
    let mut networks = BTreeMap::new();
    networks.insert("back".to_string(), NetworkSpec::default());
    let mut containers = BTreeMap::new();
    containers.insert("web".to_string(), web);
    containers.insert("db".to_string(), db);
    let mut contexts = BTreeMap::new();
    contexts.insert("web".to_string(), web_context());
    Desired {
        stack: Stack {
            name: "blog".into(),
            images,
            volumes,
            networks,
            containers,
        },
        contexts,
    }
}

pub fn image(name: &str) -> ObservedImage {
    ObservedImage {
        info: ImageInfo {
            digest: Digest::of(name.as_bytes()),
            layers: Vec::new(),
            config: Default::default(),
            tags: vec![name.to_string()],
        },
        local: true,
    }
}

/// A backend that has node:20 and postgres:16 and nothing of the stack.
pub fn fresh() -> Observed {
    let mut o = Observed::default();
    o.images.insert("node:20".into(), image("node:20"));
    o.images
        .insert(postgres().to_string(), image("postgres:16"));
    o
}

/// The container id an apply gave `address` in these fixtures.
pub fn id(address: &Address) -> String {
    format!("id-{address}")
}

/// The state and observation after applying `desired` on `observed`: every resource
/// recorded, containers running, build steps in the cache.
pub fn applied(desired: &Desired, observed: &Observed) -> (State, Observed) {
    let configs = resolve(desired, observed).unwrap();
    let mut state = State::new(&desired.stack.name);
    state.serial = 7;
    let mut seen = observed.clone();
    for (address, config) in configs {
        let mut recorded = Recorded {
            config: config.clone(),
            id: String::new(),
            attributes: BTreeMap::new(),
        };
        match &config {
            ResourceConfig::Image(i) => {
                recorded.id = i.identity().to_string();
                if let crate::resource::ImageResource::Build { steps, .. } = &**i {
                    seen.cache.extend(steps.iter().map(|s| s.key.clone()));
                }
            }
            ResourceConfig::Volume(v) => {
                seen.volumes.insert(v.name.clone());
            }
            ResourceConfig::Network(n) => {
                seen.networks.insert(
                    n.name.clone(),
                    ObservedNetwork {
                        subnet: n.subnet.unwrap_or(Subnet {
                            addr: [10, 89, 0, 0],
                            prefix: 24,
                        }),
                    },
                );
            }
            ResourceConfig::Container(c) => {
                recorded.id = id(&address);
                seen.containers.insert(
                    recorded.id.clone(),
                    ObservedContainer {
                        name: crate::resource::container_name(&desired.stack.name, &address),
                        address: address.clone(),
                        status: ContainerStatus::Running,
                        exit_code: None,
                        image_id: c.image_id.clone(),
                        oom_killed: false,
                    },
                );
            }
        }
        state.resources.insert(address, recorded);
    }
    (state, seen)
}
