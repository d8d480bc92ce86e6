//! The generated stacks the benchmarks plan and apply: groups of 5 replicas, every
//! other group on a built image, every tenth with a volume, chains of `depends_on`,
//! four networks. Only the seeded images of the sim backend's registry are named.

use std::collections::BTreeMap;

use quai_core::image::{Context, Reference};
use quai_core::resource::desired::Desired;
use quai_core::stack::{
    BuildSource, ContainerSpec, DependsOn, ImageRef, ImageSpec, Mount, MountSource, NetworkSpec,
    Resources, RestartPolicy, Stack, VolumeSpec,
};

const REPLICAS: u32 = 5;

pub fn busybox() -> Reference {
    Reference {
        registry: "docker.io".into(),
        repository: "library/busybox".into(),
        tag: Some("1.36".into()),
        digest: None,
    }
}

/// `containers` containers: groups of 5 replicas, every other group on the built image,
/// every tenth with a volume, chains of `depends_on`, four networks.
pub fn stack(containers: usize) -> Desired {
    let mut images = BTreeMap::new();
    let mut contexts = BTreeMap::new();
    for i in 0..4 {
        let name = format!("app{i}");
        images.insert(
            name.clone(),
            ImageSpec::Build {
                context: name.clone(),
                source: BuildSource::Dockerfile("Dockerfile".into()),
            },
        );
        let mut c = Context::new();
        c.insert(
            "Dockerfile",
            "FROM busybox:1.36\nWORKDIR /app\nCOPY package.json .\nRUN ./install\nCOPY . .\nENV MODE=prod\nCMD [\"./serve\"]\n",
        );
        c.insert("package.json", format!("{{\"name\":\"app{i}\"}}"));
        c.insert_with_mode("install", "#!/bin/sh\n", 0o755);
        c.insert("serve", vec![b'x'; 4096]);
        contexts.insert(name, c);
    }
    let mut networks = BTreeMap::new();
    for i in 0..4 {
        networks.insert(format!("net{i}"), NetworkSpec::default());
    }
    let mut volumes = BTreeMap::new();
    let mut specs = BTreeMap::new();
    let groups = containers / REPLICAS as usize;
    for g in 0..groups {
        let name = format!("svc{g:05}");
        let image = if g % 2 == 0 {
            ImageRef::Stack(format!("app{}", g % 4))
        } else {
            ImageRef::Reference(busybox())
        };
        let mut env = BTreeMap::new();
        env.insert("INDEX".to_string(), g.to_string());
        env.insert("MODE".to_string(), "prod".to_string());
        let mut depends_on = BTreeMap::new();
        if g % 10 != 0 {
            depends_on.insert(format!("svc{:05}", g - 1), DependsOn::Started);
        }
        let mut mounts = Vec::new();
        if g % 10 == 0 {
            volumes.insert(format!("data{g}"), VolumeSpec {});
            mounts.push(Mount {
                source: MountSource::Volume(format!("data{g}")),
                target: "/data".into(),
                read_only: false,
            });
        }
        specs.insert(
            name,
            ContainerSpec {
                image,
                command: Some(vec!["./serve".into(), "--port".into(), "80".into()]),
                entrypoint: None,
                env,
                workdir: Some("/app".into()),
                user: None,
                hostname: None,
                ports: Vec::new(),
                volumes: mounts,
                networks: vec![format!("net{}", g % 4)],
                depends_on,
                restart: RestartPolicy::OnFailure,
                replicas: REPLICAS,
                read_only: false,
                resources: Resources {
                    memory: Some(64 << 20),
                    cpus: Some(0.25),
                    pids: Some(100),
                },
                healthcheck: None,
            },
        );
    }
    Desired {
        stack: Stack {
            name: "bench".into(),
            images,
            volumes,
            networks,
            containers: specs,
        },
        contexts,
    }
}
