//! The apply engine over the simulated backend and the memory store, with plans made
//! by hand.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::backend::sim::SimBackend;
use crate::event::{ContainerStatus, Discard, Recorder};
use crate::image::Digest;
use crate::resource::{NetworkResource, VolumeResource};
use crate::stack::{PortMapping, Protocol, Resources, RestartPolicy};
use crate::state::memory::MemoryStore;
use crate::state::StateStore;

const STACK: &str = "s";

fn container() -> ContainerResource {
    ContainerResource {
        image: "busybox:1.36".into(),
        image_id: Digest::of(b"busybox:1.36"),
        command: Some(vec!["httpd".into(), "-f".into()]),
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

fn volume(name: &str) -> ResourceConfig {
    ResourceConfig::Volume(VolumeResource {
        name: format!("{STACK}_{name}"),
    })
}

fn network(name: &str) -> ResourceConfig {
    ResourceConfig::Network(NetworkResource {
        name: format!("{STACK}_{name}"),
        subnet: None,
    })
}

fn change(
    address: Address,
    action: Action,
    before: Option<ResourceConfig>,
    after: Option<ResourceConfig>,
) -> Change {
    Change {
        address,
        action,
        reasons: Vec::new(),
        before,
        after,
        id: String::new(),
        depends_on: Vec::new(),
        build: None,
    }
}

fn create(address: Address, after: ResourceConfig) -> Change {
    change(address, Action::Create, None, Some(after))
}

fn plan(store: &MemoryStore, changes: Vec<Change>) -> Plan {
    let state = store.read(STACK).unwrap();
    Plan {
        format: Plan::FORMAT,
        stack: STACK.into(),
        serial: state.serial,
        changes,
    }
}

fn run(store: &MemoryStore, sim: &SimBackend, plan: &Plan, parallelism: usize) -> ApplyReport {
    let mut lock = store.lock(STACK, "apply", Duration::ZERO).unwrap();
    apply(
        plan,
        sim,
        &mut *lock,
        &BTreeMap::new(),
        &Discard,
        &ApplyOptions { parallelism },
    )
    .unwrap()
}

/// A plan that deletes everything recorded, as `destroy --volumes` would.
fn delete_all(store: &MemoryStore) -> Plan {
    let state = store.read(STACK).unwrap();
    let changes = state
        .resources
        .iter()
        .map(|(address, r)| {
            let mut c = change(
                address.clone(),
                Action::Delete,
                Some(r.config.clone()),
                None,
            );
            c.id = r.id.clone();
            c
        })
        .collect();
    plan(store, changes)
}

fn web_with_everything() -> ContainerResource {
    let mut web = container();
    web.mounts = vec![ResolvedMount::Volume {
        volume: "s_data".into(),
        target: "/data".into(),
        read_only: false,
    }];
    web.networks = vec!["s_back".into()];
    web
}

#[test]
fn create_runs_dependencies_first_and_records_each_step() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let web = web_with_everything();
    // Listed containers first: the order must come from the dependencies.
    let p = plan(
        &store,
        vec![
            create(
                Address::container("web", 0),
                ResourceConfig::Container(Arc::new(web)),
            ),
            create(Address::network("back"), network("back")),
            create(Address::volume("data"), volume("data")),
        ],
    );
    let events = Recorder::new();
    let mut lock = store.lock(STACK, "apply", Duration::ZERO).unwrap();
    let report = apply(
        &p,
        &sim,
        &mut *lock,
        &BTreeMap::new(),
        &events,
        &ApplyOptions { parallelism: 1 },
    )
    .unwrap();
    drop(lock);
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.done.last(), Some(&Address::container("web", 0)));
    let state = store.read(STACK).unwrap();
    assert_eq!(state.serial, 3, "one write per step");
    assert_eq!(
        state.resources[&Address::network("back")].attributes["subnet"],
        "10.89.0.0/24"
    );
    let id = &state.resources[&Address::container("web", 0)].id;
    let observed = sim.observe(STACK, &[]).unwrap();
    assert_eq!(observed.containers[id].status, ContainerStatus::Running);
    let steps: Vec<String> = events
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::StepStarted { address, .. } => Some(format!("start {address}")),
            Event::StepFinished {
                address,
                error: None,
                ..
            } => Some(format!("end {address}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        [
            "start network.back",
            "end network.back",
            "start volume.data",
            "end volume.data",
            "start container.web",
            "end container.web"
        ]
    );
}

#[test]
fn a_stale_plan_or_another_stack_is_refused() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let p = plan(
        &store,
        vec![create(Address::volume("data"), volume("data"))],
    );
    run(&store, &sim, &p, 1);
    let mut lock = store.lock(STACK, "apply", Duration::ZERO).unwrap();
    let opts = ApplyOptions { parallelism: 1 };
    let err = apply(&p, &sim, &mut *lock, &BTreeMap::new(), &Discard, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            ApplyError::StalePlan {
                planned: 0,
                current: 1
            }
        ),
        "{err}"
    );
    let mut other = p.clone();
    other.stack = "t".into();
    let err = apply(&other, &sim, &mut *lock, &BTreeMap::new(), &Discard, &opts).unwrap_err();
    assert!(matches!(err, ApplyError::WrongStack { .. }), "{err}");
}

#[test]
fn a_failed_step_skips_its_dependents_and_not_the_others() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    // Another stack holds host port 8080.
    let mut holder = container();
    holder.ports = vec![PortMapping {
        host: 8080,
        container: 80,
        protocol: Protocol::Tcp,
    }];
    let hid = sim
        .create_container("t", &Address::container("holder", 0), &holder, &Discard)
        .unwrap();
    sim.start_container(&hid, &Discard).unwrap();

    let mut db = container();
    db.ports = holder.ports.clone();
    let mut web = container();
    web.depends_on.insert("db".into(), DependsOn::Started);
    let p = plan(
        &store,
        vec![
            create(
                Address::container("db", 0),
                ResourceConfig::Container(Arc::new(db)),
            ),
            create(
                Address::container("web", 0),
                ResourceConfig::Container(Arc::new(web)),
            ),
            create(
                Address::container("other", 0),
                ResourceConfig::Container(Arc::new(container())),
            ),
        ],
    );
    let report = run(&store, &sim, &p, 4);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, Address::container("db", 0));
    assert!(
        report.failed[0].1.contains("8080"),
        "{}",
        report.failed[0].1
    );
    assert_eq!(
        report.skipped,
        [(Address::container("web", 0), Address::container("db", 0))]
    );
    assert_eq!(report.done, [Address::container("other", 0)]);
    let state = store.read(STACK).unwrap();
    assert_eq!(
        state.resources.len(),
        1,
        "only the finished step is recorded"
    );
    // The container that could not start was taken back: no orphan.
    assert_eq!(sim.observe(STACK, &[]).unwrap().containers.len(), 1);
}

#[test]
fn a_replace_keeps_volume_data_and_drops_the_writable_layer() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let mut db = container();
    db.mounts = vec![ResolvedMount::Volume {
        volume: "s_data".into(),
        target: "/data".into(),
        read_only: false,
    }];
    let p = plan(
        &store,
        vec![
            create(Address::volume("data"), volume("data")),
            create(
                Address::container("db", 0),
                ResourceConfig::Container(Arc::new(db.clone())),
            ),
        ],
    );
    run(&store, &sim, &p, 2);
    let old = store.read(STACK).unwrap().resources[&Address::container("db", 0)].clone();
    sim.write_file(&old.id, "/data/rows", b"42").unwrap();
    sim.write_file(&old.id, "/tmp/cache", b"x").unwrap();
    let mut new = db.clone();
    new.env.insert("MODE".into(), "prod".into());
    let mut replace = change(
        Address::container("db", 0),
        Action::Replace,
        Some(old.config.clone()),
        Some(ResourceConfig::Container(Arc::new(new))),
    );
    replace.id = old.id.clone();
    let report = run(&store, &sim, &plan(&store, vec![replace]), 2);
    assert!(report.succeeded(), "{report:?}");
    let id = store.read(STACK).unwrap().resources[&Address::container("db", 0)]
        .id
        .clone();
    assert_ne!(id, old.id);
    assert_eq!(
        sim.read_file(&id, "/data/rows").unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(sim.read_file(&id, "/tmp/cache").unwrap(), None);
    assert_eq!(sim.observe(STACK, &[]).unwrap().containers.len(), 1);
}

#[test]
fn update_in_place_keeps_the_container() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let db = container();
    run(
        &store,
        &sim,
        &plan(
            &store,
            vec![create(
                Address::container("db", 0),
                ResourceConfig::Container(Arc::new(db.clone())),
            )],
        ),
        1,
    );
    let old = store.read(STACK).unwrap().resources[&Address::container("db", 0)].clone();
    let mut new = db;
    new.resources.memory = Some(128 << 20);
    new.restart = RestartPolicy::Always;
    let update = change(
        Address::container("db", 0),
        Action::Update,
        Some(old.config),
        Some(ResourceConfig::Container(Arc::new(new.clone()))),
    );
    run(&store, &sim, &plan(&store, vec![update]), 1);
    let now = store.read(STACK).unwrap().resources[&Address::container("db", 0)].clone();
    assert_eq!(now.id, old.id);
    assert_eq!(now.config, ResourceConfig::Container(Arc::new(new)));
}

#[test]
fn deletes_remove_containers_before_their_network_and_volume() {
    for parallelism in [1, 4] {
        let store = MemoryStore::new();
        let sim = SimBackend::new();
        let other = web_with_everything();
        let p = plan(
            &store,
            vec![
                create(Address::volume("data"), volume("data")),
                create(Address::network("back"), network("back")),
                create(
                    Address::container("web", 0),
                    ResourceConfig::Container(Arc::new(web_with_everything())),
                ),
                create(
                    Address::container("api", 0),
                    ResourceConfig::Container(Arc::new(other)),
                ),
            ],
        );
        assert!(run(&store, &sim, &p, parallelism).succeeded());
        let report = run(&store, &sim, &delete_all(&store), parallelism);
        assert!(report.succeeded(), "{report:?}");
        assert!(store.read(STACK).unwrap().resources.is_empty());
        let o = sim.observe(STACK, &[]).unwrap();
        assert!(
            o.containers.is_empty() && o.networks.is_empty() && o.volumes.is_empty(),
            "{o:?}"
        );
    }
}

#[test]
fn a_replaced_network_is_remade_between_its_containers_halves() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let web = web_with_everything();
    let p = plan(
        &store,
        vec![
            create(Address::volume("data"), volume("data")),
            create(Address::network("back"), network("back")),
            create(
                Address::container("web", 0),
                ResourceConfig::Container(Arc::new(web.clone())),
            ),
        ],
    );
    run(&store, &sim, &p, 1);
    let state = store.read(STACK).unwrap();
    let web_rec = &state.resources[&Address::container("web", 0)];
    let asked = ResourceConfig::Network(NetworkResource {
        name: "s_back".into(),
        subnet: Some(crate::stack::Subnet {
            addr: [10, 89, 7, 0],
            prefix: 24,
        }),
    });
    let mut net = change(
        Address::network("back"),
        Action::Replace,
        Some(network("back")),
        Some(asked),
    );
    net.depends_on = vec![];
    let mut c = change(
        Address::container("web", 0),
        Action::Replace,
        Some(web_rec.config.clone()),
        Some(ResourceConfig::Container(Arc::new(web))),
    );
    c.id = web_rec.id.clone();
    c.depends_on = vec![Address::network("back"), Address::volume("data")];
    let report = run(&store, &sim, &plan(&store, vec![net, c]), 4);
    assert!(report.succeeded(), "{report:?}");
    let id = store.read(STACK).unwrap().resources[&Address::container("web", 0)]
        .id
        .clone();
    assert_eq!(sim.address_of(&id, "s_back").unwrap(), "10.89.7.2");
}

#[test]
fn a_name_held_by_an_unrecorded_container_of_the_same_address_is_freed() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let web = container();
    // Left by an apply interrupted after the backend acted, before the state was written.
    sim.create_container(STACK, &Address::container("web", 0), &web, &Discard)
        .unwrap();
    let p = plan(
        &store,
        vec![create(
            Address::container("web", 0),
            ResourceConfig::Container(Arc::new(web.clone())),
        )],
    );
    assert!(run(&store, &sim, &p, 1).succeeded());
    assert_eq!(sim.observe(STACK, &[]).unwrap().containers.len(), 1);
    // A container of another stack with that name is not touched: container `c` of
    // stack `s-b` and container `b-c` of stack `s` are both named `s-b-c-1`.
    let store2 = MemoryStore::new();
    let sim2 = SimBackend::new();
    sim2.create_container("s-b", &Address::container("c", 0), &web, &Discard)
        .unwrap();
    let p = plan(
        &store2,
        vec![create(
            Address::container("b-c", 0),
            ResourceConfig::Container(Arc::new(web)),
        )],
    );
    let report = run(&store2, &sim2, &p, 1);
    assert!(report.failed[0].1.contains("exists already"), "{report:?}");
}

#[test]
fn a_healthy_dependency_is_waited_for() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    let mut db = container();
    db.healthcheck = Some(crate::stack::Healthcheck {
        command: vec!["false".into()],
        interval_ms: 1000,
        retries: 3,
    });
    let mut web = container();
    web.depends_on.insert("db".into(), DependsOn::Healthy);
    let p = plan(
        &store,
        vec![
            create(
                Address::container("db", 0),
                ResourceConfig::Container(Arc::new(db)),
            ),
            create(
                Address::container("web", 0),
                ResourceConfig::Container(Arc::new(web)),
            ),
        ],
    );
    let report = run(&store, &sim, &p, 1);
    assert!(
        report.failed[0].1.contains("did not become healthy"),
        "{report:?}"
    );
    assert_eq!(report.skipped.len(), 1);
    // The unhealthy container runs and is recorded: the next plan sees it as it is.
    assert!(store
        .read(STACK)
        .unwrap()
        .resources
        .contains_key(&Address::container("db", 0)));
}

#[test]
fn a_kept_volume_is_told_and_left_alone() {
    let store = MemoryStore::new();
    let sim = SimBackend::new();
    run(
        &store,
        &sim,
        &plan(
            &store,
            vec![create(Address::volume("data"), volume("data"))],
        ),
        1,
    );
    let mut kept = change(
        Address::volume("data"),
        Action::NoOp,
        Some(volume("data")),
        None,
    );
    kept.reasons = vec![Reason::Kept];
    let events = Recorder::new();
    let p = plan(&store, vec![kept]);
    let mut lock = store.lock(STACK, "destroy", Duration::ZERO).unwrap();
    apply(
        &p,
        &sim,
        &mut *lock,
        &BTreeMap::new(),
        &events,
        &ApplyOptions::default(),
    )
    .unwrap();
    assert!(matches!(&events.events()[..], [Event::Note { .. }]));
    assert_eq!(sim.volume_names(), ["s_data"]);
}
