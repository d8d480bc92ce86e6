//! Behaviour of the simulated backend through the Backend trait and its outside-quai
//! actions.

use std::collections::BTreeMap;

use super::*;
use crate::event::{ContainerStatus, Recorder};
use crate::image::build::{build_key, plan_steps};
use crate::image::{Context, Digest};
use crate::resource::{ImageResource, ResolvedMount};
use crate::stack::dockerfile::Dockerfile;
use crate::stack::{PortMapping, Protocol};

fn reference(repo: &str, tag: &str) -> Reference {
    Reference {
        registry: "docker.io".into(),
        repository: format!("library/{repo}"),
        tag: Some(tag.into()),
        digest: None,
    }
}

fn container(image: &str, command: &[&str]) -> ContainerResource {
    ContainerResource {
        image: image.into(),
        image_id: Digest::of(image.as_bytes()),
        command: Some(command.iter().map(|s| s.to_string()).collect()),
        entrypoint: None,
        env: BTreeMap::new(),
        workdir: None,
        user: None,
        hostname: None,
        ports: Vec::new(),
        mounts: Vec::new(),
        networks: Vec::new(),
        depends_on: BTreeMap::new(),
        restart: RestartPolicy::No,
        read_only: false,
        resources: Resources::default(),
        healthcheck: None,
    }
}

/// Creates and starts `c` as container `name` of stack `s`.
fn run(sim: &SimBackend, name: &str, c: &ContainerResource) -> String {
    let address = Address::container(name, 0);
    let id = sim.create_container("s", &address, c, &Discard).unwrap();
    sim.start_container(&id, &Discard).unwrap();
    id
}

fn status(sim: &SimBackend, id: &str) -> (ContainerStatus, Option<i32>) {
    let o = sim.observe("s", &[]).unwrap();
    let c = &o.containers[id];
    (c.status, c.exit_code)
}

#[test]
fn a_second_version_pull_reuses_shared_layers() {
    let sim = SimBackend::new();
    let events = Recorder::new();
    sim.pull(&reference("nginx", "1.25"), &events).unwrap();
    let first = events.take();
    let pulled = |evs: &[Event]| {
        evs.iter()
            .filter(|e| matches!(e, Event::LayerPulled { .. }))
            .count()
    };
    let reused = |evs: &[Event]| {
        evs.iter()
            .filter(|e| matches!(e, Event::LayerReused { .. }))
            .count()
    };
    assert_eq!((pulled(&first), reused(&first)), (7, 0));
    let info = sim.pull(&reference("nginx", "1.27"), &events).unwrap();
    let second = events.take();
    assert_eq!((pulled(&second), reused(&second)), (1, 6));
    assert_eq!(info.tags, ["nginx:1.27"]);
    assert_eq!(sim.images().unwrap().len(), 2);
    let err = sim.pull(&reference("redis", "7"), &events).unwrap_err();
    assert!(matches!(err, BackendError::ImageNotFound { .. }), "{err}");
}

#[test]
fn observe_resolves_references_locally_then_in_the_registry() {
    let sim = SimBackend::new();
    sim.pull(&reference("busybox", "1.36"), &Discard).unwrap();
    let o = sim
        .observe(
            "s",
            &[
                reference("busybox", "1.36"),
                reference("alpine", "3.20"),
                reference("redis", "7"),
            ],
        )
        .unwrap();
    assert!(o.images["docker.io/library/busybox:1.36"].local);
    assert!(!o.images["docker.io/library/alpine:3.20"].local);
    assert!(!o.images.contains_key("docker.io/library/redis:7"));
}

fn build_image(steps: &[&str], context: &Context) -> ImageResource {
    let base_digest = Registry::seeded()
        .get("docker.io/library/busybox:1.36")
        .unwrap()
        .digest
        .clone();
    let text = format!("FROM busybox:1.36\n{}\n", steps.join("\n"));
    let dockerfile = Dockerfile::parse(&text, "Dockerfile").unwrap();
    let steps = plan_steps(&dockerfile, context, &base_digest).unwrap();
    ImageResource::Build {
        name: "web".into(),
        tag: "s/web:latest".into(),
        base: "busybox:1.36".into(),
        key: build_key(&base_digest, &steps),
        base_digest,
        steps,
    }
}

fn cache_events(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CacheHit { step, .. } => Some(format!("{step} hit")),
            Event::CacheMiss { step, reason, .. } => Some(format!("{step} miss: {reason}")),
            _ => None,
        })
        .collect()
}

#[test]
fn builds_hit_the_cache_and_explain_misses() {
    let sim = SimBackend::new();
    let address = Address::image("web");
    let mut context = Context::new();
    context.insert("package.json", "{}");
    let steps = [
        "WORKDIR /app",
        "COPY package.json /app/",
        "RUN ./install",
        "CMD [\"httpd\"]",
    ];
    let events = Recorder::new();
    let image = build_image(&steps, &context);
    let request = BuildRequest {
        address: &address,
        image: &image,
        context: &context,
    };
    let first = sim.build(&request, &events).unwrap();
    let evs = events.take();
    assert_eq!(
        cache_events(&evs),
        [
            "1 miss: not built before",
            "2 miss: parent rebuilt",
            "3 miss: parent rebuilt",
            "4 miss: parent rebuilt"
        ]
    );
    let built: Vec<u64> = evs
        .iter()
        .filter_map(|e| match e {
            Event::LayerBuilt { bytes, .. } => Some(*bytes),
            _ => None,
        })
        .collect();
    assert_eq!(
        built.len(),
        2,
        "COPY and RUN make layers, WORKDIR and CMD none"
    );
    assert_eq!(first.layers.len(), 3);
    assert_eq!(first.config.workdir, "/app");
    assert_eq!(first.config.cmd, ["httpd"]);
    assert_eq!(first.tags, ["s/web:latest"]);

    let again = sim.build(&request, &events).unwrap();
    assert_eq!(
        cache_events(&events.take()),
        ["1 hit", "2 hit", "3 hit", "4 hit"]
    );
    assert_eq!(
        again.digest, first.digest,
        "a cached rebuild gives the same image"
    );

    context.insert("package.json", "{\"a\": 1}");
    let image = build_image(&steps, &context);
    let request = BuildRequest {
        address: &address,
        image: &image,
        context: &context,
    };
    let changed = sim.build(&request, &events).unwrap();
    assert_eq!(
        cache_events(&events.take()),
        [
            "1 hit",
            "2 miss: content changed (package.json)",
            "3 miss: parent rebuilt",
            "4 miss: parent rebuilt"
        ]
    );
    assert_ne!(changed.digest, first.digest);
    let tagged = sim.images().unwrap();
    let old = tagged.iter().find(|i| i.digest == first.digest).unwrap();
    assert!(old.tags.is_empty(), "the tag moved to the new image");
}

#[test]
fn a_failing_run_step_fails_the_build() {
    let sim = SimBackend::new();
    let address = Address::image("web");
    let context = Context::new();
    let image = build_image(&["RUN false"], &context);
    let err = sim
        .build(
            &BuildRequest {
                address: &address,
                image: &image,
                context: &context,
            },
            &Discard,
        )
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::BuildFailed { step: 1, .. }),
        "{err}"
    );
    // Planned with the file, built without it.
    let mut planned = Context::new();
    planned.insert("missing.txt", "x");
    let image = build_image(&["COPY missing.txt /"], &planned);
    let err = sim
        .build(
            &BuildRequest {
                address: &address,
                image: &image,
                context: &context,
            },
            &Discard,
        )
        .unwrap_err();
    assert!(err.to_string().contains("missing.txt"), "{err}");
    assert!(!sim
        .images()
        .unwrap()
        .iter()
        .any(|i| !i.tags.is_empty() && i.tags[0].starts_with("s/")));
}

#[test]
fn containers_live_as_their_programs_say() {
    let sim = SimBackend::new();
    let events = Recorder::new();
    let server = container("busybox:1.36", &["httpd", "-f"]);
    let id = sim
        .create_container("s", &Address::container("web", 0), &server, &events)
        .unwrap();
    sim.start_container(&id, &events).unwrap();
    assert_eq!(status(&sim, &id), (ContainerStatus::Running, None));

    let echo = run(&sim, "echo", &container("busybox:1.36", &["echo", "hi"]));
    assert_eq!(status(&sim, &echo), (ContainerStatus::Exited, Some(0)));
    assert_eq!(sim.logs(&echo).unwrap()[0].text, "hi");

    let mut failing = container("busybox:1.36", &["sh", "-c", "exit 3"]);
    failing.restart = RestartPolicy::OnFailure;
    let job = run(&sim, "job", &failing);
    assert_eq!(status(&sim, &job).0, ContainerStatus::Restarting);
    assert_eq!(sim.restarts(&job), Some(1));

    let err = sim
        .create_container("s", &Address::container("web", 0), &server, &Discard)
        .unwrap_err();
    assert!(matches!(err, BackendError::NameTaken { .. }));

    sim.kill(&id, 137).unwrap();
    assert_eq!(status(&sim, &id), (ContainerStatus::Exited, Some(137)));
    sim.start_container(&id, &Discard).unwrap();
    sim.oom_kill(&id).unwrap();
    let o = sim.observe("s", &[]).unwrap();
    assert!(o.containers[&id].oom_killed);

    sim.remove_outside(&id).unwrap();
    assert!(!sim.observe("s", &[]).unwrap().containers.contains_key(&id));
    assert!(sim.observe("other", &[]).unwrap().containers.is_empty());
    let changes: Vec<_> = events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ContainerChanged { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [ContainerStatus::Created, ContainerStatus::Running]
    );
}

#[test]
fn a_published_port_cannot_be_published_twice() {
    let sim = SimBackend::new();
    let mut a = container("busybox:1.36", &["httpd"]);
    a.ports = vec![PortMapping {
        host: 8080,
        container: 80,
        protocol: Protocol::Tcp,
    }];
    run(&sim, "a", &a);
    let b = a.clone();
    let id = sim
        .create_container("s", &Address::container("b", 0), &b, &Discard)
        .unwrap();
    let err = sim.start_container(&id, &Discard).unwrap_err();
    assert_eq!(
        err,
        BackendError::PortTaken {
            port: 8080,
            holder: "s-a-1".into()
        }
    );
}

#[test]
fn volume_data_survives_the_container_and_the_writable_layer_does_not() {
    let sim = SimBackend::new();
    sim.create_volume(
        "s",
        &VolumeResource {
            name: "s_data".into(),
        },
    )
    .unwrap();
    let mut c = container("busybox:1.36", &["sleep", "1000"]);
    c.mounts = vec![ResolvedMount::Volume {
        volume: "s_data".into(),
        target: "/data".into(),
        read_only: false,
    }];
    let first = run(&sim, "db", &c);
    sim.write_file(&first, "/data/rows", b"42").unwrap();
    sim.write_file(&first, "/tmp/scratch", b"x").unwrap();
    assert_eq!(
        sim.read_file(&first, "/tmp/scratch").unwrap(),
        Some(b"x".to_vec())
    );
    let err = sim.remove_volume("s_data").unwrap_err();
    assert!(matches!(err, BackendError::VolumeInUse { .. }));
    sim.remove_container(&first, &Discard).unwrap();
    let second = run(&sim, "db", &c);
    assert_eq!(
        sim.read_file(&second, "/data/rows").unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(sim.read_file(&second, "/tmp/scratch").unwrap(), None);
    sim.remove_container(&second, &Discard).unwrap();
    sim.remove_volume("s_data").unwrap();
    assert!(sim.volume_names().is_empty());
}

#[test]
fn networks_give_each_container_an_address() {
    let sim = SimBackend::new();
    let subnet = sim
        .create_network(
            "s",
            &NetworkResource {
                name: "s_back".into(),
                subnet: None,
            },
        )
        .unwrap();
    assert_eq!(subnet.to_string(), "10.89.0.0/24");
    let mut c = container("busybox:1.36", &["httpd"]);
    c.networks = vec!["s_back".into()];
    let a = run(&sim, "a", &c);
    let b = sim
        .create_container("s", &Address::container("b", 0), &c, &Discard)
        .unwrap();
    assert_eq!(sim.address_of(&a, "s_back").unwrap(), "10.89.0.2");
    assert_eq!(sim.address_of(&b, "s_back").unwrap(), "10.89.0.3");
    let err = sim.remove_network("s_back").unwrap_err();
    assert!(matches!(err, BackendError::NetworkInUse { .. }));
    c.networks = vec!["s_none".into()];
    let err = sim
        .create_container("s", &Address::container("c", 0), &c, &Discard)
        .unwrap_err();
    assert!(matches!(err, BackendError::NoSuchNetwork { .. }));
}

#[test]
fn a_full_network_says_its_addresses_are_taken() {
    let sim = SimBackend::new();
    // A /30: .1 is the gateway, .2 the one address for a container.
    let tiny = crate::stack::Subnet {
        addr: [10, 90, 0, 0],
        prefix: 30,
    };
    sim.create_network(
        "s",
        &NetworkResource {
            name: "s_tiny".into(),
            subnet: Some(tiny),
        },
    )
    .unwrap();
    let mut c = container("busybox:1.36", &["httpd"]);
    c.networks = vec!["s_tiny".into()];
    let a = run(&sim, "a", &c);
    assert_eq!(sim.address_of(&a, "s_tiny").unwrap(), "10.90.0.2");
    let err = sim
        .create_container("s", &Address::container("b", 0), &c, &Discard)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no free address left in network `s_tiny` (10.90.0.0/30): all 1 are taken"
    );
}

#[test]
fn the_machine_survives_a_round_trip_through_json_and_stays_deterministic() {
    let make = || {
        let sim = SimBackend::new();
        sim.create_volume(
            "s",
            &VolumeResource {
                name: "s_data".into(),
            },
        )
        .unwrap();
        let id = run(&sim, "web", &container("nginx:1.27", &["nginx"]));
        (sim, id)
    };
    let (a, id_a) = make();
    let (b, id_b) = make();
    assert_eq!(id_a, id_b, "same inputs, same ids");
    assert_eq!(id_a.len(), 64);
    let loaded = SimBackend::from_json(&a.to_json()).unwrap();
    assert_eq!(loaded.to_json(), b.to_json());
    assert_eq!(
        loaded.observe("s", &[]).unwrap(),
        a.observe("s", &[]).unwrap()
    );
    assert!(SimBackend::from_json("{").is_err());
}
